"""``skillcert sign``: seal PDFs an institution already has (e.g. from its own system).

Each file gets the institution's seal drawn as the signature's appearance (:mod:`sign.placement`:
a box, a text anchor, the last page's default spot, or a 骑缝章 across all pages), or signs an
existing empty field. Never overwrites an input or a file it did not write; skips files that
already carry a signature unless ``force``; a file that fails is reported with its bilingual
reason and the batch goes on.

Batches survive being killed: each output is written whole under a temporary name and renamed
(:func:`write_atomic`), the parent appends one manifest row per file (:mod:`.sign_manifest`), and
a rerun skips what the manifest (or a finished output the manifest missed) shows as sealed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.errors import SkillcertError
from sign import SealBoxSpec, Sealer, SealOptions, cert_fingerprint
from sign.appearance import SealLook, SealPicture
from sign.intake import inspect_pdf
from sign.placement import Placement, plan

from .files import write_atomic
from .seals import IdentitySpec, signers_for
from .sign_manifest import MANIFEST_NAME, ManifestRow, ManifestWriter, read_manifest

__all__ = ["FileResult", "SignJob", "check_tsa", "sign_files"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignJob:
    """``box``: a fixed box or an existing field (``box.field``); else ``placement`` says where the
    drawn seal goes (default: the last page's default spot). ``picture``: the seal drawing; without
    one the widget's appearance is empty (the certificate path's behaviour)."""

    identity: IdentitySpec
    options: SealOptions
    out_dir: Path
    box: SealBoxSpec | None = None
    placement: Placement | None = None
    picture: SealPicture | None = None
    force: bool = False
    workers: int = 1
    manifest: Path | None = None  # default: <out_dir>/manifest.csv

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.out_dir / MANIFEST_NAME


@dataclass(frozen=True, slots=True)
class FileResult:
    source: str
    outcome: str  # "signed" · "skipped" · "failed" · "done" (sealed by an earlier run)
    out: str | None
    reason_zh: str = ""
    reason_en: str = ""
    ms: float = 0.0
    sha256: str = ""
    sealed_at: str = ""
    signer: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "outcome": self.outcome,
            "out": self.out,
            "zh": self.reason_zh,
            "en": self.reason_en,
            "ms": round(self.ms, 1),
            "sha256": self.sha256 or None,
        }

    def row(self, level: str) -> ManifestRow:
        reason = f"{self.reason_zh} / {self.reason_en}" if self.reason_en else ""
        return ManifestRow(
            self.source, self.out or "", self.sha256, self.sealed_at, self.signer, level, self.outcome, reason
        )


_STATE: dict[str, Any] = {}


def _init(job: SignJob, *, in_worker: bool = False) -> None:
    _STATE["job"] = job
    try:
        signers = signers_for([job.identity])
        _STATE["sealer"] = Sealer(signers, job.options)
        _STATE["fingerprint"] = cert_fingerprint(signers[job.identity.seal_kind].signing_cert)
    except Exception as e:
        if not in_worker:
            raise
        # a failing initializer breaks the whole pool, and an error may not unpickle: report it as data
        _STATE["init_error"] = (str(getattr(e, "zh", "") or "签章失败"), str(getattr(e, "en", "") or e))


def _init_worker(job: SignJob) -> None:
    _init(job, in_worker=True)


def _sealed_copy_of(out: bytes, data: bytes, signatures_before: int) -> bool:
    """An earlier run's output for this input: the input's bytes, then at least one more signature."""
    from sign.intake import NotSealable

    if not out.startswith(data) or len(out) == len(data):
        return False
    try:
        return inspect_pdf(out).signatures > signatures_before
    except NotSealable:
        return False


def _failed(path: Path, zh: str, en: str, t: float) -> FileResult:
    return FileResult(str(path), "failed", None, zh, en, (time.perf_counter() - t) * 1000)


def _one(path: Path) -> FileResult:
    job: SignJob = _STATE["job"]
    t = time.perf_counter()
    out = job.out_dir / path.name
    if "init_error" in _STATE:
        return FileResult(str(path), "failed", None, *_STATE["init_error"])
    try:
        if out.resolve() == path.resolve():
            return _failed(path, "输出会覆盖输入，已拒绝", "the output would overwrite the input; refused", t)
        data = path.read_bytes()
        intake = inspect_pdf(data)
        if out.exists():
            existing = out.read_bytes()
            if _sealed_copy_of(existing, data, intake.signatures):  # killed before its manifest row
                return FileResult(
                    str(path),
                    "done",
                    str(out),
                    "已在上次运行中签章",
                    "sealed by an earlier run",
                    sha256=hashlib.sha256(existing).hexdigest(),
                    signer=_STATE["fingerprint"],
                )
            return _failed(
                path,
                f"输出文件 {out.name} 已存在且不是本文件的签章版本，未覆盖",
                f"the output {out.name} exists and is not a sealed copy of this file; not overwritten",
                t,
            )
        if not job.force and intake.signatures:
            return FileResult(
                str(path), "skipped", None, "已有签名（用 --force 再签）", "already signed (use --force to add a seal)"
            )
        if intake.signatures and job.placement is not None and job.placement.perforation:
            return _failed(
                path,
                "文件已有签名：骑缝章要在每页内容中画出印章，会使原有签名失效，未签章",
                "the file is already signed: a perforation seal draws into every page, which would break "
                "the earlier signature; not sealed",
                t,
            )
        box, look = _where(job, data)
        sealed = _STATE["sealer"].seal(data, [box], look=look)
        when = datetime.now(UTC).isoformat(timespec="seconds")
        write_atomic(out, sealed)
        return FileResult(
            str(path),
            "signed",
            str(out),
            ms=(time.perf_counter() - t) * 1000,
            sha256=hashlib.sha256(sealed).hexdigest(),
            sealed_at=when,
            signer=_STATE["fingerprint"],
        )
    except Exception as e:  # one bad file never stops the batch: it is reported with its reason
        msg = getattr(e, "en", None) or f"{type(e).__name__}: {e}"
        zh = getattr(e, "zh", None) or "签章失败"
        return _failed(path, str(zh), _tsa_hint(str(msg)), t)


def _where(job: SignJob, data: bytes) -> tuple[SealBoxSpec, SealLook | None]:
    if job.box is None:
        if job.picture is None:
            raise SkillcertError("没有印章图形", "no seal drawing to place")
        return plan(data, job.placement or Placement(), job.picture, job.identity.seal_kind)
    if job.picture is None:
        return job.box, None  # an empty appearance
    if job.box.rect_pt is None:  # an existing field: the seal fits whatever box it has
        return job.box, SealLook(job.picture)
    x, y, w, h = job.box.rect_pt
    return plan(data, Placement(box=(job.box.page, x, y, w, h)), job.picture, job.box.kind)


def _tsa_hint(en: str) -> str:
    if "timestamp" in en.lower() or "time stamp" in en.lower():
        return (
            f"{en} — start the demo services with `skillcert pki serve`, set [seal] tsa_url in settings.toml, "
            "or seal without a timestamp with --level B-B"
        )
    return en


def _stale_parts(out_dir: Path) -> None:
    """Temporary files of a run killed mid-write (``.<name>.<random>.part``): never a result."""
    for part in out_dir.glob(".*.part"):
        part.unlink(missing_ok=True)


def _resumable(files: list[Path], job: SignJob) -> tuple[list[FileResult], list[Path]]:
    """(results for files an earlier run sealed and whose output is intact, the files still to do)."""
    done = {row.input: row for row in read_manifest(job.manifest_path) if row.status in ("signed", "done")}
    results: list[FileResult] = []
    todo: list[Path] = []
    seen: set[str] = set()
    for p in files:
        prior = done.get(str(p))
        out = Path(prior.output) if prior else None
        if prior and out and out.is_file() and hashlib.sha256(out.read_bytes()).hexdigest() == prior.sha256:
            results.append(FileResult(str(p), "done", prior.output, "已在上次运行中签章", "sealed by an earlier run"))
        elif p.name in seen:
            results.append(
                FileResult(
                    str(p),
                    "failed",
                    None,
                    f"同名文件 {p.name} 已在本批中",
                    f"another input in this batch is named {p.name}",
                )
            )
        else:
            seen.add(p.name)
            todo.append(p)
    return results, todo


def sign_files(
    paths: Iterable[Path], job: SignJob, *, progress: Callable[[int], None] | None = None
) -> list[FileResult]:
    files = [Path(os.path.abspath(p)) for p in paths]  # the manifest names files the same from any directory
    job = replace(job, out_dir=Path(os.path.abspath(job.out_dir)))
    job.out_dir.mkdir(parents=True, exist_ok=True)
    _stale_parts(job.out_dir)
    results, todo = _resumable(files, job)
    if progress and results:
        progress(len(results))
    level = job.options.level.value
    with ManifestWriter(job.manifest_path) as manifest:

        def record(r: FileResult) -> None:
            results.append(r)
            manifest.append([r.row(level)])
            if progress:
                progress(1)

        if job.workers <= 1 or len(todo) < 4:
            _init(job)
            for p in todo:
                record(_one(p))
            return results
        import multiprocessing

        _init(job)  # the key opens here first: one bilingual error before any worker starts
        _STATE.clear()
        try:
            with ProcessPoolExecutor(
                max_workers=job.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(job,),
            ) as pool:
                pending: set[Future[FileResult]] = set()
                queue = iter(todo)
                window = job.workers * 4  # bounded: tens of thousands of files never all in flight
                while True:
                    for p in queue:
                        pending.add(pool.submit(_one, p))
                        if len(pending) >= window:
                            break
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        record(f.result())
        except BrokenProcessPool as e:
            raise SkillcertError(
                f"签章工作进程意外退出（{e}）；已写出的文件完整可用，重新运行同一命令即可",
                f"a signing worker process ended unexpectedly ({e}); the files written so far are whole: rerun the command",
            ) from e
    return results


def check_tsa(options: SealOptions, *, timeout: float = 3.0) -> None:
    """Before a batch: the level's TSA is configured and answers, or one error naming the fixes."""
    import socket
    from urllib.parse import urlsplit

    from sign import SealError

    if not options.level.timestamped:
        return
    fixes_zh = "运行 `skillcert pki serve` 启动演示服务、在 settings.toml 的 [seal] 中设置 tsa_url，或用 --level B-B 不加时间戳"
    fixes_en = (
        "start the demo services with `skillcert pki serve`, set [seal] tsa_url in settings.toml, "
        "or seal without a timestamp with --level B-B"
    )
    if not options.tsa_url:
        raise SealError(
            f"{options.level} 需要时间戳服务（TSA），但设置中没有：{fixes_zh}",
            f"{options.level} needs a time-stamping service (TSA) and none is configured: {fixes_en}",
        )
    url = urlsplit(options.tsa_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=timeout).close()
    except OSError as e:
        raise SealError(
            f"时间戳服务 {options.tsa_url} 无法连接（{e}）：{fixes_zh}",
            f"the time-stamping service {options.tsa_url} cannot be reached ({e}): {fixes_en}",
        ) from e
