"""After-issue work that produces sealed files: a corrected or reissued certificate is delivered
again as a new version (through the issue pipeline), a lost-certificate proof is rendered,
sealed and registered. The registry changes come first; the files follow and can be re-run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from registry import Registry
from registry._lifecycle_store import Proof
from render import DocumentKind
from sign import PadesLevel, SealOptions

from .files import write_atomic
from .pipeline import IssueOptions, IssueSummary, issue_batch, qr_ready, ready_to_seal
from .seals import boxes_of, identity_spec, seal_services
from .settings import Settings
from .site_url import check_site_url

__all__ = ["ProofResult", "Redelivery", "deliver_again", "issue_options", "issue_proof", "redelivery"]


def issue_options(
    s: Settings,
    code: str,
    out: Path,
    *,
    issue_date: date,
    workers: int = 1,
    level: str | None = None,
    notices: bool = True,
) -> IssueOptions:
    """The issue pipeline's options from the settings (seal level, TSA, trust roots, downloads)."""
    return IssueOptions(
        institution_code=code,
        out_dir=out,
        issue_date=issue_date,
        level=PadesLevel(level or s.seal_level),
        workers=workers,
        tsa_url=s.tsa_url,
        trust_roots=s.trust_roots,
        downloads_dir=s.downloads_dir if notices else None,
        allow_local_site=s.allow_local_site,
        lease_seconds=s.issue_lease_seconds,
    )


def deliver_again(s: Settings, reg: Registry, code: str, out: Path, *, today: date) -> IssueSummary:
    """Render and seal every certificate of ``code`` whose current version has no sealed PDF yet."""
    with seal_services(s):
        return issue_batch(
            reg, issue_options(s, code, out, issue_date=today), render_settings=s.render_settings(), actor=s.actor
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Redelivery:
    """What a correction or a reissue replaced, said to the clerk: the PDF was overwritten by the
    new version, a new download code was issued on a new notice (the old code no longer opens
    anything), and — a reissue — the new paper carries a new QR code."""

    number: str
    version: int
    pdf: Path
    notice: Path | None  # the holder notice that is now current (None: issued without notices)
    qr_renewed: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "old_pdf_replaced": True,
            "pdf": str(self.pdf),
            "download_code_renewed": self.notice is not None,
            "notice": str(self.notice) if self.notice else None,
            "qr_code_renewed": self.qr_renewed,
        }

    def lines(self) -> list[str]:
        v = self.version
        out = [f"  旧 PDF 已被替换 the old PDF was replaced: {self.pdf} 现为第 {v} 版 is now version {v}"]
        if self.notice is not None:
            out += [
                "  已签发新的下载码，旧下载码作废 a new download code was issued; the old code no longer works",
                f"  现行持证人通知 current holder notice: {self.notice}（第 {v} 版 version {v}）"
                " — 请交给持证人，此前的通知作废 give it to the holder; earlier notices are void",
            ]
        if self.qr_renewed:
            out.append(
                "  新证书的二维码已更换；发布后旧纸质证书的二维码显示“已补发”及日期 / the new paper has a new QR code; "
                "once published, the old paper's QR code shows it was replaced (补发) on that date"
            )
        return out


def redelivery(out: Path, number: str, version: int, *, qr_renewed: bool) -> Redelivery:
    """The files a correction or reissue re-delivered under ``out`` (the notice when one was written)."""
    notice = out / "notices" / f"{number}.txt"
    current = notice.is_file() and f"第 {version} 版" in notice.read_text(encoding="utf-8")
    return Redelivery(
        number=number, version=version, pdf=out / f"{number}.pdf", notice=notice if current else None,
        qr_renewed=qr_renewed,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProofResult:
    proof: Proof
    path: Path
    sha256: str


def issue_proof(
    s: Settings, reg: Registry, number: str, *, applied_on: date, on: date, service_due: date, out: Path
) -> ProofResult:
    """Register a proof number, render the proof document (001_… 附件4), seal it, write it, record it.

    Whether it can be sealed — keys for the proof's seal, keys that open, a TSA where the level
    needs one, a verification site the QR code may point to — is asked before the number is
    allocated: a refused proof uses up no proof number.
    """
    c = reg.certificates.get(number)
    inst = reg.institutions.get(c.institution_code)
    keys = [i for i in reg.seals.identities(inst.code) if i.retired_at is None]
    check_site_url(inst, s.site_url, keys, allow=s.allow_local_site)
    opts = SealOptions(level=PadesLevel(s.seal_level), tsa_url=s.tsa_url, trust_roots=s.trust_roots)
    specs = [identity_spec(i) for i in keys]
    renderer, sealer = ready_to_seal(inst, "proof", specs, s.render_settings(), opts)
    with renderer as r:
        qr = qr_ready(inst, specs, s.render_settings())  # the QR key, when filed, signs the proof's QR code
        proof = reg.lifecycle.add_proof(number, applied_on=applied_on, on=on, service_due=service_due, actor=s.actor)
        c = reg.certificates.by_id(proof.certificate_id)
        signed = qr.sign(c, inst, kind=DocumentKind.PROOF, proof_number=proof.proof_number) if qr else None
        rendered = r.render(
            c,
            inst,
            photo=reg.certificates.photo(c.photo_sha256),
            kind=DocumentKind.PROOF,
            proof_number=proof.proof_number,
            proof_date=on,
            qr_payload=signed.fragment if signed else None,
        )
    with seal_services(s):
        sealed = sealer.seal(rendered.pdf, boxes_of(rendered))
    path = out / f"{proof.proof_number}.pdf"
    write_atomic(path, sealed)
    sha = hashlib.sha256(sealed).hexdigest()
    reg.lifecycle.record_proof_pdf(proof.proof_number, pdf_sha256=sha, file_name=path.name, actor=s.actor)
    return ProofResult(reg.lifecycle.proof(proof.proof_number), path, sha)
