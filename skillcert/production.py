"""Making certificates in worker processes: render, seal and package one certificate (``produce``),
and the pool that feeds them (``run_pool``).

One Renderer and one Sealer per process, loaded once. Whatever fails inside a worker comes back
as data (:class:`Failed`), so it always crosses the process boundary: an exception may not
unpickle, and then the whole pool breaks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.errors import ExitCode, SkillcertError
from registry.models import Certificate, Institution, Style
from render import DocumentKind, Renderer, RenderError, RenderSettings
from search_index.downloads import encrypt_pdf, new_download_code
from sign import Sealer, SealOptions

from .qr_signing import QrSigning
from .seals import IdentitySpec, boxes_of, qr_signer, qr_spec, signers_for

__all__ = [
    "WORKER",
    "Failed",
    "Job",
    "Produced",
    "download_package",
    "produce",
    "qr_signing",
    "reason",
    "run_pool",
]

WORKER: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Failed:
    """What went wrong with one certificate in a worker: data, so it always crosses the process
    boundary (an exception may not unpickle, and then the whole pool breaks)."""

    certificate_id: int
    number: str
    zh: str
    en: str
    exit_code: ExitCode
    one_record: bool  # a problem of this record's data (rendering): the batch goes on without it


def reason(e: BaseException) -> tuple[str, str, ExitCode]:
    if isinstance(e, SkillcertError):
        return e.zh, e.en, e.exit_code
    return f"意外错误 {type(e).__name__}：{e}", f"unexpected error {type(e).__name__}: {e}", ExitCode.ERROR


# (certificate id, sealed PDF, render ms, seal ms, (download code, encrypted PDF), credential JWT)
Produced = tuple[int, bytes, float, float, tuple[str, bytes] | None, str | None]


def qr_signing(specs: list[IdentitySpec], render_settings: RenderSettings) -> QrSigning | None:
    """The institution's QR key, loaded (once per process), when one is filed; else ``None``."""
    signer = qr_signer(qr_spec(specs))
    return None if signer is None else QrSigning(signer, render_settings.site_url)


def init_worker(
    render_settings: RenderSettings, specs: list[IdentitySpec], seal_options: SealOptions, downloads: bool
) -> None:
    import atexit

    try:
        WORKER["renderer"] = Renderer(render_settings)
        atexit.register(WORKER["renderer"].close)
        WORKER["sealer"] = Sealer(signers_for(specs), seal_options)
        WORKER["qr"] = qr_signing(specs, render_settings)
    except Exception as e:  # reported with every job: a failing initializer would break the pool
        WORKER["init_error"] = reason(e)
    WORKER["downloads"] = downloads


def download_package(number: str, pdf: bytes) -> tuple[str, bytes]:
    """A fresh download code and the PDF encrypted under it (scrypt + AES-GCM, in the worker)."""
    code = new_download_code()
    return code, encrypt_pdf(pdf, code, number=number)


Job = tuple[Certificate, Institution, bytes, Style | None, date | None, str | None]


def produce(job: Job) -> Produced | Failed:
    record, inst, photo, style, replaced_on, serial = job
    if "init_error" in WORKER:
        zh, en, code = WORKER["init_error"]
        return Failed(record.id, str(record.number), zh, en, code, one_record=False)
    try:
        t0 = time.perf_counter()
        kind = DocumentKind.REPLACEMENT if replaced_on else DocumentKind.CERTIFICATE
        qr: QrSigning | None = WORKER.get("qr")
        signed = qr.sign(record, inst, kind=kind) if qr is not None else None
        rendered = WORKER["renderer"].render(
            record,
            inst,
            photo=photo,
            kind=kind,
            style=style,
            replacement_date=replaced_on,
            serial_no=serial,
            qr_payload=signed.fragment if signed else None,
            credential=signed.credential if signed else None,
        )
        t1 = time.perf_counter()
        boxes = boxes_of(rendered)
        sealed = WORKER["sealer"].seal(rendered.pdf, boxes)
        t2 = time.perf_counter()
        package = download_package(str(record.number), sealed) if WORKER["downloads"] else None
    except Exception as e:  # every failure reaches the user as a bilingual error naming the certificate
        zh, en, code = reason(e)
        return Failed(record.id, str(record.number), zh, en, code, one_record=isinstance(e, RenderError))
    credential = signed.credential if signed else None
    return record.id, sealed, (t1 - t0) * 1000, (t2 - t1) * 1000, package, credential


def run_pool(
    workers: int,
    initargs: tuple[Any, ...],
    jobs: Iterator[Job],
    take: Callable[[Produced | Failed], bool],
    *,
    on_workers_up: Callable[[], None] | None,
) -> bool:
    """Jobs to ``workers`` spawned processes, a bounded number in flight; until the first of them
    answers, this process runs a job itself (``produce`` with its own ``WORKER``) whenever none
    is ready, then calls ``on_workers_up`` (to free its renderer) and only delivers (``None``: it
    has no renderer left, and only delivers). False when ``take`` stopped the batch."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future

    ctx = multiprocessing.get_context("spawn")
    window = 4 * workers
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=init_worker, initargs=initargs
        ) as pool:
            inflight: deque[Future[Produced | Failed]] = deque()
            local = on_workers_up is not None
            try:
                for job in jobs:
                    if local and len(inflight) >= window and not inflight[0].done():
                        if not take(produce(job)):  # every slot taken, no worker has answered yet: make it here
                            return False
                        continue
                    inflight.append(pool.submit(produce, job))
                    while inflight and (len(inflight) > window or inflight[0].done()):
                        done = inflight.popleft()
                        if local and on_workers_up is not None:  # a worker has answered: they are up
                            local = False
                            on_workers_up()
                        if not take(done.result()):
                            return False
                while inflight:
                    if not take(inflight.popleft().result()):
                        return False
            finally:  # stopping (or an error here): do not wait for the queued jobs
                if local and on_workers_up is not None:
                    on_workers_up()
                pool.shutdown(wait=True, cancel_futures=True)
        return True
    except BrokenProcessPool as e:
        raise SkillcertError(
            f"签发工作进程意外退出（{e}）；已交付的证书不受影响，重新运行同一命令即可续完",
            f"a worker process ended unexpectedly ({e}); what was delivered stays delivered: rerun to resume",
        ) from e
