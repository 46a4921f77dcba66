"""The institution's QR and credential key: ECDSA P-256, filed like the seal keys.

The same PKCS#12 file or PKCS#11 token as a seal key (``skillcert identity add --seal qr``), but
the key is an ECDSA P-256 key and it signs the QR code's COSE payload and the holder's
credential (ES256), not a PDF. It is loaded through pyHanko's signers, so a key on a token signs
exactly as a seal key does (SoftHSM2's raw ECDSA included); the DER signature pyHanko returns is
turned into the ``r || s`` form that COSE (RFC 9053 §2.1) and JWS (RFC 7518 §3.4) both use.

Its ``kid`` is the first 8 bytes of the SHA-256 of the certificate (the filed fingerprint),
base64url: short enough for a QR code, and anyone holding the filing can check which key it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from registry.qr_keys import QR_SEAL_KIND, EcPublicKey, b64url, kid_of, point_of, public_key_of_pem

from .errors import IdentityError
from .identity import SigningIdentity, load_signer

__all__ = [
    "QR_SEAL_KIND",
    "EcPublicKey",
    "EcSigner",
    "b64url",
    "filed_key",
    "kid_of",
    "load_ec_signer",
    "public_key_of_pem",
]


class EcSigner:
    """Signs with a filed P-256 key (one per worker process; never pickle it)."""

    def __init__(self, signer: Any) -> None:
        from cryptography import x509

        self._signer = signer
        self._loops = threading.local()  # one event loop per thread, kept: asyncio.run per signature cost ≈ 1 ms
        der = signer.signing_cert.dump()
        self.fingerprint = hashlib.sha256(der).hexdigest()
        self.kid = kid_of(self.fingerprint)
        self.x, self.y = point_of(x509.load_der_x509_certificate(der).public_key())

    def public_key(self, institution_code: str = "") -> EcPublicKey:
        return EcPublicKey(
            kid=self.kid, x=self.x, y=self.y, fingerprint=self.fingerprint, institution_code=institution_code
        )

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            weakref.finalize(self, loop.close)
            self._loops.loop = loop
        return loop

    def sign(self, data: bytes) -> bytes:
        """ES256 over ``data``: SHA-256, ECDSA P-256, the 64-byte ``r || s``."""
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        try:
            der = self._loop().run_until_complete(self._signer.async_sign_raw(data, "sha256"))
            r, s = decode_dss_signature(bytes(der))
        except Exception as e:  # a token that went away, a key that is not ECDSA
            raise IdentityError(
                f"二维码密钥签名失败：{type(e).__name__} {e}", f"the QR key could not sign: {type(e).__name__} {e}"
            ) from e
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def load_ec_signer(identity: SigningIdentity, *, secret: bytes | None = None) -> EcSigner:
    """Load a QR key: a P-256 key in a PKCS#12 file or on a PKCS#11 token (refused otherwise)."""
    return EcSigner(load_signer(identity, secret=secret))


def filed_key(keys: Iterable[EcPublicKey], kid: str, institution_code: str) -> tuple[EcPublicKey | None, str, str]:
    """The filed key a signature names (by ``kid``) and may use for ``institution_code``'s data, or
    ``None`` with the reason in both languages — the QR payload's check and the credential's."""
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        return None, f"签名密钥 {kid} 不在已备案的密钥中", f"the signing key {kid} is not among the filed keys"
    owner = key.institution_code or institution_code
    if owner != institution_code:
        return (
            None,
            f"签名密钥属于机构 {owner}，不是 {institution_code}",
            f"the signing key belongs to institution {owner}, not {institution_code}",
        )
    return key, "", ""
