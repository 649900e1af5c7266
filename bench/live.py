#!/usr/bin/env python3
"""Live ingestion: notifications per second into the state store and history, write→store latency, GUI
frame time — against a bare asyncua subscription measured in the same run.

For 1,000 and 10,000 variables that change about every second, the plant simulator (``app.plant.server``, in
its own process) serves a generated factory of 100 and 1,000 machines, each with temperature, power and
eight vibration sensors bound (ten changing signals a machine, as condition monitoring has); two clients in
fresh processes take turns against it:

- **bare**: one asyncua subscription on the same nodes, read through asyncua's fastest path (its event
  queue and one consumer task, as the app reads it), that only counts and timestamps — the limit of the
  stack (asyncua on one Python thread);
- **app**: floortwin's main window with the factory open and the live link on: client → state store →
  3D colours and labels, plus the SQLite history recorder.

Latency is the time from the server's source timestamp (set when it writes the value) to the value
reaching the state store (app) or the handler (bare). Frame time is the time to render the 3D view while
values stream in, next to the same render with nothing streaming. Targets (the operator-console issue):
app rate ≥ 90 % of bare, p99 latency < 2× bare, frame time < 100 ms.
Run under an X server: ``xvfb-run -a -s "-screen 0 1920x1080x24" python bench/live.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import OUT, emit, ratio, run_worker  # noqa: E402

NAMESPACE = "urn:floortwin:plantsim"
VIBRATION_CHANNELS = 8
# A plant update about every second, deliberately not a multiple of the 250 ms publishing interval: the
# phase between the server's updates and its publish timer then sweeps through every value during a run,
# instead of fixing a random offset of up to 250 ms that would differ between the two clients' runs.
PLANT_INTERVAL_S = 1.03
# All change at every plant update (sensor noise): ten per machine.
SIGNALS = ("Temperature", "Power", *(f"Vibration{k + 1}" for k in range(VIBRATION_CHANNELS)))
SIZES = (1_000, 10_000)
ARRIVAL_TIMEOUT_S = 180.0  # the app's first values of every variable; longer means the case failed
WORKER_TIMEOUT_S = 900.0


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


def make_factory(n_vars: int, path: Path) -> list[str]:
    """A generated factory whose machines bind ``SIGNALS`` to the plant simulator; returns the node ids."""
    from app.model.io import save_factory
    from bench.genfactory import generate

    factory = generate(n_vars // len(SIGNALS), seed=7)
    machines, nodes = [], []
    for m in factory.machines:
        tags = {s: f"nsu={NAMESPACE};s=Machines/{m.id}/{s}" for s in SIGNALS}
        nodes.extend(tags.values())
        machines.append(m.model_copy(update={"tags": tags}))
    save_factory(factory.model_copy(update={"machines": machines}), path)
    return nodes


# -- workers (fresh processes) ---------------------------------------------------------------------------
def bare_worker(endpoint: str, nodes_file: str, warmup: float, seconds: float) -> dict:
    from asyncua import Client, ua
    from asyncua.common.subscription import DataChangeEvent, OverflowPolicy

    nodes = json.loads(Path(nodes_file).read_text())

    async def scenario() -> dict:
        client = Client(endpoint, timeout=60)
        count, latency, measuring = 0, [], False

        async def consume(sub) -> None:
            # asyncua's fastest path, the one the app uses: the subscription's event queue, one consumer task
            # (its handler mode starts an asyncio task per value).
            nonlocal count
            async for event in sub:
                if measuring and isinstance(event, DataChangeEvent):
                    count += 1
                    src = event.data.monitored_item.Value.SourceTimestamp
                    if src is not None:
                        latency.append(time.time() - src.timestamp())

        async with client:
            idx = await client.get_namespace_index(NAMESPACE)
            sub = await client.create_subscription(  # as the app: 250 ms publishing and sampling, the same queue
                250, None, queue_maxsize=max(10_000, 4 * len(nodes)), overflow=OverflowPolicy.DROP_OLDEST
            )
            consumer = asyncio.ensure_future(consume(sub))
            ids = [ua.NodeId(n.split(";s=", 1)[1], idx) for n in nodes]
            for k in range(0, len(ids), 1000):
                await sub.subscribe_data_change([client.get_node(i) for i in ids[k : k + 1000]], sampling_interval=250)
            await asyncio.sleep(warmup)  # the initial values and the subscription set-up are not counted
            measuring = True
            t0 = time.perf_counter()
            await asyncio.sleep(seconds)
            measuring = False
            elapsed = time.perf_counter() - t0
            consumer.cancel()
        return {"rate": round(count / elapsed, 1), "p50_ms": _pct(latency, 50), "p99_ms": _pct(latency, 99)}

    return asyncio.run(scenario())


def app_worker(endpoint: str, factory: str, warmup: float, seconds: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="floortwin-bench-live-"))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    import qasync
    from PySide6 import QtCore, QtWidgets

    from app.live.client import ConnectionSettings
    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    w = MainWindow(settings=Settings(QtCore.QSettings(str(home / "s.ini"), QtCore.QSettings.Format.IniFormat)))
    w.resize(1600, 1000)
    w.show()
    assert w.files.open_path(factory)

    def frame_ms(n: int) -> list[float]:
        """Times of plain renders of the scene as it stands (the baseline: nothing streaming)."""
        out = []
        for _ in range(n):
            t = time.perf_counter()
            w.view.plotter.render_window.Render()
            out.append(time.perf_counter() - t)
        return out

    frames: list[float] = []
    started: list[float] = []
    ren_win = w.view.plotter.render_window  # every real frame, whoever asks for it
    ren_win.AddObserver("StartEvent", lambda *_: started.append(time.perf_counter()))
    ren_win.AddObserver("EndEvent", lambda *_: frames.append(time.perf_counter() - started[-1]) if started else None)

    async def scenario() -> dict:
        await asyncio.sleep(0.5)
        idle = frame_ms(10)
        w.console.connect_live(ConnectionSettings(endpoint, timeout_s=60))
        state = {"measuring": False, "count": 0, "latency": []}
        deliver = w.live.session.ingest

        def measured(updates):  # on the GUI thread: the real path — store ingest and history queue — then the clock
            deliver(updates)
            if state["measuring"]:
                now = time.time()
                state["count"] += len(updates)
                state["latency"].extend(now - u.source_ts for u in updates)

        w.live.session.ingest = measured  # the network thread's reports reach the store by this name
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while w.live.store is None or w.live.store.received < len(w.live.store.bindings):
            if time.monotonic() > deadline:
                got = 0 if w.live.store is None else w.live.store.received
                raise TimeoutError(f"only {got} of {len(w.live.store.bindings)} variables arrived in {ARRIVAL_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)  # every variable has arrived once
        await asyncio.sleep(warmup)
        recorder = w.live.recorder
        recorder.flush()
        written0 = recorder.written
        gaps: list[float] = []
        frames.clear()
        profile = None
        if os.environ.get("FLOORTWIN_BENCH_PROFILE"):  # where the GUI thread's time goes (for developers)
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        state["measuring"] = True
        t0 = last = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(0.02)  # the event loop's responsiveness: how late this wakes up
            now = time.perf_counter()
            gaps.append(now - last - 0.02)
            last = now
        state["measuring"] = False
        shown = list(frames)
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.environ["FLOORTWIN_BENCH_PROFILE"])
        elapsed = time.perf_counter() - t0
        recorder.flush()
        written = recorder.written - written0
        await w.live.aclose()
        lat = state["latency"]
        return {
            "rate": round(state["count"] / elapsed, 1),
            "history_rate": round(written / elapsed, 1),
            "p50_ms": _pct(lat, 50),
            "p99_ms": _pct(lat, 99),
            "frame_ms_idle": round(statistics.median(idle) * 1000, 1),
            "frame_ms_median": round(statistics.median(shown) * 1000, 1) if shown else None,
            "frame_ms_max": round(max(shown) * 1000, 1) if shown else None,
            "frames_per_s": round(len(shown) / elapsed, 1),
            "loop_stall_ms_p99": _pct(gaps, 99),
            "machines": len(w.document.factory.machines),
        }

    try:
        return loop.run_until_complete(scenario())
    finally:
        w.document.replace(w.document.factory, w.document.path)
        w.close()


# -- driver ------------------------------------------------------------------------------------------------
def run_case(n_vars: int, warmup: float, seconds: float, port: int | None = None) -> dict:
    """One size measured, or why it could not be: a failed case is a result (``error``), never a crash."""
    try:
        return run_size(n_vars, warmup, seconds, port)
    except Exception as e:  # reported in the JSON line: the other sizes still run and print
        return {"variables": n_vars, "error": f"{type(e).__name__}: {e}"[:300]}


def _client(kind: str, args: list[str]) -> dict:
    """A client's figures from a fresh process; a failed run (a busy machine drops the connection) is tried
    once more, and if that fails too its error is the result."""
    result: dict = {}
    for attempt in (1, 2):
        try:
            result = run_worker(Path(__file__), [kind, *args], timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            result = {"error": f"no result within {WORKER_TIMEOUT_S:.0f} s"}
        result["attempts"] = attempt
        if "error" not in result:
            break
    return result


def run_size(n_vars: int, warmup: float, seconds: float, port: int | None = None) -> dict:
    from app.plant.server import free_port, spawn

    OUT.mkdir(parents=True, exist_ok=True)
    factory = OUT / f"live_{n_vars}.json"
    nodes = make_factory(n_vars, factory)
    nodes_file = OUT / f"live_{n_vars}_nodes.json"
    nodes_file.write_text(json.dumps(nodes))
    port = port or free_port()
    t = time.perf_counter()
    plant = spawn(factory, port, ("--interval", str(PLANT_INTERVAL_S), "--vibration-channels", str(VIBRATION_CHANNELS)))
    start_s = time.perf_counter() - t
    endpoint = f"opc.tcp://127.0.0.1:{port}/floortwin/"
    try:
        bare = _client("bare", [endpoint, str(nodes_file), str(warmup), str(seconds)])
        app = _client("app", [endpoint, str(factory), str(warmup), str(seconds)])
    finally:
        plant.kill()
        plant.wait(10)
    result = {"variables": len(nodes), "plant_start_s": round(start_s, 1), "bare": bare, "app": app}
    failed = [f"{kind}: {r['error']}" for kind, r in (("bare", bare), ("app", app)) if "error" in r]
    if failed:
        result["error"] = "; ".join(failed)
    return result


def _cell(value: object, width: int, spec: str = "") -> str:
    """A table cell; a figure that could not be measured (None) shows as "—", never as a format error.

    >>> _cell(None, 7), _cell(1234.5, 9, ",.0f")
    ('      —', '    1,234')
    """
    return f"{'—':>{width}}" if value is None else f"{value:>{width}{spec}}"


def table(results: dict[int, dict]) -> list[str]:
    """The human-readable table of every size (failed sizes say why)."""
    lines = [f"{'variables':>10} {'client':>6} {'notif/s':>9} {'history/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'frame ms':>17}"]
    for n, r in results.items():
        b, a = r.get("bare", {}), r.get("app", {})
        if "error" in r:
            lines.append(f"{n:>10,} failed: {r['error']}")
        if "error" not in b and b:
            lines.append(
                f"{r['variables']:>10,} {'bare':>6} {_cell(b.get('rate'), 9, ',.0f')} {'':>9} "
                f"{_cell(b.get('p50_ms'), 7)} {_cell(b.get('p99_ms'), 7)}"
            )
        if "error" not in a and a:
            median, worst, idle = (_cell(a.get(k), 0) for k in ("frame_ms_median", "frame_ms_max", "frame_ms_idle"))
            frame = f"{median} (max {worst}; idle {idle})"
            lines.append(
                f"{'':>10} {'app':>6} {_cell(a.get('rate'), 9, ',.0f')} {_cell(a.get('history_rate'), 9, ',.0f')} "
                f"{_cell(a.get('p50_ms'), 7)} {_cell(a.get('p99_ms'), 7)} {frame:>17}"
            )
    return lines


def figures_of(results: dict[int, dict]) -> dict:
    """The JSON line's figures: every size's measurements and ratios, or its error; targets judged only on
    figures that exist."""
    figures: dict = {}
    ok = True
    for n, r in results.items():
        b, a = r.get("bare", {}), r.get("app", {})
        if "error" in r:
            figures[f"error_{n}"] = r["error"]
            ok = False
            if "error" in b or "error" in a or not b or not a:
                continue
        rate_ratio = ratio(a.get("rate"), b.get("rate"))
        p99_ratio = ratio(a.get("p99_ms"), b.get("p99_ms"))
        history_ratio = ratio(a.get("history_rate"), b.get("rate"))
        frame_max = a.get("frame_ms_max")
        met = (
            rate_ratio is not None
            and rate_ratio >= 0.9
            and history_ratio is not None
            and history_ratio >= 0.9
            and p99_ratio is not None
            and p99_ratio < 2.0
            and frame_max is not None
            and frame_max < 100
        )
        figures[f"vars_{n}"] = {
            **{f"bare_{k}": v for k, v in b.items()},
            **{f"app_{k}": v for k, v in a.items()},
            "plant_start_s": r.get("plant_start_s"),
            "rate_ratio_app_vs_bare": rate_ratio,
            "history_rate_ratio_vs_bare": history_ratio,
            "p99_ratio_app_vs_bare": p99_ratio,
            "targets_met": met,
        }
        ok = ok and met
    figures["all_targets_met"] = ok
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="shorter measurement windows")
    p.add_argument(
        "--sizes", type=lambda t: [int(x) for x in t.split(",")], default=list(SIZES), help="variables per case (1000,10000)"
    )
    p.add_argument("--port", type=int, help="serve the plant on this port (default: a free one)")
    p.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        kind, endpoint, path, warmup, seconds = args.worker
        fn = bare_worker if kind == "bare" else app_worker
        print(json.dumps(fn(endpoint, path, float(warmup), float(seconds))), flush=True)
        sys.stderr.flush()
        os._exit(0)  # the figures are out; skip interpreter teardown of Qt/VTK/asyncua objects (not measured)

    warmup, updates = (3.0, 8) if args.quick else (5.0, 20)
    seconds = updates * PLANT_INTERVAL_S  # a whole number of plant updates: the rate has no counting phase error
    results = {n: run_case(n, warmup, seconds, args.port) for n in args.sizes}
    print("\n".join(table(results)))
    figures = figures_of(results)
    emit("live", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
