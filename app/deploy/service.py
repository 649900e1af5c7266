"""The deployment service: writes a plan's stages to the plant, one confirmed stage at a time, watches
each against the twin's prediction for the changed plant and rolls it back when the plant falls short.

Runs on the network loop (:mod:`app.live.netloop`), never on the GUI thread; announces every step with
psygnal signals (a view connects them with ``app.ui.gui_thread.connect_on_gui``). For each stage:

1. the bands of what the window should show are simulated (off the network loop, in a worker thread):
   for the plant with the stage's changes (the scenario's prediction) and for the plant without them;
2. it waits for ``confirm_next_stage()`` — it writes nothing the user did not confirm;
3. it reads and keeps each setpoint's old value, then writes the new one. A write the server refuses
   (``BadUserAccessDenied``, ``BadNotWritable``, ``BadOutOfRange``…) stops the deployment with the
   server's status, and what this stage already wrote is written back;
4. for the stage's window (simulated seconds: the plant's clock ``Plant/SimulatedTime`` when it serves
   one, else the wall clock times ``time_scale``) it watches the plant: each changed machine's cycle times
   go to a drift watchdog armed on the *changed* factory, and at the window's end the counts (each changed
   machine's throughput, the line output) must be within their bands: fewer parts than predicted for the
   changed plant, or than the plant made without the change, or a drift detection, rolls the stage back
   (its old values written back) and says
   why. A link that drops freezes the stage; it is rolled back once the link returns.

Before the first write the service checks that the channel is secure and that the login may write every
node of the plan (the server's ``UserAccessLevel`` for this session); otherwise nothing is written.
Every step is logged (:mod:`app.deploy.log`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from asyncua import Client, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from psygnal import Signal

from app.deploy.log import DeployEntry, DeployLog
from app.deploy.plan import DeploymentPlan, SetpointChange, Stage
from app.deploy.prediction import (
    Band,
    bands_text,
    kpi_stations,
    predict,
    unseen_harm,
    unseen_text,
    untestable,
    untested_text,
)
from app.live.client import ConnectionSettings
from app.live.netloop import NetworkLoop, network_loop
from app.live.node_write import channel_refusal
from app.live.trust import TrustStore, describe, fetch_server_certificate
from app.plant.server import NAMESPACE, ensure_certificate
from app.plant.setpoints import PLANT_CLOCK_ID
from app.sim.numbers import count_of, format_number
from app.state.store import Update
from app.ua.values import node_id
from app.watchdog.detection import WatchdogConfig
from app.watchdog.service import Watchdog

log = logging.getLogger(__name__)

#: What asyncua raises when the link is gone (a read or write that cannot reach the server).
LINK_ERRORS = (ConnectionError, OSError, asyncio.TimeoutError, ua.UaError)


class StageState(enum.Enum):
    PENDING = "pending"
    PREDICTING = "predicting"
    AWAITING_CONFIRMATION = "awaiting confirmation"
    WRITING = "writing"
    WATCHING = "watching"
    FROZEN = "frozen: link lost"
    PASSED = "passed"
    ROLLED_BACK = "rolled back"
    STOPPED = "stopped"


#: New cycles of a changed machine after its write before the watchdog hears them (the first may have begun
#: before the write).
SETTLING_CYCLES = 2


class Outcome(enum.Enum):
    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"
    STOPPED = "stopped"  # a refused write, or a check before the first write
    CANCELLED = "cancelled"


class NotTrusted(Exception):
    """The plant presents a certificate the user has not trusted: nothing is written to it."""


class _Rollback(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class StageReport:
    """What a view shows of a stage."""

    stage: Stage
    state: StageState = StageState.PENDING
    text: str = ""
    predicted: dict[str, Band] = field(default_factory=dict)  # for the changed plant
    before: dict[str, Band] = field(default_factory=dict)  # for the plant without the stage's changes
    measured: dict[str, float] = field(default_factory=dict)
    old: dict[str, float] = field(default_factory=dict)  # node → the value it had before this stage
    planned: dict[str, tuple[float, float]] = field(default_factory=dict)  # node → (setpoint now, to write), before confirming
    untested: tuple[str, ...] = ()  # counts it passed without testing (a bound of 0 parts in its window)
    unseen: tuple[str, ...] = ()  # counts the twin predicts the change lowers, which its window could not show


def passed_text(reports: list[StageReport]) -> str:
    """Why a deployment whose stages all passed completed — without claiming what was not tested.

    >>> from app.deploy.plan import Stage
    >>> one = StageReport(Stage(1, (), 1800.0), StageState.PASSED)
    >>> passed_text([one])
    'the stage passed'
    >>> passed_text([one, StageReport(Stage(2, (), 1800.0), StageState.PASSED, untested=("CNC-02 throughput",))])[:68]
    '2 stages passed, but not everything was tested: stage 2: CNC-02 thro'
    """
    n = len(reports)
    said = "the stage passed" if n == 1 else f"{count_of(n, 'stage')} passed"
    blind = [r for r in reports if r.untested or r.unseen]
    if not blind:
        return said if n == 1 else f"all {said}"

    def caveats(r: StageReport) -> str:
        parts = [untested_text(r.untested, r.stage.window_s)] if r.untested else []
        return "; ".join([*parts, *([unseen_text(r.unseen, r.stage.window_s)] if r.unseen else [])])

    why = "; ".join((f"stage {r.stage.number}: " if n > 1 else "") + caveats(r) for r in blind)
    return f"{said}, but not everything was tested: {why}"


class Deployment:
    """One plan deployed to one plant.

    Parameters
    ----------
    plan
        The stages (``app.deploy.plan.plan_deployment``).
    settings
        How to reach the plant: a secure policy and a login are required.
    deploy_log
        Where every step is logged.
    time_scale
        Simulated seconds per wall second of the plant (``--speed`` of the plant simulator; 1 for a plant).
    replications, alpha, warmup_s
        Of the predicted bands (``app.deploy.prediction.predict``).
    poll_s, reconnect_s
        Wall seconds between readings of the plant, and between attempts to reach it again.

    Signals
    -------
    stage_changed(int, StageReport)
        A stage (index from 0) changed state.
    logged(DeployEntry)
        An entry was logged.
    finished(Outcome, str)
        The deployment ended, and why.
    """

    stage_changed = Signal(int, object)
    logged = Signal(object)
    finished = Signal(object, str)

    def __init__(
        self,
        plan: DeploymentPlan,
        settings: ConnectionSettings,
        deploy_log: DeployLog,
        time_scale: float = 1.0,
        replications: int = 20,
        alpha: float = 0.01,
        warmup_s: float = 3600.0,
        poll_s: float = 0.1,
        reconnect_s: float = 1.0,
        watchdog_config: WatchdogConfig | None = None,
        loop: NetworkLoop | None = None,
        trusted: TrustStore | None = None,
    ):
        self.plan, self.settings, self.log = plan, settings, deploy_log
        self.time_scale = time_scale
        self.replications, self.alpha, self.warmup_s = replications, alpha, warmup_s
        self.poll_s, self.reconnect_s = poll_s, reconnect_s
        self.watchdog_config = watchdog_config or WatchdogConfig()
        self.loop = loop or network_loop()
        self.trusted = trusted
        self.id = uuid.uuid4().hex[:12]
        self.user = settings.username
        self.reports = [StageReport(stage) for stage in plan.stages]
        self.outcome: Outcome | None = None
        self.reason = ""
        self._confirm: asyncio.Event | None = None
        self._confirmed = 0  # stages confirmed so far
        self._client: Client | None = None
        self._idx = 0
        self._future: concurrent.futures.Future | None = None

    # -- control (any thread) ---------------------------------------------------------------------
    def start(self) -> concurrent.futures.Future:
        """Begin on the network loop; the future ends with the outcome."""
        if self._future is None:
            self._future = self.loop.submit(self._run())
        return self._future

    def confirm_next_stage(self) -> None:
        """The user confirms the stage that waits for it (ignored while none waits)."""
        self.loop.call(self._on_confirm)

    def cancel(self) -> None:
        """Stop: a stage being watched is rolled back first."""
        if self._future is not None:
            self._future.cancel()

    def _on_confirm(self) -> None:
        if self._confirm is not None and not self._confirm.is_set():
            self._confirm.set()

    # -- the run ------------------------------------------------------------------------------------
    async def _run(self) -> Outcome:
        try:
            outcome, reason = await self._deploy()
        except asyncio.CancelledError:
            outcome, reason = Outcome.CANCELLED, "cancelled by the user"
            self._end(outcome, reason)
            raise
        finally:
            await self._disconnect()
        self._end(outcome, reason)
        return outcome

    def _end(self, outcome: Outcome, reason: str) -> None:
        self.outcome, self.reason = outcome, reason
        self._log("end", None, f"{outcome.value}: {reason}")
        self.finished.emit(outcome, reason)

    async def _deploy(self) -> tuple[Outcome, str]:
        s = self.settings
        names = "; ".join(c.label for st in self.plan.stages for c in st.changes)
        n = len(self.plan.stages)
        self._log("plan", None, f"{self.plan.scenario.name}: {count_of(n, 'stage')}: {names}")
        refused = channel_refusal(s)  # the rules every write follows, a hand-written one too (Write Value…)
        if refused is not None:
            return self._refuse(f"{refused}; nothing was written")
        try:
            await self._connect()
            refused = await self._check_access()
        except NotTrusted as e:
            return self._refuse(f"{e}; nothing was written")
        except LINK_ERRORS as e:
            return self._refuse(f"cannot reach the plant at {s.endpoint}: {e or type(e).__name__}; nothing was written")
        if refused:
            return self._refuse(refused)
        for k, stage in enumerate(self.plan.stages):
            outcome = await self._stage(k, stage)
            if outcome is not None:
                return outcome
        return Outcome.COMPLETED, passed_text(self.reports)

    def _refuse(self, reason: str) -> tuple[Outcome, str]:
        self._log("refused", None, reason)
        return Outcome.STOPPED, reason

    async def _stage(self, k: int, stage: Stage) -> tuple[Outcome, str] | None:
        report = self.reports[k]
        self._set(k, StageState.PREDICTING, "simulating what the window should show")
        machines = tuple(c.target for c in stage.changes if c.machine)
        kpis = kpi_stations(self.plan.scenario.factory, machines)
        after, before = self.plan.factory_after(k), self.plan.factory_before(k)
        run = asyncio.get_running_loop().run_in_executor
        args = (stage.window_s, self.warmup_s, self.replications, self.alpha)
        report.predicted = await run(None, predict, after, kpis, *args)
        report.before = await run(None, predict, before, kpis, *args)
        self._confirm = asyncio.Event()
        bands = bands_text(report.predicted, report.before, 1.0 - self.alpha, stage.window_s)
        said = await self._writes_text(k, stage)
        self._set(k, StageState.AWAITING_CONFIRMATION, f"{said} {bands[:1].upper()}{bands[1:]}" if bands else said)
        await self._confirm.wait()
        self._confirm = None
        self._log("confirmation", stage.number, f"stage {stage.number} confirmed: {', '.join(c.label for c in stage.changes)}")
        self._set(k, StageState.WRITING, "")
        try:
            for change in stage.changes:
                await self._write(k, change)
        except _Rollback as e:  # a write the server refused
            await self._roll_back(k, e.reason, StageState.STOPPED)
            return Outcome.STOPPED, e.reason
        except LINK_ERRORS:
            reason = await self._frozen(k)
            return Outcome.ROLLED_BACK, reason
        self._set(k, StageState.WATCHING, f"watching for {stage.window_s / 60:g} min of plant time")
        try:
            await self._watch(k, stage, kpis, after)
        except _Rollback as e:
            await self._roll_back(k, e.reason, StageState.ROLLED_BACK)
            return Outcome.ROLLED_BACK, e.reason
        except LINK_ERRORS:
            reason = await self._frozen(k)
            return Outcome.ROLLED_BACK, reason
        except asyncio.CancelledError:
            await asyncio.shield(self._roll_back(k, "the deployment was cancelled", StageState.ROLLED_BACK))
            raise
        measured = "counted in the window: " + ", ".join(f"{kpi} {count_of(round(report.measured[kpi]), 'part')}" for kpi in kpis)
        report.untested = tuple(untestable(report.predicted))
        if report.untested:  # a bound of 0 parts cannot fail: the stage passed without testing these
            measured += f"; {untested_text(report.untested, stage.window_s)}"
        report.unseen = tuple(kpi for kpi in unseen_harm(report.predicted, report.before) if kpi not in report.untested)
        if report.unseen:  # the twin's own figures said it hurts, the window was too short to show it
            measured += f"; {unseen_text(report.unseen, stage.window_s)}"
        self._set(k, StageState.PASSED, measured)
        self._log("stage", stage.number, f"stage {stage.number} passed: {measured}")
        return None

    # -- writes ---------------------------------------------------------------------------------------
    def _node(self, ident: str):
        assert self._client is not None
        return self._client.get_node(node_id(ident, self._idx))

    async def _writes_text(self, k: int, stage: Stage) -> str:
        """What confirming will write, from the plant's setpoints now: ``Writes: Machines/CNC-03/CycleTimeSetpoint
        270 → 216.`` (the model's change as a ratio of the plant's setpoint, ``SetpointChange.to_write``)."""
        try:
            now = await self._read_all([self._node(c.node) for c in stage.changes])
        except LINK_ERRORS:
            return "Writes: the plant's setpoints could not be read now; each is read again just before its write."
        self.reports[k].planned = {c.node: (v, c.to_write(v)) for c, v in zip(stage.changes, now, strict=True)}
        return "Writes: " + "; ".join(
            f"{node} {format_number(v)} → {format_number(new)}" for node, (v, new) in self.reports[k].planned.items()
        ) + "."

    async def _write(self, k: int, change: SetpointChange) -> None:
        """Read and keep the old value, write the new one (the model's change as a ratio of it); ``_Rollback``
        with the server's status if refused."""
        node = self._node(change.node)
        old = float(await node.read_value())
        self.reports[k].old[change.node] = old
        new = change.to_write(old)
        status = await self._write_value(node, new)
        number = self.plan.stages[k].number
        self._log("write", number, change.label, change.node, old, new, status.name)
        if not status.is_good():
            del self.reports[k].old[change.node]  # nothing changed there
            raise _Rollback(f"the plant refused {change.label}: {status.name} ({status.doc})")

    async def _write_value(self, node, value: float) -> ua.StatusCode:
        assert self._client is not None
        dv = ua.DataValue(ua.Variant(float(value), ua.VariantType.Double))
        return (await self._client.uaclient.write_attributes([node.nodeid], [dv], ua.AttributeIds.Value))[0]

    async def _roll_back(self, k: int, reason: str, state: StageState) -> None:
        """Write back the old values this stage changed (the link is up)."""
        number = self.plan.stages[k].number
        self._log("rollback", number, reason)
        for ident, old in reversed(list(self.reports[k].old.items())):
            node = self._node(ident)
            try:
                current = float(await node.read_value())
                status = await self._write_value(node, old)
                self._log("rollback write", number, "old value written back", ident, current, old, status.name)
            except LINK_ERRORS as e:
                self._log("rollback write", number, f"could not write back: {e}", ident, None, old, "link lost")
        self._set(k, state, reason)

    async def _frozen(self, k: int) -> str:
        """The link dropped during stage k: wait until it returns, then roll the stage back."""
        number = self.plan.stages[k].number
        reason = f"the link to the plant dropped during stage {number}"
        self._set(k, StageState.FROZEN, f"{reason}: waiting for it to return to roll the stage back")
        self._log("frozen", number, reason)
        while True:
            await self._disconnect()
            try:
                await self._connect()
                break
            except LINK_ERRORS:
                await asyncio.sleep(self.reconnect_s)
        await self._roll_back(k, f"{reason}: rolled back when it returned", StageState.ROLLED_BACK)
        return f"{reason}: rolled back when it returned"

    # -- watching -------------------------------------------------------------------------------------
    async def _watch(self, k: int, stage: Stage, kpis: dict[str, tuple[str, ...]], after) -> None:
        report = self.reports[k]
        stations = sorted({s for group in kpis.values() for s in group})
        counts = [self._node(f"Machines/{s}/PartCount") for s in stations]
        machines = [c.target for c in stage.changes if c.machine]
        cycles = [self._node(f"Machines/{m}/CycleTime") for m in machines]
        dog = Watchdog(after, self.watchdog_config, time_scale=self.time_scale)
        names = [(m, "CycleTime", f"Machines/{m}/CycleTime") for m in machines]
        found: list = []
        dog.detected.connect(found.append)
        clock = self._node(PLANT_CLOCK_ID)
        t0 = await self._plant_time(clock)
        start = await self._read_all(counts)
        end_at = time.monotonic() + stage.window_s / self.time_scale
        # A machine's CycleTime still holds the last cycle made before the write, and the next may have begun
        # before it (drawn before the write, published after it): neither is the changed plant. Each changed
        # machine is watched from its second new cycle on. (The trial's "cycle time down … 1 so far" rollback
        # was not such a value but one genuine extreme cycle hours in: Watchdog.confirmed below.)
        last = await self._read_all(cycles) if cycles else []
        new_cycles = [0] * len(last)
        while not await self._window_over(clock, t0, stage.window_s, end_at):
            values = await self._read_all(cycles) if cycles else []
            now = time.time()
            feed = []
            for i, v in enumerate(values):
                if v != last[i]:
                    new_cycles[i], last[i] = new_cycles[i] + 1, v
                if new_cycles[i] >= SETTLING_CYCLES:
                    feed.append(Update(i, v, source_ts=now, received_ts=now))
            # one names list for the whole window: the watchdog keeps each binding's last value between batches
            dog.feed(feed, names)
            # a drift rolls the stage back once it rests on enough cycles since its change point, never on
            # one cycle: a lone extreme cycle followed by modelled ones is forgotten (Watchdog.confirmed)
            standing = [d for d in found if d.machine in machines and d.param == "cycle"]
            verdicts = [dog.confirmed(d) for d in standing]
            if True in verdicts:
                raise _Rollback(f"drift on the changed plant: {dog.latest(standing[verdicts.index(True)]).text}")
            found[:] = [d for d, v in zip(standing, verdicts, strict=True) if v is None]
            await asyncio.sleep(self.poll_s)
        end = await self._read_all(counts)
        by_station = {s: e - b for s, b, e in zip(stations, start, end, strict=True)}
        for kpi, group in kpis.items():
            report.measured[kpi] = float(sum(by_station[s] for s in group))
        for kpi in kpis:
            got, pred, was = report.measured[kpi], report.predicted[kpi], report.before[kpi]
            counted = f"{kpi}: {count_of(round(got), 'part')} in the window"
            if got < pred.low:
                raise _Rollback(f"{counted}, fewer than predicted for the changed plant ({pred.text()})")
            if got < was.low:
                raise _Rollback(f"{counted}, fewer than the plant makes without the change ({was.text()})")

    async def _plant_time(self, clock) -> float | None:
        """The plant's own clock (simulated seconds), or None when it serves none (a real plant)."""
        try:
            return float(await clock.read_value())
        except ua.UaStatusCodeError:
            return None

    async def _window_over(self, clock, t0: float | None, window_s: float, end_at: float) -> bool:
        """True once ``window_s`` of plant time has passed: by the plant's clock when it has one (a plant
        simulator that falls behind its speed still gives the full window), else by the wall clock."""
        if t0 is None:
            return time.monotonic() >= end_at
        return float(await clock.read_value()) - t0 >= window_s

    async def _read_all(self, nodes: list) -> list[float]:
        assert self._client is not None
        if not nodes:
            return []
        values = await self._client.read_values(nodes)
        return [float(v) for v in values]

    # -- the link -------------------------------------------------------------------------------------
    async def _connect(self) -> None:
        s = self.settings
        client = Client(s.endpoint, timeout=s.timeout_s, watchdog_intervall=s.timeout_s)  # patient probes (app.live.client)
        client.application_uri = s.application_uri
        client.set_user(s.username or "")
        client.set_password(s.password or "")
        if not (s.client_certificate and s.client_key):
            raise ConnectionError("a secure connection needs a client certificate and key")
        if not (s.client_certificate.is_file() and s.client_key.is_file()):  # made on first use, as the live console does
            await ensure_certificate(s.client_certificate.parent, "client", s.application_uri, "localhost", server=False)
        mode = ua.MessageSecurityMode.Sign if s.security_mode == "Sign" else ua.MessageSecurityMode.SignAndEncrypt
        server_certificate = s.server_certificate or await self._trusted_certificate()
        await client.set_security(
            SecurityPolicyBasic256Sha256,
            str(s.client_certificate),
            str(s.client_key),
            server_certificate=str(server_certificate) if server_certificate else None,
            mode=mode,
        )
        await asyncio.wait_for(client.connect(), s.timeout_s * 2)
        self._client = client
        self._idx = await client.get_namespace_index(NAMESPACE)

    async def _trusted_certificate(self) -> Path | None:
        """The plant's certificate from the trust store (None without a store); ``NotTrusted`` when the
        plant presents one the user has not trusted (the live console's connection asks once)."""
        if self.trusted is None:
            return None
        der = await fetch_server_certificate(self.settings.endpoint, self.settings.timeout_s)
        if der is None:
            raise NotTrusted(f"{self.settings.endpoint} offers no Basic256Sha256 endpoint")
        if not self.trusted.is_trusted(der):
            raise NotTrusted(
                f"the plant's certificate ({describe(der).thumbprint[:23]}…) is not trusted: connect to it once from "
                "Live ▸ Connect and trust it"
            )
        return self.trusted.path_of(der)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.disconnect(), 2)
            except (*LINK_ERRORS, RuntimeError):
                pass  # the link is gone already

    async def _check_access(self) -> str | None:
        """Why this login may not write the plan's nodes (None: it may write all of them)."""
        assert self._client is not None
        for stage in self.plan.stages:
            for change in stage.changes:
                node = self._node(change.node)
                try:
                    level = (await node.read_attribute(ua.AttributeIds.UserAccessLevel)).Value.Value
                except ua.UaStatusCodeError as e:
                    return f"the plant has no {change.node} ({e}): nothing was written"
                if not level & ua.AccessLevel.CurrentWrite.mask:
                    return (
                        f"{self.user} may not write {change.node} (the plant grants this login read access only): "
                        "nothing was written"
                    )
        return None

    # -- reporting ------------------------------------------------------------------------------------
    def _set(self, k: int, state: StageState, text: str) -> None:
        self.reports[k].state, self.reports[k].text = state, text
        self.stage_changed.emit(k, self.reports[k])

    def _log(
        self,
        kind: str,
        stage: int | None,
        text: str,
        node: str | None = None,
        old: float | None = None,
        new: float | None = None,
        status: str | None = None,
    ) -> None:
        entry = DeployEntry(time.time(), self.id, stage, kind, self.user, node, old, new, status, text)
        self.log.append(entry)
        self.logged.emit(entry)
