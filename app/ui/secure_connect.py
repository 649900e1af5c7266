"""Before a secure connection: floortwin's client certificate made, the server's certificate fetched and, the
first time, trusted by the user (a question on the GUI thread; key generation and the network on the
network thread, never on the GUI loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import platformdirs
from PySide6 import QtWidgets

from app.live import console_text
from app.live.client import ConnectionSettings, explain
from app.live.netloop import network_loop
from app.live.trust import TrustStore, describe, fetch_server_certificate
from app.plant.server import ensure_certificate

log = logging.getLogger(__name__)


async def checked_server(
    settings: ConnectionSettings, parent: QtWidgets.QWidget | None, show_error: Callable[[str, str, str], None]
) -> ConnectionSettings | None:
    """``settings`` with the trusted server certificate filled in, ready to connect; None when the server
    cannot be reached or offers no secure endpoint (``show_error`` says so) or the user does not trust it.
    A connection without security passes unchanged."""
    if settings.security_policy == "None" or settings.client_certificate is None:
        return settings
    try:
        net = network_loop()
        folder, uri = settings.client_certificate.parent, settings.application_uri
        await asyncio.wrap_future(net.submit(ensure_certificate(folder, "client", uri, "localhost", server=False)))
        der = await asyncio.wrap_future(net.submit(fetch_server_certificate(settings.endpoint, settings.timeout_s)))
    except Exception as e:  # any network failure here is "cannot reach the server"
        show_error("Cannot connect", explain(e, settings.endpoint), "")
        return None
    if der is None:
        show_error("Cannot connect", f"{settings.endpoint} offers no Basic256Sha256 endpoint", "")
        return None
    store = TrustStore(Path(platformdirs.user_config_dir("floortwin")) / "pki" / "trusted")
    if not store.is_trusted(der):
        answer = QtWidgets.QMessageBox.question(parent, "Trust this server?", console_text.trust_question(describe(der)))
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            log.info("server certificate of %s not trusted: not connecting", settings.endpoint)
            return None
        store.trust(der)
    settings.server_certificate = store.path_of(der)
    return settings
