"""The issue pipeline: allocate numbers → render → seal → write ``<number>.pdf`` → record delivery.

Resumable: numbers are allocated in one transaction; each certificate is delivered on its own
(file written atomically, then its SHA-256 recorded). Killed at any moment and run again, it
finishes the batch: no duplicate number, no gap, no half-written file. A PDF written but not
yet recorded is recognised by its embedded record and recorded as it is, never rendered again.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from registry import Registry
from registry.models import Certificate, Institution, Style
from render import DocumentKind, Renderer, RenderSettings, read_record
from search_index.downloads import encrypt_pdf, new_download_code
from sign import PadesLevel, SealBoxSpec, Sealer, SealOptions

from .files import write_atomic
from .notices import write_notice
from .seals import IdentitySpec, identity_spec, signers_for

__all__ = ["IssueOptions", "IssueSummary", "issue_batch"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueOptions:
    institution_code: str
    out_dir: Path
    issue_date: date
    level: PadesLevel = PadesLevel.B_LT
    workers: int = 1
    style: Style | None = None
    tsa_url: str | None = None
    trust_roots: tuple[Path, ...] = ()
    # holder downloads: each PDF encrypted under a fresh download code into ``downloads_dir``,
    # the code printed on the holder's notice ``out_dir/notices/<number>.txt`` (None: no downloads)
    downloads_dir: Path | None = None
    # paper: print each certificate's blank-sheet serial (drawn from the ledger, 001_… 第六条) as its No.
    paper: bool = False


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


# --- worker side (one Renderer and one Sealer per process, loaded once) ------------------------
_WORKER: dict[str, Any] = {}


Produced = tuple[int, bytes, float, float, tuple[str, bytes] | None]


def _init_worker(
    render_settings: RenderSettings, specs: list[IdentitySpec], seal_options: SealOptions, downloads: bool
) -> None:
    import atexit

    _WORKER["renderer"] = Renderer(render_settings)
    atexit.register(_WORKER["renderer"].close)
    _WORKER["sealer"] = Sealer(signers_for(specs), seal_options)
    _WORKER["downloads"] = downloads


def _package(number: str, pdf: bytes) -> tuple[str, bytes]:
    """A fresh download code and the PDF encrypted under it (scrypt + AES-GCM, in the worker)."""
    code = new_download_code()
    return code, encrypt_pdf(pdf, code, number=number)


Job = tuple[Certificate, Institution, bytes, Style | None, date | None, str | None]


def _produce(job: Job) -> Produced:
    record, inst, photo, style, replaced_on, serial = job
    t0 = time.perf_counter()
    kind = DocumentKind.REPLACEMENT if replaced_on else DocumentKind.CERTIFICATE
    rendered = _WORKER["renderer"].render(
        record, inst, photo=photo, kind=kind, style=style, replacement_date=replaced_on, serial_no=serial
    )
    t1 = time.perf_counter()
    boxes = [SealBoxSpec(b.kind, b.page, b.rect_pt) for b in rendered.seal_boxes]
    sealed = _WORKER["sealer"].seal(rendered.pdf, boxes)
    t2 = time.perf_counter()
    package = _package(str(record.number), sealed) if _WORKER["downloads"] else None
    return record.id, sealed, (t1 - t0) * 1000, (t2 - t1) * 1000, package


# --- main side -------------------------------------------------------------------------------
def _jobs(
    reg: Registry, inst: Institution, ids: list[int], style: Style | None, serials: dict[int, str]
) -> Iterator[Job]:
    """One render job per certificate: a reissued one (补发) renders as a replacement with its date."""
    for cid in ids:
        c = reg.certificate_by_id(cid)
        replaced_on = reg.replacement_date(cid) if c.version > 1 else None
        yield c, inst, reg.photo(c.photo_sha256), style, replaced_on, serials.get(cid)


def _paper_serials(reg: Registry, code: str, ids: list[int], on: date, actor: str) -> dict[int, str]:
    """The blank sheet each certificate prints on: its sheet if it has one for this version, else
    one drawn now — all in one transaction, so short stock refuses the batch before anything renders."""
    latest: dict[int, tuple[str, date | None]] = {}
    for sheet in reg.blank_sheets(code, state="printed"):
        if sheet.certificate_id is not None:
            latest[sheet.certificate_id] = (sheet.serial, sheet.changed_on)  # serials ascend: the last is newest
    out: dict[int, str] = {}
    first, again = [], []
    for cid in ids:
        have = latest.get(cid)
        replaced_on = reg.replacement_date(cid)
        if have is None:
            first.append(cid)
        elif replaced_on is not None and (have[1] is None or have[1] < replaced_on):
            again.append(cid)  # a replacement prints on a new sheet
        else:
            out[cid] = have[0]
    if first:
        out.update(reg.draw_blanks(code, first, on=on, actor=actor))
    if again:
        out.update(reg.draw_blanks(code, again, on=on, actor=actor, replacement=True))
    return out


def issue_batch(
    reg: Registry,
    opts: IssueOptions,
    *,
    render_settings: RenderSettings,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> IssueSummary:
    """Issue every imported, not-yet-issued record of the institution, and deliver every undelivered one."""
    started = time.perf_counter()
    summary = IssueSummary(opts.institution_code)
    inst = reg.institution(opts.institution_code)
    specs = [identity_spec(i) for i in reg.identities(inst.code) if i.retired_at is None]
    seal_options = SealOptions(level=opts.level, tsa_url=opts.tsa_url, trust_roots=opts.trust_roots)
    summary.numbered = len(reg.issue_numbers(inst.code, opts.issue_date, actor=actor))
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    _sweep_partial(opts.out_dir, opts.out_dir / "notices", opts.downloads_dir)
    site_url = render_settings.site_url

    def store_package(c: Certificate, package: tuple[str, bytes]) -> None:
        # the notice first, then the blob: a blob on disk always has its notice (resume relies on it)
        assert opts.downloads_dir is not None and c.number is not None
        code, blob = package
        write_notice(opts.out_dir / "notices", c, inst, code=code, site_url=site_url)
        opts.downloads_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(opts.downloads_dir / f"{c.number}.bin", blob)

    todo: list[int] = []
    for cid in reg.undelivered_ids(inst.code):  # a file from an interrupted run: record it as it is
        c = reg.certificate_by_id(cid)
        path = opts.out_dir / f"{c.number}.pdf"
        if path.is_file():
            data = path.read_bytes()
            rec = read_record(data) if data.startswith(b"%PDF-") else None
            if rec is not None and rec.get("number") == c.number and rec.get("version") == c.version:
                if opts.downloads_dir is not None and not (
                    (opts.downloads_dir / f"{c.number}.bin").is_file()
                    and (opts.out_dir / "notices" / f"{c.number}.txt").is_file()
                ):
                    store_package(c, _package(str(c.number), data))
                reg.mark_delivered(
                    cid,
                    c.version,
                    pdf_sha256=hashlib.sha256(data).hexdigest(),
                    file_name=path.name,
                    level=opts.level.value,
                    actor=actor,
                )
                summary.recovered += 1
                continue
        todo.append(cid)

    def deliver(cid: int, pdf: bytes, render_ms: float, seal_ms: float, package: tuple[str, bytes] | None) -> None:
        c = reg.certificate_by_id(cid)
        t = time.perf_counter()
        write_atomic(opts.out_dir / f"{c.number}.pdf", pdf)
        if package is not None:
            store_package(c, package)
        reg.mark_delivered(
            cid,
            c.version,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            file_name=f"{c.number}.pdf",
            level=opts.level.value,
            actor=actor,
        )
        summary.write_ms.append((time.perf_counter() - t) * 1000)
        summary.render_ms.append(render_ms)
        summary.seal_ms.append(seal_ms)
        summary.delivered += 1
        if progress:
            progress(1)

    serials = _paper_serials(reg, inst.code, todo, opts.issue_date, actor) if opts.paper and todo else {}
    if todo:
        if opts.workers <= 1:
            _init_worker(render_settings, specs, seal_options, opts.downloads_dir is not None)
            try:
                for job in _jobs(reg, inst, todo, opts.style, serials):
                    deliver(*_produce(job))
            finally:
                _WORKER.pop("renderer").close()
        else:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=opts.workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(render_settings, specs, seal_options, opts.downloads_dir is not None),
            ) as pool:
                for result in pool.map(_produce, _jobs(reg, inst, todo, opts.style, serials), chunksize=4):
                    deliver(*result)
    summary.seconds = time.perf_counter() - started
    return summary


def _sweep_partial(*folders: Path | None) -> None:
    """Remove temp files a killed run left behind (``write_atomic`` renames only complete files)."""
    for folder in folders:
        if folder is not None and folder.is_dir():
            for tmp in folder.glob(".*.part"):
                tmp.unlink(missing_ok=True)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
