"""Live ▸ Build Twin from Server…: the server's OPC UA for Machinery machines found off the GUI thread (with
progress and cancel), shown in a preview table (new, already there, gone; kind; bindings; problems), then
built into the open factory as one undo step, or into a new factory. The work is ``app.autobuild``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from app.autobuild.build import PreviewRow, build, empty_factory, mesh_sizes, preview_rows, summary
from app.autobuild.discovery import Discovery
from app.autobuild.job import DiscoveryJob
from app.model.factory import Factory
from app.model.kinds import get_kind
from app.ui.gui_thread import connect_on_gui
from app.ui.layout_commands import LayoutCommand

if TYPE_CHECKING:
    from app.ui.actions import Workbench

COLUMNS = ("Status", "Machine", "Kind", "Group", "Problems", "Bindings", "Identification")


class BuildTwinDialog(QtWidgets.QDialog):
    """Find a server's machines and preview them; after ``accept``, ``built()`` is the factory to show."""

    def __init__(self, endpoint: str, factory: Factory | None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Build Twin from Server")
        self.factory, self.discovery = factory, None
        #: A kind's footprint (width, depth, height m) from its loaded mesh; kinds without one get the default.
        self.sizes: dict[str, tuple[float, float, float]] = {}
        self.job = DiscoveryJob()
        self.endpoint = QtWidgets.QLineEdit(endpoint)
        self.endpoint.setPlaceholderText("opc.tcp://host:4840/… (an OPC UA for Machinery server)")
        self.find = QtWidgets.QPushButton("&Find Machines")
        self.find.setDefault(True)
        self.stop = QtWidgets.QPushButton("&Stop")
        self.stop.setEnabled(False)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("&Server"))
        row.itemAt(0).widget().setBuddy(self.endpoint)  # type: ignore[union-attr]
        row.addWidget(self.endpoint, 1)
        row.addWidget(self.find)
        row.addWidget(self.stop)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QtWidgets.QLabel("Find the machines the server exposes (OPC UA for Machinery), then build.")
        self.status.setWordWrap(True)
        self.new_factory = QtWidgets.QCheckBox("Build a &new factory (otherwise: add to the open one, one undo step)")
        self.new_factory.setChecked(factory is None)
        self.new_factory.setEnabled(factory is not None)
        self.remove_gone = QtWidgets.QCheckBox("&Remove machines gone from the server")
        self.remove_gone.setChecked(True)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.build_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.build_button.setText("&Build")
        self.build_button.setEnabled(False)
        self.build_button.setAutoDefault(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.new_factory)
        layout.addWidget(self.remove_gone)
        layout.addWidget(buttons)
        self.find.clicked.connect(self.start)
        self.endpoint.returnPressed.connect(self.start)
        self.stop.clicked.connect(self.job.cancel)
        self.new_factory.toggled.connect(self._show)
        connect_on_gui(self.job.progress, self._on_progress)
        connect_on_gui(self.job.finished, self._on_finished)
        connect_on_gui(self.job.failed, self._on_failed)
        self.resize(980, 520)

    def start(self) -> None:
        """Browse the server typed (on the network thread)."""
        self.table.setRowCount(0)
        self.discovery = None
        self.build_button.setEnabled(False)
        self.find.setEnabled(False)
        self.stop.setEnabled(True)
        self.status.setText(f"Browsing {self.endpoint.text().strip()}…")
        self.job.start(self.endpoint.text().strip())

    def built(self) -> tuple[Factory, list[str]] | None:
        """The factory with the machines built (new, or the open one changed), and the ids changed."""
        if self.discovery is None:
            return None
        base = empty_factory() if self.factory is None or self.new_factory.isChecked() else self.factory
        return build(base, self.discovery, self.sizes, remove_gone=self.remove_gone.isChecked())

    def done(self, result: int) -> None:  # Qt override: a browse still running is of no use any more
        self.job.cancel()
        self.job.progress.disconnect(self._on_progress)
        self.job.finished.disconnect(self._on_finished)
        self.job.failed.disconnect(self._on_failed)
        super().done(result)

    def _on_progress(self, _count: int, text: str) -> None:
        if self.job.running:
            self.status.setText(f"Browsing {self.endpoint.text().strip()}: {text}…")

    def _on_failed(self, message: str) -> None:
        self.find.setEnabled(True)
        self.stop.setEnabled(False)
        self.status.setText(message)

    def _on_finished(self, discovery: Discovery) -> None:
        self.find.setEnabled(True)
        self.stop.setEnabled(False)
        self.discovery = discovery
        self._show()

    def _show(self) -> None:
        if self.discovery is None:
            return
        against = None if self.new_factory.isChecked() else self.factory
        rows = preview_rows(self.discovery, against)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(_cells(row)):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(row.kind_reason if c == 2 else text)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        lines = [summary(rows), *self.discovery.problems]
        self.status.setText("\n".join(lines))
        self.build_button.setEnabled(any(r.status in ("new", "gone") for r in rows))


def _cells(row: PreviewRow) -> tuple[str, ...]:
    kind = get_kind(row.kind)
    return (row.status, row.name, kind.label if kind else row.kind, row.group, row.problems, row.bindings, row.identification)


def build_twin(w: Workbench) -> None:
    """Live ▸ Build Twin from Server…: run the dialog and apply what it built."""
    factory = w.document.factory if w.document is not None else None
    endpoint = (factory.opcua.endpoint if factory is not None else None) or ""
    dialog = BuildTwinDialog(endpoint, factory, w)  # type: ignore[arg-type]
    dialog.sizes = mesh_sizes(w.asset_of)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return
    result = dialog.built()
    if result is None:
        return
    after, changed = result
    if factory is None or dialog.new_factory.isChecked():
        if w.files.may_leave("building a new twin"):
            w.files.open_loaded(after, None, connect=False)
        return
    w.layout_editor.stack.push(LayoutCommand(w.layout_editor, factory, after, changed, f"Build twin: {len(changed)} machines"))
    QtCore.QTimer.singleShot(0, lambda: w.view.camera_preset("fit"))
