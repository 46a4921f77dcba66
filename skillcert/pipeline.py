"""The issue pipeline: allocate numbers → render → seal → write ``<number>.pdf`` → record delivery.

On SQLite one run at a time per institution (``issue_lock``, taken before anything is allocated);
on a shared PostgreSQL registry any number of runs, on any machines, split the batch by claiming
a few certificates at a time (``share``). A run that cannot seal — no filed key for a seal the
style needs, a key that does not open — is refused before it numbers anything. The work in the
worker processes is :mod:`skillcert.production`. Resumable: numbers are allocated in one transaction; each certificate
is delivered on its own (``delivery``): its files (PDF, holder's notice, encrypted download)
staged, its SHA-256 recorded, then the files renamed into place. Killed at any moment and run
again, it finishes the batch: no duplicate number, no gap, no half-written file, and every
holder's notice code opens the PDF the delivery record names. Whatever fails inside a worker
process comes back as data and ends as one bilingual error naming the certificates; nothing is
lost by rerunning.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from registry import Registry
from registry.errors import DeliveryTaken, ExitCode, Problem, SkillcertError
from registry.models import Certificate, CertStatus, Institution, Style
from render import DocumentKind, EmbeddedRecord, RecordRejected, Renderer, RenderSettings, embedded_record
from sign import PadesLevel, Sealer, SealOptions

from .delivery import Deliverer
from .issue_lock import issue_lock
from .paper_run import check_paper_stock, paper_serials
from .production import WORKER, Failed, Job, Produced, download_package, produce, qr_signing, reason, run_pool
from .qr_signing import QrSigning
from .seals import IdentitySpec, identity_spec, signers_for
from .share import Share
from .site_url import check_site_url

__all__ = [
    "IssueIncomplete",
    "IssueOptions",
    "IssueSummary",
    "NotReadyToSeal",
    "issue_batch",
    "qr_ready",
    "ready_to_seal",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueOptions:
    institution_code: str
    out_dir: Path
    issue_date: date
    level: PadesLevel = PadesLevel.B_LTA
    workers: int = 1
    style: Style | None = None
    tsa_url: str | None = None
    trust_roots: tuple[Path, ...] = ()
    # holder downloads: each PDF encrypted under a fresh download code into ``downloads_dir``,
    # the code printed on the holder's notice ``out_dir/notices/<number>.txt`` (None: no downloads)
    downloads_dir: Path | None = None
    # paper: print each certificate's blank-sheet serial (drawn from the ledger, 001_… 第六条) as its No.
    paper: bool = False
    # real keys may seal QR codes pointing at a loopback site (a test only; see ``site_url``)
    allow_local_site: bool = False
    # how long this run's claim on a certificate it is making lasts unrenewed (see ``share``)
    lease_seconds: float = 120.0


@dataclass(slots=True)
class IssueSummary:
    institution_code: str
    numbered: int = 0
    delivered: int = 0
    recovered: int = 0  # written by an interrupted run, recorded now
    taken_by_others: int = 0  # produced here, but another run's delivery came first (its file is kept)
    seconds: float = 0.0
    render_ms: list[float] = field(default_factory=list)
    seal_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        def med(v: list[float]) -> float | None:
            return round(statistics.median(v), 2) if v else None

        rate = self.delivered / self.seconds if self.seconds else 0.0
        return {
            "institution": self.institution_code,
            "numbered": self.numbered,
            "delivered": self.delivered,
            "recovered": self.recovered,
            "seconds": round(self.seconds, 3),
            "per_second": round(rate, 1),
            "median_ms": {"render": med(self.render_ms), "seal": med(self.seal_ms), "write": med(self.write_ms)},
        }


class NotReadyToSeal(SkillcertError):
    """The institution cannot seal (no key for a seal the style needs, or a key that does not open):
    refused before any number is allocated."""

    exit_code = ExitCode.SEAL_FAILED

    def __init__(self, inst: Institution, zh: str, en: str, *, seal: str = "KIND") -> None:
        super().__init__(
            f"机构 {inst.code}（{inst.name_zh}）{zh}；未分配任何编号。请用 skillcert identity add --institution "
            f"{inst.code} --seal {seal} … 备案签名密钥（演示环境：skillcert pki demo），再运行本命令",
            f"institution {inst.code} ({inst.name_en or inst.name_zh}) {en}; no number was allocated. File a "
            f"signing key with `skillcert identity add --institution {inst.code} --seal {seal} …` (demo: "
            "`skillcert pki demo`), then run this command again",
        )


class IssueIncomplete(SkillcertError):
    """Some certificates could not be delivered; the rest were, and a rerun resumes."""

    exit_code = ExitCode.INCOMPLETE

    def __init__(self, summary: IssueSummary, failures: list[Failed], *, not_tried: int) -> None:
        groups: dict[tuple[str, str], list[str]] = {}
        for f in failures:
            groups.setdefault((f.zh, f.en), []).append(f.number)
        problems = []
        for (zh, en), numbers in groups.items():
            shown = ", ".join(numbers[:5]) + (f" … (+{len(numbers) - 5})" if len(numbers) > 5 else "")
            problems.append(Problem(zh=zh, en=en, field=shown))
        stop_zh = f"，遇到该错误即停止（另有 {not_tried} 张留待重跑）" if not_tried else ""
        stop_en = f", stopped at that error ({not_tried} more left for the rerun)" if not_tried else ""
        super().__init__(
            f"机构 {summary.institution_code}：交付 {summary.delivered} 张，{len(failures)} 张未能交付{stop_zh}。"
            "编号已保留（不会重复或跳号）；解决下列问题后重新运行同一命令即可续完",
            f"institution {summary.institution_code}: delivered {summary.delivered}, {len(failures)} not "
            f"delivered{stop_en}. Their numbers are kept (no duplicate, no gap): fix what is listed below, "
            "then rerun the same command to resume",
            problems=problems,
        )
        codes = {f.exit_code for f in failures}
        self.exit_code = codes.pop() if len(codes) == 1 else IssueIncomplete.exit_code
        self.summary = summary


def _jobs(
    reg: Registry, inst: Institution, ids: Iterable[int], style: Style | None, serials: dict[int, str]
) -> Iterator[Job]:
    """One render job per certificate: a reissued one (补发) renders as a replacement with its date."""
    for cid in ids:
        c = reg.certificates.by_id(cid)
        replaced_on = reg.lifecycle.replacement_date(cid) if c.version > 1 else None
        yield c, inst, reg.certificates.photo(c.photo_sha256), style, replaced_on, serials.get(cid)


def ready_to_seal(
    inst: Institution, template: str, specs: list[IdentitySpec], render_settings: RenderSettings, opts: SealOptions
) -> tuple[Renderer, Sealer]:
    """A renderer and a sealer that can seal ``template`` (a style's, or ``proof``) for ``inst``, or
    :class:`NotReadyToSeal` — asked before any number is allocated."""
    renderer = Renderer(render_settings)
    try:
        # a replacement renders on the same template as the certificate, so these are all the seals needed
        slots = [slot for slot, _ in renderer.layout(template).seals]
        needed = [seal.kind if (seal := inst.seal_for(slot)) else slot for slot in slots]
        missing = [kind for kind in needed if kind not in {s.seal_kind for s in specs}]
        if missing:
            kinds = "、".join(f"“{k}”" for k in missing)
            kinds_en = " and ".join(repr(k) for k in missing) + (" seals" if len(missing) > 1 else " seal")
            raise NotReadyToSeal(
                inst,
                f"没有可用的{kinds}印章签名密钥（{template} 样式需要）",
                f"has no signing key for the {kinds_en} that {template} needs",
                seal=missing[0],
            )
        try:
            sealer = Sealer(signers_for(specs), opts)
        except Exception as e:  # a key file or token that does not open, a TSA or trust root missing
            zh, en, _ = reason(e)
            raise NotReadyToSeal(inst, f"的签名密钥不能使用：{zh}", f"cannot seal: {en}") from e
    except BaseException:
        renderer.close()
        raise
    return renderer, sealer


def _has_work(reg: Registry, code: str) -> bool:
    pending = reg.certificates.select(institution_code=code, status=CertStatus.PENDING)
    found = next(pending, None) is not None
    del pending  # the generator closes, and its statement with it: no read left open on the connection
    return found or next(reg.seals.undelivered_ids(code), None) is not None


def issue_batch(
    reg: Registry,
    opts: IssueOptions,
    *,
    render_settings: RenderSettings,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> IssueSummary:
    """Issue every imported, not-yet-issued record of the institution, and deliver every undelivered one.

    Raises :class:`~skillcert.issue_lock.IssueLocked` when another process is issuing for the
    institution, :class:`NotReadyToSeal` before allocating when it cannot seal, and
    :class:`IssueIncomplete` when some certificates could not be delivered (the rest are).
    """
    with issue_lock(reg, opts.institution_code):
        return _issue_locked(reg, opts, render_settings=render_settings, actor=actor, progress=progress)


def _issue_locked(
    reg: Registry,
    opts: IssueOptions,
    *,
    render_settings: RenderSettings,
    actor: str,
    progress: Callable[[int], None] | None,
) -> IssueSummary:
    share = Share.start(
        reg, opts.institution_code, lease_seconds=opts.lease_seconds, chunk=2 * opts.workers, exclusive=_exclusive(reg)
    )
    try:
        return _issue_share(reg, opts, share, render_settings=render_settings, actor=actor, progress=progress)
    finally:
        share.close()


def _issue_share(
    reg: Registry,
    opts: IssueOptions,
    share: Share,
    *,
    render_settings: RenderSettings,
    actor: str,
    progress: Callable[[int], None] | None,
) -> IssueSummary:
    started = time.perf_counter()
    summary = IssueSummary(opts.institution_code)
    inst = reg.institutions.get(opts.institution_code)
    out = Deliverer(
        reg,
        inst,
        out_dir=opts.out_dir,
        downloads_dir=opts.downloads_dir,
        level=opts.level.value,
        site_url=render_settings.site_url,
        actor=actor,
        holder=share.holder,
    )
    out.sweep()
    out.settle(inst.code)  # what a killed run recorded but had not renamed yet
    if not _has_work(reg, inst.code):
        summary.seconds = time.perf_counter() - started
        return summary
    keys = [i for i in reg.seals.identities(inst.code) if i.retired_at is None]
    check_site_url(inst, render_settings.site_url, keys, allow=opts.allow_local_site)  # before any number
    specs = [identity_spec(i) for i in keys]
    seal_options = SealOptions(level=opts.level, tsa_url=opts.tsa_url, trust_roots=opts.trust_roots)
    renderer, sealer = ready_to_seal(inst, (opts.style or inst.style).value, specs, render_settings, seal_options)
    failures: list[Failed] = []
    try:
        qr = qr_ready(inst, specs, render_settings)
        # a folder that cannot be made refuses the run before any number is allocated
        _make_folders(opts, credentials=qr is not None)
        summary.numbered = len(reg.certificates.issue(inst.code, opts.issue_date, actor=actor))
        serials: dict[int, str] = {}
        if opts.paper:
            check_paper_stock(reg, inst.code)

        def deliver(
            c: Certificate, pdf: bytes, package: tuple[str, bytes] | None, credential: str | None = None
        ) -> bool:
            """Record and publish; False when another run delivered it first (its file is kept)."""
            try:
                out.deliver(c, pdf, package, credential)
            except DeliveryTaken:
                summary.taken_by_others += 1
                return False
            share.keep_alive()
            return True

        def recovered(cid: int) -> bool:
            """A file an older version of skillcert left unrecorded: record it as it is."""
            c = reg.certificates.by_id(cid)
            path = opts.out_dir / f"{c.number}.pdf"
            if not path.is_file():
                return False
            data = path.read_bytes()
            try:
                rec = embedded_record(data) if data.startswith(b"%PDF-") else None
            except RecordRejected:
                rec = None  # not a record this registry wrote: the certificate is issued again
            if rec is None or not _same_certificate(rec, c):
                return False
            package = download_package(str(c.number), data) if opts.downloads_dir is not None else None
            credential = qr.sign(c, inst, kind=DocumentKind(rec.kind)).credential if qr is not None else None
            if deliver(c, data, package, credential):  # a fresh notice and download: any old pair is unrecorded
                summary.recovered += 1
            return True

        def todo() -> Iterator[int]:
            for chunk in share.chunks():
                ids = [cid for cid in chunk if not recovered(cid)]
                if opts.paper and ids:
                    serials.update(paper_serials(reg, inst.code, ids, opts.issue_date, actor))
                yield from ids

        def take(result: Produced | Failed) -> bool:
            """Deliver one result; False when the batch should stop."""
            if isinstance(result, Failed):
                failures.append(result)
                return result.one_record
            cid, pdf, render_ms, seal_ms, package, credential = result
            t = time.perf_counter()
            if not deliver(reg.certificates.by_id(cid), pdf, package, credential):
                return True
            summary.write_ms.append((time.perf_counter() - t) * 1000)
            summary.render_ms.append(render_ms)
            summary.seal_ms.append(seal_ms)
            summary.delivered += 1
            if progress:
                progress(1)
            return True

        downloads = opts.downloads_dir is not None
        WORKER.update(renderer=renderer, sealer=sealer, downloads=downloads, qr=qr)
        renderer_open = True

        def workers_up() -> None:  # the pool answers: this process only delivers from now on
            nonlocal renderer_open
            renderer_open = False
            renderer.close()

        try:
            while True:  # a pass over what this run can claim; then wait for other live runs' shares
                jobs = _jobs(reg, inst, todo(), opts.style, serials)
                first = next(jobs, None)
                if first is None:
                    stopped = False
                elif opts.workers <= 1:
                    stopped = not all(take(produce(job)) for job in itertools.chain([first], jobs))
                else:
                    # while the workers start (≈ 1-2 s: interpreter, imports, fonts, first compile), this
                    # process produces with the renderer and sealer it has already checked; then it only delivers
                    stopped = not run_pool(
                        opts.workers,
                        (render_settings, specs, seal_options, downloads),
                        itertools.chain([first], jobs),
                        take,
                        on_workers_up=workers_up if renderer_open else None,
                    )
                if stopped or not share.others_working():
                    break
            out.sweep()  # what a run killed mid-write left on certificates claimed from it since
            out.settle(inst.code)
        finally:
            WORKER.clear()
    finally:
        renderer.close()
    if failures:
        left = sum(1 for _ in reg.seals.undelivered_ids(inst.code)) - len(failures)
        raise IssueIncomplete(summary, failures, not_tried=max(0, left))
    summary.seconds = time.perf_counter() - started
    return summary


def _same_certificate(rec: EmbeddedRecord, c: Certificate) -> bool:
    """Is this embedded record the register's certificate as it stands — the same number and
    version, holder, data and QR token? (A register restored from a backup taken before its
    numbers were given numbers them again with new tokens, or for other holders: the file left
    from before is then another certificate, and is issued again.)"""
    token = c.qr_token or ""
    return (rec.kind == DocumentKind.CERTIFICATE.value or rec.kind == DocumentKind.REPLACEMENT.value) and (
        rec.number == c.number
        and rec.version == c.version
        and rec.name == c.name
        and rec.id_type == c.id_type
        and rec.id_number == c.id_number
        and rec.occupation == c.occupation
        and rec.job == c.job
        and rec.level == c.level
        and rec.issue_date == c.issue_date
        and rec.institution_code == c.institution_code
        and rec.photo_sha256 in (None, c.photo_sha256)
        and bool(token)
        and rec.qr_url is not None
        and rec.qr_url.split("#", 1)[0].endswith(f"/c/{c.number}?t={token}")  # the fragment: the signed payload
    )


def qr_ready(inst: Institution, specs: list[IdentitySpec], render_settings: RenderSettings) -> QrSigning | None:
    """The institution's QR key, loaded before any number is allocated (``None``: none is filed)."""
    try:
        return qr_signing(specs, render_settings)
    except Exception as e:  # a key file or token that does not open, a key that is not P-256
        zh, en, _ = reason(e)
        raise NotReadyToSeal(inst, f"的二维码签名密钥不能使用：{zh}", f"cannot sign QR codes: {en}", seal="qr") from e


def _exclusive(reg: Registry) -> bool:
    """Does this run hold the only issue lock (SQLite), so no other run of the institution is alive?"""
    from registry._db import SqliteDatabase

    return isinstance(reg.db, SqliteDatabase)


def _make_folders(opts: IssueOptions, *, credentials: bool = False) -> None:
    folders = [opts.out_dir, *([opts.out_dir / "notices", opts.downloads_dir] if opts.downloads_dir else [])]
    folders += [opts.out_dir / "credentials"] if credentials else []
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SkillcertError(
                f"无法创建文件夹 {folder}：{e.strerror or e}；未分配任何编号",
                f"cannot create the folder {folder}: {e.strerror or e}; no number was allocated",
            ) from e


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
