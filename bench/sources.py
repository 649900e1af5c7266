#!/usr/bin/env python3
"""Data sources: Sparkplug B ingest into the live session against a bare MQTT client decoding the same
payloads, measured in the same run.

An edge node (its own process, Eclipse Tahu payloads over paho-mqtt) publishes DDATA of 100 devices × 10
Double metrics at 10,000 metrics/s (1,000 messages/s) through a mosquitto broker on 127.0.0.1; two consumers
in fresh processes take turns:

- **bare**: a paho-mqtt client subscribed to the group that decodes every payload (Tahu's protobuf) and
  reads every metric's value and timestamp — the limit of the stack (paho + protobuf on one thread);
- **app**: floortwin's MQTT source (``app.mqtt.source``: Sparkplug bookkeeping — births, aliases, seq —
  and the hand-over to the network loop) inside a ``LiveSession`` with a 100-machine factory bound to the
  1,000 metrics: values reach the state store on this (the "GUI") thread and the SQLite history;
- **window**: the same through floortwin's main window (Live ▸ Connect to the broker, the built-in MQTT
  data source): store, 3D colours and labels, history — with the frame time of the 3D view while metrics
  stream in, next to the same render with nothing streaming.

Latency is from the metric's timestamp (set by the edge node as it publishes, ms) to the value reaching the
handler (bare) or the state store (app, window). Targets (issue 20): app rate ≥ 0.9× bare; the GUI's frame
time under 100 ms (the operator console's target). Run under an X server: ``xvfb-run -a -s "-screen 0
1920x1080x24" python bench/sources.py [--seconds S]`` (needs mosquitto; ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import emit, ratio, run_worker  # noqa: E402

GROUP, EDGE = "Bench", "Edge-1"
DEVICES, METRICS = 100, 10
RATE = 10_000  # metrics per second
WARMUP_S = 2.0


def _metric(k: int) -> str:
    return f"M{k + 1}"


# -- the edge node (its own process) --------------------------------------------------------------------
def publisher(port: int, seconds: float) -> None:
    import paho.mqtt.client as mqtt
    from tahutils.tahu import sparkplug_b as spb
    from tahutils.tahu import sparkplug_b_pb2 as pb

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-edge")
    client.max_queued_messages_set(0)
    lock = threading.Lock()
    seq = [0]

    def nxt() -> int:
        s, seq[0] = seq[0], (seq[0] + 1) % 256
        return s

    def births() -> None:
        with lock:
            seq[0] = 0
            p = pb.Payload(timestamp=int(time.time() * 1000), seq=nxt())
            spb.addMetric(p, "bdSeq", None, spb.MetricDataType.Int64, 0)
            client.publish(f"spBv1.0/{GROUP}/NBIRTH/{EDGE}", p.SerializeToString())
            for d in range(DEVICES):
                b = pb.Payload(timestamp=int(time.time() * 1000), seq=nxt())
                for k in range(METRICS):
                    spb.addMetric(b, _metric(k), k + 1, spb.MetricDataType.Double, 0.0)
                client.publish(f"spBv1.0/{GROUP}/DBIRTH/{EDGE}/D{d + 1}", b.SerializeToString())

    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"spBv1.0/{GROUP}/NCMD/{EDGE}")
    client.on_message = lambda c, u, m: threading.Thread(target=births).start()
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(0.3)
    births()
    messages_per_s = RATE / METRICS
    t0 = time.perf_counter()
    n = 0
    value = 0.0
    while time.perf_counter() - t0 < seconds:
        due = t0 + n / messages_per_s
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        d = n % DEVICES
        value += 0.001
        with lock:
            now_ms = int(time.time() * 1000)
            p = pb.Payload(timestamp=now_ms, seq=nxt())
            for k in range(METRICS):
                m = p.metrics.add(alias=k + 1, timestamp=now_ms, datatype=spb.MetricDataType.Double)
                m.double_value = value
            client.publish(f"spBv1.0/{GROUP}/DDATA/{EDGE}/D{d + 1}", p.SerializeToString())
        n += 1
    client.loop_stop()
    client.disconnect()


def _start_publisher(port: int, seconds: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, __file__, "--publisher", str(port), str(seconds)], env=env, cwd=ROOT)


def _summary(count: int, latencies_ms: list[float], seconds: float) -> dict:
    lat = sorted(latencies_ms)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None
    return {
        "metrics_per_s": round(count / seconds, 1),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(p99, 1) if p99 is not None else None,
    }


# -- consumers (fresh processes) ------------------------------------------------------------------------
def bare_worker(port: int, seconds: float) -> dict:
    import paho.mqtt.client as mqtt
    from tahutils.tahu import sparkplug_b_pb2 as pb

    state = {"count": 0, "measuring": False}
    latencies: list[float] = []
    subscribed = threading.Event()

    def on_message(_c, _u, msg) -> None:
        p = pb.Payload.FromString(msg.payload)
        now = time.time()
        n = 0
        for m in p.metrics:
            _ = m.double_value
            if state["measuring"]:
                latencies.append((now - m.timestamp / 1000) * 1000)
            n += 1
        if state["measuring"]:
            state["count"] += n

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"spBv1.0/{GROUP}/#")
    client.connect("127.0.0.1", port)
    client.loop_start()
    subscribed.wait(10)
    pub = _start_publisher(port, WARMUP_S + seconds + 1)
    time.sleep(WARMUP_S)
    state["measuring"] = True
    time.sleep(seconds)
    state["measuring"] = False
    pub.wait(30)
    client.loop_stop()
    return _summary(state["count"], latencies, seconds)


def app_worker(port: int, seconds: float) -> dict:
    import tempfile

    import psygnal

    from app.live.client import ConnectionSettings
    from app.live.session import LiveSession
    from app.mqtt.source import MqttSource
    from bench.genfactory import generate

    factory = generate(DEVICES, seed=7)
    machines = []
    for d, m in enumerate(factory.machines):
        tags = {f"V{k + 1}": f"mqtt:spBv1.0/{GROUP}/{EDGE}/D{d + 1}#{_metric(k)}" for k in range(METRICS)}
        machines.append(m.model_copy(update={"tags": tags, "states": {}}))
    factory = factory.model_copy(update={"machines": machines})
    session = LiveSession()
    state = {"count": 0, "measuring": False}
    latencies: list[float] = []

    def values(generation: int, batch: list) -> None:
        if generation != session.generation:
            return
        session.ingest(batch)
        if state["measuring"]:
            now = time.time()
            state["count"] += len(batch)
            latencies.extend((now - u.source_ts) * 1000 for u in batch)

    session.values_received.connect(values, thread="current")
    session.link_changed.connect(lambda g, s, m, at: g == session.generation and session.apply_link(s, at), thread="current")
    folder = tempfile.mkdtemp(prefix="bench-sources-")
    assert session.start(factory, ConnectionSettings(f"mqtt://127.0.0.1:{port}"), Path(folder) / "h.sqlite", MqttSource)

    def pump(until: float) -> None:
        while time.monotonic() < until:
            psygnal.emit_queued()
            session.flush(time.time())
            time.sleep(1 / 30)  # the GUI's flush rate

    pump(time.monotonic() + 1.0)
    pub = _start_publisher(port, WARMUP_S + seconds + 1)
    pump(time.monotonic() + WARMUP_S)
    state["measuring"] = True
    pump(time.monotonic() + seconds)
    state["measuring"] = False
    pub.wait(30)
    import asyncio

    counts = session.client.counts if session.client is not None else None
    asyncio.run(session.aclose())
    out = _summary(state["count"], latencies, seconds)
    if counts is not None:
        out.update(seq_gaps=counts.seq_gaps, malformed=counts.malformed, unknown_aliases=counts.unknown_aliases)
    return out


def window_worker(port: int, seconds: float) -> dict:
    import asyncio
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="floortwin-bench-sources-"))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    import qasync
    from PySide6 import QtCore, QtWidgets

    from app.live.client import ConnectionSettings
    from app.model.io import save_factory
    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings
    from bench.genfactory import generate

    factory = generate(DEVICES, seed=7)
    machines = []
    for d, m in enumerate(factory.machines):
        tags = {f"V{k + 1}": f"mqtt:spBv1.0/{GROUP}/{EDGE}/D{d + 1}#{_metric(k)}" for k in range(METRICS)}
        machines.append(m.model_copy(update={"tags": tags, "states": {}}))
    path = home / "factory.json"
    save_factory(factory.model_copy(update={"machines": machines}), path)

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    w = MainWindow(settings=Settings(QtCore.QSettings(str(home / "s.ini"), QtCore.QSettings.Format.IniFormat)))
    w.resize(1600, 1000)
    w.show()
    assert w.files.open_path(path)
    frames: list[float] = []
    started: list[float] = []
    ren_win = w.view.plotter.render_window  # every real frame, whoever asks for it
    ren_win.AddObserver("StartEvent", lambda *_: started.append(time.perf_counter()))
    ren_win.AddObserver("EndEvent", lambda *_: frames.append(time.perf_counter() - started[-1]) if started else None)

    async def scenario() -> dict:
        await asyncio.sleep(0.5)
        idle = []
        for _ in range(10):
            t = time.perf_counter()
            ren_win.Render()
            idle.append(time.perf_counter() - t)
        w.console.connect_live(ConnectionSettings(f"mqtt://127.0.0.1:{port}"))
        state = {"measuring": False, "count": 0}
        latencies: list[float] = []
        deliver = w.live.session.ingest

        def measured(updates) -> None:  # on the GUI thread: the real path (store ingest), then the clock
            deliver(updates)
            if state["measuring"]:
                now = time.time()
                state["count"] += len(updates)
                latencies.extend((now - u.source_ts) * 1000 for u in updates)

        w.live.session.ingest = measured
        await asyncio.sleep(1.0)
        pub = _start_publisher(port, WARMUP_S + seconds + 1)
        await asyncio.sleep(WARMUP_S)
        frames.clear()
        state["measuring"] = True
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        state["measuring"] = False
        elapsed = time.perf_counter() - t0
        shown = list(frames)
        await asyncio.to_thread(pub.wait, 30)
        await w.live.aclose()
        out = _summary(state["count"], latencies, elapsed)
        out.update(
            frame_ms_idle=round(statistics.median(idle) * 1000, 1),
            frame_ms_median=round(statistics.median(shown) * 1000, 1) if shown else None,
            frame_ms_max=round(max(shown) * 1000, 1) if shown else None,
            frames=len(shown),
        )
        return out

    with loop:
        result = loop.run_until_complete(scenario())
    w.close()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--worker", nargs=3, metavar=("MODE", "PORT", "SECONDS"))
    ap.add_argument("--publisher", nargs=2, metavar=("PORT", "SECONDS"))
    args = ap.parse_args()
    if args.publisher:
        publisher(int(args.publisher[0]), float(args.publisher[1]))
        return 0
    if args.worker:
        mode, port, seconds = args.worker[0], int(args.worker[1]), float(args.worker[2])
        worker = {"bare": bare_worker, "app": app_worker, "window": window_worker}[mode]
        print(json.dumps(worker(port, seconds)))
        return 0
    from app.plant.broker import start_broker

    results = {}
    for mode in ("bare", "app", "window"):
        broker = start_broker()
        try:
            results[mode] = run_worker(Path(__file__), [mode, str(broker.port), str(args.seconds)], timeout=120)
        finally:
            broker.stop()
    bare, app, window = results["bare"], results["app"], results["window"]
    offered = f"{RATE:,} metrics/s offered ({DEVICES} devices × {METRICS} metrics)"
    print(f"Sparkplug B ingest at {offered}, {args.seconds:g} s measured")
    print(f"{'':6} {'metrics/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'frame ms (max; idle)':>22}")
    for mode, r in results.items():
        frame = f"{r['frame_ms_median']} ({r['frame_ms_max']}; {r['frame_ms_idle']})" if r.get("frame_ms_median") else "—"
        print(f"{mode:6} {r.get('metrics_per_s', 'error')!s:>10} {r.get('p50_ms')!s:>8} {r.get('p99_ms')!s:>8} {frame:>22}")
    rate_ratio = ratio(app.get("metrics_per_s"), bare.get("metrics_per_s"))
    window_ratio = ratio(window.get("metrics_per_s"), bare.get("metrics_per_s"))
    print(f"app / bare rate: {rate_ratio}, window / bare: {window_ratio} (target ≥ 0.9)")
    figures = {"bare": bare, "app": app, "window": window, "rate_ratio": rate_ratio, "window_rate_ratio": window_ratio}
    met = [r is not None and r >= 0.9 for r in (rate_ratio, window_ratio)]
    targets = {"sparkplug_ingest_at_least_0_9x_bare_session": met[0], "sparkplug_ingest_at_least_0_9x_bare_window": met[1]}
    emit("sources", {"sparkplug": {**figures, "offered_per_s": RATE}, "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
