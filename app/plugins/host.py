"""What the application shows plugins of itself: the open factory, the selection, the state on view, and
events when they change. Qt-free: the main window feeds it; plugins read it through their ``PluginApi``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal

if TYPE_CHECKING:
    from app.model.document import FactoryDocument
    from app.model.factory import Factory
    from app.model.properties import AssetInfo
    from app.model.selection import Selection
    from app.state.store import StateStore


class StoreView:
    """A read-only view of the state store on view (live, or replayed at ``time``).

    Arrays it returns are copies marked read-only: a plugin cannot change what the application shows.

    >>> from app.state.store import StateStore, Update
    >>> s = StateStore(["M1"], ["Power"]); k = s.bind("M1", "Power", "ns=2;s=P")
    >>> s.ingest([Update(k, 4.0, received_ts=1.0)])
    >>> v = StoreView(s, 2.0)
    >>> float(v.column("Power")[0]), v.column("Power").flags.writeable
    (4.0, False)
    """

    def __init__(self, store: StateStore, time: float):
        self._store = store
        self.time = time  # the state's time (now when live, the replay time in a replay), Unix seconds

    @property
    def machines(self) -> tuple[str, ...]:
        return tuple(self._store.machines)

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(self._store.signals)

    def column(self, signal: str) -> np.ndarray:
        """Values of one signal for every machine, in ``machines`` order (NaN where none)."""
        out = np.array(self._store.column(signal), dtype=float)
        out.flags.writeable = False
        return out

    def value(self, machine: str, signal: str) -> float:
        if machine not in self._store.machine_index or signal not in self._store.signal_index:
            return float("nan")
        return float(self._store.value(machine, signal))

    def text(self, machine: str, signal: str) -> str | None:
        if machine not in self._store.machine_index or signal not in self._store.signal_index:
            return None
        return self._store.text(machine, signal)

    def state(self, machine: str) -> str | None:
        """The machine's state ("running" … "down"), None without a value."""
        return self._store.state(machine) if machine in self._store.machine_index else None

    def unit(self, machine: str, signal: str) -> str | None:
        return self._store.unit(machine, signal) if machine in self._store.machine_index else None


class PluginHost:
    """The application as plugins see it.

    Signals (emitted on the GUI thread)
    -------
    document_replaced(Factory | None)
        Another factory was opened.
    document_changed(Factory)
        The open factory was edited (the new version).
    selection_changed(tuple[str, ...])
        The selected machine ids.
    live_values(StoreView)
        New values are on view (live, or a replay moved).
    """

    document_replaced = Signal(object)
    document_changed = Signal(object)
    selection_changed = Signal(tuple)
    live_values = Signal(object)

    def __init__(self) -> None:
        self._document: FactoryDocument | None = None
        self._selection: Selection | None = None
        self._state: Callable[[], tuple[StateStore, float] | None] = lambda: None
        self._meshes: Mapping[str, AssetInfo] = {}

    # -- fed by the application ----------------------------------------------------------------------
    def set_document(self, document: FactoryDocument | None) -> None:
        if self._document is not None:
            for sig in (self._document.machines_changed, self._document.layout_changed):
                sig.disconnect(self._on_edit)
            self._document.replaced.disconnect(self._on_replaced)
        self._document = document
        if document is not None:
            for sig in (document.machines_changed, document.layout_changed):
                sig.connect(self._on_edit)
            document.replaced.connect(self._on_replaced)
        self.document_replaced.emit(self.factory)

    def _on_edit(self, *_args: object) -> None:
        if self._document is not None:
            self.document_changed.emit(self._document.factory)

    def _on_replaced(self, *_args: object) -> None:
        self.document_replaced.emit(self.factory)

    def set_selection(self, selection: Selection) -> None:
        if self._selection is not None:
            self._selection.changed.disconnect(self._on_selection)
        self._selection = selection
        selection.changed.connect(self._on_selection)

    def _on_selection(self, ids: tuple[str, ...]) -> None:
        self.selection_changed.emit(tuple(ids))

    def set_state_source(self, shown: Callable[[], tuple[StateStore, float] | None]) -> None:
        """Where the state on view comes from: ``shown() -> (store, time)`` or None without live data."""
        self._state = shown

    def set_meshes(self, meshes: Mapping[str, AssetInfo]) -> None:
        """The open factory's loaded meshes, by asset id (set with the document)."""
        self._meshes = meshes

    def mesh(self, machine_id: str) -> AssetInfo | None:
        """The loaded mesh of a machine of the open factory (None: no such machine, or not loaded)."""
        factory = self.factory
        asset = next((m.asset for m in factory.machines if m.id == machine_id), None) if factory is not None else None
        return self._meshes.get(asset) if asset is not None else None

    def publish_live(self, *_args: object) -> None:
        """New values are on view: tell the plugins (the live link calls this after a flush)."""
        view = self.state()
        if view is not None:
            self.live_values.emit(view)

    # -- read by plugins -----------------------------------------------------------------------------
    @property
    def factory(self) -> Factory | None:
        """The open factory: an immutable version (an edit makes a new one, this one stays as it is)."""
        return self._document.factory if self._document is not None else None

    @property
    def selection(self) -> tuple[str, ...]:
        return tuple(self._selection.ids) if self._selection is not None else ()

    def state(self) -> StoreView | None:
        shown = self._state()
        return StoreView(*shown) if shown is not None else None
