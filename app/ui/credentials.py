"""Passwords in the system keyring (never in the factory file or settings), or asked each time."""

from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)
SERVICE = "floortwin-opcua"


def _key(username: str, endpoint: str) -> str:
    return f"{username}@{endpoint}"


def _discover() -> None:
    """Let keyring pick its backend now. Its discovery keeps the errors of the backends it rejects, with
    their tracebacks; done at import, those hold module frames rather than a dialog and its window."""
    try:
        import keyring

        keyring.get_keyring()
    except Exception as e:  # a broken keyring install only means "asked each time"
        log.info("no usable keyring: %s", str(e))


_discover()


def keyring_available() -> bool:
    """True when a usable system keyring backend exists."""
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        return not isinstance(keyring.get_keyring(), FailKeyring)
    except Exception:  # a broken keyring install must not stop the dialog
        return False


def load_password(username: str, endpoint: str) -> str | None:
    if not keyring_available():
        return None
    import keyring

    try:
        return keyring.get_password(SERVICE, _key(username, endpoint))
    except Exception as e:  # locked or broken keyrings raise backend-specific errors
        log.warning("cannot read the keyring: %s", str(e))
        return None


def save_password(username: str, endpoint: str, password: str) -> bool:
    """Store the password; False (and a log line) when no keyring can take it."""
    if not keyring_available():
        log.info("no system keyring: the password for %s will be asked each time", _key(username, endpoint))
        return False
    import keyring

    try:
        keyring.set_password(SERVICE, _key(username, endpoint), password)
        return True
    except Exception as e:
        log.warning("cannot store the password in the keyring: %s", str(e))
        return False


def forget_password(username: str, endpoint: str) -> None:
    if keyring_available():
        import keyring

        with contextlib.suppress(Exception):  # nothing stored is fine
            keyring.delete_password(SERVICE, _key(username, endpoint))
