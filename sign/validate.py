"""Validating a sealed PDF into data: a bottom line and each check with its reason.

Uses pyHanko's AdES validator (ETSI EN 319 102-1), which judges revocation as of the time the
timestamp proves and uses the OCSP/CRL data embedded at B-LT — so a B-LT certificate validates
offline. ``validate_pdf_signature`` alone would judge everything as of now and ignore the
embedded data (FIELD-NOTES).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from registry.errors import SkillcertError

from .identity import cert_fingerprint

__all__ = ["BottomLine", "Check", "Outcome", "SealStatus", "SignatureReport", "Trust", "UnreadablePdf", "validate_pdf"]


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


class BottomLine(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class UnreadablePdf(SkillcertError):
    exit_code = 13


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    outcome: Outcome
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "outcome": self.outcome.value, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class SignatureReport:
    field: str
    signer: str
    fingerprint: str
    signing_time: str | None
    timestamp_time: str | None
    ades: str
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class SealStatus:
    bottom_line: BottomLine
    checks: tuple[Check, ...]
    signatures: tuple[SignatureReport, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "bottom_line": self.bottom_line.value,
            "checks": [c.as_dict() for c in self.checks],
            "signatures": [
                {
                    "field": s.field,
                    "signer": s.signer,
                    "fingerprint": s.fingerprint,
                    "signing_time": s.signing_time,
                    "timestamp_time": s.timestamp_time,
                    "ades": s.ades,
                    "checks": [c.as_dict() for c in s.checks],
                }
                for s in self.signatures
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trust:
    roots: tuple[Path, ...]
    filed_fingerprints: frozenset[str] | None = None  # the institution's filed seal keys, if known
    online: bool = False  # fetch OCSP/CRL for signatures that carry none (B-B, B-T)


def _context(trust: Trust, dss: Any, moment: datetime | None) -> Any:
    """A validation context: the trust roots, plus the document's own DSS data judged at ``moment``."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko_certvalidator import ValidationContext

    roots = [load_cert_from_pemder(str(p)) for p in trust.roots]
    if dss is not None:
        return dss.as_validation_context(
            {
                "trust_roots": roots,
                "allow_fetching": False,
                "moment": moment,
                "best_signature_time": moment,
                "retroactive_revinfo": True,
                "revocation_mode": "hard-fail",
            }
        )
    if trust.online:
        return ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail")
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def _timestamp_time(sig: Any) -> datetime | None:
    """genTime of the signature's RFC 3161 timestamp, if it has one."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for tst in extract_tst_data_iter(sig.signer_info, signed=False):
        return tst["encap_content_info"]["content"].parsed["gen_time"].native  # type: ignore[no-any-return]
    return None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def validate_pdf(pdf: bytes, trust: Trust) -> SealStatus:
    """Validate every signature of ``pdf``; raise :class:`UnreadablePdf` if it is not a PDF."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = list(reader.embedded_signatures)
        has_dss = "/DSS" in reader.root
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise UnreadablePdf("无法读取该 PDF", f"the file cannot be read as a PDF: {e}") from e
    if not sigs:
        check = Check(
            "signed", Outcome.FAIL, "文件没有电子印章（数字签名）", "the file carries no seal (no digital signature)"
        )
        return SealStatus(BottomLine.INVALID, (check,))
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(reader) if has_dss else None
    reports: list[SignatureReport] = []
    seals = [s for s in sigs if s.sig_object_type != "/DocTimeStamp"]  # document timestamps are B-LTA evidence
    if not seals:
        check = Check(
            "signed", Outcome.FAIL, "文件没有电子印章（只有时间戳）", "the file carries no seal, only timestamps"
        )
        return SealStatus(BottomLine.INVALID, (check,))
    for sig in seals:
        ts_time = _timestamp_time(sig)
        # judge as of the time the timestamp proves, with the revocation data embedded at signing
        moment = ts_time if dss is not None else None
        vc = _context(trust, dss, moment)
        try:
            status = validate_pdf_signature(
                sig, signer_validation_context=vc, ts_validation_context=_context(trust, dss, None)
            )
        except Exception as e:  # a malformed signature dictionary or CMS blob
            raise UnreadablePdf("签名数据无法解析", f"the signature data cannot be parsed: {e}") from e
        reports.append(_report(sig, status, trust, embedded_revinfo=dss is not None))
    all_checks = [c for r in reports for c in r.checks]
    if any(c.name == "revocation" and c.outcome is Outcome.FAIL for c in all_checks):
        bottom = BottomLine.REVOKED
    elif any(c.outcome is Outcome.FAIL for c in all_checks):
        bottom = BottomLine.INVALID
    elif any(c.outcome is Outcome.UNKNOWN for c in all_checks):
        bottom = BottomLine.UNKNOWN
    else:
        bottom = BottomLine.VALID
    summary = Check("signed", Outcome.PASS, f"共 {len(reports)} 个电子印章", f"{len(reports)} seal signature(s)")
    return SealStatus(bottom, (summary, *all_checks), tuple(reports))


def _when(moment: datetime) -> str:
    """``2026-11-20 09:30:12 UTC``: a time people read."""
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _verdict(name: str, ok: bool, zh: tuple[str, str], en: tuple[str, str]) -> Check:
    """A pass/fail check: ``zh``/``en`` are (reason when it passes, reason when it fails)."""
    return Check(name, Outcome.PASS if ok else Outcome.FAIL, zh[0] if ok else zh[1], en[0] if ok else en[1])


def _report(sig: Any, st: Any, trust: Trust, *, embedded_revinfo: bool) -> SignatureReport:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    checks: list[Check] = []
    intact = bool(st.intact and st.valid)
    checks.append(
        _verdict(
            "integrity",
            intact,
            ("签名后内容未被改动，签名数学上有效", "签名无效或签名覆盖的内容被改动"),
            (
                "the signed content is unchanged and the signature is cryptographically valid",
                "the signature is broken or the signed content was changed",
            ),
        )
    )
    summary = str(getattr(st, "trust_problem_indic", "") or "")
    revoked = bool(getattr(st, "revoked", False)) or "REVOKED" in summary
    expired = "OUT_OF_BOUNDS" in summary or "EXPIRED" in summary
    trusted = bool(st.trusted)
    if not intact and not trusted and not revoked and not expired:
        # pyHanko judges the chain only for an intact signature: say "not checked", not "untrusted"
        chain = Check(
            "chain", Outcome.NOT_APPLICABLE, "签名已损坏，未检查证书链", "not checked: the signature is broken"
        )
    elif revoked:
        chain = Check(
            "chain", Outcome.PASS, "签名证书链可追溯到信任的根证书", "the signer's certificate chains to a trusted root"
        )
    elif expired:
        chain = Check(
            "chain",
            Outcome.FAIL,
            "签名时证书已过期或尚未生效",
            "the signer's certificate was expired (or not yet valid) at signing time",
        )
    elif trusted:
        chain = Check(
            "chain", Outcome.PASS, "签名证书链可追溯到信任的根证书", "the signer's certificate chains to a trusted root"
        )
    else:
        chain = Check(
            "chain",
            Outcome.FAIL,
            "签名证书不能追溯到信任的根证书",
            "the signer's certificate does not chain to a trusted root",
        )
    checks.append(chain)
    if revoked:
        checks.append(
            Check("revocation", Outcome.FAIL, "签名时证书已被吊销", "the certificate was revoked at signing time")
        )
    elif not (embedded_revinfo or trust.online):
        checks.append(
            Check(
                "revocation",
                Outcome.UNKNOWN,
                "文件中没有吊销信息，无法离线确认证书未被吊销",
                "the file carries no revocation data, so it cannot be checked offline",
            )
        )
    elif trusted:
        checks.append(
            Check("revocation", Outcome.PASS, "签名时证书未被吊销", "the certificate was not revoked at signing time")
        )
    elif not intact:
        checks.append(
            Check(
                "revocation", Outcome.NOT_APPLICABLE, "签名已损坏，未检查吊销", "not checked: the signature is broken"
            )
        )
    else:
        checks.append(
            Check("revocation", Outcome.NOT_APPLICABLE, "证书链无效，未检查吊销", "not checked: the chain is not valid")
        )
    ts = getattr(st, "timestamp_validity", None)
    if ts is None:
        checks.append(Check("timestamp", Outcome.NOT_APPLICABLE, "无时间戳（B-B）", "no timestamp (B-B)"))
    else:
        ok = bool(ts.intact and ts.valid and ts.trusted)
        checks.append(
            Check(
                "timestamp",
                Outcome.PASS if ok else Outcome.FAIL,
                f"时间戳有效：{_when(ts.timestamp)}" if ok else "时间戳无效",
                f"timestamp valid: {_when(ts.timestamp)}" if ok else "the timestamp is not valid",
            )
        )
    coverage = getattr(st, "coverage", None)
    mod_name = getattr(getattr(st, "modification_level", None), "name", "")
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        checks.append(
            Check("modifications", Outcome.PASS, "签名后文件未被追加任何内容", "nothing was added after signing")
        )
    elif coverage == SignatureCoverageLevel.ENTIRE_REVISION and mod_name in ("NONE", "LTA_UPDATES", "FORM_FILLING"):
        checks.append(
            Check(
                "modifications",
                Outcome.PASS,
                "签名后只追加了验证数据、时间戳或其他印章",
                "only validation data, timestamps or further seals were added after signing",
            )
        )
    else:
        checks.append(
            Check(
                "modifications",
                Outcome.FAIL,
                "签名后文件被追加了不允许的修改（如页面或文字叠加）",
                "the file was changed after signing in a way that is not allowed (e.g. pages or text added)",
            )
        )
    cert = st.signing_cert
    fp = cert_fingerprint(cert)
    if trust.filed_fingerprints is None:
        checks.append(
            Check("filed_key", Outcome.NOT_APPLICABLE, "未提供机构备案的印章证书", "no filed seal keys to compare with")
        )
    else:
        checks.append(
            _verdict(
                "filed_key",
                fp in trust.filed_fingerprints,
                ("签名密钥是该机构备案的印章密钥", "签名密钥不是该机构备案的印章密钥"),
                (
                    "the key is a filed seal key of the institution",
                    "the key is not a filed seal key of the institution",
                ),
            )
        )
    return SignatureReport(
        field=sig.field_name,
        signer=str(cert.subject.native.get("common_name") or cert.subject.human_friendly),
        fingerprint=fp,
        signing_time=_iso(getattr(st, "signer_reported_dt", None)),
        timestamp_time=_iso(ts.timestamp if ts else None),
        ades="valid" if getattr(st, "bottom_line", False) else "not valid",
        checks=tuple(checks),
    )
