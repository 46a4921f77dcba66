"""Checking a document an institution sealed that is not a certificate of the register.

An institution seals its own PDFs with its filed key (``skillcert sign``). Such a file carries
no certificate record, so the certificate verdict can only say "not issued by the register"; the
seal-level verdict here says what the seal proves: *sealed by <institution> with its filed key
on DATE; unchanged since; not a certificate of the register* — a verdict of its own
(:class:`DocumentVerdict`), never a certificate's ``valid``.

The institution is found from the signer's certificate fingerprint among the filed seal keys
(the snapshot's directory, or the registry's filing when no snapshot is published); the seal is
then judged by :func:`sign.validate_pdf` with that institution's filed keys — the same
modification policy, AdES engine and long-term-validity rules as a certificate. Signatures by
others made before the institution's seal (a pre-signed input) are listed, not judged: the
institution sealed the document as it then was, and anything after its seal is judged by its
``modifications`` check.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sign import Check, Outcome, SealStatus, Trust, UnreadablePdf

__all__ = [
    "DOCUMENT_VERDICT_TEXT",
    "DocumentReport",
    "DocumentVerdict",
    "FiledSigner",
    "check_sealed_document",
    "document_check",
    "filed_signers",
    "signer_fingerprints",
    "snapshot_signers",
]


class DocumentVerdict(StrEnum):
    SEALED = "sealed"  # sealed by a filed institution key, unchanged since: not a certificate
    INVALID = "invalid"
    UNKNOWN = "unknown"


DOCUMENT_VERDICT_TEXT: dict[DocumentVerdict, tuple[str, str]] = {
    DocumentVerdict.SEALED: ("机构已盖章（非登记证书）", "Sealed by the institution (not a register certificate)"),
    DocumentVerdict.INVALID: ("印章无效", "Seal not valid"),
    DocumentVerdict.UNKNOWN: ("无法确认印章", "Seal cannot be confirmed"),
}


@dataclass(frozen=True, slots=True)
class FiledSigner:
    """A filed seal key and the institution it belongs to."""

    institution_code: str
    institution_name: str
    fingerprints: frozenset[str]  # every seal key the institution filed
    status: str = "active"  # the filing: active · cancelled · merged
    status_date: str | None = None  # since when (ISO date), for cancelled or merged


@dataclass(frozen=True, slots=True)
class DocumentReport:
    bottom_line: DocumentVerdict
    checks: tuple[Check, ...]
    seal: SealStatus | None = None
    institution_code: str | None = None
    institution_name: str | None = None
    sealed_at: str | None = None  # the seal's timestamp (else its claimed signing time), ISO 8601
    others: tuple[str, ...] = field(default=())  # earlier signers not judged (a pre-signed input)

    def sentence(self) -> tuple[str, str]:
        """The bottom line in words, both languages."""
        if self.bottom_line is DocumentVerdict.SEALED:
            day = (self.sealed_at or "")[:10]
            return (
                f"由{self.institution_name}以其备案印章于 {day} 盖章；此后未被改动；不是登记簿中的证书",
                f"sealed by {self.institution_name} with its filed key on {day}; unchanged since; "
                "not a certificate of the register",
            )
        zh, en = DOCUMENT_VERDICT_TEXT[self.bottom_line]
        failed = next((c for c in self.checks if c.outcome is Outcome.FAIL), None) or next(
            (c for c in self.checks if c.outcome is Outcome.UNKNOWN), None
        )
        return (f"{zh}：{failed.zh}", f"{en}: {failed.en}") if failed else (zh, en)

    def as_dict(self) -> dict[str, Any]:
        zh, en = self.sentence()
        return {
            "kind": "sealed_document",
            "bottom_line": self.bottom_line.value,
            "zh": zh,
            "en": en,
            "institution_code": self.institution_code,
            "institution_name": self.institution_name,
            "sealed_at": self.sealed_at,
            "checks": [c.as_dict() for c in self.checks],
            "other_signers": list(self.others),
            "signatures": self.seal.as_dict()["signatures"] if self.seal else [],
        }


def signer_fingerprints(data: bytes) -> list[str]:
    """The SHA-256 fingerprints of the seal signatures' certificates, in signing order (no judging)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from sign import cert_fingerprint

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return [
            cert_fingerprint(s.signer_cert) for s in reader.embedded_signatures if s.sig_object_type != "/DocTimeStamp"
        ]
    except Exception as e:  # a hostile file: a clear answer, never a crash
        raise UnreadablePdf("签名数据无法解析", f"the signature data cannot be parsed ({type(e).__name__})") from e


def _c(name: str, outcome: Outcome, zh: str, en: str) -> Check:
    return Check(name, outcome, zh, en)


def check_sealed_document(
    data: bytes,
    trust_roots: tuple[Path, ...],
    signer_of: Callable[[str], FiledSigner | None],
    *,
    online: bool = False,
    validate: Callable[[bytes, Trust], SealStatus] | None = None,
) -> DocumentReport:
    """The seal-level verdict for a sealed PDF without a certificate record.

    ``signer_of(fingerprint)``: the institution that filed this key, or ``None``. ``validate``
    defaults to :func:`verify.check.seal_status` (hostile input reported as unreadable).
    """
    from .check import seal_status

    fps = signer_fingerprints(data)
    if not fps:
        return DocumentReport(
            DocumentVerdict.INVALID,
            (_c("signed", Outcome.FAIL, "文件没有电子印章", "the file carries no seal"),),
        )
    found = [(i, fp, signer_of(fp)) for i, fp in enumerate(fps)]
    ours = [(i, fp, who) for i, fp, who in found if who is not None]
    if not ours:
        return DocumentReport(
            DocumentVerdict.UNKNOWN,
            (
                _c(
                    "institution",
                    Outcome.FAIL,
                    "签名密钥不是任何备案机构的印章密钥",
                    "the signing key is not a seal key any filed institution has filed",
                ),
            ),
        )
    _, _, who = ours[-1]  # the newest institution seal speaks for the document
    assert who is not None
    seal = (validate or seal_status)(data, Trust(roots=trust_roots, filed_fingerprints=who.fingerprints, online=online))
    reports = [r for r in seal.signatures if r.fingerprint in who.fingerprints]
    if not reports:
        return DocumentReport(
            DocumentVerdict.INVALID, tuple(seal.checks), seal, who.institution_code, who.institution_name
        )
    report = reports[-1]
    first_ours = min(i for i, _, _ in ours)
    others = tuple(r.signer for r in seal.signatures[:first_ours] if r.fingerprint not in who.fingerprints)
    later_strangers = [r for r in seal.signatures[first_ours:] if r.fingerprint not in who.fingerprints]
    checks = list(report.checks)
    checks.append(_filing_check(who, report.timestamp_time))
    if later_strangers:
        checks.append(
            _c(
                "modifications",
                Outcome.FAIL,
                "机构盖章后又有未备案密钥的签名",
                f"signed after the institution's seal by a key no institution filed ({later_strangers[0].signer})",
            )
        )
    checks.append(
        _c(
            "record",
            Outcome.NOT_APPLICABLE,
            "文件中没有证书数据：这是机构盖章的文件，不是登记簿中的证书",
            "no certificate record: a document sealed by the institution, not a certificate of the register",
        )
    )
    return DocumentReport(
        _bottom(checks),
        tuple(checks),
        seal,
        who.institution_code,
        who.institution_name,
        report.timestamp_time or report.signing_time,
        others,
    )


def _filing_check(who: FiledSigner, timestamp: str | None) -> Check:
    """The key is the institution's, and its filing was in force when it sealed.

    Only a timestamp proves when: a seal with a claimed signing time alone, by an institution
    whose filing has since been cancelled or merged, cannot be shown to predate that.
    """
    name, code = who.institution_name, who.institution_code
    if who.status == "active" or who.status_date is None:
        return _c(
            "institution",
            Outcome.PASS,
            f"签名密钥是{name}（{code}）备案的印章密钥",
            f"the key is a seal key filed by {name} ({code})",
        )
    done = "合并" if who.status == "merged" else "注销"
    if timestamp is not None and timestamp[:10] < who.status_date:
        return _c(
            "institution",
            Outcome.PASS,
            f"签名密钥是{name}（{code}）备案的印章密钥；盖章时（{timestamp[:10]}）机构尚未{done}",
            f"the key is a seal key filed by {name} ({code}); it sealed on {timestamp[:10]}, "
            f"before the institution was {who.status} on {who.status_date}",
        )
    if timestamp is not None:
        return _c(
            "institution",
            Outcome.FAIL,
            f"{name}（{code}）已于 {who.status_date} {done}，此后不得再以其印章盖章",
            f"{name} ({code}) was {who.status} on {who.status_date}; this seal was made on {timestamp[:10]}",
        )
    return _c(
        "institution",
        Outcome.UNKNOWN,
        f"{name}（{code}）已于 {who.status_date} {done}，而印章没有时间戳，无法证明盖章早于此日",
        f"{name} ({code}) was {who.status} on {who.status_date} and the seal has no timestamp "
        "to prove it was made before",
    )


def _bottom(checks: list[Check]) -> DocumentVerdict:
    if any(c.outcome is Outcome.FAIL for c in checks):
        return DocumentVerdict.INVALID
    if any(c.outcome is Outcome.UNKNOWN for c in checks):
        return DocumentVerdict.UNKNOWN
    return DocumentVerdict.SEALED


def snapshot_signers(snapshot: Any) -> Callable[[str], FiledSigner | None]:
    """``signer_of`` over a published snapshot's institution directory."""

    def signer_of(fingerprint: str) -> FiledSigner | None:
        inst = snapshot.institution_by_signer(fingerprint)
        if inst is None:
            return None
        fps = frozenset(str(s["fingerprint"]) for s in inst.get("signers", []))
        since = inst.get("status_date")
        return FiledSigner(
            str(inst["code"]),
            str(inst.get("name_zh") or inst["code"]),
            fps,
            str(inst.get("status", "active")),
            None if since is None else str(since),
        )

    return signer_of


def filed_signers(snapshot: Any, fingerprints: list[str]) -> dict[str, FiledSigner]:
    """The filed institution of each fingerprint that has one (for :func:`document_check` in a worker)."""
    of = snapshot_signers(snapshot)
    found = {fp: of(fp) for fp in fingerprints}
    return {fp: who for fp, who in found.items() if who is not None}


def document_check(data: bytes, trust_roots: tuple[Path, ...], filed: dict[str, FiledSigner]) -> DocumentReport:
    """:func:`check_sealed_document` with the look-ups done beforehand (the site's worker processes
    have no snapshot)."""
    return check_sealed_document(data, trust_roots, filed.get)
