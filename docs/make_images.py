"""Regenerate the documentation screenshots (docs/images/*.png) from the real main window.

::

    make docs-images                                    # all eight, 1600x1000, light theme, into docs/images
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/make_images.py --only replay,demo
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/make_images.py --matrix /tmp/matrix

Each image is staged on a fresh main window showing the demo plant live from its embedded OPC UA plant
simulator, as ``python main.py --demo`` runs it (a qasync loop, the same window, the same plant), in
throwaway settings and data folders: your saved window layout, history and scenarios are neither used nor
touched, and every image starts from the default window layout for its size.

``--matrix DIR`` writes every state at 1366x768 and 1920x1080 in both themes (``demo-1366x768-dark.png``
…) for reviewing the GUI at the sizes users have.

Every wait is for a condition and is bounded; a state that cannot be reached is named on stderr with the
reason, the other states are still made, and the exit code is 1. Most images take 10–20 s; heat-material
waits for live flow rates (a machine's 10 parts or its 5-minute window, ``--flow-wait``), about 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The images, in the order they are made; whatif-comparison comes from the whatif session.
IMAGES = (
    "demo",
    "heat-temperature",
    "heat-material",
    "replay",
    "layout-check",
    "whatif",
    "whatif-comparison",
    "watchdog",
    "material-flow",
    "params-optimiser",
    "state-gantt",
)
MATRIX_SIZES = ((1366, 768), (1920, 1080))
THEMES = ("light", "dark")
DEFAULT_SIZE = (1600, 1000)

# Bounds of the waits (seconds). Generous: the machine may be slow and busy; a state that takes longer is
# broken, and the script says which wait ran out.
WINDOW_S = 20.0  # the window on screen with its factory drawn
LIVE_S = 60.0  # the plant simulator serving and 90% of the machines showing a state
HEAT_S = 30.0  # the heat layers drawn from live values
REPLAY_S = 60.0  # the staged breakdown recorded and over
RUN_S = 240.0  # the what-if run (scenario and baseline, replications in worker processes)
COMPARE_S = 60.0  # the comparison built off the GUI thread
DRIFT_S = 90.0  # the watchdog finds CNC-03's injected drift (the plant at 600x: ~10 s)
#: Beyond every bounded wait of a session together: a session still running then is hung (see run_all).
SESSION_LIMIT_S = 600.0
#: Live flow rates need 10 parts out of a machine or its 5-minute window filled (docs/heat-maps.md): the
#: flow image waits this long by default for rates on this share of the paths.
FLOW_WAIT_S = 330.0
FLOW_SHARE = 0.9

#: The replay image: CNC-03 breaks down this many (simulated = wall) seconds after the plant starts, for
#: this long, so that the replay shows it down while live it runs again.
BREAKDOWN = ("CNC-03", 3.0, 8.0)
#: The layout-check image: the camera this much nearer than the isometric view, over the two problems.
LAYOUT_ZOOM = 0.6
#: The what-if image: presses made faster, a short horizon, a fixed seed (the same figures every time).
WHATIF_NAME = "Faster presses"
WHATIF_PRESSES = ("PR-01", "PR-02")
WHATIF_CYCLE_S = 20.0
WHATIF_HORIZON_S = 2 * 86_400.0
WHATIF_REPLICATIONS = 4
WHATIF_SEED = 1

log = logging.getLogger("make_images")


class StagingError(RuntimeError):
    """A state that could not be reached; the message says which wait or step failed."""


async def until(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    """Let the application run until ``condition()`` is true; StagingError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise StagingError(f"no {what} after {timeout_s:g} s")
        await asyncio.sleep(0.05)  # the qasync loop serves Qt meanwhile


@dataclass(frozen=True)
class Shot:
    """One image to write: which state, at which window size and theme, to which file."""

    image: str
    size: tuple[int, int]
    theme: str
    path: Path


@dataclass(frozen=True)
class Options:
    """What the stages are told beyond their shots."""

    flow_wait_s: float = FLOW_WAIT_S


class Session:
    """A fresh main window with the demo plant live, in its own settings and data folders.

    ``async with Session(...) as window`` opens the demo, starts the embedded plant simulator (with
    ``plant_args`` on top of the demo's own) and returns once the window is on screen and nearly every
    machine shows a live state; leaving closes the window, the live link and the plant.
    """

    def __init__(self, folder: Path, size: tuple[int, int], theme: str, plant_args: Sequence[str] = ()):
        self.folder, self.size, self.theme, self.plant_args = folder, size, theme, tuple(plant_args)
        self.window = None

    async def __aenter__(self):
        try:
            return await self._open()
        except BaseException:
            await self.__aexit__()  # no window or plant left behind for the next session
            raise

    async def _open(self):
        from PySide6 import QtCore

        from app.model.io import load_factory
        from app.paths import DEMO_FACTORY
        from app.plant.server import DEMO_ARGS
        from app.ui.main_window import MainWindow
        from app.ui.settings import Settings

        self.folder.mkdir(parents=True, exist_ok=True)
        # History, scenarios and autosaves go under XDG_DATA_HOME, read each time they are needed: a folder
        # per session, so one image's history or scenarios never show up in another's.
        os.environ["XDG_DATA_HOME"] = str(self.folder / "data")
        settings = Settings(QtCore.QSettings(str(self.folder / "settings.ini"), QtCore.QSettings.Format.IniFormat))
        w = self.window = MainWindow(settings=settings)
        w.set_theme(self.theme)
        w.resize(*self.size)  # before the first show: the default dock layout follows the window's size
        w.show()
        w.files.open_loaded(load_factory(DEMO_FACTORY), DEMO_FACTORY, connect=False)
        w.console.start_embedded_plant(DEMO_FACTORY, (*DEMO_ARGS, *self.plant_args) if self.plant_args else ())
        await until(lambda: w.windowHandle() is not None and w.windowHandle().isExposed(), WINDOW_S, "window on screen")
        if (w.width(), w.height()) != self.size:
            raise StagingError(f"the window is {w.width()}x{w.height()}, not {self.size[0]}x{self.size[1]} (screen too small?)")
        await until(lambda: w.plant is not None and w.plant.endpoint is not None, LIVE_S, "plant simulator serving")
        await until(w.console.live_ready, LIVE_S, "live state on 90% of the machines")
        # The labels get their values (CNC-01 · 21.3 °C) on the live link's next tick.
        await until(lambda: any(" · " in t for t in w.view.labels.shown), LIVE_S, "machine labels with live values")
        return w

    async def __aexit__(self, *_exc) -> None:
        w = self.window
        if w is None:
            return
        for dialog in list(w.whatif_dock.dialogs):
            dialog.close()
        if w.document is not None and w.document.dirty:  # staged edits: no "save changes?" question
            w.document.replace(w.document.factory, w.document.path)
        w.close()
        await w.live.aclose()
        w.deleteLater()
        self.window = None
        await asyncio.sleep(0.1)  # the loop deletes the window


async def settle(window) -> None:
    """Let queued updates (live colours, labels, legends, layouts) land, then draw the 3D view now."""
    # Sleeping hands control to the qasync loop, which runs Qt's events (never processEvents() inside a
    # coroutine: that would re-enter the asyncio loop from inside this task).
    for _ in range(3):
        await asyncio.sleep(0.05)
    window.view.render_now()


async def save(window, path: Path) -> None:
    await settle(window)
    if not window.save_screenshot(path):
        raise StagingError(f"cannot write {path}")


def _save_widget(widget, path: Path) -> None:
    if not widget.grab().save(str(path), "PNG"):
        raise StagingError(f"cannot write {path}")


# -- the states --------------------------------------------------------------------------------------------
async def stage_demo(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """The demo live: machine states and their legend, isometric camera."""
    shot = shots["demo"]
    async with Session(folder, shot.size, shot.theme) as w:
        w.view.camera_preset("iso")
        await until(lambda: w.view.legend_title == "Machine state", HEAT_S, "'Machine state' legend")
        await save(w, shot.path)


async def stage_heat_temperature(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """Machines coloured by their live temperature, with its colour bar."""
    shot = shots["heat-temperature"]
    async with Session(folder, shot.size, shot.theme) as w:
        w.view.camera_preset("iso")
        unknown = w.heat.show(("Temperature",))
        if unknown:
            raise StagingError(f"no heat layer {', '.join(unknown)}")
        await until(lambda: (w.view.colour_bar_title or "").startswith("Temperature"), HEAT_S, "temperature colour bar")
        await save(w, shot.path)


async def stage_heat_material(shots: dict[str, Shot], folder: Path, options: Options) -> None:
    """WIP density on the floor and material flow on the transport paths, seen from the top; with
    ``options.flow_wait_s`` the paths show their measured rates (else grey: still counting)."""
    import numpy as np

    shot = shots["heat-material"]
    async with Session(folder, shot.size, shot.theme) as w:
        w.view.camera_preset("top")
        unknown = w.heat.show(("wip", "flow"))
        if unknown:
            raise StagingError(f"no heat layer {', '.join(unknown)}")
        await until(w.heat_maps.ready, HEAT_S, "WIP and flow layers drawn from live values")
        # Right after connecting no path has a rate yet: grey paths, and the flow legend says they are still
        # counting once the live link's first tick has looked at the counters (docs/heat-maps.md).
        await until(
            lambda: "still counting" in (w.view.colour_bar("flow") or "") or bool(np.isfinite(w.heat_maps.material.flows).any()),
            HEAT_S,
            "flow legend saying what its grey paths mean",
        )
        if options.flow_wait_s > 0:  # a rate per path: 10 parts out of its machine, or its 5-minute window filled
            await until(
                lambda: np.isfinite(w.heat_maps.material.flows).mean() >= FLOW_SHARE,
                options.flow_wait_s,
                f"measured flow rate on {FLOW_SHARE:.0%} of the paths (--flow-wait)",
            )
        await save(w, shot.path)


async def stage_replay(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """The timeline dragged back to a breakdown of CNC-03 that is over by now (live it runs again)."""
    shot = shots["replay"]
    machine, at_s, for_s = BREAKDOWN
    async with Session(folder, shot.size, shot.theme, ("--breakdown", f"{machine}@{at_s:g}+{for_s:g}")) as w:
        w.view.camera_preset("iso")
        down: list[float] = []

        def seen_down() -> bool:
            if w.live.store.state(machine) == "down":
                down.append(time.time())
            return bool(down)

        await until(seen_down, REPLAY_S, f"breakdown of {machine}")
        await until(lambda: seen_down() and w.live.store.state(machine) != "down", REPLAY_S, f"{machine} back from its breakdown")
        back = time.time()
        await until(lambda: time.time() - back >= 2.0, 5.0, "two seconds of history after the breakdown")  # clock only
        await asyncio.to_thread(w.live.recorder.flush)  # the breakdown is in the history file
        when = down[0] + (down[-1] - down[0]) / 2  # the middle of what was seen down
        w.selection.select([machine])  # as a user looking into it would: its label, properties and trends
        w.timeline.show_time(when)
        await until(
            lambda: (
                w.live.replay_time is not None
                and w.live.replay_store is not None
                and w.live.replay_store.state(machine) == "down"
            ),
            REPLAY_S,
            f"replayed state with {machine} down",
        )
        if w.live.store.state(machine) == "down":
            raise StagingError(f"{machine} is down again live: the replay would show nothing that differs")
        await save(w, shot.path)


def _clearance_pose(world, mover: str, other: str, start, towards_x: float):
    """A pose of ``mover`` on the line from ``start`` towards x = ``towards_x`` (same y) where it is too
    close to ``other`` (clearance, no collision): the one whose gap is nearest 60% of what it needs."""
    import numpy as np

    from app.model.factory import Pose

    best, best_score = None, None
    step = 0.1 if towards_x > start.x_m else -0.1
    for x in np.arange(start.x_m, towards_x, step):
        pose = Pose(x_m=round(float(x), 2), y_m=start.y_m, yaw_deg=start.yaw_deg)
        v = world.check_pose(mover, pose)
        if v.status != "clearance" or v.collisions:
            continue
        near = [c for c in v.clearances if c.other == other]
        if not near or len(v.clearances) != len(near):
            continue
        score = abs(near[0].distance_m - 0.6 * near[0].required_m)
        if best_score is None or score < best_score:
            best, best_score = pose, score
    return best


async def stage_layout_check(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """Edit mode after two deliberate mistakes: CNC-01 on top of CNC-02 (collision, red) and PR-01 too
    close to PR-02 (clearance, amber), as Check Layout lists and colours them."""
    from app.model.factory import Pose

    shot = shots["layout-check"]
    async with Session(folder, shot.size, shot.theme) as w:
        w.view.camera_preset("iso")
        w.actions_by_id["edit.layout_mode"].trigger()
        if not w.layout_editor.active:
            raise StagingError("edit mode did not start")
        f = w.document.factory
        cnc2, pr1, pr2 = f.machine("CNC-02").pose, f.machine("PR-01").pose, f.machine("PR-02").pose
        # Half over CNC-02 and a little behind it, so that both red machines can be told apart.
        onto = Pose(x_m=cnc2.x_m - 2.5, y_m=cnc2.y_m + 1.0, yaw_deg=cnc2.yaw_deg)
        # Asked of the editor's collision world on its own thread (it is prepared in the background).
        v, near = w.layout_editor.service.run(
            lambda world: (world.check_pose("CNC-01", onto), _clearance_pose(world, "PR-01", "PR-02", pr1, pr2.x_m))
        )
        if [c.other for c in v.collisions] != ["CNC-02"]:
            raise StagingError(f"CNC-01 at {onto} does not collide with CNC-02 alone: {v.describe()}")
        if near is None:
            raise StagingError("no place for PR-01 that is too close to PR-02 without touching it")
        # As a user does it: a drop onto CNC-02 held with Shift (the override), then a clearance warning.
        if not w.layout_editor.move_to({"CNC-01": onto}, "Move CNC-01", override=True):
            raise StagingError("the override move of CNC-01 was refused")
        if not w.layout_editor.move_to({"PR-01": near}, "Move PR-01"):
            raise StagingError("the move of PR-01 was refused")
        w.show_layout_check()
        statuses = {(v.machine, v.status) for v in w.layout_editor.check_layout()}
        wanted = {("CNC-01", "collision"), ("CNC-02", "collision"), ("PR-01", "clearance"), ("PR-02", "clearance")}
        if not wanted <= statuses:
            raise StagingError(f"the layout check shows {sorted(statuses)}, not {sorted(wanted)}")
        await until(lambda: w.view.legend_title == "Layout check", HEAT_S, "'Layout check' legend")
        # Closer, over the four machines, so that both problems are seen (from the same direction).
        poses = [w.document.factory.machine(m).pose for m in ("CNC-01", "CNC-02", "PR-01", "PR-02")]
        cam = w.view.renderer.GetActiveCamera()
        distance = math.dist(cam.GetPosition(), cam.GetFocalPoint())
        w.view.fly_to_point(sum(p.x_m for p in poses) / 4, sum(p.y_m for p in poses) / 4, LAYOUT_ZOOM * distance)
        await save(w, shot.path)


async def stage_whatif(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """A scenario run from the What-if dock, its comparison open and the 3D view coloured by Δ utilisation
    (whatif), and the comparison dialog itself (whatif-comparison)."""
    from app.sim.scenario import MachineParam

    shot = shots.get("whatif") or shots["whatif-comparison"]
    async with Session(folder, shot.size, shot.theme) as w:
        w.view.camera_preset("iso")
        dock = w.whatif_dock
        dock.show()
        dock.raise_()
        dock.window_min.setValue(0)  # no recorded window: scenario against baseline, over the horizon
        entry = dock.service.new_scenario("current", name=WHATIF_NAME)
        if entry is None:
            raise StagingError("no scenario was made")
        changes = [MachineParam(machine=m, param="cycle_mean_s", value=WHATIF_CYCLE_S) for m in WHATIF_PRESSES]
        update = {"changes": changes, "horizon_s": WHATIF_HORIZON_S, "replications": WHATIF_REPLICATIONS, "seed": WHATIF_SEED}
        dock.service.update_scenario(entry, entry.scenario.model_copy(update=update))
        job = dock.service.run(entry)
        if job is None:
            raise StagingError(f"the scenario did not run: {w.last_error.text() if w.last_error else 'no reason given'}")
        await until(lambda: job.done, RUN_S, "finished what-if run")
        if job.status != "done":
            raise StagingError(f"the what-if run ended {job.status}: {job.message}")
        opened = []
        dock.comparison_opened.connect(opened.append)
        dock.service.compare(entry)
        await until(lambda: bool(opened), COMPARE_S, "comparison dialog")
        comparison = opened[0]
        comparison.delta_kpi.setCurrentIndex(max(0, comparison.delta_kpi.findData("utilisation")))
        comparison.show3d.setChecked(True)
        await until(lambda: w.view.colour_bar_title == "Δ utilisation (%)", HEAT_S, "'Δ utilisation (%)' colour bar")
        if "whatif" in shots:
            await save(w, shots["whatif"].path)
        if "whatif-comparison" in shots:
            await settle(w)
            _save_widget(comparison, shots["whatif-comparison"].path)


async def stage_watchdog(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """CNC-03's cycles 50% longer from 20 simulated minutes on (the plant at 600x): the drift watchdog's
    detection in the alarms dock, picked, with its one-click recalibration."""
    shot = shots["watchdog"]
    drift = ("--speed", "600", "--interval", "0.05", "--drift", "CNC-03:cycle=+50%@20m")
    async with Session(folder, shot.size, shot.theme, drift) as w:
        panel = w.console.watchdog
        await until(lambda: any(d.machine == "CNC-03" for d in panel.detections), DRIFT_S, "CNC-03's drift detected")
        found = next(d for d in panel.detections if d.machine == "CNC-03")
        # found on its first slow cycle, the size (and the recalibration) needs five: the shot shows both
        await until(lambda: panel.dog is not None and panel.dog.latest(found).size_known, DRIFT_S, "CNC-03's drift sized")
        panel.refresh()
        w.alarms_dock.raise_()
        panel.table.selectRow(next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "CNC-03"))
        w.alarms_dock.machine_activated.emit("CNC-03")  # as picking the row does: selected and flown to
        await asyncio.sleep(1.0)  # the camera's flight
        await save(w, shot.path)


async def stage_material_flow(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """The Material flow dock in front, its ribbons on the floor (width and colour: parts/h) with their legend."""
    from app.ui.flow_dock import FlowDock

    shot = shots["material-flow"]
    async with Session(folder, shot.size, shot.theme) as w:
        dock = w.findChild(FlowDock)
        await until(lambda: dock.state is not None and dock.state.factory is w.document.factory, WINDOW_S, "flows analysed")
        dock.show_ribbons()
        w.view.camera_preset("iso")
        await until(lambda: w.view.colour_bar("ribbons") is not None, HEAT_S, "the ribbons' legend")
        await save(w, shot.path)


async def stage_params_optimiser(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """Optimise ▸ Parameters… after a small search on the demo plant (CNC-02's buffer and CNC-04's servers;
    throughput and lead time): the claim, the candidates and the Pareto scatter with its intervals."""
    from app.ui.params_dialog import show_params_optimiser

    shot = shots["params-optimiser"]
    async with Session(folder, shot.size, shot.theme) as w:
        dialog = show_params_optimiser(w)
        s = dialog.setup
        s.variables.set_bounds(s.variables.add("input_buffer", "CNC-02"), 1, 6)
        s.variables.set_bounds(s.variables.add("servers", "CNC-04"), 1, 2)
        s.objectives["lead_time"].setChecked(True)
        for box, value in ((s.replications, 3), (s.horizon, 4.0), (s.warmup, 0.5), (s.evaluations, 12)):
            box.setValue(value)
        dialog.start()
        await until(lambda: dialog.result is not None or bool(dialog.message.text()), RUN_S, "the parameter search")
        if dialog.result is None:
            raise StagingError(dialog.message.text())
        await settle(w)
        _save_widget(dialog, shot.path)
        dialog.close()


async def stage_state_gantt(shots: dict[str, Shot], folder: Path, _options: Options) -> None:
    """The State Gantt dock raised on a simulation of the demo plant (replication 1), Press 2 selected."""
    shot = shots["state-gantt"]
    async with Session(folder, shot.size, shot.theme) as w:
        dock = w.gantt.dock
        dock.show()
        dock.raise_()
        dock.source.setCurrentIndex(dock.source.findData("layout"))
        w.gantt.refresh()
        await until(lambda: dock.bars is not None and not dock.bars.clock, RUN_S, "the simulation's bars")
        w.selection.select(["PR-02"])
        await settle(w)
        await save(w, shot.path)


STAGES = {
    "demo": stage_demo,
    "heat-temperature": stage_heat_temperature,
    "heat-material": stage_heat_material,
    "replay": stage_replay,
    "layout-check": stage_layout_check,
    "whatif": stage_whatif,
    "whatif-comparison": stage_whatif,
    "watchdog": stage_watchdog,
    "material-flow": stage_material_flow,
    "params-optimiser": stage_params_optimiser,
    "state-gantt": stage_state_gantt,
}


# -- running ---------------------------------------------------------------------------------------------------
def plan(images: Sequence[str], out: Path, size, theme, matrix: Path | None) -> list[tuple[str, dict[str, Shot]]]:
    """The sessions to run: (stage name, the shots it writes), one session per stage, size and theme."""
    combos = [(s, t) for s in MATRIX_SIZES for t in THEMES] if matrix is not None else [(size, theme)]
    sessions = []
    for s, t in combos:
        by_stage: dict[str, dict[str, Shot]] = {}
        for image in images:
            path = matrix / f"{image}-{s[0]}x{s[1]}-{t}.png" if matrix is not None else out / f"{image}.png"
            stage = STAGES[image].__name__
            by_stage.setdefault(stage, {})[image] = Shot(image, s, t, path)
        sessions += list(by_stage.items())
    return sessions


async def run_all(sessions: list[tuple[str, dict[str, Shot]]], scratch: Path, options: Options) -> list[str]:
    """Run each session in turn; returns the failures (one line each)."""
    failures = []
    stages = {f.__name__: f for f in STAGES.values()}
    for k, (stage, shots) in enumerate(sessions):
        names = ", ".join(s.path.name for s in shots.values())
        started = time.monotonic()
        # A hang inside a synchronous call (seen once: the GUI thread blocked in VTK's make-current) stops
        # the event loop, and with it every bounded wait: past this limit Python prints every thread's
        # stack and the script ends with exit code 1 (the plant simulator ends with its parent).
        faulthandler.dump_traceback_later(SESSION_LIMIT_S + options.flow_wait_s, exit=True)
        try:
            await stages[stage](shots, scratch / f"session-{k}", options)
        except StagingError as e:
            failures.append(f"{names}: {e}")
            print(f"make_images: FAILED {names}: {e}", file=sys.stderr, flush=True)
            continue
        except Exception as e:  # a bug met while staging: its traceback, and the other states are still made
            failures.append(f"{names}: {type(e).__name__}: {e}")
            print(f"make_images: FAILED {names}:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
            continue
        finally:
            faulthandler.cancel_dump_traceback_later()
        print(f"make_images: wrote {names} ({time.monotonic() - started:.0f} s)", flush=True)
    return failures


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not (800 <= w <= 4000 and 600 <= h <= 3000):
        raise argparse.ArgumentTypeError(f"{w}x{h} is out of range (800x600 .. 4000x3000)")
    return w, h


def _images(text: str) -> list[str]:
    names = [n.strip().removesuffix(".png") for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in IMAGES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown image(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(IMAGES)}")
    return [n for n in IMAGES if n in names]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="docs/make_images.py",
        description="Regenerate the documentation screenshots from the real main window with the demo plant live. "
        "Needs a display: run it under xvfb-run -a -s '-screen 0 1920x1080x24' (make docs-images does).",
        epilog=f"Images: {', '.join(IMAGES)}. Exit codes: 0 every image written, 1 a state could not be reached, "
        "2 bad command line.",
    )
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder of the images (default: docs/images)")
    p.add_argument("--only", type=_images, default=list(IMAGES), metavar="NAME,...", help="make only these images")
    p.add_argument("--size", type=_size, default=DEFAULT_SIZE, metavar="WxH", help="window size (default: 1600x1000)")
    p.add_argument("--theme", choices=THEMES, default="light", help="colour theme (default: light)")
    p.add_argument(
        "--matrix",
        type=Path,
        metavar="DIR",
        help="write every state at 1366x768 and 1920x1080 in both themes into DIR (name-WxH-theme.png), for review",
    )
    p.add_argument(
        "--flow-wait",
        type=float,
        default=FLOW_WAIT_S,
        metavar="SECONDS",
        help=f"heat-material: wait up to this long for measured flow rates on the paths (default {FLOW_WAIT_S:g}: "
        "live rates need 10 parts or 5 minutes); 0 pictures the first moments, grey paths 'still counting'",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = args.matrix if args.matrix is not None else args.out
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="floortwin-images-"))
    # Settings, logs and certificates of this run stay in the scratch folder (set before Qt or the app asks).
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(scratch / var.lower())

    import qasync
    from PySide6 import QtWidgets

    from app.logs import setup_logging
    from app.ui.theme import apply_theme

    setup_logging("WARNING")
    QtWidgets.QApplication.setApplicationName("floortwin")
    QtWidgets.QApplication.setOrganizationName("floortwin")
    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    qapp.setQuitOnLastWindowClosed(False)  # one window closes before the next opens: the loop goes on
    screen = qapp.primaryScreen().size()
    sessions = plan(args.only, args.out, args.size, args.theme, args.matrix)
    biggest = max((shot.size for _stage, shots in sessions for shot in shots.values()), key=lambda s: s[0] * s[1])
    if biggest[0] > screen.width() or biggest[1] > screen.height():
        print(
            f"make_images: the screen is {screen.width()}x{screen.height()}, smaller than a {biggest[0]}x{biggest[1]} window; "
            "run under xvfb-run -a -s '-screen 0 1920x1080x24'",
            file=sys.stderr,
        )
        return 2
    apply_theme(qapp, args.theme)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    with loop:
        failures = loop.run_until_complete(run_all(sessions, scratch, Options(flow_wait_s=args.flow_wait)))
    from app.live.netloop import shutdown_network_loop

    shutdown_network_loop()
    shutil.rmtree(scratch, ignore_errors=True)  # the sessions' settings, histories and scenarios
    if failures:
        print(f"make_images: {len(failures)} state(s) not reached:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"make_images: every image written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
