"""A private CA made by a test, and the server certificates it signs (the git server's https, the
external database's TLS). Short-lived EC keys: generated in milliseconds, valid two days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip


def certificate(subject: str, key, issuer_name: str, issuer_key, sans: list[str] | None, ca: bool) -> bytes:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))  # fmt: skip
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@dataclass
class PrivateCa:
    name: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @cached_property
    def pem(self) -> bytes:
        """The CA's self-signed certificate (made once: each signing gives another serial)."""
        return certificate(self.name, self.key, self.name, self.key, None, True)

    def issue(self, host: str, sans: list[str]) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for `host`, valid for the DNS names `sans`."""
        key = ec.generate_private_key(ec.SECP256R1())
        return certificate(host, key, self.name, self.key, sans, False), pem_key(key)
