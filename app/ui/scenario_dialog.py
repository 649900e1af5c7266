"""Editing a what-if scenario: its name, its changes (added from a small form) and its run settings.

OK applies the scenario to its factory first: a bad value is named (``changes[2].value: must be > 0``),
its row is selected, and the dialog stays open.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.sim.change_form import (
    CHANGE_KINDS,
    FIELDS,
    VALUE_LABELS,
    ChangeValues,
    current_values,
    failing_change,
    make_change,
    targets,
)
from app.sim.scenario import PARAM_LABELS, PARAMS, Change, Scenario, ScenarioError, apply, describe
from app.ui.widgets import number_field


class ScenarioDialog(QtWidgets.QDialog):
    """Edit ``scenario``; ``result_scenario()`` is the edited one after OK."""

    def __init__(self, scenario: Scenario, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Scenario — {scenario.name}")
        self.setObjectName("scenario_dialog")
        self.scenario = scenario
        self.changes: list[Change] = list(scenario.changes)
        f = scenario.factory
        layout = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QFormLayout()
        self.name = QtWidgets.QLineEdit(scenario.name, self)
        top.addRow("&Name", self.name)
        self.horizon = number_field((scenario.horizon_s or f.simulation.horizon_s) / 86400, 0.01, 3650, " d", 2)
        self.horizon.setToolTip("Simulated time per replication when there is no recorded window to compare with")
        top.addRow("&Horizon", self.horizon)
        self.replications = QtWidgets.QSpinBox(self)
        self.replications.setRange(1, 1000)
        self.replications.setValue(scenario.replications or f.simulation.replications)
        self.replications.setToolTip("Independent runs: more make the confidence intervals narrower")
        top.addRow("&Replications", self.replications)
        layout.addLayout(top)

        layout.addWidget(QtWidgets.QLabel("Changes to the factory:", self))
        self.list = QtWidgets.QListWidget(self)
        self.list.setObjectName("changes")
        layout.addWidget(self.list, 1)
        remove = QtWidgets.QPushButton("Remove &selected change", self)
        remove.clicked.connect(self._remove_selected)
        layout.addWidget(remove, 0, QtCore.Qt.AlignmentFlag.AlignRight)

        box = QtWidgets.QGroupBox("Add a change", self)
        form = QtWidgets.QFormLayout(box)
        self.kind = QtWidgets.QComboBox(box)
        for key, label in CHANGE_KINDS:
            self.kind.addItem(label, key)
        form.addRow("&Kind", self.kind)
        self.target = QtWidgets.QComboBox(box)
        form.addRow("&Of", self.target)
        self.param = QtWidgets.QComboBox(box)
        for key in PARAMS:
            self.param.addItem(PARAM_LABELS[key], key)
        form.addRow("&Parameter", self.param)
        self.value = QtWidgets.QDoubleSpinBox(box)  # no limits here: apply() names what is wrong
        self.value.setRange(-1e12, 1e12)
        self.value.setDecimals(3)
        form.addRow("&Value", self.value)
        self.x_m = number_field(0.0, -1e4, 1e4, " m", 2)
        self.y_m = number_field(0.0, -1e4, 1e4, " m", 2)
        self.yaw = number_field(0.0, -3600, 3600, " °", 1)
        form.addRow("&x", self.x_m)
        form.addRow("&y", self.y_m)
        form.addRow("&Yaw", self.yaw)
        self._fields = {"param": self.param, "value": self.value, "x": self.x_m, "y": self.y_m, "yaw": self.yaw}
        self._rows = {w: form.labelForField(w) for w in self._fields.values()}
        add = QtWidgets.QPushButton("&Add change", box)
        add.clicked.connect(self.add_from_form)
        form.addRow(add)
        layout.addWidget(box)

        self.error = QtWidgets.QLabel("", self)
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.target.currentIndexChanged.connect(self._target_changed)
        self.param.currentIndexChanged.connect(self._target_changed)
        self._kind_changed()
        self._refresh()
        self.resize(520, 620)

    # -- the form ----------------------------------------------------------------------------------------
    def _kind_changed(self, *_args) -> None:
        kind = self.kind.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for key, text in targets(self.scenario.factory, kind):
            self.target.addItem(text, key)
        self.target.blockSignals(False)
        shown = {self._fields[name] for name in FIELDS[kind]}
        for w, label in self._rows.items():
            w.setVisible(w in shown)
            label.setVisible(w in shown)
        self._rows[self.value].setText(VALUE_LABELS.get(kind, "&Value"))
        self._target_changed()

    def _target_changed(self, *_args) -> None:
        """Start the value fields at the current value (what the user changes from)."""
        kind, target = self.kind.currentData(), self.target.currentData()
        if target is None:
            return
        now = current_values(self.scenario.factory, kind, target, self.param.currentData())
        if "value" in FIELDS[kind]:
            self.value.setValue(now.value)
        if kind == "move":
            self.x_m.setValue(now.x_m)
            self.y_m.setValue(now.y_m)
            self.yaw.setValue(now.yaw_deg)

    def add_from_form(self) -> Change | None:
        """Append the change the form describes."""
        kind, target = self.kind.currentData(), self.target.currentData()
        if target is None:
            return None
        values = ChangeValues(
            param=self.param.currentData(),
            value=float(self.value.value()),
            x_m=self.x_m.value(),
            y_m=self.y_m.value(),
            yaw_deg=self.yaw.value(),
        )
        change = make_change(kind, target, values)
        self.changes.append(change)
        self._refresh()
        return change

    def _remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.changes):
            del self.changes[row]
            self._refresh()

    def _refresh(self) -> None:
        self.list.clear()
        for k, c in enumerate(self.changes):
            self.list.addItem(f"{k + 1}. {describe(c)}")
        self.error.setText("")

    # -- result ------------------------------------------------------------------------------------------
    def result_scenario(self) -> Scenario:
        return self.scenario.model_copy(
            update={
                "name": self.name.text().strip() or self.scenario.name,
                "changes": list(self.changes),
                "horizon_s": self.horizon.value() * 86400,
                "replications": self.replications.value(),
            }
        )

    def accept(self) -> None:
        try:
            apply(self.result_scenario())
        except ScenarioError as e:
            self.error.setText(str(e))
            row = failing_change(e)
            if row is not None:
                self.list.setCurrentRow(row)
            return
        super().accept()
