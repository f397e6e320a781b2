"""Self-signed certificates for the backend's own services (SNS message signing, SMTP TLS)."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID


def self_signed(key: Any, common_name: str, dns_names: tuple[str, ...] = ()) -> x509.Certificate:
    """A certificate for ``key``, valid from yesterday for a year, naming ``common_name``
    (and ``dns_names`` as subject alternative names)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(tz=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
    )
    if dns_names:
        alternatives = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(alternatives, critical=False)
    return builder.sign(key, hashes.SHA256())
