"""Benchmark: ``skillcert sign`` on a folder of PDFs an institution already has (issue 14).

N mixed third-party PDFs (made up front, not timed: pikepdf-written one- and three-page letters,
one with an AcroForm, PDF 2.0, object streams + linearized; each file distinct) are sealed by the
batch job itself (``skillcert.signing_job.sign_files``: per-file intake checks, the drawn seal as
the widget's appearance at the last page's default spot, temp-then-rename output, the manifest)
with 2 worker processes at PAdES B-B (a timestamp costs whatever the TSA costs: ≈ 92 ms per
request on the demo certomancer, FIELD-NOTES). The baseline, in the same run on ``--baseline``
of the same PDFs across the same number of processes: stock pyHanko the way its documentation
shows a visible stamp — ``SimpleSigner.load_pkcs12`` per file, ``StaticStampStyle.from_pdf_file``
for the seal picture, ``signers.sign_pdf`` without ``bytes_reserved``. Prints PDFs/s for both,
the ratio, the goal, and peak memory (the parent and the largest worker). It prints figures; it
never fails on a timing. Bounded: every worker has a timeout.

    ./run bench batchsign [--count 200] [--baseline 60] [--workers 2]     # quick
    ./run bench batchsign --count 10000                                    # the issue's full run
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _harness import ok  # noqa: E402

GOAL_RATE = 40.0  # PDFs/s on 2 cores, drawn seal, B-B
GOAL_RATIO = 3.0  # against stock pyHanko with a visible stamp
IDENTITY = "S000011084012-institution"


def _letter(pages: int, title: str) -> Any:
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    for k in range(pages):
        text = f"BT /F1 14 Tf 72 770 Td ({title} - page {k + 1} of {pages}) Tj ET\n".encode()
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(text)
    return pdf


def _templates() -> tuple[list[tuple[str, dict[str, Any]]], Any]:
    import pikepdf
    from pikepdf import Dictionary, Name

    form = _letter(1, "Form")
    field = form.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=pikepdf.String("name"),
            V=pikepdf.String("Zhang San"),
            Rect=[72, 700, 272, 720],
            P=form.pages[0].obj,
        )
    )
    form.pages[0].obj.Annots = form.make_indirect([field])
    form.Root.AcroForm = Dictionary(Fields=[field])
    return [
        ("letter", {}),
        ("three-pages", {}),
        ("form", {}),
        ("pdf20", {"force_version": "2.0"}),
        ("objstm", {"object_stream_mode": pikepdf.ObjectStreamMode.generate, "linearize": True}),
    ], form


def make_inputs(folder: Path, count: int) -> list[Path]:
    kinds, form = _templates()
    paths = []
    for i in range(count):
        kind, save = kinds[i % len(kinds)]
        pdf = form if kind == "form" else _letter(3 if kind == "three-pages" else 1, kind)
        pdf.docinfo["/Title"] = f"document {i}"  # every file distinct
        path = folder / f"{i:06d}-{kind}.pdf"
        pdf.save(path, **save)
        paths.append(path)
    return paths


def _home(folder: Path) -> Any:
    from registry import Registry, institution_from_toml
    from skillcert.demo import DEMO_DIR
    from skillcert.seals import setup_demo_pki
    from skillcert.settings import Settings

    s = Settings.from_env({"SKILLCERT_HOME": str(folder / "home"), "SKILLCERT_ACTOR": "bench"})
    s.home.mkdir(parents=True)
    with Registry.create(s.registry_path) as reg:
        reg.institutions.add(
            institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")), actor="bench"
        )
        setup_demo_pki(s, reg)
    return s


# -- stock pyHanko (the baseline) ------------------------------------------------------------
def _stock_one(args: tuple[str, str, bytes, str, str]) -> int:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.stamp import StaticStampStyle

    src, p12, password, seal_pdf, out = args
    signer = SimpleSigner.load_pkcs12(p12, passphrase=password)
    with open(src, "rb") as f:
        data = (
            signers.PdfSigner(
                signers.PdfSignatureMetadata(field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES),
                signer=signer,
                new_field_spec=fields.SigFieldSpec(sig_field_name="Seal", on_page=-1, box=(411, 85, 524, 198)),
                stamp_style=StaticStampStyle.from_pdf_file(seal_pdf),
            )
            .sign_pdf(IncrementalPdfFileWriter(f))
            .getvalue()
        )
    Path(out).write_bytes(data)
    return len(data)


class _ChildPeak:
    """The largest peak RSS (VmHWM) of this process's children, sampled from /proc while running
    (``RUSAGE_CHILDREN`` would count the parent's pages at fork, before the spawned worker execs)."""

    def __init__(self) -> None:
        import threading

        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import os

        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status", encoding="ascii") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
            except OSError:
                continue
            if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                self.mb = max(self.mb, int(fields["VmHWM"].split()[0]) / 1024)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def __enter__(self) -> _ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--baseline", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()

    from render.seal_picture import seal_pdf
    from sign import PadesLevel, SealOptions
    from sign.appearance import SealPicture
    from skillcert.seals import DEMO_PASSWORD, identity_spec
    from skillcert.signing_job import SignJob, sign_files

    with tempfile.TemporaryDirectory(prefix="skillcert-bench-batchsign-") as tmp:
        d = Path(tmp)
        (d / "in").mkdir()
        t = time.perf_counter()
        s = _home(d)
        paths = make_inputs(d / "in", a.count)
        print(f"inputs: {a.count} mixed PDFs made in {time.perf_counter() - t:.1f} s (not timed)")
        from registry import Registry

        with Registry.open(s.registry_path) as reg:
            rec = reg.seals.identity(IDENTITY)
            seal = next(x for x in reg.institutions.get(rec.institution_code).seals if x.kind == rec.seal_kind)
            spec = identity_spec(rec)
        picture = SealPicture(seal_pdf(seal))
        job = SignJob(
            identity=spec,
            options=SealOptions(level=PadesLevel.B_B),
            out_dir=d / "out",
            picture=picture,
            workers=a.workers,
        )
        t = time.perf_counter()
        with _ChildPeak() as peak:
            results = sign_files(paths, job)
        wall = time.perf_counter() - t
        signed = sum(1 for r in results if r.outcome == "signed")
        failed = [r for r in results if r.outcome != "signed"]
        rate = signed / wall
        ours_mb = peak.mb
        print(
            f"skillcert sign: {signed}/{a.count} sealed in {wall:.1f} s on {a.workers} workers = {rate:.1f} PDFs/s "
            f"(incl. worker start-up); failed {len(failed)}"
        )
        for r in failed[:3]:
            print(f"  {r.outcome} {r.source}: {r.reason_en}")

        seal_file = d / "seal.pdf"
        seal_file.write_bytes(picture.pdf)
        n = min(a.baseline, a.count)
        (d / "stock").mkdir()
        args = [
            (str(p), str(spec.identity.path), DEMO_PASSWORD, str(seal_file), str(d / "stock" / p.name))  # type: ignore[union-attr]
            for p in paths[:n]
        ]
        import multiprocessing

        with ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(_stock_one, args[: a.workers]))  # warm-up: imports in each worker, not timed
            t = time.perf_counter()
            list(pool.map(_stock_one, args, timeout=600))
            stock_wall = time.perf_counter() - t
        stock_rate = n / stock_wall
        ratio = rate / stock_rate
        print(
            f"stock pyHanko (visible StaticStampStyle, load_pkcs12 per file): {n} in {stock_wall:.1f} s = {stock_rate:.1f} PDFs/s"
        )
        print(f"ratio {ratio:.1f}x  (goal ≥ {GOAL_RATIO:.0f}x: {ok(ratio >= GOAL_RATIO)})")
        print(f"rate  {rate:.1f} PDFs/s on {a.workers} cores (goal ≥ {GOAL_RATE:.0f}: {ok(rate >= GOAL_RATE)})")
        parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (skillcert sign): parent {parent_mb:.0f} MB, largest worker {ours_mb:.0f} MB")


if __name__ == "__main__":
    main()
