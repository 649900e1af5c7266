"""The command line: ``python main.py [FACTORY] [--demo] [--screenshot PNG] [--quit-after S]``.

A factory file is loaded and validated before any window opens: a bad file ends the program with its
message on stderr and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import app
from app.model.factory import Factory
from app.model.file_diff import format_factory_diff
from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.paths import DEMO_FACTORY
from app.plugins import PluginManager, standard_plugins

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("floortwin")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="floortwin",
        description="floortwin — a desktop digital twin of a factory floor.",
        epilog="Exit codes: 0 success, 1 failure while running, 2 bad command line or factory file.",
    )
    p.add_argument("factory", nargs="?", metavar="FACTORY", help="factory file (.json) to open")
    p.add_argument(
        "--demo", action="store_true", help="open the bundled demo plant and start its embedded OPC UA plant simulator"
    )
    p.add_argument("--no-plant", action="store_true", help="with --demo: do not start the plant simulator")
    p.add_argument(
        "--plant-speed",
        metavar="N",
        type=float,
        help="with --demo: run the plant simulator N times faster than the clock (e.g. 60: an hour a minute)",
    )
    p.add_argument(
        "--drift",
        metavar="SPEC",
        action="append",
        default=[],
        help='with --demo: make the plant drift from its model, e.g. "CNC-03:cycle=+20%%@10m" (cycle, mtbf, mttr or '
        "arrival; at a plant time, or a ramp @10m..40m); may be repeated — the drift watchdog should catch it",
    )
    p.add_argument(
        "--connect",
        metavar="URL",
        help="connect to this OPC UA server (opc.tcp://HOST:PORT/...) or MQTT broker (mqtt://HOST:PORT) with the "
        "factory's bindings; "
        "with --demo it replaces the embedded plant simulator",
    )
    p.add_argument("--screenshot", metavar="PNG", help="render the window (once the scene is drawn) to PNG and exit")
    p.add_argument("--quit-after", metavar="SECONDS", type=float, help="quit after this many seconds")
    p.add_argument(
        "--diff",
        metavar="OTHER",
        help="print every change from FACTORY to OTHER, grouped (layout, parameters, flows, bindings), and exit",
    )
    p.add_argument("--size", metavar="WxH", default=None, help="window size in pixels, e.g. 1600x1000")
    p.add_argument(
        "--heat",
        metavar="LAYERS",
        help="heat maps to show, comma-separated: wip, flow and/or a machine signal such as Temperature",
    )
    p.add_argument("--camera", choices=("iso", "top", "front"), help="camera preset to start with (default: iso)")
    p.add_argument("--flow-ribbons", action="store_true", help="show the Material flow dock and its ribbons in the 3D view")
    p.add_argument("--theme", choices=("light", "dark"), help="colour theme (default: the last one used)")
    p.add_argument(
        "--log-level", default="WARNING", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="terminal log level"
    )
    p.add_argument("--first-frame-exit", action="store_true", help=argparse.SUPPRESS)  # bench/startup.py
    p.add_argument("--version", action="version", version=f"floortwin {app.__version__}")
    return p


def _file_error(e: FactoryFileError) -> int:
    """Every problem of a factory file on its own line (not the first one and "and 2 more")."""
    for line in e.details().splitlines():
        print(f"floortwin: error: {line}", file=sys.stderr)
    return EXIT_USAGE


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"floortwin: error: --size expects WIDTHxHEIGHT, got {text!r}") from None
    if not (200 <= w <= 10000 and 200 <= h <= 10000):
        raise SystemExit(f"floortwin: error: --size {w}x{h} is out of range (200..10000)")
    return w, h


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from app.logs import setup_logging

    setup_logging(args.log_level)
    if args.factory and args.demo:
        print("floortwin: error: give a FACTORY file or --demo, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.quit_after is not None and not (args.quit_after > 0 and math.isfinite(args.quit_after)):
        print(f"floortwin: error: --quit-after: must be a number of seconds > 0, got {args.quit_after:g}", file=sys.stderr)
        return EXIT_USAGE
    if args.connect is not None:
        if not any(args.connect.startswith(s) and len(args.connect) > len(s) for s in ("opc.tcp://", "mqtt://", "mqtts://")):
            expected = "opc.tcp://HOST:PORT/PATH or mqtt://HOST:PORT"
            print(f"floortwin: error: --connect expects {expected}, got {args.connect!r}", file=sys.stderr)
            return EXIT_USAGE
        if not (args.factory or args.demo):
            print("floortwin: error: --connect needs a FACTORY file (or --demo) whose machines it binds", file=sys.stderr)
            return EXIT_USAGE
    path = Path(args.factory) if args.factory else (DEMO_FACTORY if args.demo else None)
    factory: Factory | None = None
    plugins = _plugins()  # before the file: a machine kind it uses may be a plugin's
    if path is not None:
        try:
            factory = load_factory(path)
        except FactoryFileError as e:
            return _file_error(e)
    if args.diff:
        if factory is None:
            print("floortwin: error: --diff needs a FACTORY file to compare with", file=sys.stderr)
            return EXIT_USAGE
        try:
            other = load_factory(args.diff)
        except FactoryFileError as e:
            return _file_error(e)
        print(format_factory_diff(factory, other))
        return EXIT_OK
    if args.screenshot:
        out = Path(args.screenshot)
        if not out.parent.exists():
            print(f"floortwin: error: --screenshot: folder {out.parent} does not exist", file=sys.stderr)
            return EXIT_USAGE
    try:
        size = _size(args.size)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    plant = path if args.demo and not args.no_plant and not args.connect else None
    plant_args = _plant_args(args, factory) if plant is not None else ()
    if plant_args is None:
        return EXIT_USAGE
    if plant is None and (args.drift or args.plant_speed is not None):
        print("floortwin: error: --drift and --plant-speed need --demo (with its plant simulator)", file=sys.stderr)
        return EXIT_USAGE
    heat = tuple(h.strip() for h in args.heat.split(",") if h.strip()) if args.heat else ()
    return run_gui(
        factory,
        path,
        args.screenshot,
        args.quit_after,
        size,
        args.theme,
        plant,
        heat,
        args.camera,
        args.first_frame_exit,
        connect=args.connect,
        plugins=plugins,
        plant_args=plant_args,
        flow_ribbons=args.flow_ribbons,
    )


def _plant_args(args: argparse.Namespace, factory: Factory | None) -> tuple[str, ...] | None:
    """The embedded plant simulator's options from ``--plant-speed`` and ``--drift`` (None: a bad one, said)."""
    from app.plant.drift import check_drifts, parse_drift

    out: list[str] = []
    if args.plant_speed is not None:
        if not (math.isfinite(args.plant_speed) and args.plant_speed > 0):
            print(f"floortwin: error: --plant-speed: must be a number > 0, got {args.plant_speed:g}", file=sys.stderr)
            return None
        out += ["--speed", f"{args.plant_speed:g}"]
    try:
        drifts = [parse_drift(spec) for spec in args.drift]
    except ValueError as e:
        print(f"floortwin: error: --drift {e}", file=sys.stderr)
        return None
    problems = check_drifts(drifts, factory) if factory is not None else []
    if problems:
        print(f"floortwin: error: --drift {problems[0]}", file=sys.stderr)
        return None
    for d in drifts:
        out += ["--drift", d.spec]
    if out and args.demo:
        from app.plant.server import DEMO_ARGS

        out = [*DEMO_ARGS, *out]  # the demo stays the demo (its seed, breakdown, secure endpoint and logins)
    return tuple(out)


def _plugins() -> PluginManager:
    """The plugins, with the user's choices (listed from their manifests: none is imported yet)."""
    from app.ui.settings import Settings

    settings = Settings()
    return standard_plugins(settings.trusted_plugins, settings.disabled_plugins)


def _run_loop(qapp, window) -> int:
    """Run Qt and asyncio as one loop (qasync) until the application quits; close the live link cleanly."""
    import asyncio

    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)

    def on_loop_error(_loop, context: dict) -> None:
        # Network tasks that die with a broken connection are reported by the live link in words; here
        # they only go to the log, without a traceback on the terminal.
        exc = context.get("exception")
        log.warning("background task: %s%s", context.get("message", ""), f" ({type(exc).__name__}: {exc})" if exc else "")

    loop.set_exception_handler(on_loop_error)
    tick = _end_on_sigterm(window)  # kept while the loop runs
    quit_event = asyncio.Event()
    qapp.aboutToQuit.connect(quit_event.set)
    with loop:
        loop.run_until_complete(quit_event.wait())
        tick.stop()
        loop.run_until_complete(window.live.aclose())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=3))
    from app.live.netloop import shutdown_network_loop

    shutdown_network_loop()
    return 0


def _end_on_sigterm(window):
    """SIGTERM (a logout, ``kill``, a service manager) closes the window as Quit does, without a question:
    unsaved edits go to the autosave, the live link, plant simulator and worker processes stop."""
    import signal

    from PySide6 import QtCore, QtWidgets

    def end(_signum, _frame) -> None:
        log.info("terminated: closing")
        window.files.ending = True
        # A question open when the session ends (Quit's "Save the unsaved changes?") has nobody to answer it:
        # it is dismissed, and the window closes as SIGTERM closes it (the edits go to the autosave). Left
        # open, its event loop kept the process — plant simulator and all — running after SIGTERM.
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, QtWidgets.QDialog) and widget.isModal() and widget.isVisible():
                widget.reject()
        QtCore.QTimer.singleShot(100, window.close)  # once the dismissed question's loop has returned

    signal.signal(signal.SIGTERM, end)
    # Python runs a signal handler only between bytecodes: a timer lets it run while Qt waits for events.
    tick = QtCore.QTimer(window)
    tick.timeout.connect(lambda: None)
    tick.start(250)
    return tick


def run_gui(
    factory: Factory | None,
    path: Path | None,
    screenshot: str | None,
    quit_after: float | None,
    size: tuple[int, int] | None,
    theme: str | None,
    plant: Path | None = None,
    heat: tuple[str, ...] = (),
    camera: str | None = None,
    first_frame_exit: bool = False,
    connect: str | None = None,
    plugins: PluginManager | None = None,
    plant_args: tuple[str, ...] = (),
    flow_ribbons: bool = False,
) -> int:
    """Create the Qt application and the main window (and the plant simulator for ``plant``), and run until quit."""
    from PySide6 import QtCore, QtWidgets

    from app.ui.main_window import MainWindow

    QtWidgets.QApplication.setApplicationName("floortwin")
    QtWidgets.QApplication.setOrganizationName("floortwin")
    QtWidgets.QApplication.setApplicationVersion(app.__version__)
    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    # an unattended run (a screenshot, a timed run) never waits on a question about a new plugin
    window = MainWindow(plugins=plugins, ask_plugins=not screenshot and quit_after is None)
    from app.ui.crash import install_crash_handler

    install_crash_handler(lambda: window)
    if theme:
        window.set_theme(theme)
    if size:
        window.resize(*size)
    window.show()
    if factory is not None:
        window.files.open_loaded(factory, path, connect=connect is None and plant is None)
    if plant is not None:
        window.console.start_embedded_plant(plant, plant_args)
    elif connect is not None and factory is not None:
        QtCore.QTimer.singleShot(0, lambda: window.console.connect_from_file(connect))
    # A screenshot of a live plant waits for its first values: the embedded plant's, a --connect server's
    # or the one the factory file names.
    expect_live = (
        plant is not None
        or connect is not None
        or bool(factory is not None and factory.opcua.endpoint and window.settings.connect_on_open)
    )
    if factory is None and not screenshot and window.settings.show_welcome:
        window.show_welcome()
    if camera and factory is not None:
        window.view.camera_preset(camera)
    if heat:
        unknown = window.heat.show(heat)
        if unknown:
            known = ", ".join(window.heat.layer_names())
            missing = ", ".join(unknown)
            print(f"floortwin: error: --heat: no such layer or numeric signal: {missing} (known: {known})", file=sys.stderr)
            QtCore.QTimer.singleShot(0, window.close)  # a bad argument: nothing is shown or written
            _run_loop(qapp, window)
            return EXIT_USAGE
    from app.ui.flow_dock import FlowDock

    flow = window.findChild(FlowDock)
    if flow_ribbons and flow is not None:
        flow.show_ribbons()
    result = {"code": EXIT_OK}
    if first_frame_exit:  # bench/startup.py: say when the first frame of the factory is on screen, then quit

        def first_frame(_seconds: float) -> None:
            if window.document is not None and window.view.machines.n_triangles:
                print(f"floortwin: first frame {time.perf_counter():.3f}", flush=True)
                window.view.frame_drawn.disconnect(first_frame)
                QtCore.QTimer.singleShot(0, window.close)

        window.view.frame_drawn.connect(first_frame)

    if screenshot:
        # --quit-after bounds the wait for live data: the screenshot is taken then, with what is there.
        deadline = QtCore.QDeadlineTimer(int(1000 * (min(20.0, quit_after) if quit_after is not None else 20.0)))

        def take() -> None:
            handle = window.windowHandle()
            if plant is not None:  # the demo: (nearly) every machine shows its state, and the heat maps are drawn
                waiting_for_live = not (window.console.live_ready() and window.heat_maps.ready())
            else:
                waiting_for_live = expect_live and not (window.console.has_live_values() and window.heat_maps.ready())
            waiting_for_flow = flow_ribbons and flow is not None and factory is not None and flow.state is None
            if ((handle is None or not handle.isExposed()) or waiting_for_live or waiting_for_flow) and not deadline.hasExpired():
                QtCore.QTimer.singleShot(50, take)
                return
            if waiting_for_live:
                print("floortwin: warning: no live data before the screenshot deadline", file=sys.stderr)
            qapp.processEvents()
            window.console.live.show_now()  # colours and labels of the values that have arrived
            window.view.render_now()
            ok = window.save_screenshot(screenshot)
            if ok:
                print(f"floortwin: screenshot written to {screenshot}")
            result["code"] = EXIT_OK if ok else EXIT_FAILURE
            window.close()
            qapp.exit(result["code"])

        QtCore.QTimer.singleShot(200, take)
    if quit_after is not None and not screenshot:
        QtCore.QTimer.singleShot(int(quit_after * 1000), window.close)
    code = _run_loop(qapp, window)
    return result["code"] if screenshot else code
