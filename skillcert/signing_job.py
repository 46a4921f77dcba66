"""``skillcert sign``: seal PDFs an institution already has (e.g. from its own system).

Never overwrites an input; skips files that already carry a signature unless ``force``;
a file that fails is reported and the batch goes on.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sign import SealBoxSpec, Sealer, SealOptions

from .files import write_atomic
from .seals import IdentitySpec, signers_for

__all__ = ["FileResult", "SignJob", "sign_files"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignJob:
    identity: IdentitySpec
    box: SealBoxSpec
    options: SealOptions
    out_dir: Path
    force: bool = False
    workers: int = 1


@dataclass(frozen=True, slots=True)
class FileResult:
    source: str
    outcome: str  # "signed" · "skipped" · "failed"
    out: str | None
    reason_zh: str = ""
    reason_en: str = ""
    ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "outcome": self.outcome,
            "out": self.out,
            "zh": self.reason_zh,
            "en": self.reason_en,
            "ms": round(self.ms, 1),
        }


_STATE: dict[str, Any] = {}


def _init(job: SignJob) -> None:
    _STATE["job"] = job
    _STATE["sealer"] = Sealer(signers_for([job.identity]), job.options)


def _already_signed(data: bytes) -> bool:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return bool(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)


def _one(path: Path) -> FileResult:
    job: SignJob = _STATE["job"]
    t = time.perf_counter()
    out = job.out_dir / path.name
    try:
        if out.resolve() == path.resolve():
            return FileResult(
                str(path), "failed", None, "输出会覆盖输入，已拒绝", "the output would overwrite the input; refused"
            )
        data = path.read_bytes()
        if not data.startswith(b"%PDF-"):
            return FileResult(str(path), "failed", None, "不是 PDF 文件", "not a PDF file")
        if not job.force and _already_signed(data):
            return FileResult(
                str(path), "skipped", None, "已有签名（用 --force 再签）", "already signed (use --force to add a seal)"
            )
        sealed = _STATE["sealer"].seal(data, [job.box])
        write_atomic(out, sealed)
        return FileResult(str(path), "signed", str(out), ms=(time.perf_counter() - t) * 1000)
    except Exception as e:  # one bad file never stops the batch: it is reported with its reason
        msg = getattr(e, "en", None) or f"{type(e).__name__}: {e}"
        zh = getattr(e, "zh", None) or "签章失败"
        return FileResult(str(path), "failed", None, str(zh), str(msg), (time.perf_counter() - t) * 1000)


def sign_files(
    paths: Iterable[Path], job: SignJob, *, progress: Callable[[int], None] | None = None
) -> list[FileResult]:
    files = list(paths)
    results: list[FileResult] = []
    if job.workers <= 1 or len(files) < 4:
        _init(job)
        for p in files:
            results.append(_one(p))
            if progress:
                progress(1)
        return results
    import multiprocessing

    with ProcessPoolExecutor(
        max_workers=job.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=(job,)
    ) as pool:
        for r in pool.map(_one, files, chunksize=8):
            results.append(r)
            if progress:
                progress(1)
    return results
