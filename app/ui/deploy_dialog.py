"""Deploy to plant…: a what-if scenario's changes written to the plant in confirmed, watched stages.

A thin view of :class:`app.deploy.service.Deployment`: the form makes the plan and the connection, the
table shows each stage's state, the button confirms the stage that waits, the list shows the log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import platformdirs
from PySide6 import QtCore, QtWidgets

from app.deploy.log import DeployEntry, DeployLog, log_path_beside
from app.deploy.model_sync import ModelFollower
from app.deploy.plan import PlanError, StageSpec, plan_deployment
from app.deploy.service import Deployment, Outcome, StageReport
from app.deploy.text import (
    LOG_COLUMNS,
    STAGE_COLUMNS,
    awaiting,
    deploy_blocker,
    entry_row,
    first_stage_targets,
    login_hint,
    parse_targets,
    stage_row,
)
from app.live.client import ConnectionSettings
from app.live.trust import TrustStore
from app.model.document import FactoryDocument
from app.sim.scenario import Scenario
from app.ui.gui_thread import connect_on_gui
from app.ui.sizing import size_to_screen
from app.whatif import Entry


def _pki() -> Path:
    """Where the live console keeps floortwin's client certificate and the trusted server certificates."""
    return Path(platformdirs.user_config_dir("floortwin")) / "pki"


@runtime_checkable
class LinkSource(Protocol):
    """What the dialog reads of the window's live link (``app.ui.live_console.LiveConsole`` has both)."""

    live_settings: ConnectionSettings | None  # the link's connection (endpoint, login), None before one

    @property
    def link_time_scale(self) -> float: ...  # plant seconds per clock second on the link


class DeployDialog(QtWidgets.QDialog):
    """Plan, start and follow one deployment of ``scenario``; its log goes to ``log_path``.

    ``link`` (the window's live console) gives the defaults: the plant the window is connected to, its login
    (and password, held in memory for the link) and security mode, and the link's clock (a plant simulator's
    ``--speed``). Without one: a local plant, no login, real time."""

    def __init__(
        self,
        scenario: Scenario,
        log_path: Path,
        parent: QtWidgets.QWidget | None = None,
        link: LinkSource | None = None,
        document: FactoryDocument | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Deploy to Plant — {scenario.name}")
        self.setObjectName("deploy_dialog")
        self.scenario, self.log_path = scenario, log_path
        self.deployment: Deployment | None = None
        #: The open document follows what is written (``app.deploy.model_sync``); None: the model is left as it is.
        self.document, self.follower = document, None
        #: The server certificates the user trusted (the live console's store): a plant not in it is not written.
        self.trusted: TrustStore | None = TrustStore(_pki() / "trusted")
        self._log: DeployLog | None = None
        form = QtWidgets.QFormLayout()
        self.endpoint = QtWidgets.QLineEdit("opc.tcp://127.0.0.1:4840/floortwin/", self)
        self.login = QtWidgets.QLineEdit(self)
        self.login.setPlaceholderText("a login that may write setpoints")
        self.login_hint = QtWidgets.QLabel(self)  # the plant's logins when known, else that writing needs one
        self.login_hint.setObjectName("login_hint")
        self.login_hint.setWordWrap(True)
        self._logins: list[tuple[str, str]] = []
        self.password = QtWidgets.QLineEdit(self)
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.mode = QtWidgets.QComboBox(self)
        self.mode.addItems(["Basic256Sha256 — Sign & Encrypt", "Basic256Sha256 — Sign"])
        self.speed = QtWidgets.QDoubleSpinBox(self)
        self.speed.setRange(1.0, 10_000.0)
        self.speed.setDecimals(0)
        self.speed.setSuffix(" × real time")
        self.speed.setToolTip("How fast the plant's clock runs (a plant simulator's --speed; 1 for a real plant)")
        self.first = QtWidgets.QLineEdit(first_stage_targets(scenario), self)
        self.first.setToolTip("Machines or parts changed in the first stage (comma separated); the second stage changes the rest")
        self.window = QtWidgets.QDoubleSpinBox(self)
        self.window.setRange(1.0, 7 * 24 * 60.0)
        self.window.setDecimals(0)
        self.window.setValue(60.0)
        self.window.setSuffix(" min of plant time")
        self._link = link
        self._take_link_defaults(link)
        if link is not None and link.live_settings is None:  # the link comes up later: take it then
            self._wait_for_link = QtCore.QTimer(self, interval=500, timeout=self._link_came_up)
            self._wait_for_link.start()
            self.endpoint.textEdited.connect(self._wait_for_link.stop)  # the user's own plant wins
        for label, widget in (
            ("Plant", self.endpoint),
            ("Login", self.login),
            ("", self.login_hint),
            ("Password", self.password),
            ("Security", self.mode),
            ("Plant clock", self.speed),
            ("First stage", self.first),
            ("Watch each stage", self.window),
        ):
            form.addRow(label, widget)
        self.message = QtWidgets.QLabel("", self)
        self.message.setWordWrap(True)
        self.stages = QtWidgets.QTreeWidget(self)
        self.stages.setHeaderLabels(STAGE_COLUMNS)
        self.stages.setRootIsDecorated(False)
        self.log_list = QtWidgets.QTreeWidget(self)
        self.log_list.setHeaderLabels(LOG_COLUMNS)
        self.log_list.setRootIsDecorated(False)
        # The last column of each list holds sentences wider than a 1366×768 screen: the selected row's is
        # shown in full, wrapped, under its list (a tooltip alone hides it from a reader).
        self.stage_detail, self.log_detail = _detail_pane(self, "stage_detail"), _detail_pane(self, "log_detail")
        self.stages.currentItemChanged.connect(lambda item, _: _show_detail(self.stage_detail, item, STAGE_COLUMNS))
        self.log_list.currentItemChanged.connect(lambda item, _: _show_detail(self.log_detail, item, LOG_COLUMNS))
        self.start_button = QtWidgets.QPushButton("&Start", self)
        self.start_button.clicked.connect(self.start)
        self.confirm_button = QtWidgets.QPushButton("&Confirm Stage", self)
        self.confirm_button.setEnabled(False)
        self.confirm_button.setToolTip("Write this stage's setpoints to the plant (nothing is written unconfirmed)")
        self.confirm_button.clicked.connect(self.confirm)
        self.stop_button = QtWidgets.QPushButton("S&top", self)
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop the deployment; a stage being watched is rolled back")
        self.stop_button.clicked.connect(self.stop)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.start_button, self.confirm_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(QtWidgets.QLabel("Stages", self))
        layout.addWidget(self.stages, 1)
        layout.addWidget(self.stage_detail)
        layout.addWidget(QtWidgets.QLabel(f"Log ({log_path})", self))
        layout.addWidget(self.log_list, 2)
        layout.addWidget(self.log_detail)
        size_to_screen(self, 0.7, (900, 600))  # the stages' bounds are long sentences
        self.login.textChanged.connect(self._show_login_hint)
        self._show_login_hint()
        blocker = deploy_blocker(scenario)
        if blocker:  # said at once, not after Start
            self.message.setText(blocker)
            self.start_button.setEnabled(False)
            self.start_button.setToolTip(blocker)

    def _show_login_hint(self) -> None:
        self.login_hint.setText(login_hint(self._logins, self.login.text()))
        self.login_hint.setVisible(bool(self.login_hint.text()))

    def _take_link_defaults(self, link: LinkSource | None) -> None:
        """Fill the form from the window's live link: the plant it reads is the plant to write to."""
        if link is None:
            return
        self.speed.setValue(link.link_time_scale)
        self._logins = list(getattr(link, "plant_logins", []))  # the embedded plant simulator's (the demo's)
        live = link.live_settings
        if live is None:
            return
        self.endpoint.setText(live.endpoint)
        self.login.setText(live.username or "")
        self.password.setText(live.password or "")
        if live.security_mode == "Sign":  # a link without security stays at the default: writes need one
            self.mode.setCurrentIndex(1)

    def _link_came_up(self) -> None:
        """Opened before the window's link was up (a quick user after start-up): its plant and clock once it is,
        not a local plant at real time."""
        if self._link is not None and self._link.live_settings is not None:
            self._wait_for_link.stop()
            if self.deployment is None:
                self._take_link_defaults(self._link)
                self._show_login_hint()

    def settings(self) -> ConnectionSettings:
        folder = _pki()  # the live console's client certificate
        return ConnectionSettings(
            endpoint=self.endpoint.text().strip(),
            security_policy="Basic256Sha256",
            security_mode="SignAndEncrypt" if self.mode.currentIndex() == 0 else "Sign",
            username=self.login.text().strip() or None,
            password=self.password.text(),
            client_certificate=folder / "client_cert.der",
            client_key=folder / "client_key.pem",
        )

    def start(self, settings: ConnectionSettings | None = None) -> bool:
        """Plan and begin (writes wait for each confirmation); False, with the reason shown, if the plan fails."""
        window_s = 60.0 * self.window.value()
        first = parse_targets(self.first.text())
        specs = [StageSpec(None, window_s)] if first is None else [StageSpec(first, window_s), StageSpec(None, window_s)]
        try:
            plan = plan_deployment(self.scenario, specs)
        except PlanError as e:
            if first is None or "writes nothing" not in str(e):
                self.message.setText(f"Cannot deploy: {e}")
                return False
            plan = plan_deployment(self.scenario, specs[:1])  # the first stage holds every change: one stage
        self._log = DeployLog(self.log_path)
        dep = self.deployment = Deployment(
            plan, settings or self.settings(), self._log, time_scale=self.speed.value(), trusted=self.trusted
        )
        if self.document is not None:  # first: the model has a stage's changes before the views hear of it
            self.follower = ModelFollower(self.document, plan)
            connect_on_gui(dep.stage_changed, self.follower.on_stage)
        connect_on_gui(dep.stage_changed, self._on_stage)
        connect_on_gui(dep.logged, self._on_logged)
        connect_on_gui(dep.finished, self._on_finished)
        self.stages.clear()
        for report in dep.reports:
            self.stages.addTopLevelItem(QtWidgets.QTreeWidgetItem(stage_row(report)))
        for column in range(3):
            self.stages.resizeColumnToContents(column)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.message.setText("Connecting to the plant and simulating the first stage…")
        dep.start()
        return True

    def confirm(self) -> None:
        if self.deployment is not None:
            self.confirm_button.setEnabled(False)
            self.deployment.confirm_next_stage()

    def stop(self) -> None:
        if self.deployment is not None:
            self.deployment.cancel()

    def _on_stage(self, k: int, report: StageReport) -> None:
        item = self.stages.topLevelItem(k)
        if item is not None:
            for column, text in enumerate(stage_row(report)):
                item.setText(column, text)
                item.setToolTip(column, text)  # the detail is often wider than the dialog
            self.stages.setCurrentItem(item)  # the stage that moved is the one to read
            _show_detail(self.stage_detail, item, STAGE_COLUMNS)
        for column in range(3):
            self.stages.resizeColumnToContents(column)
        waiting = awaiting(self.deployment.reports) if self.deployment is not None else None
        self.confirm_button.setEnabled(waiting is not None)
        if waiting is not None:
            self.confirm_button.setText(f"&Confirm Stage {waiting + 1}")
            self.message.setText(f"Stage {waiting + 1} is ready: confirm to write it to the plant.")

    def _on_logged(self, entry: DeployEntry) -> None:
        row = entry_row(entry)
        item = QtWidgets.QTreeWidgetItem(row)
        item.setToolTip(len(row) - 1, row[-1])
        self.log_list.addTopLevelItem(item)
        for column in range(len(LOG_COLUMNS) - 1):
            self.log_list.resizeColumnToContents(column)
        self.log_list.setCurrentItem(item)  # the latest entry's note in full under the list
        self.log_list.scrollToBottom()

    def _on_finished(self, outcome: Outcome, reason: str) -> None:
        self.message.setText(f"Deployment {outcome.value}: {reason}")
        self.confirm_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        # Not completed: the plant has its old setpoints (nothing written, or written back), so the user may
        # correct the login or the plant and start again; a completed deployment is not started twice.
        self.start_button.setEnabled(outcome is not Outcome.COMPLETED)
        for k, report in enumerate(self.deployment.reports if self.deployment is not None else ()):
            item = self.stages.topLevelItem(k)
            if item is not None:  # a stage still "pending" when it ended was never started: say so
                for column, text in enumerate(stage_row(report, ended=True)):
                    item.setText(column, text)
                    item.setToolTip(column, text)
        for column in range(3):  # "not started" is wider than "pending": the State column read "not st…"
            self.stages.resizeColumnToContents(column)
        _show_detail(self.stage_detail, self.stages.currentItem(), STAGE_COLUMNS)
        if self._log is not None:
            self._log.close()
            self._log = None

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)


def _detail_pane(parent: QtWidgets.QWidget, name: str) -> QtWidgets.QLabel:
    """A wrapped, selectable line under a list for its current row's last column."""
    pane = QtWidgets.QLabel("", parent)
    pane.setObjectName(name)
    pane.setWordWrap(True)
    pane.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    pane.setVisible(False)
    return pane


def _show_detail(pane: QtWidgets.QLabel, item: QtWidgets.QTreeWidgetItem | None, columns: list[str]) -> None:
    """``item``'s last column in full ("Stage 1 (30 min): …", "12:31:24 end: …"), or nothing."""
    text = ""
    if item is not None and item.text(len(columns) - 1):
        head = f"Stage {item.text(0)}" if columns[0] == "Stage" else f"{item.text(0)} {item.text(2)}"  # state: beside it
        text = f"{head}: {item.text(len(columns) - 1)}"
    pane.setText(text)
    pane.setVisible(bool(text))


def open_deploy_dialog(
    parent: QtWidgets.QWidget, entry: Entry | None, history_path: Path | None, keep: Callable[[QtWidgets.QDialog], None]
) -> DeployDialog | None:
    """Show the dialog for a what-if entry's scenario through ``keep`` (which shows it and holds it while
    open); None when nothing is selected. The log goes beside the history file; the plant, login and clock
    are the window's live link's."""
    if entry is None:
        return None
    from app.paths import user_data_dir

    # the main window's live console (a public attribute) gives the link's plant, login and clock
    console = getattr(parent.window(), "console", None)
    link = console if isinstance(console, LinkSource) else None
    document = getattr(console, "document", None)
    log_path = log_path_beside(history_path or user_data_dir() / "history.sqlite")
    dialog = DeployDialog(entry.scenario, log_path, parent, link, document if isinstance(document, FactoryDocument) else None)
    keep(dialog)
    return dialog
