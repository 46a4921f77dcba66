"""The holder's portable credential: an Open Badges 3.0 / W3C VC 2.0 credential as a JWT.

Secured as VC-JOSE-COSE describes (the credential is the JWT's claims set; header
``typ: vc+jwt``, ``cty: vc``), ES256 with the institution's filed QR key, ``kid`` the key's id
in ``<site>/api/v1/institutions/<code>/jwks.json``. The certificate's data is there in both
languages (language value objects) and, for machines, under ``credentialSubject.certificate``.
``credentialStatus`` is a Bitstring Status List entry: its index is the certificate's serial in
the register (already printed on the paper as its No.), the list is published with each
snapshot at ``<site>/api/v1/status/revocation``, so a verifier fetches the whole list and
reveals nothing of which certificate it checks.

Signing is by hand (header.payload.signature, base64url) because a key on a token cannot be
handed to a JOSE library; verifying is joserfc's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from registry.errors import SkillcertError
from registry.jws import compact_jws

from .qr_key import EcPublicKey, EcSigner, filed_key
from .qr_payload import QrClaims

__all__ = [
    "CREDENTIAL_CONTEXTS",
    "STATUS_PURPOSES",
    "CredentialError",
    "CredentialLabels",
    "CredentialVerdict",
    "make_credential",
    "status_list_url",
    "verify_credential",
]

CREDENTIAL_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
_MAX = 64 * 1024


class CredentialError(SkillcertError):
    """The file is not a credential this site can read."""


STATUS_PURPOSES = ("revocation", "suspension")


def status_list_url(site: str, purpose: str = "revocation") -> str:
    return f"{site.rstrip('/')}/api/v1/status/{purpose}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialLabels:
    """The words the credential shows in both languages (the register's tables give them)."""

    institution_zh: str
    institution_en: str
    level_zh: str
    level_en: str
    id_type_zh: str
    id_type_en: str


def _lang(zh: str, en: str) -> list[dict[str, str]]:
    return [{"@value": zh, "@language": "zh-CN"}, {"@value": en or zh, "@language": "en"}]


def make_credential(
    claims: QrClaims,
    labels: CredentialLabels,
    signer: EcSigner,
    *,
    site: str,
    status_index: int,
    now: datetime | None = None,
) -> str:
    """The signed credential (compact JWS) for one certificate version."""
    site = site.rstrip("/")
    issuer = f"{site}/institutions/{claims.institution_code}"
    title_zh = f"职业技能等级证书：{claims.occupation}（{claims.job}）{labels.level_zh}"
    title_en = f"Occupational Skill Level Certificate: {claims.occupation} ({claims.job}), {labels.level_en}"
    vc: dict[str, Any] = {
        "@context": CREDENTIAL_CONTEXTS,
        "id": f"urn:skillcert:certificate:{claims.number}:{claims.kind}:{claims.version}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": _lang("职业技能等级证书", "Occupational Skill Level Certificate"),
        "issuer": {"id": issuer, "type": ["Profile"], "name": _lang(labels.institution_zh, labels.institution_en)},
        "validFrom": datetime.combine(claims.issue_date, datetime.min.time(), tzinfo=UTC)
        .isoformat()
        .replace("+00:00", "Z"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": claims.name,
            "achievement": {
                "id": f"urn:skillcert:achievement:{claims.institution_code}:{claims.occupation}:{claims.job}:{claims.level}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": _lang(title_zh, title_en),
                "description": _lang(
                    f"{labels.institution_zh}依据国家职业标准评价认定",
                    f"Assessed by {labels.institution_en or labels.institution_zh} "
                    "against the national occupational standard",
                ),
                "criteria": {
                    "narrative": _lang("通过职业技能等级认定考核", "Passed the occupational skill level assessment")
                },
                "creator": {"id": issuer, "type": ["Profile"]},
            },
            "certificate": {
                "number": claims.number,
                "kind": claims.kind,
                "version": claims.version,
                "idType": claims.id_type,
                "idTypeName": _lang(labels.id_type_zh, labels.id_type_en),
                "idNumberMasked": claims.id_masked,
                "occupation": claims.occupation,
                "job": claims.job,
                "level": claims.level,
                "levelName": _lang(labels.level_zh, labels.level_en),
                "issueDate": claims.issue_date.isoformat(),
                "institutionCode": claims.institution_code,
                **({"proofNumber": claims.proof_number} if claims.proof_number else {}),
            },
        },
        "credentialStatus": [
            {
                "id": f"{status_list_url(site, purpose)}#{status_index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(status_index),
                "statusListCredential": status_list_url(site, purpose),
            }
            for purpose in STATUS_PURPOSES
        ],
    }
    issued = int((now or datetime.now(UTC)).timestamp())
    vc["iss"], vc["jti"], vc["iat"] = issuer, vc["id"], issued
    header = {"alg": "ES256", "typ": "vc+jwt", "cty": "vc", "kid": signer.kid}
    return compact_jws(header, vc, signer.sign)


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialVerdict:
    claims: QrClaims
    kid: str
    authentic: bool
    status_index: int | None
    status_lists: dict[str, str]  # purpose -> the status list credential's URL
    reason_zh: str
    reason_en: str


def _claims_of(vc: Any) -> tuple[QrClaims, int | None, dict[str, str]]:
    try:
        subject = vc["credentialSubject"]
        c = subject["certificate"]
        claims = QrClaims(
            number=str(c["number"]),
            name=str(subject["name"]),
            id_masked=str(c["idNumberMasked"]),
            id_type=str(c["idType"]),
            occupation=str(c["occupation"]),
            job=str(c["job"]),
            level=int(c["level"]),
            issue_date=date.fromisoformat(str(c["issueDate"])),
            institution_code=str(c["institutionCode"]),
            kind=str(c["kind"]),
            version=int(c["version"]),
            proof_number=c.get("proofNumber"),
        )
        entries = vc.get("credentialStatus") or []
        entries = [entries] if isinstance(entries, dict) else list(entries)
        indexes = {int(e["statusListIndex"]) for e in entries}
        if len(indexes) > 1:
            raise ValueError("status entries with different indexes")
        lists = {str(e["statusPurpose"]): str(e["statusListCredential"]) for e in entries}
        return claims, (indexes.pop() if indexes else None), lists
    except (KeyError, TypeError, ValueError) as e:
        raise CredentialError("电子凭证缺少证书数据", f"the credential lacks the certificate's data ({e})") from e


def verify_credential(text: str | bytes, keys: Iterable[EcPublicKey]) -> CredentialVerdict:
    """Check a credential JWT against the filed keys (no network): signature, issuer, data."""
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    raw = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    raw = raw.strip()
    if len(raw) > _MAX or raw.count(".") != 2:
        raise CredentialError("不是电子凭证（JWT）", "not a credential (a JWT)")
    try:
        unverified = jws.extract_compact(raw.encode("ascii"))
        header, vc = unverified.protected, json.loads(unverified.payload)
    except (JoseError, ValueError, UnicodeError) as e:
        raise CredentialError("电子凭证无法读取", f"the credential cannot be read ({e})") from e
    claims, index, status_lists = _claims_of(vc)
    kid = str(header.get("kid", ""))

    def verdict(ok: bool, zh: str, en: str) -> CredentialVerdict:
        return CredentialVerdict(
            claims=claims,
            kid=kid,
            authentic=ok,
            status_index=index,
            status_lists=status_lists,
            reason_zh=zh,
            reason_en=en,
        )

    key, why_zh, why_en = filed_key(keys, kid, claims.institution_code)
    if key is None:
        return verdict(False, why_zh, why_en)
    if header.get("alg") != "ES256" or header.get("typ") != "vc+jwt":
        return verdict(False, "电子凭证的签名算法或类型不被接受", "the credential's algorithm or type is not accepted")
    try:
        jwk: dict[str, str | list[str]] = dict(key.jwk())
        jws.deserialize_compact(raw, KeySet.import_key_set({"keys": [jwk]}), algorithms=["ES256"])
    except (JoseError, ValueError) as e:
        return verdict(
            False,
            "签名无效：电子凭证被改动或不是该机构签发",
            f"the signature is invalid: altered or not the institution's ({e})",
        )
    issuer = vc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not str(issuer_id or "").endswith(f"/institutions/{claims.institution_code}"):
        return verdict(
            False, "电子凭证的签发者与证书机构不符", "the credential's issuer is not the certificate's institution"
        )
    return verdict(
        True,
        f"签名有效（机构 {claims.institution_code} 的密钥 {kid}）",
        f"the signature is valid (key {kid} of institution {claims.institution_code})",
    )
