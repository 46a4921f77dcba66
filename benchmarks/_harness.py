"""What the benchmarks share: a start-together group of worker processes, and stock pyHanko sealing
(the naive baseline the issue benchmarks compare with)."""

from __future__ import annotations

import io
import json
import resource
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ok", "p95", "peak_rss_mb", "run_workers", "stock_seal"]


def run_workers(cmds: Sequence[list[str]]) -> tuple[float, list[dict[str, Any]]]:
    """Start one process per command; each prints a line when ready, waits for ``go`` on stdin,
    then prints its result as one JSON line. The wall clock runs from "all ready" to "all done"."""
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for cmd in cmds]
    try:
        for p in procs:
            assert p.stdout is not None
            if not p.stdout.readline():
                raise SystemExit(f"a worker failed to start (exit {p.wait()})")
        t0 = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise SystemExit(f"a worker failed (exit {p.wait()})")
            results.append(json.loads(line))
        wall = time.perf_counter() - t0
    finally:
        for p in procs:  # on success they are exiting; on failure closing stdin tells a waiting worker to stop
            if p.stdin is not None:
                p.stdin.close()
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    return wall, results


def stock_seal(pdf: bytes, boxes: Sequence[Any], p12: Path, password: bytes) -> bytes:
    """Seal the way stock pyHanko does: a fresh ``SimpleSigner.load_pkcs12`` per signature and no
    ``bytes_reserved`` (so pyHanko signs twice to size the signature). ``boxes`` have ``kind``,
    ``page`` and ``rect_pt``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers import SimpleSigner

    data = pdf
    for i, box in enumerate(boxes):
        signer = SimpleSigner.load_pkcs12(str(p12), passphrase=password)
        x, y, w, h = box.rect_pt
        name = f"Seal{i + 1}-{box.kind}"
        data = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)),
            signers.PdfSignatureMetadata(field_name=name, subfilter=fields.SigSeedSubFilter.PADES),
            signer=signer,
            new_field_spec=fields.SigFieldSpec(
                sig_field_name=name, on_page=box.page, box=(round(x), round(y), round(x + w), round(y + h))
            ),
        ).getvalue()
    return data


def peak_rss_mb() -> float:
    """This process's peak resident set, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18] if len(xs) > 1 else xs[0]


def ok(good: bool) -> str:
    """How a figure stands against its target."""
    return "ok" if good else "MISSED"
