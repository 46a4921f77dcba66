"""The public view of an institution's QR and credential key (ECDSA P-256), as filed.

A verifier — the site, ``skillcert verify-qr``, a snapshot's key list — knows a QR key by its
``kid``: the first 8 bytes of the SHA-256 of its certificate (the filed fingerprint), base64url,
short enough for a QR code; anyone holding the filing can check which key it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .errors import SkillcertError
from .jws import b64url

__all__ = [
    "QR_SEAL_KIND",
    "EcPublicKey",
    "NotP256",
    "b64url",
    "key_from_dict",
    "key_to_dict",
    "kid_of",
    "point_of",
    "public_key_of_pem",
]

QR_SEAL_KIND = "qr"  # the identities' seal_kind of a QR/credential key


class NotP256(SkillcertError):
    """A key filed for QR codes and credentials that is not ECDSA P-256."""


def kid_of(fingerprint_hex: str) -> str:
    """The key id from the filed fingerprint (SHA-256 of the certificate, hex)."""
    return b64url(bytes.fromhex(fingerprint_hex)[:8])


@dataclass(frozen=True, slots=True, kw_only=True)
class EcPublicKey:
    """A filed QR key as a verifier needs it: its id, the public point and the fingerprint."""

    kid: str
    x: str  # base64url, 32 bytes
    y: str
    fingerprint: str  # SHA-256 of the certificate, hex (the filing's)
    institution_code: str = ""
    not_after: str = ""
    retired_at: str | None = None

    def jwk(self) -> dict[str, str]:
        return {"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "alg": "ES256", "use": "sig"}


def point_of(public_key: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise NotP256(
            "二维码与电子凭证密钥必须是 ECDSA P-256 密钥", "the QR and credential key must be an ECDSA P-256 key"
        )
    n = public_key.public_numbers()
    return b64url(n.x.to_bytes(32, "big")), b64url(n.y.to_bytes(32, "big"))


def public_key_of_pem(
    cert_pem: str, *, institution_code: str = "", not_after: str = "", retired_at: str | None = None
) -> EcPublicKey:
    """The verifier's view of a filed QR key, from its certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    fp = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    x, y = point_of(cert.public_key())
    return EcPublicKey(
        kid=kid_of(fp),
        x=x,
        y=y,
        fingerprint=fp,
        institution_code=institution_code,
        not_after=not_after,
        retired_at=retired_at,
    )


def key_from_dict(d: dict[str, Any]) -> EcPublicKey:
    """A key as a snapshot or a key list holds it (the fields of :class:`EcPublicKey`)."""
    return EcPublicKey(
        kid=str(d["kid"]),
        x=str(d["x"]),
        y=str(d["y"]),
        fingerprint=str(d["fingerprint"]),
        institution_code=str(d.get("institution_code", "")),
        not_after=str(d.get("not_after", "")),
        retired_at=d.get("retired_at"),
    )


def key_to_dict(k: EcPublicKey) -> dict[str, Any]:
    return {
        "kid": k.kid,
        "x": k.x,
        "y": k.y,
        "fingerprint": k.fingerprint,
        "institution_code": k.institution_code,
        "not_after": k.not_after,
        "retired_at": k.retired_at,
    }
