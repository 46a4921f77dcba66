"""Validating a sealed PDF into data: a bottom line and each check with its reason.

What it does: the file is read strictly and bounded (revisions, a clean end); each seal's CMS
signature is checked by pyHanko's ``validate_pdf_signature`` with a validation context built from
the document's own DSS and judged *as of the time its timestamp proves* (retroactive revocation
data, hard-fail) — so a B-LT certificate validates offline; without a DSS, revocation is fetched
only when ``Trust.online`` is set. Our own algorithm whitelist (:mod:`._algorithms`) is part of
``integrity``, and our own modification policy (:mod:`._changes`) replaces pyHanko's verdict on
later revisions. Each seal is also judged by pyHanko's ETSI EN 319 102-1 engine
(``ades_lta_validation``, as ``pyhanko sign adesverify`` does; :mod:`._ades`): its indication is
reported and binds the bottom line — not PASSED is never ``valid``.

Nothing a file contains makes this raise anything but :class:`UnreadablePdf`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from ._ades import AdesVerdict, ades_verdict
from ._algorithms import algorithm_problem
from ._changes import SealStanding, judge_changes, review_revisions, tail_problem
from ._context import dss_material, validation_context
from ._horizon import data_times, stable_until
from .identity import cert_fingerprint
from .status import BottomLine, Check, Outcome, SealStatus, SignatureReport, Trust, UnreadablePdf

__all__ = [
    "BottomLine",
    "Check",
    "Outcome",
    "SealStatus",
    "SignatureReport",
    "Trust",
    "UnreadablePdf",
    "validate_pdf",
    "validate_pdf_until",
]

MAX_REVISIONS = 64  # ours have 2-5; each renewal adds two
MAX_SIGNATURES = 16


def _timestamp_time(sig: Any) -> datetime | None:
    """genTime of the signature's RFC 3161 timestamp, if it has one."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for tst in extract_tst_data_iter(sig.signer_info, signed=False):
        return tst["encap_content_info"]["content"].parsed["gen_time"].native  # type: ignore[no-any-return]
    return None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _read(pdf: bytes) -> Any:
    """A strict pyHanko reader over ``pdf``; anything odd is :class:`UnreadablePdf`."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from . import _fasthex, _names, _sigmemo

    _fasthex.install()  # pyHanko's hex-string reader, the same answers at C speed (the seal's /Contents)
    _names.install()  # asn1crypto's name comparison, remembered per pair of encodings
    _sigmemo.install()  # signature verifications that succeeded, remembered per exact inputs
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        revisions = reader.xrefs.total_revisions
        if revisions > MAX_REVISIONS:
            raise UnreadablePdf("PDF 修订版本过多", f"the PDF has too many revisions ({revisions})")
        sigs = list(reader.embedded_signatures)
        if len(sigs) > MAX_SIGNATURES:
            raise UnreadablePdf("PDF 中签名过多", f"the PDF has too many signatures ({len(sigs)})")
    except UnreadablePdf:
        raise
    except Exception as e:  # PdfReadError, PdfStrictReadError, malformed objects of any kind
        raise UnreadablePdf("无法读取该 PDF", f"the file cannot be read as a PDF ({_brief(e)})") from e
    return reader, sigs


def _brief(e: BaseException) -> str:
    text = str(e).splitlines()[0][:160] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _dss(reader: Any) -> Any:
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    if "/DSS" not in reader.root:
        return None
    try:
        return DocumentSecurityStore.read_dss(reader)
    except Exception as e:  # wrong types in /DSS or /VRI, broken streams
        raise UnreadablePdf(
            "文件中的验证数据（DSS）格式错误", f"the file's validation data (DSS) is malformed ({_brief(e)})"
        ) from e


def validate_pdf(pdf: bytes, trust: Trust) -> SealStatus:
    """Validate every signature of ``pdf``; raise :class:`UnreadablePdf` if it is not a readable PDF."""
    return _validate_pdf(pdf, trust, times=False)[0]


def validate_pdf_until(pdf: bytes, trust: Trust) -> tuple[SealStatus, datetime | None]:
    """:func:`validate_pdf`, and until when its verdict holds for these bytes under this trust
    (:mod:`._horizon`: the next moment the clock can change it; ``None``: not known, do not keep it)."""
    started = datetime.now(UTC)
    status, times = _validate_pdf(pdf, trust, times=True)
    return status, None if times is None else stable_until(times, started, datetime.now(UTC))


def _validate_pdf(pdf: bytes, trust: Trust, *, times: bool) -> tuple[SealStatus, list[datetime] | None]:
    reader, sigs = _read(pdf)
    if not sigs:
        check = Check(
            "signed", Outcome.FAIL, "文件没有电子印章（数字签名）", "the file carries no seal (no digital signature)"
        )
        return SealStatus(BottomLine.INVALID, (check,)), None
    seals = [s for s in sigs if s.sig_object_type != "/DocTimeStamp"]  # document timestamps are B-LTA evidence
    if not seals:
        check = Check(
            "signed", Outcome.FAIL, "文件没有电子印章（只有时间戳）", "the file carries no seal, only timestamps"
        )
        return SealStatus(BottomLine.INVALID, (check,)), None
    dss = _dss(reader)
    try:
        status = _validate(pdf, reader, seals, dss, trust)
    except UnreadablePdf:
        raise
    except Exception as e:  # a malformed signature dictionary, CMS blob or object graph
        raise UnreadablePdf("签名数据无法解析", f"the signature data cannot be parsed ({_brief(e)})") from e
    if not times:
        return status, None
    try:  # never changes the verdict: what cannot be read here only means "do not keep it"
        return status, _evidence_times(sigs, dss, trust)
    except Exception:
        return status, None


def _validate(pdf: bytes, reader: Any, seals: list[Any], dss: Any, trust: Trust) -> SealStatus:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation import validate_pdf_signature

    found: list[tuple[Any, list[Check], dict[str, Any]]] = []
    roots = [load_cert_from_pemder(str(p)) for p in trust.roots]  # read once per check
    material = dss_material(dss)
    for sig in seals:
        ts_time = _timestamp_time(sig)
        # judge as of the time the timestamp proves, with the revocation data embedded at signing
        moment = ts_time if dss is not None else None
        status = validate_pdf_signature(
            sig,
            signer_validation_context=validation_context(trust, roots, material, moment),
            ts_validation_context=validation_context(trust, roots, material, None),
            skip_diff=True,  # our own policy judges later revisions (see _changes)
        )
        checks, meta = _signature_checks(sig, status, trust, embedded_revinfo=dss is not None)
        gap = _contents_problem(pdf, sig)
        if gap is not None:
            checks = [Check("integrity", Outcome.FAIL, *gap) if c.name == "integrity" else c for c in checks]
        verdict = ades_verdict(sig, roots, online=trust.online)
        checks.append(_ades_check(verdict))
        meta["ades"] = verdict.label
        found.append((sig, checks, meta))
    standings = {
        int(sig.signed_revision): SealStanding(
            revision=int(sig.signed_revision),
            field=str(sig.field_name),
            signer=str(meta["signer"]),
            good=_good(checks),
            docmdp=int(sig.docmdp_level.value) if sig.docmdp_level is not None else None,
            locks=sig.fieldmdp,
        )
        for sig, checks, meta in found
    }
    first = min(standings)
    revisions = review_revisions(reader, first, list(standings.values()))
    tail = tail_problem(pdf, reader)
    reports = []
    for sig, checks, meta in found:
        seal = standings[int(sig.signed_revision)]
        checks.append(_coverage_check(sig) or judge_changes(seal, revisions, standings, tail=tail))
        reports.append(SignatureReport(checks=tuple(checks), **meta))
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


def _evidence_times(sigs: list[Any], dss: Any, trust: Trust) -> list[datetime] | None:
    """Every time in what the validation read (each signature's CMS, the DSS and its VRI, the
    trust roots); ``None`` when one of them cannot be walked."""
    from pyhanko.keys import load_cert_from_pemder

    blobs: list[bytes] = [bytes(s.pkcs7_content) for s in sigs]
    blobs += [load_cert_from_pemder(str(p)).dump() for p in trust.roots]
    if dss is not None:
        refs = [*dss.certs.values(), *dss.ocsps, *dss.crls]
        for vri in (dss.vri_entries or {}).values():
            entry = vri.get_object()
            for key in ("/Cert", "/OCSP", "/CRL"):
                refs += list(entry.get(key, []))
            if "/TS" in entry:
                refs.append(entry.raw_get("/TS"))
        blobs += [ref.get_object().data for ref in refs]
    return data_times(blobs)


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _contents_problem(pdf: bytes, sig: Any) -> tuple[str, str] | None:
    """The unsigned gap must hold exactly ``<hex>``: the DER signature, then zero padding only.

    The gap is outside what the signature covers, so anything else there (odd hex, bytes after the
    CMS) is room an attacker can use and no signer of ours writes.
    """
    try:
        start, length = int(sig.byte_range[0]) + int(sig.byte_range[1]), None
        end = int(sig.byte_range[2])
        gap = pdf[start:end]
        inner = gap[1:-1]
        if gap[:1] != b"<" or gap[-1:] != b">" or len(inner) % 2 or not set(inner) <= _HEX:
            raise ValueError
        raw = bytes.fromhex(inner.decode("ascii"))
        if raw[:1] != b"\x30":
            raise ValueError
        first = raw[1]
        if first < 0x80:
            length = 2 + first
        else:
            n = first & 0x7F
            length = 2 + n + int.from_bytes(raw[2 : 2 + n], "big")
        if length > len(raw) or raw[length:].strip(b"\x00"):
            raise ValueError
    except (ValueError, IndexError, TypeError, AttributeError):
        return (
            "签名容器中含有签名以外的数据",
            "the signature container holds bytes other than the signature and zero padding",
        )
    return None


def _ades_check(v: AdesVerdict) -> Check:
    """ETSI EN 319 102-1 as pyHanko's AdES engine applies it: it binds our bottom line."""
    if v.indication == "PASSED" and v.message:  # B-LT: at the current time (see _ades)
        return Check(
            "ades",
            Outcome.PASS,
            "符合 ETSI EN 319 102-1（PASSED，按当前时间验证）",
            f"ETSI EN 319 102-1: PASSED ({v.message})",
        )
    if v.indication == "PASSED":
        return Check("ades", Outcome.PASS, "符合 ETSI EN 319 102-1 长期验证（PASSED）", "ETSI EN 319 102-1: PASSED")
    zh = "未通过" if v.indication == "FAILED" else "无法确定"
    outcome = Outcome.FAIL if v.indication == "FAILED" else Outcome.UNKNOWN
    return Check(
        "ades",
        outcome,
        f"ETSI EN 319 102-1 验证{zh}（{v.label}）",
        f"ETSI EN 319 102-1: {v.label}" + (f" ({v.message})" if v.message else ""),
    )


def _good(checks: list[Check]) -> bool | None:
    """A later seal's standing: every check passed (None when its key could not be compared)."""
    outcomes = {c.name: c.outcome for c in checks}
    if any(o is Outcome.FAIL for o in outcomes.values()):
        return False
    if outcomes.get("filed_key") is not Outcome.PASS or outcomes.get("revocation") is not Outcome.PASS:
        return None
    if outcomes.get("ades") is not Outcome.PASS:
        return None
    return all(o is Outcome.PASS or n == "timestamp" for n, o in outcomes.items())


def _coverage_check(sig: Any) -> Check | None:
    """A signature that does not cover a whole revision signs only part of what is shown."""
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if sig.coverage in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION):
        return None
    return Check(
        "modifications",
        Outcome.FAIL,
        "签名没有覆盖完整的文件修订版本",
        "the signature does not cover a whole revision of the file",
    )


def _when(moment: datetime) -> str:
    """``2026-11-20 09:30:12 UTC``: a time people read."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _verdict(name: str, ok: bool, zh: tuple[str, str], en: tuple[str, str]) -> Check:
    """A pass/fail check: ``zh``/``en`` are (reason when it passes, reason when it fails)."""
    return Check(name, Outcome.PASS if ok else Outcome.FAIL, zh[0] if ok else zh[1], en[0] if ok else en[1])


def _signature_checks(sig: Any, st: Any, trust: Trust, *, embedded_revinfo: bool) -> tuple[list[Check], dict[str, Any]]:
    """One seal's checks but ``modifications`` (judged over all seals), and its report's other fields."""
    checks: list[Check] = []
    cert = st.signing_cert
    bad_algorithm = algorithm_problem(sig.signer_info, cert)
    intact = bool(st.intact and st.valid) and bad_algorithm is None
    if bad_algorithm is not None and st.intact and st.valid:
        checks.append(Check("integrity", Outcome.FAIL, bad_algorithm[0], bad_algorithm[1]))
    else:
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
    meta = {
        "field": str(sig.field_name),
        "signer": str(cert.subject.native.get("common_name") or cert.subject.human_friendly),
        "fingerprint": fp,
        "signing_time": _iso(getattr(st, "signer_reported_dt", None)),
        "timestamp_time": _iso(ts.timestamp if ts else None),
        "ades": "",
    }
    return checks, meta
