"""Checking an uploaded credential (``<number>.vc.jwt``): its signature, its status, the register.

The holder's credential (:mod:`sign.credential`) is a JWT signed with the institution's filed
P-256 key. The check is the PDF check's, as far as a credential goes, and its result is the same
:class:`~verify.report.CheckReport` (``kind="credential"``):

* ``signature`` — the JWT verifies under a filed QR key of the issuing institution (the snapshot's
  directory), and its issuer is that institution;
* ``status_list`` — the snapshot's Bitstring Status Lists (``revocation``, ``suspension``), each a
  JWT the publisher signed (checked against the snapshot's publisher key), at the credential's
  ``statusListIndex``;
* ``registered`` / ``record_match`` — the live record, found by the number and the name the
  credential carries (a credential holds the ID number masked only, so the pair is number + name),
  matches what the credential says; a credential whose record cannot be found is never valid;
* ``institution`` / ``scope`` / ``status`` — as for a PDF.
"""

from __future__ import annotations

from registry.models import CertStatus
from search_index import PairKind, SnapshotRecord, SnapshotView, mask_name
from search_index.status_list import StatusListError, read_status_list, revoked
from sign import Check, Outcome
from sign.credential import CredentialError, CredentialVerdict, verify_credential

from .check import institution_checks
from .report import CheckReport, Verdict, replaced_by

__all__ = ["MAX_CREDENTIAL", "check_credential", "looks_like_credential"]

MAX_CREDENTIAL = 64 * 1024  # sign.credential's bound: a credential is a few KB
KIND = "credential"


def looks_like_credential(data: bytes) -> bool:
    """A compact JWS with a JSON header: ``eyJ…``, two dots, nothing but base64url, size-bounded."""
    text = data.strip()
    if not text.startswith(b"eyJ") or len(text) > MAX_CREDENTIAL or text.count(b".") != 2:
        return False
    allowed = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    return not text.translate(None, allowed)


def _c(name: str, outcome: Outcome, zh: str, en: str) -> Check:
    return Check(name, outcome, zh, en)


def _status_bit(snap: SnapshotView, purpose: str, index: int) -> bool:
    """Bit ``index`` of the snapshot's ``purpose`` list, after checking the publisher's signature."""
    return revoked(read_status_list(snap.status_list(purpose), snap.publisher_jwk(), purpose), index)


def _status_check(snap: SnapshotView, found: CredentialVerdict) -> tuple[Check, str | None]:
    """The ``status_list`` check, and ``revoked`` / ``suspended`` when a list says so."""
    if found.status_index is None:
        return _c("status_list", Outcome.FAIL, "电子凭证没有状态条目", "the credential has no status entry"), None
    try:
        if _status_bit(snap, "revocation", found.status_index):
            return _c("status_list", Outcome.FAIL, "撤销列表显示已撤销", "the revocation list says revoked"), "revoked"
        if _status_bit(snap, "suspension", found.status_index):
            return _c("status_list", Outcome.FAIL, "暂停列表显示已暂停", "the suspension list says suspended"), (
                "suspended"
            )
    except StatusListError as e:
        return _c("status_list", Outcome.UNKNOWN, e.zh, e.en), None
    return _c(
        "status_list", Outcome.PASS, "未被撤销或暂停（状态列表）", "neither revoked nor suspended (status lists)"
    ), None


def _record_match(found: CredentialVerdict, doc: SnapshotRecord) -> list[str]:
    c = found.claims
    pairs: dict[str, tuple[object, object]] = {
        "name": (mask_name(c.name), doc.name),
        "id_number": (c.id_masked, doc.id),
        "occupation": (c.occupation, doc.occupation),
        "job": (c.job, doc.job),
        "level": (c.level, doc.level),
        "issue_date": (c.issue_date.isoformat(), doc.issue_date),
        "institution_code": (c.institution_code, doc.institution_code),
    }
    return [key for key, (mine, theirs) in pairs.items() if mine != theirs]


def _unreadable(e: CredentialError) -> CheckReport:
    return CheckReport(Verdict.INVALID, (_c("signature", Outcome.FAIL, e.zh, e.en),), kind=KIND)


def check_credential(data: bytes, snap: SnapshotView) -> CheckReport:
    """The verdict on a credential, from one generation of the snapshot (no network)."""
    try:
        found = verify_credential(data.strip().decode("ascii"), snap.qr_keys())
    except (CredentialError, UnicodeError) as e:
        return _unreadable(e if isinstance(e, CredentialError) else CredentialError("电子凭证无法读取", str(e)))
    c = found.claims
    code = c.institution_code
    checks = [_c("signature", Outcome.PASS if found.authentic else Outcome.FAIL, found.reason_zh, found.reason_en)]
    if not found.authentic:
        return CheckReport(Verdict.INVALID, tuple(checks), institution_code=code, kind=KIND)
    status_check, listed = _status_check(snap, found)
    checks.append(status_check)
    doc = snap.lookup_by_pair(PairKind.NUMBER_NAME, c.number, c.name) if c.number.strip() and c.name.strip() else None
    if doc is None:
        checks.append(
            _c(
                "registered",
                Outcome.FAIL,
                "在查询库中找不到此证书，无法确认电子凭证",
                "no certificate with this number and name is registered: the credential cannot be confirmed",
            )
        )
        bottom = Verdict.REVOKED if listed == "revoked" else Verdict.UNKNOWN
        return CheckReport(bottom, tuple(checks), institution_code=code, kind=KIND)
    checks.append(_c("registered", Outcome.PASS, "证书已登记", "the certificate is registered"))
    older = c.version < (doc.version or 1)
    wrong = [] if older else _record_match(found, doc)
    checks.append(
        _c("record_match", Outcome.PASS, "电子凭证的数据与登记一致", "the credential's data matches the register")
        if not wrong
        else _c(
            "record_match",
            Outcome.FAIL,
            f"电子凭证的数据与登记不一致：{'、'.join(wrong)}",
            f"the credential's data differs from the register: {', '.join(wrong)}",
        )
    )
    checks.extend(institution_checks(snap, c))
    status, since = doc.status, doc.status_date or ""
    rep = replaced_by(doc, c.version) if older else None
    if status == CertStatus.REVOKED.value or listed == "revoked":
        checks.append(_c("status", Outcome.FAIL, f"证书已于 {since} 撤销", f"the certificate was revoked on {since}"))
    elif status == CertStatus.SUSPENDED.value or listed == "suspended":
        checks.append(
            _c("status", Outcome.FAIL, f"证书自 {since} 暂停查询", f"the certificate is suspended since {since}")
        )
    elif older:
        when = rep.on if rep else ""
        checks.append(
            _c(
                "status",
                Outcome.FAIL,
                f"此电子凭证已被新版本取代 {when}",
                f"a newer version replaced it {when}".strip(),
            )
        )
    else:
        checks.append(_c("status", Outcome.PASS, "证书有效", "the certificate is valid"))
    failed = {k.name for k in checks if k.outcome is Outcome.FAIL}
    if failed & {"record_match", "institution", "scope"}:
        bottom = Verdict.INVALID
    elif status == CertStatus.REVOKED.value or listed == "revoked":
        bottom = Verdict.REVOKED
    elif status == CertStatus.SUSPENDED.value or listed == "suspended":
        bottom = Verdict.SUSPENDED
    elif older:
        bottom = Verdict.REPLACED
    elif any(k.outcome is Outcome.UNKNOWN for k in checks):
        bottom = Verdict.UNKNOWN
    else:
        bottom = Verdict.VALID
    return CheckReport(bottom, tuple(checks), record=doc, institution_code=code, replaced=rep, kind=KIND)
