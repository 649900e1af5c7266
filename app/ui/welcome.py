"""The welcome page shown when floortwin starts without a factory: the demo, a file, a server, recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets


class WelcomeDialog(QtWidgets.QDialog):
    """Non-modal: the main window is usable behind it; every choice closes it."""

    def __init__(self, window, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent or window)
        self.setObjectName("welcome_dialog")
        self.setWindowTitle("Welcome to floortwin")
        self.window_ = window
        layout = QtWidgets.QVBoxLayout(self)
        title = QtWidgets.QLabel(
            "<h2>floortwin</h2>A digital twin of your factory floor: the layout in 3D, live machine state, "
            "heat maps, layout editing and what-if simulation.",
            self,
        )
        title.setWordWrap(True)
        layout.addWidget(title)
        self.demo = QtWidgets.QPushButton("Open the &demo plant (with its live plant simulator)", self)
        self.demo.setToolTip("40 machines in machining, pressing, welding, assembly and logistics, live over OPC UA")
        self.open = QtWidgets.QPushButton("&Open a factory file…", self)
        self.connect = QtWidgets.QPushButton("&Connect to an OPC UA server…", self)
        self.connect.setToolTip("Open a factory first: its machines' tags are bound to the server's variables")
        for b in (self.demo, self.open, self.connect):
            b.setMinimumHeight(36)
            layout.addWidget(b)
        layout.addWidget(QtWidgets.QLabel("Recent files:", self))
        self.recent = QtWidgets.QListWidget(self)
        for path in window.settings.recent_files():
            item = QtWidgets.QListWidgetItem(Path(path).name)
            item.setToolTip(path)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, path)
            self.recent.addItem(item)
        if not self.recent.count():
            self.recent.addItem("(none yet)")
            self.recent.setEnabled(False)
        layout.addWidget(self.recent, 1)
        tips = QtWidgets.QLabel(
            "F1 lists every keyboard shortcut · Help ▸ Plugins lists the plugins · the user guide is in docs/user-guide.md", self
        )
        tips.setWordWrap(True)
        layout.addWidget(tips)
        self.show_at_start = QtWidgets.QCheckBox("Show this page at start", self)
        self.show_at_start.setChecked(window.settings.show_welcome)
        self.show_at_start.toggled.connect(lambda on: setattr(window.settings, "show_welcome", on))
        layout.addWidget(self.show_at_start)
        self.demo.clicked.connect(lambda: self._then(window.open_demo_live))
        self.open.clicked.connect(lambda: self._then(window.files.open_dialog))
        self.connect.clicked.connect(lambda: self._then(window.console.connect_dialog))
        self.recent.itemActivated.connect(
            lambda item: self._then(lambda: window.files.open_path(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        )
        self.resize(520, 460)

    def _then(self, action) -> None:
        self.accept()
        action()
