"""The plant simulator: a real OPC UA server whose variables are driven by the production engine.

``python -m app.plant.server --factory FILE --port PORT`` serves, per machine, its state, part counter,
cycle time, temperature, power, level, alarms and a kind-specific load signal under
``Objects/Factory/<line>/<machine>/<Signal>`` (node ids ``ns=2;s=Machines/<machine>/<Signal>``, the same
wherever the machine stands), analog values as AnalogItems with engineering units and ranges, and
descriptions, updated from the engine running in real time (or ``--speed`` times faster). It binds to
127.0.0.1 unless told otherwise, accepts anonymous and username/password logins (the latter only with
security), offers Basic256Sha256 Sign and SignAndEncrypt with a self-signed certificate made on first
start, and can inject faults: breakdowns, sensor dropouts (bad status codes), NaN readings, a stalled
server and drift (``--drift``, :mod:`app.plant.drift`: a machine's cycle, failure or repair time, or a part
flow's arrivals changed in the running simulation at a simulated time, as a step or a ramp).
:mod:`app.plant.conformance` makes it look as the specification says to other people's clients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import errno
import logging
import math
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from asyncua import Server, ua
from asyncua.common.node import Node
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

import app
from app.model.factory import Factory
from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.model.signals import EXTRA_SIGNAL, signal_info
from app.plant import conformance, lifeline
from app.plant.broker import Broker, find_broker, start_broker
from app.plant.drift import Drift, DriftStep, check_drifts, parse_drift, schedule
from app.plant.setpoints import (
    CYCLE_SETPOINT,
    CYCLE_SETPOINT_INFO,
    PLANT_CLOCK_ID,
    RELEASE_RATE,
    RELEASE_RATE_INFO,
    ROLES,
    machine_setpoint_id,
    release_rate_of,
    setpoint_range,
    source_setpoint_id,
    write_refusal,
)
from app.plant.signals import OVER_TEMPERATURE_C, STATE_NAMES, TAU_S, derive, initial_state
from app.plant.sparkplug_edge import DATA_TYPES as SPARKPLUG_TYPES
from app.plant.sparkplug_edge import GROUP as SPARKPLUG_GROUP
from app.plant.sparkplug_edge import SparkplugEdge
from app.sim.engine import Engine
from app.sim.model import SimInputError, compile_model
from app.ua.plant_clock import PLANT_NAMESPACE, TIME_SCALE_ID
from app.ua.values import node_id, status_code

log = logging.getLogger("floortwin.plantsim")

NAMESPACE = PLANT_NAMESPACE
APP_URI = "urn:floortwin:plantsim:server"
#: The reason code a down machine publishes (``DownReason``): the engine's failures are breakdowns.
DOWN_REASON = "breakdown"
ENDPOINT_PATH = "/floortwin/"
UNITS_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"
#: EURange (normal operating range) of the analog signals whose range does not depend on the machine.
EU_RANGES = {
    "Temperature": (0.0, 100.0),
    "SpindleLoad": (0.0, 120.0),
    "AxisLoad": (0.0, 100.0),
    "PressForce": (0.0, 2000.0),
    "Vibration": (0.0, 20.0),
}


def machine_node_id(machine_id: str) -> str:
    """The string identifier of a machine's object; its signals are ``<this>/<Signal>``.

    >>> machine_node_id("CNC-01")
    'Machines/CNC-01'
    """
    return f"Machines/{machine_id}"


#: How the embedded plant drives the bundled demo: a fixed seed (the same first minute every time, so the
#: docs' screenshots match what a user sees) and CNC-06 broken down 30 minutes before the app connects, for
#: 45 minutes: the first minute shows it down with its alarm, CNC-05 blocked behind it, and the rest of
#: the plant running, starved (waiting for parts) and in setup as the part flows make it. It also offers
#: Basic256Sha256 with two demo logins on this machine only (127.0.0.1): ``operator``/``operator`` reads,
#: ``engineer``/``engineer`` may write the setpoints — what What-if ▸ Deploy to Plant… needs to be shown.
DEMO_ARGS = (
    "--seed",
    "7",
    "--breakdown",
    "CNC-06@-1800+2700",
    "--secure",
    "--user",
    "operator:operator:read",
    "--user",
    "engineer:engineer:write",
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now. Another process may take it before it is used: a server
    should rather be started with port 0 (``PlantServer`` then picks one itself and retries on a clash)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def command(factory: Path, port: int = 0, extra_args: Sequence[str] = ()) -> list[str]:
    """The command line that runs the plant simulator as its own process (a packaged app runs it from its
    own binary, through ``main.py --plantsim``); port 0 lets it choose a free port, named in its first line
    of output. The child ends with this process: start it with a pipe on its standard input that stays open
    while it runs (see :mod:`app.plant.lifeline`)."""
    from app.paths import ROOT

    args = ["--plantsim", "--factory", str(factory), "--port", str(port), *lifeline.child_args(), *extra_args]
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, str(ROOT / "main.py"), *args]


#: The simulator's first line once it serves: variables, machines and its endpoint.
SERVING = re.compile(r"serving (\d+) variables of (\d+) machines on (opc\.tcp://\S+)")


def spawn(factory: Path, port: int = 0, extra_args: Sequence[str] = (), timeout_s: float = 60.0) -> subprocess.Popen:
    """Start the plant simulator as its own process and return once it serves, with its endpoint as
    ``proc.endpoint``. ``RuntimeError`` if it stops, or says nothing, before that (within ``timeout_s``: a
    hung child never hangs the caller). It ends with this process: call from a thread that lives as long as
    the process (on Linux the parent-death signal follows the starting thread)."""
    proc = subprocess.Popen(
        command(factory, port, extra_args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = _first_line(proc, timeout_s)
    match = SERVING.search(line or "")
    if match is None:
        proc.kill()
        proc.wait(10)
        said = "nothing" if line is None else repr(line.strip())
        raise RuntimeError(f"the plant simulator did not start within {timeout_s:g} s (it said {said})")
    proc.endpoint = match.group(3)  # type: ignore[attr-defined]
    return proc


def _first_line(proc: subprocess.Popen, timeout_s: float) -> str | None:
    """The child's first line of output, or None if it has none within ``timeout_s``."""
    import selectors

    with selectors.DefaultSelector() as sel:
        out = proc.stdout
        if out is None:
            raise ValueError("the child must be started with stdout=subprocess.PIPE")
        sel.register(out, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            return None
    return out.readline()  # the child prints whole lines and flushes them


def unece_code(code: str) -> int:
    """UNECE Recommendation 20 common code as the OPC UA UnitId integer (Part 8, §5.6.3)."""
    value = 0
    for ch in code:
        value = (value << 8) | ord(ch)
    return value


@dataclass
class Faults:
    """Fault injection settings."""

    dropout: float = 0.0  # probability per value update of a bad status (sensor failure)
    nan: float = 0.0  # probability per numeric update of a NaN reading
    stall_at_s: float | None = None  # wall seconds after start at which the server stalls
    stall_for_s: float = 0.0
    breakdowns: list[tuple[str, float, float]] = field(default_factory=list)  # (machine, at sim s, for s)
    mtbf_scale: float = 1.0  # >1: more frequent breakdowns
    drifts: list[Drift] = field(default_factory=list)  # parameters that change in the running simulation


class _UserManager(UserManager):
    """Username/password logins from a table; anonymous only when allowed. (Who may write setpoints is
    ``PlantServer.may_write``: a login with the ``write`` role.)"""

    def __init__(self, users: dict[str, str], allow_anonymous: bool):
        self.users = users
        self.allow_anonymous = allow_anonymous

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username is None:
            return User(role=UserRole.User) if self.allow_anonymous else None
        if self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


@dataclass
class _Var:
    node: ua.NodeId
    variant: ua.VariantType
    machine: int
    signal: str


@dataclass(frozen=True)
class _Setpoint:
    """A writable setpoint: the engine parameter it scales (``cycle`` of a station, ``arrival`` of a
    source), the factory's value, its EURange and what it is called in messages."""

    param: str
    index: int
    model_value: float
    low: float
    high: float
    label: str


class PlantServer:
    """An OPC UA server that runs a factory's simulation against the clock.

    Parameters
    ----------
    factory
        The plant to simulate (its flows and machine parameters drive the engine).
    host, port
        Where to listen; 127.0.0.1 by default so nothing is exposed.
    speed
        Simulated seconds per wall second.
    interval_s
        Wall seconds between updates of the variables.
    """

    def __init__(
        self,
        factory: Factory,
        host: str = "127.0.0.1",
        port: int = 4840,
        speed: float = 1.0,
        interval_s: float = 0.5,
        users: dict[str, str] | None = None,
        allow_anonymous: bool = True,
        secure: bool = False,
        secure_only: bool = False,
        cert_dir: Path | None = None,
        faults: Faults | None = None,
        seed: int | None = None,
        warm_start_s: float = 3600.0,
        vibration_channels: int = 0,
        roles: dict[str, str] | None = None,
    ):
        self.factory = factory
        self.host, self.port = host, port
        self.speed, self.interval_s = speed, interval_s
        self.users = users or {}
        #: login → role (``read``, ``write``); a login not named here reads only
        self.roles = roles or {}
        self.allow_anonymous = allow_anonymous
        self.secure, self.secure_only = secure, secure_only
        self.cert_dir = cert_dir
        self.faults = faults or Faults()
        self.vibration_channels = vibration_channels
        model = compile_model(factory, horizon_s=10 * 365 * 86400.0, warmup_s=0.0, replications=1, seed=seed, sample_s=1e12)
        if self.faults.mtbf_scale != 1.0:
            model = replace(
                model, stations=[replace(s, mtbf_s=s.mtbf_s / self.faults.mtbf_scale) if s.mtbf_s else s for s in model.stations]
            )
        self.model = model
        self.engine = Engine(model)
        self.warm_start_s = warm_start_s  # the plant has been running for a while when the server starts
        self.machines = factory.machines
        self.kinds = [m.kind for m in self.machines]
        self.busy_kw = np.array([m.sim.power_busy_kw for m in self.machines])
        self.idle_kw = np.array([m.sim.power_idle_kw for m in self.machines])
        self.signals = initial_state(len(self.machines), seed or 0)
        self.rng = np.random.default_rng((seed or 0) + 1)
        self.server: Server | None = None
        self.vars: list[_Var] = []
        self.endpoint = f"opc.tcp://{host}:{port}{ENDPOINT_PATH}"
        self.updates = 0
        self.sparkplug: SparkplugEdge | None = None  # also publishing to an MQTT broker (``--mqtt``)
        self.lag_s = 0.0  # how far the last update ran behind its schedule
        self._last_values: dict[int, object] = {}
        self._wall0 = 0.0
        self._sim0 = 0.0
        self._pending_breakdowns = sorted(self.faults.breakdowns, key=lambda b: b[1])
        problems = check_drifts(self.faults.drifts, factory)
        if problems:
            raise ValueError("; ".join(problems))
        self._pending_drifts: list[DriftStep] = schedule(self.faults.drifts, factory)
        #: (target, param) → the factor in force now (1 where no drift has begun)
        self.drift_factors: dict[tuple[str, str], float] = {(d.target, d.param): 1.0 for d in self.faults.drifts}
        self._stalled = False
        self.setpoints: dict[ua.NodeId, _Setpoint] = {}
        #: (param, index) → the factor a setpoint puts on the engine's draws (1: the factory's value)
        self.setpoint_factors: dict[tuple[str, int], float] = {}
        self._drift_now: dict[tuple[str, int], float] = {}
        self._clock_node = node_id(PLANT_CLOCK_ID)  # (param, index) → the drift factor in force

    # -- address space --------------------------------------------------------------------------
    async def start(self, attempts: int = 5) -> None:
        """Build the address space and start listening. With port 0 a free port is chosen, and another one
        if a different process takes it first (up to ``attempts`` times)."""
        auto = self.port == 0
        for attempt in range(attempts if auto else 1):
            if auto:
                self.port = free_port(self.host)
                self.endpoint = f"opc.tcp://{self.host}:{self.port}{ENDPOINT_PATH}"
            try:
                await self._start_once()
                return
            except OSError as e:
                if not auto or e.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    if auto:
                        self.port = 0
                    raise
                log.info("port %d was taken meanwhile: trying another", self.port)

    async def _start_once(self) -> None:
        server = Server(user_manager=_UserManager(self.users, self.allow_anonymous))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("floortwin plant simulator")
        await server.set_application_uri(APP_URI)
        policies = [] if self.secure_only else [ua.SecurityPolicyType.NoSecurity]
        if self.secure or self.secure_only:
            policies += [ua.SecurityPolicyType.Basic256Sha256_Sign, ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
            cert, key = await ensure_certificate(self.cert_dir or _default_cert_dir(), "server", APP_URI, self.host, server=True)
            await server.load_certificate(str(cert))
            await server.load_private_key(str(key))
        server.set_security_policy(policies)
        tokens: list[type] = [ua.UserNameIdentityToken] if self.users else []
        if self.allow_anonymous:
            tokens.insert(0, ua.AnonymousIdentityToken)
        server.set_identity_tokens(tokens)
        idx = await server.register_namespace(NAMESPACE)
        sampling_ms = 1000.0 * self.interval_s  # values change at most once per update
        await conformance.describe_server(server, APP_URI, app.__version__, sampling_ms)
        conformance.report_not_writable(server)
        conformance.serve_without_history(server)
        conformance.link_get_monitored_items(server)
        root = await server.nodes.objects.add_folder(node_id("Factory", idx), ua.QualifiedName("Factory", idx))
        lines: dict[str, Node] = {}
        for i, m in enumerate(self.machines):
            line_name = m.line or "Plant"
            line_node = lines.get(line_name)
            if line_node is None:
                line_node = await root.add_folder(node_id(f"Factory/{line_name}", idx), ua.QualifiedName(line_name, idx))
                lines[line_name] = line_node
            # Node ids name the machine only: moving it to another line changes where it is browsed, not its ids.
            base = machine_node_id(m.id)
            obj = await line_node.add_object(node_id(base, idx), ua.QualifiedName(m.id, idx))
            await obj.write_attribute(ua.AttributeIds.Description, ua.DataValue(ua.Variant(ua.LocalizedText(m.name))))
            names = [
                "State",
                "StateCode",
                "PartCount",
                "CycleTime",
                "Temperature",
                "Power",
                "Level",
                "Capacity",
                "Alarm",
                "AlarmText",
                "DownReason",
            ]
            if m.kind in EXTRA_SIGNAL:
                names.append(EXTRA_SIGNAL[m.kind])
            names += [f"Vibration{k + 1}" for k in range(self.vibration_channels)]
            for name in names:
                vtype = _variant_type(name)
                unit, code, text = signal_info(name)
                nodeid = node_id(f"{base}/{name}", idx)
                eu_range = self._eu_range(i, name) if unit else None
                await conformance.add_variable(
                    server,
                    obj.nodeid,
                    nodeid,
                    ua.QualifiedName(name, idx),
                    ua.Variant(_initial(vtype), vtype),
                    text,
                    analog=eu_range is not None,
                    minimum_sampling_ms=sampling_ms,
                )
                if eu_range is not None:
                    await self._add_analog_properties(server, nodeid, f"{base}/{name}", idx, unit, code, eu_range)
                self.vars.append(_Var(nodeid, vtype, i, name))
            cycle_mean = self.model.stations[self.model.index[m.id]].cycle.mean_s
            await self._add_setpoint(
                server,
                obj.nodeid,
                idx,
                machine_setpoint_id(m.id),
                CYCLE_SETPOINT,
                CYCLE_SETPOINT_INFO,
                cycle_mean,
                _Setpoint("cycle", self.model.index[m.id], cycle_mean, *setpoint_range(cycle_mean), f"{m.id} cycle time"),
                sampling_ms,
            )
        # Beside the Factory folder (which lists the lines): where orders enter, one object per part flow.
        sources = await server.nodes.objects.add_folder(node_id("Sources", idx), ua.QualifiedName("Sources", idx))
        for k, flow in enumerate(self.factory.flows):
            src = await sources.add_object(node_id(f"Sources/{flow.part}", idx), ua.QualifiedName(flow.part, idx))
            await src.write_attribute(
                ua.AttributeIds.Description, ua.DataValue(ua.Variant(ua.LocalizedText(f"Release of {flow.part} orders")))
            )
            rate = release_rate_of(self.model.interarrival[k].mean_s)
            await self._add_setpoint(
                server,
                src.nodeid,
                idx,
                source_setpoint_id(flow.part),
                RELEASE_RATE,
                RELEASE_RATE_INFO,
                rate,
                _Setpoint("arrival", k, rate, *setpoint_range(rate), f"{flow.part} release rate"),
                sampling_ms,
            )
        clock = await server.nodes.objects.add_object(node_id("Plant", idx), ua.QualifiedName("Plant", idx))
        self._clock_node = await conformance.add_variable(
            server,
            clock.nodeid,
            node_id(PLANT_CLOCK_ID, idx),
            ua.QualifiedName("SimulatedTime", idx),
            ua.Variant(0.0, ua.VariantType.Double),
            "Simulated seconds since the plant simulator started serving (its clock runs --speed times the wall clock)",
            analog=False,
            minimum_sampling_ms=sampling_ms,
        )
        await conformance.add_variable(  # read at connect by floortwin's client: durations and rates in plant time
            server,
            clock.nodeid,
            node_id(TIME_SCALE_ID, idx),
            ua.QualifiedName("TimeScale", idx),
            ua.Variant(float(self.speed), ua.VariantType.Double),
            "Simulated seconds per wall-clock second: the plant simulator's --speed (1: real time)",
            analog=False,
            minimum_sampling_ms=sampling_ms,
        )
        conformance.guard_writes(server, self._check_write, self._applied_write)
        conformance.user_access_by_login(server, set(self.setpoints), self.may_write)
        self.server = server
        # Breakdowns before the session (negative times) happen during the warm start: the plant is found with
        # the machine already down and its neighbours starved or blocked, as a plant is when one connects.
        for mid, at, dur in [b for b in self._pending_breakdowns if b[1] < 0]:
            self.engine.run_until(max(0.0, self.warm_start_s + at))
            station = self.model.index.get(mid)
            if station is not None:
                self.engine.force_down(station, dur)
        self._pending_breakdowns = [b for b in self._pending_breakdowns if b[1] >= 0]
        self.engine.run_until(self.warm_start_s)
        # Found warm: an hour into the shift the machines have their working temperatures, not the ambient
        # one (thermal lag run to its end for the state each machine is in).
        state = np.array(self.engine.snapshot()["state"])
        derive(self.kinds, self.busy_kw, self.idle_kw, state, 10 * TAU_S, self.signals, self.vibration_channels)
        self._sim0 = self.engine.time()
        await server.start()
        self._wall0 = time.monotonic()
        await self.update()
        log.info("plant simulator: %d variables of %d machines on %s", len(self.vars), len(self.machines), self.endpoint)

    async def _add_setpoint(
        self,
        server: Server,
        parent: ua.NodeId,
        idx: int,
        ident: str,
        name: str,
        info: tuple[str, str, str],
        value: float,
        setpoint: _Setpoint,
        sampling_ms: float,
    ) -> None:
        """A writable AnalogItem with its unit and EURange, starting at the factory's value."""
        unit, code, text = info
        nodeid = node_id(ident, idx)
        await conformance.add_variable(
            server,
            parent,
            nodeid,
            ua.QualifiedName(name, idx),
            ua.Variant(float(value), ua.VariantType.Double),
            text,
            analog=True,
            minimum_sampling_ms=sampling_ms,
            writable=True,
        )
        await self._add_analog_properties(server, nodeid, ident, idx, unit, code, (setpoint.low, setpoint.high))
        self.setpoints[nodeid] = setpoint

    @staticmethod
    async def _add_analog_properties(
        server: Server, nodeid: ua.NodeId, ident: str, idx: int, unit: str, code: str, eu_range: tuple[float, float]
    ) -> None:
        """An AnalogItem's standard ``0:EngineeringUnits`` (UNECE code) and ``0:EURange`` properties."""
        eu = ua.EUInformation(
            NamespaceUri=UNITS_NAMESPACE,
            UnitId=unece_code(code),
            DisplayName=ua.LocalizedText(unit),
            Description=ua.LocalizedText(unit),
        )
        await conformance.add_property(
            server,
            nodeid,
            node_id(f"{ident}/EngineeringUnits", idx),
            "EngineeringUnits",
            ua.Variant(eu, ua.VariantType.ExtensionObject),
            ua.ObjectIds.EUInformation,
        )
        await conformance.add_property(
            server,
            nodeid,
            node_id(f"{ident}/EURange", idx),
            "EURange",
            ua.Variant(ua.Range(Low=eu_range[0], High=eu_range[1]), ua.VariantType.ExtensionObject),
            ua.ObjectIds.Range,
        )

    # -- setpoint writes ------------------------------------------------------------------------
    def may_write(self, user: User | None) -> bool:
        """True for a login with the ``write`` role; anonymous sessions and other logins read only."""
        return user is not None and user.name is not None and self.roles.get(user.name) == "write"

    def _check_write(self, item: ua.WriteValue, user: User) -> int | None:
        """The status that refuses a client's write to a setpoint (None: let it be written)."""
        setpoint = self.setpoints.get(item.NodeId)
        if setpoint is None or item.AttributeId != ua.AttributeIds.Value:
            return None  # asyncua answers (BadNotWritable for the read-only variables: conformance)
        if not self.may_write(user):
            return ua.StatusCodes.BadUserAccessDenied
        value = item.Value.Value.Value if item.Value is not None and item.Value.Value is not None else None
        if isinstance(value, float) and item.Value.Value.VariantType != ua.VariantType.Double:  # type: ignore[union-attr]
            return ua.StatusCodes.BadTypeMismatch  # a Float (single) is not the setpoint's Double either
        refused = write_refusal(value, setpoint.low, setpoint.high)
        return None if refused is None else int(getattr(ua.StatusCodes, refused))

    def _applied_write(self, item: ua.WriteValue, user: User) -> None:
        """A setpoint was written: the running simulation takes it at once (at the current simulated time)."""
        setpoint = self.setpoints.get(item.NodeId)
        if setpoint is None or item.AttributeId != ua.AttributeIds.Value:
            return
        value = float(item.Value.Value.Value)  # type: ignore[union-attr]  # checked by _check_write
        factor = value / setpoint.model_value if setpoint.param == "cycle" else setpoint.model_value / value
        now = self.sim_time()
        self._inject_until(now)
        self.engine.run_until(now)
        key = (setpoint.param, setpoint.index)
        self.setpoint_factors[key] = factor
        self.engine.rescale(setpoint.param, setpoint.index, factor * self._drift_now.get(key, 1.0))
        log.warning("setpoint: %s set to %g by %s", setpoint.label, value, user.name)

    def _eu_range(self, i: int, name: str) -> tuple[float, float]:
        """The normal operating range of machine ``i``'s analog signal ``name`` (its EURange)."""
        if name == "Power":
            return 0.0, float(math.ceil(1.25 * max(self.busy_kw[i], self.idle_kw[i], 1.0)))
        if name == "CycleTime":
            station = self.model.index.get(self.machines[i].id)
            mean = self.model.stations[station].cycle.mean_s if station is not None else 60.0
            return 0.0, float(math.ceil(max(60.0, 10 * mean)))
        return EU_RANGES.get(name.rstrip("0123456789") if name.startswith("Vibration") else name, (0.0, 100.0))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    # -- updates --------------------------------------------------------------------------------
    def sim_time(self) -> float:
        return self._sim0 + (time.monotonic() - self._wall0) * self.speed

    def serving_time(self) -> float:
        """Simulated seconds since the server started serving (the clock of ``--breakdown`` and ``--drift``)."""
        return self.sim_time() - self._sim0

    async def update(self) -> int:
        """Advance the engine to the clock and write every changed variable; returns the number written."""
        server = self.server
        if server is None:
            raise RuntimeError("the plant simulator is not started")
        t_before = self.engine.time()
        target = self.sim_time()
        self._inject_until(target)
        self.engine.run_until(target)
        snap = self.engine.snapshot()
        state = np.array(snap["state"])
        derived = derive(
            self.kinds, self.busy_kw, self.idle_kw, state, self.engine.time() - t_before, self.signals, self.vibration_channels
        )
        stamp = _utcnow()
        written = 0
        f = self.faults
        n = len(self.vars)
        dropout = self.rng.random(n) < f.dropout if f.dropout > 0 else np.zeros(n, bool)
        nan = self.rng.random(n) < f.nan if f.nan > 0 else np.zeros(n, bool)
        changes: list[tuple[int, str, object, bool]] | None = [] if self.sparkplug is not None else None
        for k, v in enumerate(self.vars):
            value = _value(v.signal, v.machine, snap, derived, state)
            status = status_code(ua.StatusCodes.Good)
            if dropout[k]:
                status = status_code(ua.StatusCodes.BadSensorFailure)
            elif nan[k] and v.variant == ua.VariantType.Double:
                value = math.nan
            elif self._last_values.get(k) == value:
                continue
            self._last_values[k] = None if dropout[k] else value
            # asyncua annotates the stamps as its ua.DateTime marker class; a plain UTC datetime is what it encodes
            dv = ua.DataValue(ua.Variant(value, v.variant), StatusCode=status, SourceTimestamp=stamp, ServerTimestamp=stamp)  # type: ignore[arg-type]
            await server.write_attribute_value(v.node, dv)
            written += 1
            if changes is not None:
                changes.append((v.machine, v.signal, value, not dropout[k]))
        if changes and self.sparkplug is not None:
            self.sparkplug.publish(changes)
        clock = ua.DataValue(ua.Variant(round(self.serving_time(), 3), ua.VariantType.Double), SourceTimestamp=stamp)  # type: ignore[arg-type]
        await server.write_attribute_value(self._clock_node, clock)
        self.updates += 1
        return written

    def publish_sparkplug(self, url: str) -> SparkplugEdge:
        """Also publish every value as a Sparkplug B edge node to the broker at ``url`` (once started): its
        births carry the values served now, and each update's changes follow as data."""
        edge = SparkplugEdge(url, [m.id for m in self.machines], self.sparkplug_metrics())
        edge.publish([(v.machine, v.signal, self._last_values.get(k), k in self._last_values) for k, v in enumerate(self.vars)])
        self.sparkplug = edge
        edge.start()
        return edge

    def sparkplug_metrics(self) -> list[list[tuple[str, int]]]:
        """Per machine, the (signal, Sparkplug data type) pairs it serves (once started)."""
        out: list[list[tuple[str, int]]] = [[] for _ in self.machines]
        for v in self.vars:
            out[v.machine].append((v.signal, SPARKPLUG_TYPES[v.variant.name]))
        return out

    def _inject_until(self, target: float) -> None:
        """Apply the breakdowns and drift steps due by simulated time ``target``, each at its own time."""
        breakdowns, drifts = self._pending_breakdowns, self._pending_drifts
        while True:
            t_break = self._sim0 + breakdowns[0][1] if breakdowns else math.inf
            t_drift = self._sim0 + drifts[0].at_s if drifts else math.inf
            if min(t_break, t_drift) > target:
                return
            if t_break <= t_drift:
                mid, at, dur = breakdowns.pop(0)
                self.engine.run_until(t_break)
                idx = self.model.index.get(mid)
                if idx is not None:
                    self.engine.force_down(idx, dur)
                    log.warning("fault injection: %s breaks down at %.0f s for %.0f s", mid, at, dur)
            else:
                step = drifts.pop(0)
                self.engine.run_until(t_drift)
                key = (step.param, step.index)
                self._drift_now[key] = step.factor
                self.engine.rescale(step.param, step.index, step.factor * self.setpoint_factors.get(key, 1.0))
                first = self.drift_factors[step.drift.target, step.param] == 1.0
                self.drift_factors[step.drift.target, step.param] = step.factor
                if first or step.at_s >= step.drift.end_s:
                    log.warning("drift injection: %s (now ×%.3f)", step.drift.describe(), step.factor)

    async def run(self, stop: asyncio.Event) -> None:
        """Update every ``interval_s`` until ``stop`` is set."""
        next_t = time.monotonic()
        while not stop.is_set():
            if (
                self.faults.stall_at_s is not None
                and not self._stalled
                and time.monotonic() - self._wall0 >= self.faults.stall_at_s
            ):
                self._stalled = True
                log.warning("fault injection: server stalls for %.1f s", self.faults.stall_for_s)
                time.sleep(self.faults.stall_for_s)  # blocks the event loop on purpose: nothing is served
            await self.update()
            next_t += self.interval_s
            self.lag_s = max(0.0, time.monotonic() - next_t)
            if self.lag_s > self.interval_s:
                next_t = time.monotonic()  # too far behind: skip instead of bursting
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_t - time.monotonic()))


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _variant_type(name: str) -> ua.VariantType:
    if name in ("State", "AlarmText", "DownReason"):
        return ua.VariantType.String
    if name in ("StateCode", "Level", "Capacity"):
        return ua.VariantType.Int32
    if name == "PartCount":
        return ua.VariantType.UInt32
    if name == "Alarm":
        return ua.VariantType.Boolean
    return ua.VariantType.Double


def _initial(vtype: ua.VariantType):
    return {ua.VariantType.String: "", ua.VariantType.Int32: 0, ua.VariantType.UInt32: 0, ua.VariantType.Boolean: False}.get(
        vtype, 0.0
    )


def _value(signal: str, i: int, snap: dict, derived: dict, state: np.ndarray):
    code = int(state[i])
    if signal == "State":
        return STATE_NAMES[code]
    if signal == "StateCode":
        return code
    if signal == "PartCount":
        return int(snap["operations"][i])
    if signal == "CycleTime":
        return round(float(snap["last_cycle_s"][i]), 3)
    if signal == "Level":
        return int(snap["occupancy"][i])
    if signal == "Capacity":
        return int(snap["capacity"][i])
    if signal == "Alarm":
        return code == 4 or float(derived["Temperature"][i]) > OVER_TEMPERATURE_C
    if signal == "DownReason":
        return DOWN_REASON if code == 4 else ""
    if signal == "AlarmText":
        return "Breakdown" if code == 4 else ("Over-temperature" if float(derived["Temperature"][i]) > OVER_TEMPERATURE_C else "")
    return round(float(derived[signal][i]), 3)


def _default_cert_dir() -> Path:
    from app.paths import user_data_dir

    return user_data_dir() / "pki"


async def ensure_certificate(folder: Path, name: str, app_uri: str, host: str, server: bool) -> tuple[Path, Path]:
    """A self-signed certificate (DER) and key (PEM) in ``folder``, made on first use and reused after while
    it still names ``app_uri`` and ``host`` (as an IP address when it is one) and stays valid."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}_cert.der", folder / f"{name}_key.pem"
    if not (key.is_file() and conformance.certificate_fits(cert, app_uri, host)):
        conformance.make_certificate(key, cert, app_uri, host, server, f"floortwin {name}")
    return cert, key


# -------------------------------------------------------------------------------------------- command line
def _breakdown(text: str) -> tuple[str, float, float]:
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)@(-?[0-9.]+)\+([0-9.]+)", text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"expected MACHINE@AT+DURATION in simulated seconds (AT < 0: before the start), got {text!r}"
        )
    return m.group(1), float(m.group(2)), float(m.group(3))


def _stall(text: str) -> tuple[float, float]:
    m = re.fullmatch(r"([0-9.]+):([0-9.]+)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected AT:DURATION in wall seconds, got {text!r}")
    return float(m.group(1)), float(m.group(2))


def _user(text: str) -> tuple[str, str, str]:
    """``NAME:PASSWORD`` (reads only) or ``NAME:PASSWORD:ROLE`` with ROLE ``read`` or ``write``."""
    name, sep, rest = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD or NAME:PASSWORD:ROLE (ROLE: read or write)")
    password, sep, role = rest.rpartition(":")
    if not sep or role not in ROLES:
        password, role = rest, "read"  # no role given (a password may hold colons)
    return name, password, role


def _drift(text: str) -> Drift:
    try:
        return parse_drift(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _probability(text: str) -> float:
    v = float(text)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a probability between 0 and 1, got {text}")
    return v


class _WithoutListenTraceback(logging.Filter):
    """Drops asyncua's own log record (with traceback) of a port it cannot listen on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], OSError))


#: The program name in usage and error lines (``main.py --plantsim`` runs the same).
PROG = "python -m app.plant.server"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="floortwin plant simulator (OPC UA server)")
    p.add_argument("--factory", required=True, help="factory file to simulate")
    p.add_argument("--port", type=int, default=4840, help="TCP port to listen on (0: any free port, named in the first line)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--interval", type=float, default=0.5, help="wall seconds between updates")
    p.add_argument("--seed", type=int, default=None, help="random seed: the same seed plays the same plant again")
    p.add_argument(
        "--user",
        type=_user,
        action="append",
        default=[],
        metavar="NAME:PASSWORD[:ROLE]",
        help="accept this login (repeatable); ROLE read (the default: reads everything, writes nothing) or write (may also "
        "write the setpoints)",
    )
    p.add_argument("--no-anonymous", action="store_true", help="refuse anonymous sessions")
    p.add_argument("--secure", action="store_true", help="also offer Basic256Sha256 Sign and SignAndEncrypt")
    p.add_argument("--secure-only", action="store_true", help="offer only the Basic256Sha256 endpoints")
    p.add_argument("--cert-dir", type=Path, help="where the server certificate is kept (made on first start)")
    p.add_argument(
        "--mqtt",
        metavar="URL",
        help="also publish every value as a Sparkplug B edge node to this broker (mqtt://HOST:PORT; group floortwin); "
        "auto: to a broker of its own (mosquitto, when installed) on a free loopback port",
    )
    p.add_argument("--dropout", type=_probability, default=0.0, help="probability of a bad-status update")
    p.add_argument("--nan", type=_probability, default=0.0, help="probability of a NaN reading")
    p.add_argument("--stall", type=_stall, metavar="AT:DURATION", help="stall the server (wall seconds)")
    p.add_argument(
        "--breakdown",
        type=_breakdown,
        action="append",
        default=[],
        metavar="MACHINE@AT+DURATION",
        help="force a breakdown (simulated seconds after start; a negative time: that long before, during the warm start)",
    )
    p.add_argument("--mtbf-scale", type=float, default=1.0, help="divide every MTBF by this (more breakdowns)")
    p.add_argument(
        "--drift",
        type=_drift,
        action="append",
        default=[],
        metavar="TARGET:PARAM=±P%@AT",
        help="change a parameter in the running simulation (repeatable): cycle, mtbf or mttr of a machine, arrival of a "
        "part flow, by ±P%% at a simulated time (90s, 10m, 1.5h) or ramped in (@10m..40m), e.g. CNC-03:cycle=+20%%@10m",
    )
    p.add_argument(
        "--vibration-channels",
        type=int,
        default=0,
        choices=range(65),
        metavar="K",
        help="also serve K vibration sensors per machine (Vibration1..K, mm/s), changing at every update",
    )
    p.add_argument("--parent-pid", type=int, metavar="PID", help="end when this process ends (the app that started it)")
    p.add_argument(
        "--stdin-lifeline", action="store_true", help="end when standard input closes (the starting process holds the pipe)"
    )
    return p


async def serve(args: argparse.Namespace, factory: Factory) -> int:
    faults = Faults(
        dropout=args.dropout,
        nan=args.nan,
        breakdowns=args.breakdown,
        mtbf_scale=args.mtbf_scale,
        drifts=args.drift,
        stall_at_s=args.stall[0] if args.stall else None,
        stall_for_s=args.stall[1] if args.stall else 0.0,
    )
    plant = PlantServer(
        factory,
        args.host,
        args.port,
        args.speed,
        args.interval,
        {name: password for name, password, _role in args.user},
        not args.no_anonymous,
        args.secure,
        args.secure_only,
        args.cert_dir,
        faults,
        args.seed,
        vibration_channels=args.vibration_channels,
        roles={name: role for name, _password, role in args.user},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    if args.parent_pid is not None or args.stdin_lifeline:
        lifeline.watch(args.parent_pid, args.stdin_lifeline, lambda _reason: loop.call_soon_threadsafe(stop.set))
    quiet = _WithoutListenTraceback()  # the one clear line below says it; asyncua would log a traceback first
    logging.getLogger("asyncua.server.server").addFilter(quiet)
    try:
        await plant.start()
    except OSError as e:
        where = f"{args.host}:{args.port}" if args.port else f"any free port of {args.host}"
        print(f"{PROG}: error: cannot listen on {where}: {e.strerror or e}", file=sys.stderr)
        return 1
    finally:
        logging.getLogger("asyncua.server.server").removeFilter(quiet)
    print(f"plantsim: serving {len(plant.vars)} variables of {len(plant.machines)} machines on {plant.endpoint}", flush=True)
    broker = _own_broker() if args.mqtt == "auto" else None
    url = broker.url if broker is not None else None if args.mqtt == "auto" else args.mqtt
    if url:
        edge = plant.publish_sparkplug(url)
        print(f"plantsim: publishing Sparkplug B to {edge.url} (group {SPARKPLUG_GROUP})", flush=True)
    try:
        await plant.run(stop)
    finally:
        if plant.sparkplug is not None:
            plant.sparkplug.stop()
        if broker is not None:
            broker.stop()
        await plant.stop()
    return 0


def _own_broker() -> Broker | None:
    """``--mqtt auto``: a broker of the simulator's own on a free loopback port, when mosquitto is installed
    (the demo publishes Sparkplug B beside OPC UA then; without one it serves OPC UA only)."""
    if find_broker() is None:
        print("plantsim: no MQTT broker installed (mosquitto): serving OPC UA only", flush=True)
        return None
    try:
        return start_broker(timeout_s=5.0)
    except (OSError, TimeoutError) as e:
        print(f"plantsim: could not start an MQTT broker ({e}): serving OPC UA only", flush=True)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.user and not (args.secure or args.secure_only):
        parser.error("--user needs --secure or --secure-only: over an unsecured endpoint the password travels in clear text")
    if args.parent_pid is not None:
        lifeline.die_with_parent(args.parent_pid)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("asyncua", "asyncua.server", "asyncua.uaprotocol"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        factory = load_factory(args.factory)
        compile_model(factory, horizon_s=1.0, warmup_s=0.0, replications=1)
    except (FactoryFileError, SimInputError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    problems = check_drifts(args.drift, factory)
    if problems:
        for problem in problems:
            print(f"{PROG}: error: --drift {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(args, factory))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
