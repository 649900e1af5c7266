"""What Optimise ▸ Parameters… asks: the decision variables (a table the user fills: kind, target, bounds),
the budget, objectives, simulation, search limits, selection and where it runs — read as a `ParamsRequest`;
and the undo step that makes an optimised factory the document's content. Defaults and words come from
`app.optimise.params_view`; the request is checked by the service (its message is shown), not here."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.optimise.params_problem import KIND_WORDS, KINDS, OBJECTIVES, ParamsRequest, Variable
from app.optimise.params_result import ParamsResult
from app.optimise.params_view import WHOLE, budget_of, default_variable, now_text, targets

COLUMNS = ("Kind", "Of", "Today", "Lower", "Upper")
MOST = 1e6  # bounds the spin boxes allow: lower > upper and other bad bounds reach the service's check
CONFIDENCE = {"90%": 0.10, "95%": 0.05, "99%": 0.01}


def spin(lo: float, hi: float, value: float, suffix: str = "", decimals: int = 0, special: str = "") -> QtWidgets.QDoubleSpinBox:
    box = QtWidgets.QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    if special:
        box.setSpecialValueText(special)  # shown at the minimum: "no limit", "auto"
    return box


def row(*pairs: tuple[str, QtWidgets.QWidget]) -> QtWidgets.QHBoxLayout:
    """Widgets in a row, each after its label ("": none), then a stretch."""
    out = QtWidgets.QHBoxLayout()
    for label, widget in pairs:
        if label:
            out.addWidget(QtWidgets.QLabel(label))
        out.addWidget(widget)
    out.addStretch(1)
    return out


class VariablesTable(QtWidgets.QWidget):
    """A table of decision variables with Add and Remove; ``variables()`` reads them."""

    def __init__(self, factory: Factory, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.factory = factory
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("variables")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(110)
        self.table.setMaximumHeight(230)  # six rows; the settings follow right below, not under an empty table
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.add_button = QtWidgets.QPushButton("Add variable")
        self.add_button.setToolTip("A buffer size, servers, a part flow's release rate, a transport speed or a WIP cap")
        self.add_button.clicked.connect(lambda: self.add())
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def add(self, kind: str = "input_buffer", target: str | None = None) -> int:
        """A new row of ``kind`` on ``target`` (default: the first one) with bounds around today's value."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        kinds = QtWidgets.QComboBox()
        kinds.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        for k in KINDS:
            kinds.addItem(KIND_WORDS[k][0], k)
        kinds.setCurrentIndex(KINDS.index(kind))  # type: ignore[arg-type]
        of = QtWidgets.QComboBox()
        of.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        low, high = QtWidgets.QDoubleSpinBox(), QtWidgets.QDoubleSpinBox()
        for box in (low, high):
            box.setRange(-MOST, MOST)
            box.setKeyboardTracking(False)
        self.table.setCellWidget(row, 0, kinds)
        self.table.setCellWidget(row, 1, of)
        self.table.setItem(row, 2, QtWidgets.QTableWidgetItem())
        self.table.setCellWidget(row, 3, low)
        self.table.setCellWidget(row, 4, high)
        kinds.currentIndexChanged.connect(lambda _i, c=kinds: self._kind_changed(self._row_of(c)))
        of.currentIndexChanged.connect(lambda _i, c=of: self._target_changed(self._row_of(c)))
        self._kind_changed(row, target)
        return row

    def _row_of(self, widget: QtWidgets.QWidget) -> int:
        for row in range(self.table.rowCount()):
            for col in (0, 1):
                if self.table.cellWidget(row, col) is widget:
                    return row
        return -1

    def _kind_changed(self, row: int, target: str | None = None) -> None:
        kind = self.table.cellWidget(row, 0).currentData()
        of: QtWidgets.QComboBox = self.table.cellWidget(row, 1)  # type: ignore[assignment]
        names = targets(self.factory, kind)
        of.blockSignals(True)
        of.clear()
        of.addItems(names)
        of.setEnabled(len(names) > 1)
        if target in names:
            of.setCurrentText(target)
        of.blockSignals(False)
        for col in (3, 4):
            box: QtWidgets.QDoubleSpinBox = self.table.cellWidget(row, col)  # type: ignore[assignment]
            box.setDecimals(0 if kind in WHOLE else 2)  # the unit is in "Today" (no "1 places")
        self._target_changed(row)

    def _target_changed(self, row: int) -> None:
        kind = self.table.cellWidget(row, 0).currentData()
        target = self.table.cellWidget(row, 1).currentText()
        item = self.table.item(row, 2)
        if not target:  # e.g. a factory without transport paths
            item.setText("none in this factory")
            return
        v = default_variable(self.factory, kind, target)
        item.setText(now_text(self.factory, kind, target))
        self.table.cellWidget(row, 3).setValue(v.low)
        self.table.cellWidget(row, 4).setValue(v.high)

    def set_bounds(self, row: int, low: float, high: float) -> None:
        self.table.cellWidget(row, 3).setValue(low)
        self.table.cellWidget(row, 4).setValue(high)

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()}, reverse=True)
        for row in rows or ([self.table.rowCount() - 1] if self.table.rowCount() else []):
            self.table.removeRow(row)

    def variables(self) -> tuple[Variable, ...]:
        """The rows as decision variables, in order (a row without a target is left out)."""
        out = []
        for row in range(self.table.rowCount()):
            target = self.table.cellWidget(row, 1).currentText()
            if target:
                kind = self.table.cellWidget(row, 0).currentData()
                low, high = (self.table.cellWidget(row, c).value() for c in (3, 4))
                out.append(Variable(kind=kind, target=target, low=low, high=high))
        return tuple(out)


class ParamsSetup(QtWidgets.QScrollArea):
    """The left side of the dialog: variables and settings (scrolls when the screen is short)."""

    def __init__(self, factory: Factory, dask_address: str | None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        sim = factory.simulation
        self.variables = VariablesTable(factory)
        form = QtWidgets.QFormLayout()
        self.buffer_budget = spin(-1, 100000, -1, " places", special="no limit")
        self.buffer_budget.valueChanged.connect(lambda v: self.buffer_budget.setSuffix(" place" if v == 1 else " places"))
        self.server_cost = spin(0, 1e9, 0, special="not given")
        self.max_cost = spin(-1, 1e12, -1, special="no limit")
        self.buffer_budget.setToolTip("The input buffer variables' places together at most this many")
        self.server_cost.setToolTip("Price of one server added above what a machine has now")
        form.addRow("Budget: buffers ≤", row(("", self.buffer_budget)))
        form.addRow("", row(("server price", self.server_cost), ("total ≤", self.max_cost)))
        self.objectives: dict[str, QtWidgets.QCheckBox] = {}
        for key, o in OBJECTIVES.items():
            box = self.objectives[key] = QtWidgets.QCheckBox(o.words)
            box.setChecked(key == "throughput")
            box.setToolTip(f"{o.unit}, {'maximised' if o.maximise else 'minimised'}; the first ticked one decides the selection")
            box.toggled.connect(self._objectives_changed)
        form.addRow("Objectives:", row(*(("", b) for b in self.objectives.values())))
        self.replications = spin(2, 100, max(2, min(sim.replications, 5)))
        self.horizon = spin(0.1, 10000, sim.horizon_s / 3600, " h", 1)
        self.warmup = spin(0, 10000, sim.warmup_s / 3600, " h", 1)
        form.addRow("Each candidate:", row(("", self.replications), ("runs of", self.horizon), ("after", self.warmup)))
        self.seconds = spin(1, 36000, 60, " s")
        self.evaluations = spin(1, 100000, 100)
        form.addRow("Search: at most", row(("", self.seconds), ("or", self.evaluations), ("candidates", QtWidgets.QWidget())))
        self.delta = spin(0, 1e9, 0, decimals=3, special="auto (1% of the best)")
        self.delta.setToolTip("Indifference zone: a difference smaller than δ does not matter to you")
        self.confidence = QtWidgets.QComboBox()
        self.confidence.addItems(list(CONFIDENCE))
        self.confidence.setCurrentText("95%")
        self.selection_cap = spin(4, 10000, 100)
        self.selection_cap.setToolTip("The selection stops adding replications here and says what it could not tell apart")
        form.addRow("Selection: δ", row(("", self.delta), ("confidence", self.confidence)))
        form.addRow("", row(("at most", self.selection_cap), ("runs per finalist", QtWidgets.QWidget())))
        self.dask = QtWidgets.QLineEdit(dask_address or "")
        self.dask.setPlaceholderText("local processes (or tcp://scheduler:8786)")
        self.dask.setToolTip("A Dask scheduler runs the replications; empty: this computer's cores (as in What-if)")
        form.addRow("Run on:", self.dask)
        body = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(body)
        layout.addWidget(QtWidgets.QLabel("<b>Decision variables</b>"))
        layout.addWidget(self.variables)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setWidgetResizable(True)
        self.setWidget(body)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self._objectives_changed()

    def _objectives_changed(self) -> None:
        """δ is in the first objective's unit."""
        first = next((k for k, b in self.objectives.items() if b.isChecked()), None)
        self.delta.setSuffix(f" {OBJECTIVES[first].unit}" if first else "")

    def show_request_of(self, result: ParamsResult) -> None:
        """The settings a reopened result was made with, to see them and to run again (a variable whose
        target this factory lacks is left out)."""
        t = self.variables.table
        t.setRowCount(0)
        for v in result.variables:
            if v.target in targets(self.variables.factory, v.kind):
                self.variables.set_bounds(self.variables.add(v.kind, v.target), v.low, v.high)
        for key, box in self.objectives.items():
            box.setChecked(key in result.objectives)
        self.replications.setValue(result.replications)
        self.horizon.setValue(result.horizon_s / 3600)
        self.warmup.setValue(result.warmup_s / 3600)
        b = result.budget
        self.buffer_budget.setValue(-1 if b.buffer_places is None else b.buffer_places)
        self.max_cost.setValue(-1 if b.max_cost is None else b.max_cost)
        self.server_cost.setValue(b.server_cost.get("*", 0.0))

    def dask_address(self) -> str | None:
        return self.dask.text().strip() or None

    def request(self) -> ParamsRequest:
        """What the widgets say, as the service takes it (checked there)."""
        budget = budget_of(
            None if self.buffer_budget.value() < 0 else int(self.buffer_budget.value()),
            self.server_cost.value() or None,
            None if self.max_cost.value() < 0 else self.max_cost.value(),
        )
        return ParamsRequest(
            variables=self.variables.variables(),
            objectives=tuple(k for k, b in self.objectives.items() if b.isChecked()),
            budget=budget,
            replications=int(self.replications.value()),
            horizon_s=self.horizon.value() * 3600,
            warmup_s=self.warmup.value() * 3600,
            seconds=self.seconds.value(),
            max_evaluations=int(self.evaluations.value()),
            delta=self.delta.value() or None,
            alpha=CONFIDENCE[self.confidence.currentText()],
            max_selection_replications=int(self.selection_cap.value()),
        )


class ParametersCommand(QtGui.QUndoCommand):
    """An optimised setting applied: the factory before and after, one undo step."""

    def __init__(self, document: FactoryDocument, before: Factory, after: Factory, machines: list[str], text: str):
        super().__init__(text)
        self.document, self.before, self.after, self.machines = document, before, after, machines

    def redo(self) -> None:
        self.document.set_parameters(self.after, self.machines)

    def undo(self) -> None:
        self.document.set_parameters(self.before, self.machines)
