"""The issue pipeline: allocate numbers → render → seal → write ``<number>.pdf`` → record delivery.

One run at a time per institution (``issue_lock``, taken before anything is allocated), and a run
that cannot seal — no filed key for a seal the style needs, a key that does not open — is refused
before it numbers anything. Resumable: numbers are allocated in one transaction; each certificate
is delivered on its own (``delivery``): its files (PDF, holder's notice, encrypted download)
staged, its SHA-256 recorded, then the files renamed into place. Killed at any moment and run
again, it finishes the batch: no duplicate number, no gap, no half-written file, and every
holder's notice code opens the PDF the delivery record names. Whatever fails inside a worker process comes back
as data and ends as one bilingual error naming the certificates; nothing is lost by rerunning.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from registry import Registry
from registry.errors import ExitCode, Problem, SkillcertError
from registry.models import Certificate, CertStatus, Institution, Style
from render import DocumentKind, RecordRejected, Renderer, RenderError, RenderSettings, embedded_record
from search_index.downloads import encrypt_pdf, new_download_code
from sign import PadesLevel, Sealer, SealOptions

from .delivery import Deliverer
from .issue_lock import issue_lock
from .seals import IdentitySpec, boxes_of, identity_spec, signers_for
from .site_url import check_site_url

__all__ = ["IssueIncomplete", "IssueOptions", "IssueSummary", "NotReadyToSeal", "issue_batch", "ready_to_seal"]


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


@dataclass(slots=True)
class IssueSummary:
    institution_code: str
    numbered: int = 0
    delivered: int = 0
    recovered: int = 0  # written by an interrupted run, recorded now
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

    def __init__(self, summary: IssueSummary, failures: list[_Failed], *, not_tried: int) -> None:
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


# --- worker side (one Renderer and one Sealer per process, loaded once) ------------------------
_WORKER: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class _Failed:
    """What went wrong with one certificate in a worker: data, so it always crosses the process
    boundary (an exception may not unpickle, and then the whole pool breaks)."""

    certificate_id: int
    number: str
    zh: str
    en: str
    exit_code: ExitCode
    one_record: bool  # a problem of this record's data (rendering): the batch goes on without it


def _reason(e: BaseException) -> tuple[str, str, ExitCode]:
    if isinstance(e, SkillcertError):
        return e.zh, e.en, e.exit_code
    return f"意外错误 {type(e).__name__}：{e}", f"unexpected error {type(e).__name__}: {e}", ExitCode.ERROR


Produced = tuple[int, bytes, float, float, tuple[str, bytes] | None]


def _init_worker(
    render_settings: RenderSettings, specs: list[IdentitySpec], seal_options: SealOptions, downloads: bool
) -> None:
    import atexit

    try:
        _WORKER["renderer"] = Renderer(render_settings)
        atexit.register(_WORKER["renderer"].close)
        _WORKER["sealer"] = Sealer(signers_for(specs), seal_options)
    except Exception as e:  # reported with every job: a failing initializer would break the pool
        _WORKER["init_error"] = _reason(e)
    _WORKER["downloads"] = downloads


def _package(number: str, pdf: bytes) -> tuple[str, bytes]:
    """A fresh download code and the PDF encrypted under it (scrypt + AES-GCM, in the worker)."""
    code = new_download_code()
    return code, encrypt_pdf(pdf, code, number=number)


Job = tuple[Certificate, Institution, bytes, Style | None, date | None, str | None]


def _produce(job: Job) -> Produced | _Failed:
    record, inst, photo, style, replaced_on, serial = job
    if "init_error" in _WORKER:
        zh, en, code = _WORKER["init_error"]
        return _Failed(record.id, str(record.number), zh, en, code, one_record=False)
    try:
        t0 = time.perf_counter()
        kind = DocumentKind.REPLACEMENT if replaced_on else DocumentKind.CERTIFICATE
        rendered = _WORKER["renderer"].render(
            record, inst, photo=photo, kind=kind, style=style, replacement_date=replaced_on, serial_no=serial
        )
        t1 = time.perf_counter()
        boxes = boxes_of(rendered)
        sealed = _WORKER["sealer"].seal(rendered.pdf, boxes)
        t2 = time.perf_counter()
        package = _package(str(record.number), sealed) if _WORKER["downloads"] else None
    except Exception as e:  # every failure reaches the user as a bilingual error naming the certificate
        zh, en, code = _reason(e)
        return _Failed(record.id, str(record.number), zh, en, code, one_record=isinstance(e, RenderError))
    return record.id, sealed, (t1 - t0) * 1000, (t2 - t1) * 1000, package


# --- main side -------------------------------------------------------------------------------
def _jobs(
    reg: Registry, inst: Institution, ids: list[int], style: Style | None, serials: dict[int, str]
) -> Iterator[Job]:
    """One render job per certificate: a reissued one (补发) renders as a replacement with its date."""
    for cid in ids:
        c = reg.certificates.by_id(cid)
        replaced_on = reg.lifecycle.replacement_date(cid) if c.version > 1 else None
        yield c, inst, reg.certificates.photo(c.photo_sha256), style, replaced_on, serials.get(cid)


def _paper_serials(reg: Registry, code: str, ids: list[int], on: date, actor: str) -> dict[int, str]:
    """The blank sheet each certificate prints on: its sheet if it has one for this version, else
    one drawn now — all in one transaction, so short stock refuses the batch before anything renders."""
    latest: dict[int, tuple[str, date | None]] = {}
    for sheet in reg.blanks.sheets(code, state="printed"):
        if sheet.certificate_id is not None:
            latest[sheet.certificate_id] = (sheet.serial, sheet.changed_on)  # serials ascend: the last is newest
    out: dict[int, str] = {}
    first, again = [], []
    for cid in ids:
        have = latest.get(cid)
        replaced_on = reg.lifecycle.replacement_date(cid)
        if have is None:
            first.append(cid)
        elif replaced_on is not None and (have[1] is None or have[1] < replaced_on):
            again.append(cid)  # a replacement prints on a new sheet
        else:
            out[cid] = have[0]
    if first:
        out.update(reg.blanks.draw_many(code, first, on=on, actor=actor))
    if again:
        out.update(reg.blanks.draw_many(code, again, on=on, actor=actor, replacement=True))
    return out


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
            zh, en, _ = _reason(e)
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
    todo: list[int] = []
    failures: list[_Failed] = []
    try:
        _make_folders(opts)  # a folder that cannot be made refuses the run before any number is allocated
        summary.numbered = len(reg.certificates.issue(inst.code, opts.issue_date, actor=actor))

        for cid in reg.seals.undelivered_ids(inst.code):  # a file an older version left unrecorded: record it as it is
            c = reg.certificates.by_id(cid)
            path = opts.out_dir / f"{c.number}.pdf"
            if path.is_file():
                data = path.read_bytes()
                try:
                    rec = embedded_record(data) if data.startswith(b"%PDF-") else None
                except RecordRejected:
                    rec = None  # not a record this registry wrote: the certificate is issued again
                if rec is not None and rec.number == c.number and rec.version == c.version:
                    package = _package(str(c.number), data) if opts.downloads_dir is not None else None
                    out.deliver(c, data, package)  # a fresh notice and download: any old pair is unrecorded
                    summary.recovered += 1
                    continue
            todo.append(cid)

        def take(result: Produced | _Failed) -> bool:
            """Deliver one result; False when the batch should stop."""
            if isinstance(result, _Failed):
                failures.append(result)
                return result.one_record
            cid, pdf, render_ms, seal_ms, package = result
            t = time.perf_counter()
            out.deliver(reg.certificates.by_id(cid), pdf, package)
            summary.write_ms.append((time.perf_counter() - t) * 1000)
            summary.render_ms.append(render_ms)
            summary.seal_ms.append(seal_ms)
            summary.delivered += 1
            if progress:
                progress(1)
            return True

        serials = _paper_serials(reg, inst.code, todo, opts.issue_date, actor) if opts.paper and todo else {}
        downloads = opts.downloads_dir is not None
        if todo and opts.workers <= 1:
            _WORKER.update(renderer=renderer, sealer=sealer, downloads=downloads)
            try:
                for job in _jobs(reg, inst, todo, opts.style, serials):
                    if not take(_produce(job)):
                        break
            finally:
                _WORKER.clear()
        elif todo:
            # while the workers start (≈ 1-2 s: interpreter, imports, fonts, first compile), this
            # process produces with the renderer and sealer it has already checked; then it only delivers
            _WORKER.update(renderer=renderer, sealer=sealer, downloads=downloads)
            try:
                _run_pool(
                    opts.workers,
                    (render_settings, specs, seal_options, downloads),
                    _jobs(reg, inst, todo, opts.style, serials),
                    take,
                    on_workers_up=renderer.close,
                )
            finally:
                _WORKER.clear()
    finally:
        renderer.close()
    if failures:
        raise IssueIncomplete(summary, failures, not_tried=len(todo) - summary.delivered - len(failures))
    summary.seconds = time.perf_counter() - started
    return summary


def _make_folders(opts: IssueOptions) -> None:
    folders = [opts.out_dir, *([opts.out_dir / "notices", opts.downloads_dir] if opts.downloads_dir else [])]
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SkillcertError(
                f"无法创建文件夹 {folder}：{e.strerror or e}；未分配任何编号",
                f"cannot create the folder {folder}: {e.strerror or e}; no number was allocated",
            ) from e


def _run_pool(
    workers: int,
    initargs: tuple[Any, ...],
    jobs: Iterator[Job],
    take: Callable[[Produced | _Failed], bool],
    *,
    on_workers_up: Callable[[], None],
) -> None:
    """Jobs to ``workers`` spawned processes, a bounded number in flight; until the first of them
    answers, this process runs a job itself (``_produce`` with its own ``_WORKER``) whenever none
    is ready, then calls ``on_workers_up`` (to free its renderer) and only delivers."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future

    ctx = multiprocessing.get_context("spawn")
    window = 4 * workers
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=initargs
        ) as pool:
            inflight: deque[Future[Produced | _Failed]] = deque()
            local = True
            try:
                for job in jobs:
                    if local and len(inflight) >= window and not inflight[0].done():
                        if not take(_produce(job)):  # every slot taken, no worker has answered yet: make it here
                            return
                        continue
                    inflight.append(pool.submit(_produce, job))
                    while inflight and (len(inflight) > window or inflight[0].done()):
                        done = inflight.popleft()
                        if local:  # a worker has answered: they are up
                            local = False
                            on_workers_up()
                        if not take(done.result()):
                            return
                while inflight:
                    if not take(inflight.popleft().result()):
                        return
            finally:  # stopping (or an error here): do not wait for the queued jobs
                if local:
                    on_workers_up()
                pool.shutdown(wait=True, cancel_futures=True)
    except BrokenProcessPool as e:
        raise SkillcertError(
            f"签发工作进程意外退出（{e}）；已交付的证书不受影响，重新运行同一命令即可续完",
            f"a worker process ended unexpectedly ({e}); what was delivered stays delivered: rerun to resume",
        ) from e


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
