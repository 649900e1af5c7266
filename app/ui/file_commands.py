"""File commands of the main window: open, save (atomically, never into a read-only place), autosave and
recovery, recent files. A view of the document's life; the window composes it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.model.autosave import discard_autosave, find_autosave, load_autosave, write_autosave
from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.model.save_place import must_choose_place, save_as_start
from app.paths import DEMO_FACTORY, user_data_dir
from app.ui.settings import Settings

log = logging.getLogger(__name__)

FILE_FILTER = "Factory files (*.json);;All files (*)"
AUTOSAVE_S = 30.0  # unsaved edits are autosaved this often


class FileCommands(QtCore.QObject):
    """Opens and saves the window's document.

    Parameters
    ----------
    window
        The main window (parent of dialogs, its status bar says what happened).
    settings
        Recent files and the "connect on open" choice.
    document
        Returns the open document (None when there is none).
    set_document
        Shows a newly opened document.
    recover
        Applies recovered unsaved edits as one undo step: ``recover(as_saved, recovered)``.
    connect
        Connects to the endpoint the open file names.
    show_error
        A non-blocking error box: ``show_error(title, text, details)``.
    """

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        settings: Settings,
        document: Callable[[], FactoryDocument | None],
        set_document: Callable[[FactoryDocument], None],
        recover: Callable[[Factory, Factory], None],
        connect: Callable[[], bool],
        show_error: Callable[[str, str, str], object],
    ):
        super().__init__(window)
        self.window, self.settings, self.document = window, settings, document
        self._set_document, self._recover, self._connect, self._show_error = set_document, recover, connect, show_error
        self._autosaved_revision = -1
        self.ending = False  # the application is being ended (SIGTERM): close without asking
        self.autosave_timer = QtCore.QTimer(self)
        self.autosave_timer.setInterval(int(AUTOSAVE_S * 1000))
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()

    def _say(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def may_leave(self, before: str) -> bool:
        """Whether the open document may go (``before``: "closing", "opening another factory"): with unsaved
        changes, the user saves them, discards them (nothing is then offered back) or cancels."""
        doc = self.document()
        if doc is None or not doc.dirty:
            return True
        if self.ending:  # the session ends (SIGTERM): nobody to ask; the autosave keeps the edits for next time
            self.autosave_now()
            return True
        Button = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"The factory has unsaved changes. Save them before {before}?",
            Button.Save | Button.Discard | Button.Cancel,
        )
        if self.ending:  # the session ended while the question was open (SIGTERM dismissed it): keep the edits
            self.autosave_now()
            return True
        if answer == Button.Cancel or (answer == Button.Save and not self.save()):
            return False
        if answer == Button.Discard:
            self.discard_autosave()  # the user chose to lose them: nothing to recover next time
        return True

    # -- open ----------------------------------------------------------------------------------------------
    def open_path(self, path: str | os.PathLike[str]) -> bool:
        """Open a factory file. On any problem the current factory stays open and the user is told why.
        Unsaved changes of the open one are not lost: the user saves, discards or cancels first. If the last
        session left unsaved edits of this file (an autosave newer than it), offer them."""
        try:
            factory = load_factory(path)
        except FactoryFileError as e:
            log.error("%s", e.details())
            self._show_error("Cannot open factory file", str(e), e.details())
            return False
        if not self.may_leave("opening another factory"):
            return False
        self.open_loaded(factory, path)
        self.offer_recovery(path)
        return True

    def open_loaded(self, factory: Factory, path: str | os.PathLike[str] | None, connect: bool = True) -> None:
        """Show a factory that was already loaded and validated (the command line does that first).

        When the file names an OPC UA endpoint (and the user has not turned "connect on open" off), the
        window connects to it as soon as the event loop runs; ``connect=False`` leaves that to the caller.
        """
        self._set_document(FactoryDocument(factory, path))
        if path is not None:
            self.settings.add_recent_file(path)
        log.info("opened %s: %d machines", path or "untitled", len(factory.machines))
        if connect and factory.opcua.endpoint and self.settings.connect_on_open:
            document = self.document()
            QtCore.QTimer.singleShot(0, lambda: self.document() is document and self._connect())

    def open_demo(self) -> bool:
        return self.open_path(DEMO_FACTORY)

    def open_dialog(self) -> None:
        doc = self.document()
        start = str(doc.path.parent) if doc and doc.path else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open factory", start, FILE_FILTER)
        if path:
            self.open_path(path)

    # -- save ----------------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current file (atomically); asks for a name if there is none."""
        doc = self.document()
        if doc is None:
            return False
        if doc.path is None or must_choose_place(doc.path, DEMO_FACTORY):
            return self.save_as_dialog()  # a copy where the user can write (app.model.save_place)
        return self.save_to(doc.path)

    def save_to(self, path: str | os.PathLike[str]) -> bool:
        doc = self.document()
        if doc is None:
            return False
        old_path = doc.path
        try:
            saved = doc.save(path)
        except PermissionError as e:
            log.warning("cannot write %s (%s): asking where to save instead", path, e.strerror or e)
            self._say(f"{Path(path).parent} is read-only: choose where to save a copy", 10000)
            return self.save_as_dialog(read_only=Path(path))
        except OSError as e:
            log.error("cannot save %s: %s", path, str(e))
            self._show_error("Cannot save", f"{Path(path).name}: {e.strerror or e}", str(e))
            return False
        discard_autosave(self.autosave_folder(), old_path, doc.factory.name)
        self.discard_autosave()
        self.settings.add_recent_file(saved)
        self._say(f"Saved {saved}", 5000)
        log.info("saved %s", saved)
        return True

    def save_as_dialog(self, read_only: Path | None = None) -> bool:
        """Ask for a file name; it starts beside the current file where that folder is writable, otherwise
        (the demo, an installed read-only folder, ``read_only`` that just refused a save) in the user's
        documents."""
        doc = self.document()
        if doc is None:
            return False
        start = save_as_start(doc.path, DEMO_FACTORY, lambda: documents_folder(), read_only)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save factory as", str(start), FILE_FILTER)
        if not path or (read_only is not None and Path(path).resolve() == read_only.resolve()):
            return False
        return self.save_to(path)

    # -- autosave ------------------------------------------------------------------------------------------
    def autosave_folder(self) -> Path:
        return user_data_dir() / "autosave"

    def autosave_now(self) -> Path | None:
        """Write unsaved changes to the autosave file (the timer does this every ``AUTOSAVE_S``)."""
        doc = self.document()
        if doc is None or not doc.dirty or doc.revision == self._autosaved_revision:
            return None
        try:
            target = write_autosave(self.autosave_folder(), doc.factory, doc.path)
        except OSError as e:
            log.warning("autosave failed: %s", e)
            return None
        self._autosaved_revision = doc.revision
        log.info("autosaved %s", target)
        return target

    def discard_autosave(self) -> None:
        doc = self.document()
        if doc is not None:
            discard_autosave(self.autosave_folder(), doc.path, doc.factory.name)
        self._autosaved_revision = -1

    def offer_recovery(self, path: str | os.PathLike[str]) -> None:
        found = find_autosave(self.autosave_folder(), path)
        doc = self.document()
        if found is None or doc is None:
            return
        when = QtCore.QDateTime.fromSecsSinceEpoch(int(found.mtime)).toString("yyyy-MM-dd HH:mm:ss")
        answer = QtWidgets.QMessageBox.question(
            self.window,
            "Recover unsaved changes?",
            f"floortwin closed with unsaved changes to {Path(path).name} (autosaved {when}).\n\n"
            "Recover them? (No keeps the file as it is and discards the autosave.)",
        )
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            discard_autosave(self.autosave_folder(), path, "")
            return
        try:
            recovered = load_autosave(found)
        except FactoryFileError as e:
            self._show_error("Cannot recover", str(e), e.details())
            return
        self._recover(doc.factory, recovered)
        log.info("recovered unsaved changes of %s from %s", path, found.path)
        self._say("Recovered the unsaved changes (undo returns to the file as saved)", 10000)

    # -- recent files --------------------------------------------------------------------------------------
    def build_recent_menu(self, file_menu: QtWidgets.QMenu, before: QtGui.QAction) -> QtWidgets.QMenu:
        """File ▸ Open Recent, inserted before ``before``."""
        self.recent_menu = QtWidgets.QMenu("Open &Recent", self.window)
        self.recent_menu.setObjectName("menu_recent")
        file_menu.insertMenu(before, self.recent_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        return self.recent_menu

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for i, f in enumerate(files):
            act = self.recent_menu.addAction(f"&{i + 1}  {Path(f).name}")
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda _c=False, p=f: self.open_recent(p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.remove_recent_file(path)
            self._show_error("File not found", f"{path} no longer exists; removed it from the recent files.", "")
            return
        self.open_path(path)

    def close(self) -> None:
        self.autosave_timer.stop()


def documents_folder() -> Path:
    """The user's documents folder (created if missing), or the home folder where there is none."""
    where = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(where) if where else Path.home()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path.home()
    return folder
