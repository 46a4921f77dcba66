"""The signed QR payload: a COSE_Sign1 (RFC 9052) over a CBOR map of what the paper shows.

The QR code stays a URL that opens the site on any phone; its fragment (never sent to a server)
is this payload, base64url-encoded: ``<site>/c/<number>?t=<token>#<payload>``. Anyone with the
institution's filed P-256 key checks it without a network (``skillcert verify-qr``, or the
site's page with WebCrypto once loaded).

The map uses small integer keys so the code stays readable at the printed size::

    0: format (1)            1: certificate number     2: holder name as printed
    3: ID number, masked      4: ID type code           5: occupation      6: job
    7: level (1-5)            8: issue date (ISO)       9: institution code
    10: document kind         11: version               12: proof number (proofs only)

The protected header holds only the algorithm (ES256, -7), the unprotected one the key id, as
the EU Digital COVID Certificate does. Signing builds the ``Sig_structure`` with cbor2 (a
signer on a token cannot hand its key to a COSE library); verifying is the ``cwt`` library's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.errors import SkillcertError

from .qr_key import EcPublicKey, EcSigner, b64url, filed_key

__all__ = ["FORMAT", "QrClaims", "QrPayloadError", "QrVerdict", "read_payload", "sign_payload", "verify_payload"]

FORMAT = 1
_ALG_ES256 = -7
_MAX_FRAGMENT = 2048  # far more than any printed code holds


class QrPayloadError(SkillcertError):
    """The QR payload cannot be read (not base64url, not COSE_Sign1, not our map)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QrClaims:
    number: str
    name: str  # as printed
    id_masked: str
    id_type: str
    occupation: str
    job: str
    level: int
    issue_date: date
    institution_code: str
    kind: str  # "certificate" · "replacement" · "proof"
    version: int
    proof_number: str | None = None

    def cbor_map(self) -> dict[int, Any]:
        m: dict[int, Any] = {
            0: FORMAT,
            1: self.number,
            2: self.name,
            3: self.id_masked,
            4: self.id_type,
            5: self.occupation,
            6: self.job,
            7: self.level,
            8: self.issue_date.isoformat(),
            9: self.institution_code,
            10: self.kind,
            11: self.version,
        }
        if self.proof_number:
            m[12] = self.proof_number
        return m

    @classmethod
    def from_map(cls, m: Any) -> QrClaims:
        def text(k: int) -> str:
            v = m.get(k)
            if not isinstance(v, str) or len(v) > 200:
                raise QrPayloadError(f"二维码数据缺少字段 {k}", f"the QR payload lacks field {k}")
            return v

        def integer(k: int) -> int:
            v = m.get(k)
            if not isinstance(v, int) or isinstance(v, bool):
                raise QrPayloadError(f"二维码数据缺少字段 {k}", f"the QR payload lacks field {k}")
            return v

        if not isinstance(m, dict) or m.get(0) != FORMAT:
            raise QrPayloadError("二维码数据的格式不被认识", "the QR payload is not in a format this version reads")
        try:
            issued = date.fromisoformat(text(8))
        except ValueError as e:
            raise QrPayloadError("二维码数据的发证日期无效", "the QR payload's issue date is invalid") from e
        proof = m.get(12)
        return cls(
            number=text(1),
            name=text(2),
            id_masked=text(3),
            id_type=text(4),
            occupation=text(5),
            job=text(6),
            level=integer(7),
            issue_date=issued,
            institution_code=text(9),
            kind=text(10),
            version=integer(11),
            proof_number=proof if isinstance(proof, str) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class QrVerdict:
    """What an offline check of a QR payload found."""

    claims: QrClaims
    kid: str
    authentic: bool  # the signature verifies under the filed key named ``kid``
    key: EcPublicKey | None  # that key, when known
    reason_zh: str
    reason_en: str


def sign_payload(claims: QrClaims, signer: EcSigner) -> str:
    """The base64url COSE_Sign1 for the QR fragment."""
    import cbor2

    protected = cbor2.dumps({1: _ALG_ES256})
    payload = cbor2.dumps(claims.cbor_map())
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    message = cbor2.CBORTag(18, [protected, {4: signer.kid.encode("ascii")}, payload, signer.sign(tbs)])
    return b64url(cbor2.dumps(message))


def _decode(fragment: str) -> tuple[bytes, str, QrClaims]:
    import cbor2

    text = fragment.strip().lstrip("#")
    if not text or len(text) > _MAX_FRAGMENT:
        raise QrPayloadError("二维码中没有签名数据", "the QR code carries no signed payload")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        obj = cbor2.loads(raw)
    except (binascii.Error, ValueError, cbor2.CBORDecodeError) as e:
        raise QrPayloadError("二维码签名数据无法读取", "the QR code's signed payload cannot be read") from e
    value = obj.value if isinstance(obj, cbor2.CBORTag) and obj.tag == 18 else obj
    if not (isinstance(value, list) and len(value) == 4 and isinstance(value[2], bytes)):
        raise QrPayloadError("二维码签名数据不是 COSE_Sign1", "the QR code's signed payload is not a COSE_Sign1")
    kid = value[1].get(4) if isinstance(value[1], dict) else None
    if not isinstance(kid, bytes):
        raise QrPayloadError("二维码签名数据没有密钥标识", "the QR code's signed payload names no key")
    try:
        claims = QrClaims.from_map(cbor2.loads(value[2]))
    except (ValueError, cbor2.CBORDecodeError) as e:
        raise QrPayloadError("二维码数据无法读取", "the QR code's data cannot be read") from e
    return raw, kid.decode("ascii", "replace"), claims


def read_payload(fragment: str) -> tuple[str, QrClaims]:
    """The key id and the claims, unverified (to say what the code claims before checking it)."""
    _, kid, claims = _decode(fragment)
    return kid, claims


def verify_payload(fragment: str, keys: Iterable[EcPublicKey]) -> QrVerdict:
    """Check the payload's signature against the filed keys (no network)."""
    from cwt import COSE, COSEKey
    from cwt.exceptions import CWTError

    raw, kid, claims = _decode(fragment)
    key, why_zh, why_en = filed_key(keys, kid, claims.institution_code)

    def verdict(authentic: bool, zh: str, en: str) -> QrVerdict:
        return QrVerdict(claims=claims, kid=kid, authentic=authentic, key=key, reason_zh=zh, reason_en=en)

    if key is None:
        return verdict(False, why_zh, why_en)
    try:
        COSE.new().decode(raw, keys=[COSEKey.from_jwk(key.jwk())])
    except (CWTError, ValueError) as e:
        return verdict(
            False,
            "签名无效：数据被改动或不是该机构签发",
            f"the signature is invalid: altered or not the institution's ({e})",
        )
    return verdict(
        True,
        f"签名有效（机构 {claims.institution_code} 的密钥 {kid}）",
        f"the signature is valid (key {kid} of institution {claims.institution_code})",
    )
