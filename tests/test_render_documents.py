"""The six reference documents (styles 一/二, Guangdong, replacement, proof, competition) rendered
from fixed demo data: golden rasters, the text layer, the QR code, fonts, PDF/A and the data inside.

``SKILLCERT_UPDATE_GOLDEN=1 pytest tests/test_render_documents.py`` rewrites tests/golden/*.png
and the README pictures docs/img/*.png from the same documents.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf
import pytest
import zxingcpp
from PIL import Image, ImageChops

import render
from render import DocumentKind, RenderedPdf, Renderer
from render.layout import MM
from render.pdfa import xmp_properties

from .render_fixtures import (
    CERT_ID,
    QUERY_URLS,
    SITE,
    TOKEN,
    Case,
    box_pt,
    demo_cases,
    inside,
    page_chars,
    page_text,
    png_bytes,
    rasterise,
    squash,
)

TESTS = Path(__file__).parent
GOLDEN_DIR = TESTS / "golden"
DOCS_IMG = TESTS.parent / "docs" / "img"
UPDATE = os.environ.get("SKILLCERT_UPDATE_GOLDEN") == "1"
CASES = demo_cases()
NAMES = list(CASES)

GOLDEN_DPI = 50
MAX_MEAN_DIFF = 1.5  # mean absolute difference of grey levels (0-255)
MAX_BAD_SHARE = 0.005  # share of pixels that may differ by more than BAD_LEVEL
BAD_LEVEL = 64
DOCS_DPI, DOCS_FALLBACK_DPI, DOCS_MAX_BYTES = 150, 110, 700_000
GOLDEN_MAX_BYTES = 60_000


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    with Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def rendered(renderer: Renderer) -> dict[str, RenderedPdf]:
    return {name: case.render(renderer) for name, case in CASES.items()}


@pytest.fixture
def golden(tmp_path: Path) -> Callable[[str, Image.Image], None]:
    """Compare a greyscale raster with tests/golden/<name>.png (or rewrite it when updating)."""

    def check(name: str, image: Image.Image) -> None:
        path = GOLDEN_DIR / f"{name}.png"
        if UPDATE:
            GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png_bytes(image))
            return
        if not path.exists():
            pytest.fail(f"no reference {path}; create it with SKILLCERT_UPDATE_GOLDEN=1")
        with Image.open(path) as ref_file:
            ref = ref_file.convert("L")
        assert ref.size == image.size, f"{name}: page raster is {image.size}, reference {ref.size}"
        hist = ImageChops.difference(ref, image.convert("L")).histogram()
        pixels = image.width * image.height
        mean = sum(level * n for level, n in enumerate(hist)) / pixels
        bad = sum(hist[BAD_LEVEL + 1 :]) / pixels
        if mean >= MAX_MEAN_DIFF or bad >= MAX_BAD_SHARE:
            diff = tmp_path / f"{name}.actual.png"
            image.save(diff)
            pytest.fail(
                f"{name} differs from {path.name}: mean |diff| {mean:.2f} (< {MAX_MEAN_DIFF}), "
                f"{bad:.2%} of pixels off by > {BAD_LEVEL} (< {MAX_BAD_SHARE:.1%}); this rendering is in {diff}; "
                "if the change is intended, rerun with SKILLCERT_UPDATE_GOLDEN=1"
            )

    return check


def docs_png(pdf: bytes) -> bytes:
    """The README picture: 150 dpi colour, 110 dpi if that is too big."""
    data = png_bytes(rasterise(pdf, DOCS_DPI, grey=False))
    if len(data) > DOCS_MAX_BYTES:
        data = png_bytes(rasterise(pdf, DOCS_FALLBACK_DPI, grey=False))
    return data


# -- 2. golden rasters ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_page_matches_golden_raster(
    name: str, rendered: dict[str, RenderedPdf], golden: Callable[[str, Image.Image], None]
) -> None:
    pdf = rendered[name].pdf
    golden(name, rasterise(pdf, GOLDEN_DPI, grey=True))
    if UPDATE:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        (DOCS_IMG / f"{name}.png").write_bytes(docs_png(pdf))


@pytest.mark.parametrize("name", NAMES)
def test_reference_pictures_are_small(name: str) -> None:
    ref, pic = GOLDEN_DIR / f"{name}.png", DOCS_IMG / f"{name}.png"
    assert ref.stat().st_size < GOLDEN_MAX_BYTES
    assert pic.stat().st_size < DOCS_MAX_BYTES
    with Image.open(pic) as im:
        dpi = 25.4 * max(im.size) / 297
    assert round(dpi) in (DOCS_DPI, DOCS_FALLBACK_DPI), f"docs/img/{name}.png is {dpi:.0f} dpi"


# -- 3. every printed value is in the text layer -------------------------------------------------


def expected_text(case: Case) -> list[str]:
    rec, inst = case.record, case.institution
    assert rec.number is not None
    dash = {"beijing": "——"}.get(inst.variant.value, "--")
    want = [
        rec.name,
        "居民身份证",
        "Resident Identity Card",
        rec.id_number,
        rec.occupation,
        rec.job or dash,
        rec.level_zh,
        rec.level_en,
        rec.number,
        inst.name_zh,
        "2026年11月20日",
        "2026-11-20",
    ]
    if case.kind is DocumentKind.PROOF:
        want += [case.options["proof_number"], "2027年4月8日", "2027-04-08", "证明", QUERY_URLS[0]]
    else:
        want += [*QUERY_URLS, ("NO. " if inst.style.value == "guangdong" else "No.") + f"{CERT_ID:08d}"]
    if case.kind is DocumentKind.REPLACEMENT:
        want += ["补发", "Replacement", "2027年3月15日"]
    if inst.issuing_body_zh:
        want.append(inst.issuing_body_zh)
    return want


@pytest.mark.parametrize("name", NAMES)
def test_every_printed_value_is_in_the_text_layer(name: str, rendered: dict[str, RenderedPdf]) -> None:
    case = CASES[name]
    text = squash(page_text(rendered[name].pdf))
    missing = [w for w in expected_text(case) if squash(w) not in text]
    assert not missing, f"{name}: not in the text layer: {missing}"
    # the job's dash is the variant's own: Beijing never prints --, the others never ——
    if not case.record.job:
        wrong = "--" if case.institution.variant.value == "beijing" else "——"
        assert wrong not in text


def test_competition_certificate_carries_the_competition_seal(rendered: dict[str, RenderedPdf]) -> None:
    out = rendered["competition"]
    (seal,) = out.seal_boxes
    assert seal.text == "北京市职业技能鉴定管理中心"
    red = "".join(c.text for c in page_chars(out.pdf) if c.red)
    assert red == "北京市职业技能鉴定管理中心竞赛专用章"
    assert "2026年北京市职业技能大赛组委会颁发" in squash(page_text(out.pdf))


@pytest.mark.parametrize("name", NAMES)
def test_seal_text_is_red_and_inside_its_box(name: str, rendered: dict[str, RenderedPdf]) -> None:
    out = rendered[name]
    inst = CASES[name].institution
    red = [c for c in page_chars(out.pdf) if c.red]
    seals = {s.kind: s for s in inst.seals}
    expected = ""
    for box in out.seal_boxes:
        filed = seals.get(box.kind) or seals["competition"]
        assert box.text == filed.text
        expected += filed.text + filed.bottom
        x, y, w, h = box.rect_pt
        mine = [c for c in red if inside(c.box, (x, y, x + w, y + h))]
        assert "".join(c.text for c in mine) == filed.text + filed.bottom
    assert "".join(c.text for c in red) == expected  # no red text outside the seals


# -- 4. the QR code ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_qr_code_decodes_to_the_query_url(name: str, rendered: dict[str, RenderedPdf], renderer: Renderer) -> None:
    case = CASES[name]
    dpi = 150
    image = rasterise(rendered[name].pdf, dpi)
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1, f"{name}: {len(codes)} barcodes"
    (code,) = codes
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == f"{SITE}/c/{case.record.number}?t={TOKEN}"
    assert code.ec_level in ("M", "Q", "H"), f"error correction {code.ec_level}"
    # it is where the layout says (the verify site and the signer rely on the layout)
    layout = renderer.layout(case.template)
    left, bottom, right, top = box_pt(layout.qr, layout.page_h)
    px = dpi / 72
    for p in (code.position.top_left, code.position.top_right, code.position.bottom_left, code.position.bottom_right):
        x_pt, y_pt = p.x / px, layout.page_h * MM - p.y / px
        assert left <= x_pt <= right and bottom <= y_pt <= top, f"{name}: QR corner {p} outside the layout's QR box"


# -- 5. fonts: embedded and subset (poppler) -----------------------------------------------------


@pytest.mark.system
def test_every_font_is_embedded_and_subset(
    rendered: dict[str, RenderedPdf], require_program: Callable[[str], str], tmp_path: Path
) -> None:
    pdffonts = require_program("pdffonts")
    for name, out in rendered.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(out.pdf)
        listing = subprocess.run([pdffonts, str(path)], check=True, capture_output=True, text=True).stdout
        rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
        assert rows, f"{name}: pdffonts lists no font"
        for row in rows:
            font, emb, sub = row[0], row[-5], row[-4]
            assert (emb, sub) == ("yes", "yes"), f"{name}: {font} emb={emb} sub={sub}"
            assert re.fullmatch(r"[A-Z]{6}\+.+", font), f"{name}: {font} has no subset tag"


# -- 11. PDF/A, the data inside, determinism ------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_xmp_says_pdfa3b_and_carries_the_skillcert_properties(name: str, rendered: dict[str, RenderedPdf]) -> None:
    case, out = CASES[name], rendered[name]
    with pikepdf.open(io.BytesIO(out.pdf)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        assert pdf.Root.Metadata.Subtype == pikepdf.Name.XML
    props = {k: v for k, v in xmp_properties(out.pdf).items() if k != "proofNumber"}
    assert props == {
        "number": case.record.number,
        "institutionCode": case.institution.code,
        "issueDate": "2026-11-20",
        "style": case.institution.style.value,
        "kind": case.kind.value,
    }


@pytest.mark.parametrize("name", NAMES)
def test_read_record_returns_the_embedded_record(name: str, rendered: dict[str, RenderedPdf]) -> None:
    case, out = CASES[name], rendered[name]
    rec, inst = case.record, case.institution
    data = render.read_record(out.pdf)
    assert render.embedded_record(out.pdf) == out.record  # what the PDF carries reads back to the typed record
    assert data is not None
    assert {k: data[k] for k in ("number", "name", "id_type", "id_number", "occupation", "job", "level")} == {
        "number": rec.number,
        "name": rec.name,
        "id_type": rec.id_type,
        "id_number": rec.id_number,
        "occupation": rec.occupation,
        "job": rec.job,
        "level": rec.level,
    }
    assert data["issue_date"] == "2026-11-20"
    assert data["institution_code"] == inst.code
    assert data["institution_name"] == inst.name_zh
    assert (data["kind"], data["style"]) == (case.kind.value, inst.style.value)
    assert data["qr_url"] == f"{SITE}/c/{rec.number}?t={TOKEN}"
    assert data["replacement_date"] == ("2027-03-15" if name == "replacement" else None)
    assert data["proof_number"] == case.options.get("proof_number")


def test_read_record_of_a_pdf_without_one_is_none(rendered: dict[str, RenderedPdf]) -> None:
    with pikepdf.open(io.BytesIO(rendered["style1"].pdf)) as pdf:
        del pdf.attachments["certificate.json"]
        buf = io.BytesIO()
        pdf.save(buf)
    assert render.read_record(buf.getvalue()) is None


def test_record_is_an_associated_file_with_relationship_data(rendered: dict[str, RenderedPdf]) -> None:
    with pikepdf.open(io.BytesIO(rendered["style1"].pdf)) as pdf:
        assert list(pdf.attachments) == ["certificate.json"]
        spec = pdf.attachments["certificate.json"]
        assert spec.obj.AFRelationship == pikepdf.Name.Data
        assert spec.get_file().mime_type == "application/json"
        assert len(pdf.Root.AF) == 1
        assert pdf.Root.AF[0].objgen == spec.obj.objgen
        assert pdf.Root.AF[0].objgen != (0, 0)  # an indirect reference to the file spec


def test_same_record_renders_to_identical_bytes(renderer: Renderer, rendered: dict[str, RenderedPdf]) -> None:
    for name in ("style1", "proof"):
        assert CASES[name].render(renderer).pdf == rendered[name].pdf, name
    with Renderer() as fresh:  # another renderer, another temp directory: still the same bytes
        assert CASES["guangdong"].render(fresh).pdf == rendered["guangdong"].pdf


# -- sizes from SPEC §2 -------------------------------------------------------------------------


def sizes_of(pdf: bytes, text: str) -> set[float]:
    """Font sizes of the characters of the first occurrence of ``text`` (whitespace ignored)."""
    chars = [c for c in page_chars(pdf) if not c.red]
    joined = "".join(c.text for c in chars)
    at = joined.find(squash(text))
    assert at >= 0, f"{text!r} not on the page"
    return {round(c.size, 1) for c in chars[at : at + len(squash(text))]}


def test_style1_type_sizes_follow_the_reference_style(rendered: dict[str, RenderedPdf]) -> None:
    pdf, rec = rendered["style1"].pdf, CASES["style1"].record
    assert sizes_of(pdf, "职业技能等级证书") == {30.0}
    assert sizes_of(pdf, "Certificate of Occupational Skill Level") == {16.0}
    assert sizes_of(pdf, "本证书由") == {16.0}
    assert sizes_of(pdf, "This is to certify") == {16.0}
    for value in (rec.name, rec.id_number, rec.occupation, rec.number or "", "发证日期"):
        assert sizes_of(pdf, value) == {12.0}, value
    assert sizes_of(pdf, QUERY_URLS[0]) == {11.0}
    assert sizes_of(pdf, f"No.{CERT_ID:08d}") == {12.0}


def test_guangdong_field_rows_16pt_labels_12pt_values(rendered: dict[str, RenderedPdf]) -> None:
    """附件2 基本信息: labels 16 pt; 第十一条 2(1): filled values 小四号 (12 pt) 仿宋 (faces: test_render_faces)."""
    pdf, rec = rendered["guangdong"].pdf, CASES["guangdong"].record
    for value in (rec.name, rec.id_number, rec.occupation, rec.number or ""):
        assert sizes_of(pdf, value) == {12.0}, value
    assert sizes_of(pdf, "证件号码：") == {16.0}
