"""Browse a server's address space; drag a variable onto a machine in the 3D view to bind it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6 import QtCore, QtGui, QtWidgets

from app.live.client import BrowseItem
from app.live.node_drag import MIME_NODE, NodePayload, can_bind, decode_node, encode_node, node_label, node_tip, node_type

log = logging.getLogger(__name__)

__all__ = ["MIME_NODE", "BrowseDock", "node_payload"]
NODE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 10
CLASS_ROLE = QtCore.Qt.ItemDataRole.UserRole + 11
LOADED_ROLE = QtCore.Qt.ItemDataRole.UserRole + 12
Browser = Callable[[str | None], Awaitable[list[BrowseItem]]]


class _NodeModel(QtGui.QStandardItemModel):
    def mimeTypes(self) -> list[str]:  # Qt override
        return [MIME_NODE, "text/plain"]

    def mimeData(self, indexes) -> QtCore.QMimeData:  # Qt override
        data = QtCore.QMimeData()
        for index in indexes:
            if index.column() == 0 and index.data(CLASS_ROLE) == "Variable":
                node_id = index.data(NODE_ROLE)
                data.setData(MIME_NODE, encode_node(node_id, index.data(QtCore.Qt.ItemDataRole.DisplayRole)))
                data.setText(node_id)
                break
        return data


def node_payload(mime: QtCore.QMimeData) -> NodePayload | None:
    """The dragged variable ({"node_id", "name"}) in drag-and-drop data, or None."""
    return decode_node(bytes(mime.data(MIME_NODE))) if mime.hasFormat(MIME_NODE) else None


class BrowseDock(QtWidgets.QDockWidget):
    """The server's nodes as a tree, loaded level by level as the user expands it; the selected node's
    attributes below it (``set_details``), a context menu to watch a node or write its value.

    Signals
    -------
    node_selected(str, str, str)
        The current node changed: its id, name and node class ("" for none).
    watch_requested(str, str)
        Add to Watch List on a node: its id and name.
    write_requested(str, str)
        Write Value… on a variable: its id and name.
    browsing(bool)
        A server is browsed (True), or the dock was cleared because the link ended (False).
    """

    node_selected = QtCore.Signal(str, str, str)
    watch_requested = QtCore.Signal(str, str)
    write_requested = QtCore.Signal(str, str)
    browsing = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Server", parent)
        self.setObjectName("dock_browse")
        self.model = _NodeModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Node", "Type"])
        self.tree = QtWidgets.QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        # Node names are never cut to "…": the name column fits its widest loaded name (the dock scrolls
        # sideways when narrower), the type column takes what is left.
        header = self.tree.header()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.hint = QtWidgets.QLabel(
            "Connect to a server (Live ▸ Connect to Server…, Ctrl+K) to browse it. Drag a variable onto a machine to bind it."
        )
        self.hint.setWordWrap(True)
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical, body)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tree)
        layout.addWidget(self.splitter)
        self.setWidget(body)
        self._browser: Browser | None = None
        self.tree.expanded.connect(self._on_expanded)
        self.tree.selectionModel().currentChanged.connect(self._on_current)
        self.tree.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tasks: set[asyncio.Task] = set()
        self.menu: QtWidgets.QMenu | None = None

    def set_details(self, widget: QtWidgets.QWidget) -> None:
        """Show ``widget`` (the attribute panel) under the tree."""
        self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

    def current_node(self) -> tuple[str, str, str]:
        """The selected node's (id, name, node class); empty strings when none is."""
        index = self.tree.currentIndex().siblingAtColumn(0)
        node_id = index.data(NODE_ROLE) if index.isValid() else None
        if not node_id:
            return "", "", ""
        return node_id, index.data(QtCore.Qt.ItemDataRole.DisplayRole), index.data(CLASS_ROLE) or ""

    def _on_current(self, *_args: object) -> None:
        self.node_selected.emit(*self.current_node())

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        index = self.tree.indexAt(pos)
        if index.isValid():
            self.tree.setCurrentIndex(index)
        node_id, name, node_class = self.current_node()
        if not node_id:
            return
        menu = QtWidgets.QMenu(self)
        variable = node_class == "Variable"
        watch = menu.addAction("Add to &Watch List", lambda: self.watch_requested.emit(node_id, name))
        watch.setEnabled(variable)
        write = menu.addAction("&Write Value…", lambda: self.write_requested.emit(node_id, name))
        write.setEnabled(variable)
        menu.addSeparator()
        menu.addAction("&Copy Node Id", lambda: QtWidgets.QApplication.clipboard().setText(node_id))
        menu.popup(self.tree.viewport().mapToGlobal(pos))
        self.menu = menu  # (kept while open, and for tests)

    def set_browser(self, browser: Browser | None) -> None:
        """Browse with ``browser`` (a coroutine function: node id or None → children), or clear."""
        self._browser = browser
        self.hint.setVisible(browser is None)
        self.model.removeRows(0, self.model.rowCount())
        self.node_selected.emit("", "", "")
        self.browsing.emit(browser is not None)
        if browser is not None:
            self._load(None, self.model.invisibleRootItem())

    def _load(self, node_id: str | None, parent: QtGui.QStandardItem) -> None:
        if self._browser is None:
            return
        task = asyncio.ensure_future(self._fill(node_id, parent))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _fill(self, node_id: str | None, parent: QtGui.QStandardItem) -> None:
        try:
            items = await self._browser(node_id)
        except Exception as e:  # the server went away or refused: say so in the tree, keep working
            log.warning("cannot browse %s: %s", node_id or "Objects", str(e))
            parent.removeRows(0, parent.rowCount())
            parent.appendRow([QtGui.QStandardItem(f"(cannot browse: {e})"), QtGui.QStandardItem("")])
            return
        parent.removeRows(0, parent.rowCount())
        for it in items:
            name = QtGui.QStandardItem(node_label(it))
            name.setData(it.node_id, NODE_ROLE)
            name.setData(it.node_class, CLASS_ROLE)
            name.setToolTip(node_tip(it))
            kind = QtGui.QStandardItem(node_type(it))
            name.setDragEnabled(can_bind(it))
            if not can_bind(it):
                name.appendRow([QtGui.QStandardItem("loading…"), QtGui.QStandardItem("")])  # expandable until loaded
            parent.appendRow([name, kind])
        parent.setData(True, LOADED_ROLE)

    def _on_expanded(self, index: QtCore.QModelIndex) -> None:
        item = self.model.itemFromIndex(index)
        if item is not None and not item.data(LOADED_ROLE):
            item.setData(True, LOADED_ROLE)
            self._load(item.data(NODE_ROLE), item)

    def find(self, path: list[str]) -> QtGui.QStandardItem | None:
        """The loaded item at a path of display names (for tests)."""
        parent = self.model.invisibleRootItem()
        for name in path:
            match = next((parent.child(r) for r in range(parent.rowCount()) if parent.child(r).text() == name), None)
            if match is None:
                return None
            parent = match
        return parent
