"""Server certificates the user trusted: shown once, remembered as files named by their thumbprint."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509


@dataclass(frozen=True)
class CertificateInfo:
    """What a user needs to decide whether to trust a server certificate."""

    thumbprint: str  # SHA-256, hex pairs separated by colons
    subject: str
    issuer: str
    not_after: str
    application_uri: str


def describe(der: bytes) -> CertificateInfo:
    cert = x509.load_der_x509_certificate(der)
    digest = hashlib.sha256(der).hexdigest().upper()
    uri = ""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        uri = uris[0] if uris else ""
    except x509.ExtensionNotFound:
        pass
    return CertificateInfo(
        ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(),
        cert.not_valid_after_utc.strftime("%Y-%m-%d"),
        uri,
    )


class TrustStore:
    """A folder of trusted server certificates (DER files named by SHA-256 thumbprint)."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def path_of(self, der: bytes) -> Path:
        return self.folder / f"{hashlib.sha256(der).hexdigest()}.der"

    def is_trusted(self, der: bytes) -> bool:
        return self.path_of(der).exists()

    def trust(self, der: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_of(der)
        path.write_bytes(der)
        return path


async def fetch_server_certificate(endpoint: str, timeout_s: float = 5.0) -> bytes | None:
    """The certificate the server presents on its Basic256Sha256 endpoints (None when it has none)."""
    from asyncua import Client

    client = Client(endpoint, timeout=timeout_s)
    endpoints = await client.connect_and_get_server_endpoints()
    for ep in endpoints:
        if ep.SecurityPolicyUri.endswith("Basic256Sha256") and ep.ServerCertificate:
            return bytes(ep.ServerCertificate)
    return None
