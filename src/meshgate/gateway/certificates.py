"""Checking that a Secret holds a usable TLS certificate and key."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..resources.core import Secret

TLS_SECRET_TYPE = "kubernetes.io/tls"


def certificate_problem(secret: Secret) -> str | None:
    """Why a Secret cannot serve as a listener certificate, or None when it can."""
    if secret.type != TLS_SECRET_TYPE:
        return f"Secret type is {secret.type!r}, not {TLS_SECRET_TYPE!r}"
    crt = secret.data.get("tls.crt")
    key = secret.data.get("tls.key")
    if not crt or not key:
        return "Secret must have tls.crt and tls.key"
    try:
        x509.load_pem_x509_certificates(crt)
    except ValueError:
        return "tls.crt is not a PEM certificate"
    try:
        load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        return "tls.key is not an unencrypted PEM private key"
    except UnsupportedAlgorithm as exc:  # e.g. an EC key on a curve OpenSSL cannot use
        return f"tls.key cannot be used: {exc}"
    return None
