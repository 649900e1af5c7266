"""The Machine Palette: machines to add, one entry per machine kind with a picture of its mesh; drag an entry
onto the floor in edit mode, or double-click it."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.assets import AssetLibrary
from app.editing.catalogue import known_assets
from app.model.io import resolve_asset_path
from app.model.kinds import kind_rgb, known_kinds
from app.ui.thumbnails import mesh_thumbnail

MIME_ASSET = "application/x-floortwin-asset"


class PaletteDock(QtWidgets.QDockWidget):
    """Machines to add: one entry per machine kind with its mesh (and the factory's own meshes). Drag an
    entry onto the floor in edit mode, or double-click it to add the machine in the middle of the view."""

    activated = QtCore.Signal(str, str)  # kind id, asset id
    import_requested = QtCore.Signal()

    #: Thumbnail size in pixels (device-independent).
    ICON_PX = 48

    def __init__(self, parent: QtWidgets.QWidget | None = None, library: AssetLibrary | None = None):
        super().__init__("Machine Palette", parent)
        self.setObjectName("dock_palette")
        self.library = library if library is not None else AssetLibrary()
        self.list = _PaletteList(self)
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.list.setIconSize(QtCore.QSize(self.ICON_PX, self.ICON_PX))
        self.list.setSpacing(2)
        self.list.itemActivated.connect(self._on_activated)
        body = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list)
        self.import_button = QtWidgets.QPushButton("Import Mesh…", body)
        self.import_button.setToolTip("Add a machine from a mesh file (GLB/glTF, STL, OBJ, PLY)")
        self.import_button.clicked.connect(self.import_requested)
        column.addWidget(self.import_button)
        self.setWidget(body)
        self._pending: list[QtWidgets.QListWidgetItem] = []  # entries still without their picture
        self._icon_timer = QtCore.QTimer(self)
        self._icon_timer.setInterval(0)
        self._icon_timer.timeout.connect(self._next_icon)
        self.visibilityChanged.connect(self._on_visible)
        self.set_assets({})

    def set_assets(self, factory_assets: dict[str, str]) -> None:
        """Fill the list: every kind with its default mesh, then the factory's other meshes (id → kind)."""
        self.list.clear()
        entries = [(k.label, k.id, k.default_asset) for k in known_kinds().values() if k.default_asset in known_assets()]
        entries += [(f"{a} (this factory's mesh)", kind, a) for a, kind in sorted(factory_assets.items())]
        for label, kind, asset in entries:
            item = QtWidgets.QListWidgetItem(label)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, (kind, asset))
            item.setToolTip(f"kind {kind}, mesh {asset}: drag onto the floor in edit mode, or double-click")
            self.list.addItem(item)
        self._pending = [self.list.item(k) for k in range(self.list.count())]
        if self.isVisible():
            self._icon_timer.start()

    def _on_visible(self, visible: bool) -> None:
        # Pictures are drawn the first time the palette is seen, one per event-loop turn: start-up and the
        # GUI never wait for them.
        if visible and self._pending:
            self._icon_timer.start()

    def _next_icon(self) -> None:
        if not self._pending:
            self._icon_timer.stop()
            return
        item = self._pending.pop(0)
        try:
            kind_id, asset = item.data(QtCore.Qt.ItemDataRole.UserRole)
        except RuntimeError:  # the list was refilled meanwhile
            return
        ref = known_assets().get(asset)
        if ref is None:
            return
        mesh = self.library.load(resolve_asset_path(ref, None))
        colour = kind_rgb(kind_id, mesh.placeholder)
        ratio = self.devicePixelRatioF()
        image = mesh_thumbnail(mesh.vertices, mesh.faces, colour, round(self.ICON_PX * ratio))
        image.setDevicePixelRatio(ratio)
        item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))

    def icons_ready(self) -> bool:
        """True once every entry shows its picture."""
        return not self._pending

    def _on_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        kind, asset = item.data(QtCore.Qt.ItemDataRole.UserRole)
        self.activated.emit(kind, asset)


class _PaletteList(QtWidgets.QListWidget):
    def mimeData(self, items):  # the drag carries "kind asset"
        mime = QtCore.QMimeData()
        if items:
            kind, asset = items[0].data(QtCore.Qt.ItemDataRole.UserRole)
            mime.setData(MIME_ASSET, f"{kind} {asset}".encode())
        return mime

    def mimeTypes(self):
        return [MIME_ASSET]


def asset_payload(mime) -> tuple[str, str] | None:
    """(kind id, asset id) from a palette drag, or None."""
    if mime is None or not mime.hasFormat(MIME_ASSET):
        return None
    parts = bytes(mime.data(MIME_ASSET)).decode(errors="replace").split()
    return (parts[0], parts[1]) if len(parts) == 2 else None
