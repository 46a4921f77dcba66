"""Institutions sealing PDFs they already have (issue 14), end to end through ``skillcert sign``.

A corpus of third-party PDFs (:mod:`tests.third_party_pdfs`: Chromium, fpdf2, a form, a
pre-signed file, PDF 2.0, object streams, PDF/A, 30 pages) is sealed once per module with the
demo PKI the command starts by itself; then each file is rasterised (the red seal is where it was
asked for), judged offline by pyHanko's ``adesverify`` and by poppler's ``pdfsig``, and checked by
``skillcert verify`` for the seal-level verdict that names the institution.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from registry import Registry, institution_from_toml
from skillcert.cli import cli
from skillcert.demo import DEMO_DIR
from skillcert.seals import setup_demo_pki
from skillcert.settings import Settings

from .adesverify import adesverify_offline
from .third_party_pdfs import ANCHOR, Corpus, build_corpus

IDENTITY = "S000011084012-institution"
INSTITUTION = "北京市海淀区明德职业技能培训学校"
SEAL_PT = 40 * 72 / 25.4
SEALABLE = ("chromium", "fpdf2", "acroform", "pdf20", "objstm", "pdfa")


@dataclass(frozen=True)
class Home:
    home: Path
    env: dict[str, str]
    root: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env={**self.env, **(env or {})}, catch_exceptions=False)


def make_home(folder: Path) -> Home:
    home = folder / "home"
    home.mkdir(parents=True)
    env = {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"}
    s = Settings.from_env(env)
    with Registry.create(s.registry_path) as reg:
        reg.institutions.add(
            institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")), actor="test"
        )
        setup_demo_pki(s, reg)
    return Home(home, env, home / "pki" / "certs" / "root.pem")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return make_home(tmp_path_factory.mktemp("sign-docs"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    pytest.importorskip("fpdf")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    return build_corpus(tmp_path_factory.mktemp("corpus"), chromium)


@dataclass(frozen=True)
class Sealed:
    out: dict[str, Path]  # mode -> output folder
    results: dict[str, Any]  # mode -> the command's JSON
    inputs_before: dict[Path, str]

    def file(self, mode: str, name: str) -> Path:
        return self.out[mode] / f"{name}.pdf"


@pytest.fixture(scope="module")
def sealed(home: Home, corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Sealed:
    """Each placement mode once; the default mode with two worker processes."""
    out = tmp_path_factory.mktemp("sealed")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.files.values()}
    have = [n for n in SEALABLE if n in corpus.files]
    modes: dict[str, list[str]] = {
        "default": [*(str(corpus[n]) for n in have), str(corpus["presigned"]), "--force", "--workers", "2"],
        "anchor": [str(corpus[n]) for n in have if n != "acroform"]
        + ["--anchor", ANCHOR, "--workers", "1", "--level", "B-B"],
        "box": [str(corpus["fpdf2"]), "--seal-box", "1,400,80,113,113", "--workers", "1", "--level", "B-B"],
        "perforation": [str(corpus["long30"]), "--perforation", "--workers", "1"],
        "rotated": [str(corpus["rotated"]), "--workers", "1", "--level", "B-B"],
        "rotated-perforation": [str(corpus["rotated"]), "--perforation", "--workers", "1", "--level", "B-B"],
        "field": [str(corpus["sigfield"]), "--seal-field", "Signature1", "--workers", "1", "--level", "B-B"],
        "refused": [str(corpus["encrypted"]), str(corpus["damaged"]), "--workers", "1"],
    }
    folders, results = {}, {}
    for mode, args in modes.items():
        folders[mode] = out / mode
        r = home.run("sign", "--identity", IDENTITY, "--out", str(folders[mode]), "--json", *args)
        assert r.exit_code == (11 if mode == "refused" else 0), (mode, r.output)
        results[mode] = json.loads(r.stdout)
    return Sealed(folders, results, before)


# -- where the seal is ------------------------------------------------------------------------
def _red(pdf: Path, page: int, rect: tuple[float, float, float, float], scale: float = 2.0) -> tuple[int, int]:
    """(red pixels inside ``rect``, red pixels elsewhere) on the rendered page, forms drawn."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        doc.init_forms()
        pg = doc[page]
        height = pg.get_height()
        img = pg.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    finally:
        doc.close()
    x, y, w, h = rect
    box = (
        int(x * scale) - 1,
        int((height - y - h) * scale) - 1,
        int((x + w) * scale) + 1,
        int((height - y) * scale) + 1,
    )
    inside = _count_red(img.crop((box[0], box[1], box[2] + 1, box[3] + 1)))
    return inside, _count_red(img) - inside


def _count_red(img: Any) -> int:
    from PIL import ImageChops

    r, g, b = img.split()
    mask = ImageChops.multiply(
        ImageChops.multiply(r.point(lambda v: 255 if v > 150 else 0), g.point(lambda v: 255 if v < 100 else 0)),
        b.point(lambda v: 255 if v < 100 else 0),
    )
    return int(mask.histogram()[255])


def _widgets(pdf: Path) -> list[tuple[int, tuple[float, float, float, float], Any]]:
    """(page, x/y/w/h, has /AP /N) of each signature widget with a non-zero box."""
    import pikepdf

    out = []
    with pikepdf.open(pdf) as doc:
        for k, page in enumerate(doc.pages):
            for annot in page.get("/Annots", []):
                if annot.get("/FT") != "/Sig" and annot.get("/Parent", {}).get("/FT") != "/Sig":
                    continue
                x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                if x2 - x1 and y2 - y1:
                    ok = "/AP" in annot and isinstance(annot.AP.get("/N"), pikepdf.Stream)
                    out.append((k, (x1, y1, x2 - x1, y2 - y1), ok))
    return out


def test_the_red_seal_is_drawn_where_it_was_asked(sealed: Sealed, corpus: Corpus) -> None:
    cases = [("default", n) for n in (*SEALABLE, "presigned") if n in corpus.files]
    cases += [("anchor", n) for n in SEALABLE if n in corpus.files and n != "acroform"]
    cases += [("box", "fpdf2"), ("field", "sigfield")]
    for mode, name in cases:
        path = sealed.file(mode, name)
        (widget,) = [w for w in _widgets(path)]
        page, rect, has_ap = widget
        assert has_ap, (mode, name)
        size = {"box": 113, "field": 120}.get(mode, SEAL_PT)
        assert page == 0 and abs(rect[2] - size) < 0.5, (mode, name, widget)
        if mode == "box":
            assert rect == (400, 80, 113, 113)
        inside, outside = _red(path, page, rect)
        assert inside > 1500 and outside < 50, (mode, name, inside, outside)
        assert _red(corpus[name], page, rect)[0] == 0  # nothing red there before
    # the anchor: the seal is centred over the last "（盖章）" (pdfium finds it again in the output)
    import pypdfium2 as pdfium

    for name in (n for n in SEALABLE if n in corpus.files and n != "acroform"):
        doc = pdfium.PdfDocument(str(corpus[name]))
        tp = doc[0].get_textpage()
        start, count = tp.search(ANCHOR, match_case=True).get_next()  # type: ignore[misc]
        boxes = [tp.get_charbox(i) for i in range(start, start + count)]
        cx, cy = (
            (min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2,
            (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2,
        )
        doc.close()
        ((_, (x, y, w, h), _),) = _widgets(sealed.file("anchor", name))
        assert abs(x + w / 2 - cx) < 1 and abs(y + h / 2 - cy) < 1, (name, (x, y, w, h), (cx, cy))


def test_perforation_seal_one_slice_per_page_one_signature(sealed: Sealed, corpus: Corpus, tmp_path: Path) -> None:
    """骑缝章 over 30 pages: each page shows its slice at the right edge, in the revision the one
    signature covers (rendered from the signed bytes alone)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    path = sealed.file("perforation", "long30")
    data = path.read_bytes()
    sigs = [s for s in PdfFileReader(io.BytesIO(data)).embedded_signatures if s.sig_object_type == "/Sig"]
    assert len(sigs) == 1
    br = sigs[0].byte_range
    signed = tmp_path / "signed-revision.pdf"
    signed.write_bytes(data[: int(br[2]) + int(br[3])])
    (widget,) = _widgets(path)
    assert widget[0] == 29 and widget[2]
    slice_w = SEAL_PT / 30
    import pikepdf

    with pikepdf.open(path) as doc:
        width = [float(p.mediabox[2]) for p in doc.pages]
        height = [float(p.mediabox[3]) for p in doc.pages]
    for k in range(30):
        rect = (width[k] - slice_w, (height[k] - SEAL_PT) / 2, slice_w, SEAL_PT)
        inside, outside = _red(signed, k, rect, scale=3.0)
        assert inside > 20 and outside == 0, (k, inside, outside)


def _shown_red(pdf: Path, page: int, box: tuple[float, float, float, float], scale: float = 2.0) -> tuple[int, int]:
    """Red pixels inside ``box`` (x, y, w, h in the page's coordinates as shown, /Rotate applied), and elsewhere."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        doc.init_forms()
        img = doc[page].render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    finally:
        doc.close()
    x, y, w, h = box
    height = img.height / scale
    crop = img.crop(
        (int(x * scale) - 1, int((height - y - h) * scale) - 1, int((x + w) * scale) + 2, int((height - y) * scale) + 2)
    )
    inside = _count_red(crop)
    return inside, _count_red(img) - inside


def test_rotated_pages_get_an_upright_seal_where_the_reader_sees_it(sealed: Sealed, corpus: Corpus) -> None:
    """Scans come with /Rotate: the default spot is the lower right of the page as shown, the
    drawing reads upright (the same picture as on an unrotated page), and a 骑缝章 runs along
    the right edges as shown."""
    from PIL import ImageChops

    mm = 72 / 25.4
    shown = (842.0, 595.0)  # the last page, A4 with /Rotate 270: landscape as shown
    box = (shown[0] - 25 * mm - SEAL_PT, 30 * mm, SEAL_PT, SEAL_PT)
    inside, outside = _shown_red(sealed.file("rotated", "rotated"), 2, box)
    assert inside > 1500 and outside < 50, (inside, outside)

    def seal_image(pdf: Path, page: int, b: tuple[float, float, float, float]) -> Any:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(pdf))
        doc.init_forms()
        img = doc[page].render(scale=2, may_draw_forms=True).to_pil().convert("RGB")
        doc.close()
        x, y, w, h = b
        height = img.height / 2
        return img.crop((int(x * 2), int((height - y - h) * 2), int((x + w) * 2), int((height - y) * 2)))

    upright = seal_image(sealed.file("default", "fpdf2"), 0, (595.28 - 25 * mm - SEAL_PT, 30 * mm, SEAL_PT, SEAL_PT))
    turned = seal_image(sealed.file("rotated", "rotated"), 2, box)
    diff = ImageChops.difference(upright.convert("L"), turned.convert("L").resize(upright.size))
    assert diff.point(lambda v: 255 if v > 96 else 0).histogram()[255] < 0.02 * upright.width * upright.height
    for k, (w, h) in enumerate([(595.28, 841.89), (841.89, 595.28), (841.89, 595.28)]):
        cut = SEAL_PT / 3
        inside, outside = _shown_red(
            sealed.file("rotated-perforation", "rotated"), k, (w - cut, (h - SEAL_PT) / 2, cut, SEAL_PT), 3.0
        )
        assert inside > 50 and outside == 0, (k, inside, outside)


def test_pdfa_input_stays_pdfa(sealed: Sealed) -> None:
    import pikepdf

    path = sealed.file("default", "pdfa")
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                if x2 - x1 and y2 - y1:
                    assert isinstance(annot.AP.N, pikepdf.Stream) and annot.AP.N.Subtype == "/Form"


def test_inputs_untouched_and_bad_files_refused_with_reasons(sealed: Sealed, corpus: Corpus) -> None:
    for p, digest in sealed.inputs_before.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == digest, p
    files = {Path(f["source"]).stem: f for f in sealed.results["refused"]["files"]}
    assert files["encrypted"]["outcome"] == "failed" and "加密" in files["encrypted"]["zh"]
    assert "encrypted" in files["encrypted"]["en"]
    assert files["damaged"]["outcome"] == "failed" and "损坏" in files["damaged"]["zh"]
    assert "damaged" in files["damaged"]["en"] and "BytesIO" not in files["damaged"]["en"]
    assert not list(sealed.out["refused"].glob("*.pdf"))
    for mode in ("default", "anchor"):
        sealed_files = sealed.results[mode]["files"]
        assert all(f["outcome"] == "signed" for f in sealed_files), sealed_files
        for f in sealed_files:  # an incremental update: the input's bytes come first, unchanged
            assert Path(f["out"]).read_bytes().startswith(Path(f["source"]).read_bytes())


def test_earlier_signature_of_a_presigned_input_still_validates(sealed: Sealed, corpus: Corpus) -> None:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with sealed.file("default", "presigned").open("rb") as fh:
        sigs = PdfFileReader(fh).embedded_signatures
        assert [str(s.field_name) for s in sigs][:2] == ["Approval", "Seal1-institution"]
        vc = ValidationContext(trust_roots=[load_cert_from_pemder(str(corpus.stranger_root))])
        status = validate_pdf_signature(sigs[0], vc)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.modification_level is not None and status.modification_level <= ModificationLevel.FORM_FILLING


def test_a_perforation_seal_is_refused_on_a_presigned_file(home: Home, corpus: Corpus, tmp_path: Path) -> None:
    r = home.run(
        "sign", str(corpus["presigned"]), "--identity", IDENTITY, "--out", str(tmp_path), "--perforation",
        "--force", "--level", "B-B", "--json",
    )  # fmt: skip
    assert r.exit_code == 11
    (f,) = json.loads(r.stdout)["files"]
    assert "骑缝章" in f["zh"] and "earlier signature" in f["en"]


# -- independent validators -------------------------------------------------------------------


def _all_sealed(
    sealed: Sealed, modes: tuple[str, ...] = ("default", "anchor", "box", "field", "perforation")
) -> list[Path]:
    return sorted(p for mode in modes for p in sealed.out[mode].glob("*.pdf"))


@pytest.mark.system
def test_pyhanko_adesverify_offline_accepts_every_sealed_file(sealed: Sealed, home: Home) -> None:
    files = _all_sealed(sealed, ("default", "perforation"))  # B-LTA (anchor, box: B-B)
    verdicts = adesverify_offline(home.root, files)
    for f, (result, out) in verdicts.items():
        ours = [ln for ln in out if ln.startswith("Seal1-institution:")]
        assert ours and all(ln.endswith(":VALID") for ln in ours), (f, result, out)
        # the pre-signed input's earlier B-B signature has no revocation data and another root: not ours to pass
        others = [ln for ln in out if not ln.startswith("Seal1-institution:")]
        assert result == "ok" or (f.stem == "presigned" and all(ln.startswith("Approval:") for ln in others))


@pytest.mark.system
def test_pdfsig_finds_every_signature_intact(
    sealed: Sealed, home: Home, tmp_path: Path, require_program: Callable[[str], str]
) -> None:
    pdfsig, certutil = require_program("pdfsig"), require_program("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{nss}", "-n", "demo-root", "-t", "CT,C,C", "-a", "-i", str(home.root)],
        check=True,
        capture_output=True,
    )
    for path in _all_sealed(sealed):
        r = subprocess.run([pdfsig, "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, timeout=60)
        # poppler 22.12 cannot check an RFC 3161 document timestamp (type "unknown", "not yet been verified"):
        # every CMS signature it can check must be valid
        blocks = r.stdout.split("Signature #")[1:]
        seals = [b for b in blocks if "Signature Type: unknown" not in b]
        expected = 2 if path.stem == "presigned" else 1
        assert len(seals) == expected and all("Signature is Valid" in b for b in seals), (path.name, r.stdout)
        assert "Invalid" not in r.stdout and "Digest Mismatch" not in r.stdout, (path.name, r.stdout)


# -- the verdict of its own -------------------------------------------------------------------
def test_verify_names_the_institution_and_is_not_a_certificate_verdict(
    sealed: Sealed, home: Home, corpus: Corpus
) -> None:
    r = home.run("verify", str(sealed.file("default", "chromium" if "chromium" in corpus.files else "fpdf2")), "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 23, r.output  # never 0: a script reads 0 as a valid certificate
    assert data["kind"] == "sealed_document" and data["bottom_line"] == "sealed", data
    assert data["institution_name"] == INSTITUTION and data["institution_code"] == IDENTITY.split("-")[0]
    assert f"sealed by {INSTITUTION} with its filed key on " in data["en"]
    assert "unchanged since; not a certificate of the register" in data["en"]
    assert "盖章" in data["zh"] and "不是登记簿中的证书" in data["zh"]
    # a pre-signed input: the earlier signer is listed, not judged
    r = home.run("verify", str(sealed.file("default", "presigned")), "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 23 and data["other_signers"] == ["某某科技有限公司"], data


def test_a_cancelled_institutions_key_seals_nothing_after_the_cancellation(sealed: Sealed, home: Home) -> None:
    """The filed key alone is not enough: a seal made (timestamp) after the institution's filing was
    cancelled is not "sealed"; one made before stays so; without a timestamp it cannot be shown."""
    from verify.sealed_document import DocumentVerdict, FiledSigner, check_sealed_document, signer_fingerprints

    data = sealed.file("default", "fpdf2").read_bytes()
    (fp,) = signer_fingerprints(data)

    def judged(status: str, since: str | None, file: bytes = data) -> tuple[DocumentVerdict, str]:
        who = FiledSigner(IDENTITY.split("-")[0], INSTITUTION, frozenset({fp}), status, since)
        report = check_sealed_document(file, (home.root,), {fp: who}.get)
        (filing,) = [c for c in report.checks if c.name == "institution"]
        return report.bottom_line, filing.outcome.value

    assert judged("active", None) == (DocumentVerdict.SEALED, "pass")
    assert judged("cancelled", "2000-01-01") == (DocumentVerdict.INVALID, "fail")  # sealed long after
    assert judged("merged", "2000-01-01") == (DocumentVerdict.INVALID, "fail")
    assert judged("cancelled", "2999-01-01") == (DocumentVerdict.SEALED, "pass")  # sealed before it
    untimed = sealed.file("box", "fpdf2").read_bytes()  # B-B: a claimed signing time only
    assert judged("cancelled", "2999-01-01", untimed)[1] == "unknown"


def test_verify_manifest_checks_every_row_later(sealed: Sealed, home: Home, tmp_path: Path) -> None:
    manifest = sealed.out["default"] / "manifest.csv"
    r = home.run("verify", "--manifest", str(manifest), "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 23 and set(data["counts"]) == {"sealed"}, data
    import csv

    rows = list(csv.DictReader(io.StringIO(manifest.read_text(encoding="utf-8"))))
    assert {row["status"] for row in rows} == {"signed"}
    assert all(len(row["sha256"]) == 64 and len(row["signer"]) == 64 and row["level"] == "B-LTA" for row in rows)
    assert all(hashlib.sha256(Path(row["output"]).read_bytes()).hexdigest() == row["sha256"] for row in rows)
    # a copy whose one output was appended to after sealing: the manifest check says so
    copy = tmp_path / "copy"
    shutil.copytree(sealed.out["default"], copy)
    moved = [row | {"output": str(copy / Path(row["output"]).name)} for row in rows]
    with (copy / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(moved)
    victim = Path(moved[0]["output"])
    victim.write_bytes(victim.read_bytes() + b"\n% appended\n")
    r = home.run("verify", "--manifest", str(copy / "manifest.csv"), "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 20 and data["counts"].get("changed") == 1, data


# -- ergonomics -------------------------------------------------------------------------------
def test_a_missing_tsa_is_named_with_the_fix(home: Home, corpus: Corpus, tmp_path: Path) -> None:
    other = tmp_path / "home"
    shutil.copytree(home.home, other)
    (other / "settings.toml").write_text('[seal]\ntsa_url = "http://127.0.0.1:9/tsa"\n', encoding="utf-8")
    env = {"SKILLCERT_HOME": str(other)}
    r = home.run("sign", str(corpus["fpdf2"]), "--identity", IDENTITY, "--out", str(tmp_path / "o"), env=env)
    assert r.exit_code == 10, r.output
    for fix in ("skillcert pki serve", "tsa_url", "--level B-B"):
        assert fix in r.stderr, r.stderr
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").glob("*.pdf"))
    r = home.run(
        "sign", str(corpus["fpdf2"]), "--identity", IDENTITY, "--out", str(tmp_path / "o"), "--level", "B-B", env=env
    )
    assert r.exit_code == 0 and (tmp_path / "o" / "fpdf2.pdf").is_file(), r.output


def test_resumes_after_sigkill_without_duplicates_or_half_files(home: Home, corpus: Corpus, tmp_path: Path) -> None:
    """Killed with SIGKILL mid-batch, the same command run again finishes: every input sealed
    exactly once, every output whole, nothing half-written left behind."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(8):
        shutil.copyfile(corpus["fpdf2"], inputs / f"doc{i}.pdf")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "skillcert", "sign", *map(str, sorted(inputs.glob("*.pdf"))), "--identity", IDENTITY,
           "--out", str(out), "--workers", "1", "--level", "B-T"]  # fmt: skip
    env = {**os.environ, **home.env}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    manifest = out / "manifest.csv"
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and manifest.read_text(encoding="utf-8").count("\n") >= 3:  # header + 2 rows
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = manifest.read_text(encoding="utf-8").count("\n") - 1
    assert 2 <= first < 8, first
    r = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)["counts"]
    assert counts["signed"] + counts["done"] == 8 and counts["done"] >= first, counts
    import csv

    rows = list(csv.DictReader(io.StringIO(manifest.read_text(encoding="utf-8"))))
    sealed_rows = [row for row in rows if row["status"] in ("signed", "done")]
    assert sorted(row["input"] for row in sealed_rows) == sorted(str(p) for p in inputs.glob("*.pdf"))
    assert not list(out.glob(".*"))  # no temporary file left
    src = corpus["fpdf2"].read_bytes()
    for row in sealed_rows:
        data = Path(row["output"]).read_bytes()
        assert data.startswith(src) and hashlib.sha256(data).hexdigest() == row["sha256"]
        assert data.rstrip().endswith(b"%%EOF")


def test_site_upload_check_gives_the_sealed_document_verdict(sealed: Sealed, home: Home, tmp_path: Path) -> None:
    """The site (HTML page and JSON API) over a published snapshot: the institution named from the
    filed fingerprint in the directory, the verdict ``sealed``, never a certificate's ``valid``."""
    from starlette.testclient import TestClient

    from verify import SiteSettings, create_app

    site_home = tmp_path / "home"
    shutil.copytree(home.home, site_home)
    assert home.run("publish", env={"SKILLCERT_HOME": str(site_home)}).exit_code == 0
    settings = SiteSettings.from_home(site_home, trust_roots=(site_home / "pki" / "certs" / "root.pem",))
    data = sealed.file("default", "fpdf2").read_bytes()
    upload = {"file": ("letter.pdf", data, "application/pdf")}
    with TestClient(create_app(settings)) as c:
        api = c.post("/api/v1/check", files=upload)
        assert api.status_code == 200, api.text
        body = api.json()
        assert body["kind"] == "sealed_document" and body["bottom_line"] == "sealed", body
        assert body["institution_name"] == INSTITUTION and "not a certificate of the register" in body["en"]
        page = c.post("/check", files=upload)
        assert page.status_code == 200 and INSTITUTION in page.text and "不是登记簿中的证书" in page.text
        assert "verdict-document" in page.text
        # a sealed file changed afterwards is not ``sealed``
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.stamp import TextStamp, TextStampStyle

        w = IncrementalPdfFileWriter(io.BytesIO(data))
        TextStamp(w, style=TextStampStyle(stamp_text="ALTERED")).apply(0, 100, 600)
        out = io.BytesIO()
        w.write(out)
        body = c.post("/api/v1/check", files={"file": ("x.pdf", out.getvalue(), "application/pdf")}).json()
        assert body["bottom_line"] == "invalid", body
