"""Edit ▸ Set Position…: the exact position and rotation of one machine, with its verdict as you type."""

from __future__ import annotations

from PySide6 import QtWidgets

from app.editing.service import LayoutEditService
from app.model.factory import Factory, Pose
from app.ui.widgets import number_field


class PlaceDialog(QtWidgets.QDialog):
    """Exact position (metres) and rotation (degrees) of one machine, with its verdict as you type.
    The fields take numbers within the floor only: NaN, text or off-floor values cannot be entered."""

    def __init__(self, factory: Factory, mid: str, service: LayoutEditService, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Set position of {mid}")
        self.service, self.mid = service, mid
        pose = factory.machine(mid).pose
        form = QtWidgets.QFormLayout(self)
        self.x = number_field(pose.x_m, 0.0, factory.floor.width_m, " m", 3)
        self.y = number_field(pose.y_m, 0.0, factory.floor.depth_m, " m", 3)
        self.yaw = number_field(pose.yaw_deg % 360, 0.0, 359.99, "°", 3)
        form.addRow("&X", self.x)
        form.addRow("&Y", self.y)
        form.addRow("&Rotation", self.yaw)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        form.addRow("", self.verdict)
        self.override = QtWidgets.QCheckBox("Place it even if it collides")
        form.addRow("", self.override)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for spin in (self.x, self.y, self.yaw):
            spin.valueChanged.connect(self._update_verdict)
        self._update_verdict()

    def pose(self) -> Pose:
        return Pose(x_m=self.x.value(), y_m=self.y.value(), yaw_deg=self.yaw.value())

    def _update_verdict(self) -> None:
        verdicts = self.service.verdicts({self.mid: self.pose()})
        if not verdicts:
            self.verdict.setText('<span style="color:#009e73">Clear of everything</span>')
        else:
            colour = "#d51e1e" if verdicts[0].status == "collision" else "#aa6e00"
            self.verdict.setText(f'<span style="color:{colour}">{verdicts[0].describe()}</span>')
