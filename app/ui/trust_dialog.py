""" "The server does not trust floortwin yet": where the client certificate is, its thumbprint, and a way to
hand it to the server's administrator (copy the thumbprint, export the certificate file)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6 import QtGui, QtWidgets

from app.live.trust import describe

log = logging.getLogger(__name__)


class ClientNotTrustedDialog(QtWidgets.QMessageBox):
    """Explains a rejected client certificate and offers to copy or export it."""

    def __init__(self, endpoint: str, certificate: Path, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.certificate = certificate
        self.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        self.setWindowTitle("Server does not trust floortwin yet")
        try:
            info = describe(certificate.read_bytes())
            self.thumbprint = info.thumbprint
            about = f"Subject: {info.subject}\nValid until: {info.not_after}\nSHA-256: {info.thumbprint}"
        except (OSError, ValueError) as e:
            self.thumbprint = ""
            about = f"(the certificate file cannot be read: {e})"
        self.setText(
            f"{endpoint} refused floortwin's client certificate.\n\n"
            "A server trusts a client only after its administrator has accepted the client's certificate "
            "(usually by moving it from the server's rejected list to its trusted list). Give them the "
            "certificate or its thumbprint, then connect again (Live ▸ Connect to Server, Ctrl+K).\n\n"
            "floortwin does not retry until then."
        )
        self.setInformativeText(f"Client certificate: {certificate}\n{about}")
        self.copy_button = self.addButton("Copy Thumbprint", QtWidgets.QMessageBox.ButtonRole.ActionRole)
        self.export_button = self.addButton("Export Certificate…", QtWidgets.QMessageBox.ButtonRole.ActionRole)
        self.addButton(QtWidgets.QMessageBox.StandardButton.Close)
        self.copy_button.setEnabled(bool(self.thumbprint))
        self.export_button.setEnabled(certificate.is_file())
        # Action buttons would close the box: handle them and keep it open.
        self.copy_button.clicked.disconnect()
        self.export_button.clicked.disconnect()
        self.copy_button.clicked.connect(self.copy_thumbprint)
        self.export_button.clicked.connect(self.export_dialog)

    def copy_thumbprint(self) -> None:
        QtGui.QGuiApplication.clipboard().setText(self.thumbprint)

    def export_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export client certificate", str(Path.home() / "floortwin-client.der"), "Certificates (*.der *.cer)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> bool:
        try:
            shutil.copyfile(self.certificate, path)
        except OSError as e:
            log.error("cannot export the client certificate to %s: %s", path, e)
            QtWidgets.QMessageBox.warning(self, "Cannot export", f"{path}: {e.strerror or e}")
            return False
        log.info("client certificate exported to %s", path)
        return True
