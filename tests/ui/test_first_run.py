"""First run: the welcome page, the About box with versions, and the crash report that loses nothing."""

from __future__ import annotations

import pytest

from app.model.autosave import find_autosave

pytestmark = pytest.mark.gui


def test_welcome_page_opens_the_demo_and_remembers_its_setting(make_window, qtbot, settings):
    w = make_window(open_demo=False)
    settings.add_recent_file(str(w.settings.path))  # any path: the list shows its name
    w.show_welcome()
    page = w.welcome
    assert page.isVisible() and page.recent.count() >= 1
    page.show_at_start.setChecked(False)
    assert settings.show_welcome is False
    page.accept()
    w.files.open_demo()  # what "Open the demo plant" does, without starting the plant's process here
    assert not page.isVisible() and w.document is not None and w.document.factory.name
    settings.show_welcome = True


def test_about_box_lists_versions_and_where_logs_are(make_window):
    w = make_window(open_demo=False)
    w.show_about()
    text = w.about_box.informativeText()
    for name in ("Python", "Qt", "VTK", "pyvista", "asyncua", "pybullet"):
        assert name in text
    assert "Logs and crash reports" in text and "plugin(s) active" in text
    w.about_box.close()


def test_an_unexpected_error_saves_the_layout_and_a_report_and_asks(make_window, qtbot, tmp_path):
    from app.ui.crash import report_crash

    w = make_window()
    w.layout_editor.set_active(True)
    m = w.document.factory.machine("PR-01")
    assert w.layout_editor.move_to({"PR-01": m.pose.model_copy(update={"y_m": m.pose.y_m + 0.5})}, "Move PR-01")
    assert w.document.dirty
    try:
        raise ValueError("something nobody expected")
    except ValueError as e:
        report, saved = report_crash(e, w)
    assert "unsaved layout was saved" in saved
    assert find_autosave(w.files.autosave_folder(), w.document.path) is not None
    text = report.read_text()
    assert "ValueError: something nobody expected" in text and "Versions:" in text and "Plugins:" in text
    dialog = w.crash_dialog
    assert dialog.isVisible() and "ValueError" in dialog.text() and str(report) in dialog.informativeText()
    dialog.keep.click()
    assert not dialog.isVisible() and w.isVisible()
    w.layout_editor.set_active(False)
    w.files.discard_autosave()  # other tests open the demo: no recovery question for them


def test_a_corrupt_settings_file_is_set_aside_and_defaults_used(tmp_path):
    from PySide6 import QtCore

    from app.ui.settings import Settings

    path = tmp_path / "floortwin.ini"
    path.write_bytes(b"[General\n\xff\xfe\x00garbage=\n[[[")
    s = Settings(QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat))
    assert (tmp_path / "floortwin.ini.bak").read_bytes().startswith(b"[General")
    assert s.theme == "light" and s.recent_files() == [] and s.show_welcome and s.disabled_plugins == []
    s.theme = "dark"
    s.sync()
    assert Settings(QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)).theme == "dark"


def test_a_crash_on_a_worker_thread_is_reported_on_the_gui_thread(make_window, qtbot, tmp_path, monkeypatch):
    """Issue 15, item 3: the history writer failing with something other than a database error used to end
    recording silently (the crash hook scheduled its report on the failing thread, which has no event loop)."""
    import sys
    import threading

    from app.history.recorder import Recorder, Sample
    from app.ui.crash import install_crash_handler

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # both hooks are put back after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr("app.ui.crash.user_log_dir", lambda: tmp_path)
    monkeypatch.setattr("app.ui.crash._handlers", [])  # the handler (and the window it reports on) goes with the test
    w = make_window()
    install_crash_handler(lambda: w)
    recorder = Recorder(tmp_path / "history.sqlite")
    # not a number and not None: the writer's arithmetic fails (a defect, not a full disk)
    recorder.record([Sample("PR-01", "Temperature", "ns=2;s=x", 1.0, 1.0, "hot", None, 0)])  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: getattr(w, "crash_dialog", None) is not None and w.crash_dialog.isVisible(), timeout=10_000)
    assert "TypeError" in w.crash_dialog.text()
    assert recorder.error and list(tmp_path.glob("crash-*.txt"))
    w.crash_dialog.keep.click()
    recorder.close()
