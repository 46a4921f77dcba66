"""Issue 13 item 15: type sizes and faces of the field rows (SPEC §2).

The reference styles set the English field labels (Name, ID Type, …) at 12 pt — styles (一) and
(二) — and 16 pt (Guangdong, ``001_…`` 附件2 基本信息); the filled values are 小四号 (12 pt) 仿宋
(``000_…`` 第九条, ``001_…`` 第十一条 2(1)), with Latin letters and digits in the Times face.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from click.testing import CliRunner

from render import RenderedPdf, Renderer, RenderSettings

from .render_fixtures import certificate, demo_cases, demo_photo, squash

CASES = demo_cases()
STYLES = ("style1", "style2", "guangdong", "proof")
LABELS = ("Name", "ID Type", "ID No.", "Occupation", "Job", "Skill Level", "Certificate No.")
LABEL_PT = {"style1": 12.0, "style2": 12.0, "guangdong": 16.0, "proof": 12.0}


def glyphs(pdf: bytes) -> list[tuple[str, float, str]]:
    """(character, size in points, font name without the subset tag) of every printed character."""
    doc = pdfium.PdfDocument(pdf)
    try:
        tp = doc[0].get_textpage()
        out: list[tuple[str, float, str]] = []
        buf = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        for i in range(tp.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(tp.raw, i) == 1:
                continue
            u = pdfium_c.FPDFText_GetUnicode(tp.raw, i)
            if 0xDC00 <= u < 0xE000:
                continue
            if 0xD800 <= u < 0xDC00:
                u = 0x10000 + ((u - 0xD800) << 10) + (pdfium_c.FPDFText_GetUnicode(tp.raw, i + 1) - 0xDC00)
            c = chr(u)
            if c.isspace() or not c.isprintable():
                continue
            pdfium_c.FPDFText_GetFontInfo(tp.raw, i, buf, len(buf), flags)
            name = buf.value.decode("latin-1").split("+")[-1]
            out.append((c, round(pdfium_c.FPDFText_GetFontSize(tp.raw, i), 1), name))
        return out
    finally:
        doc.close()


def run_of(pdf: bytes, text: str, occurrence: int = 0) -> list[tuple[str, float, str]]:
    """The glyphs of one occurrence of ``text`` (whitespace ignored)."""
    g = glyphs(pdf)
    joined, needle = "".join(c for c, _, _ in g), squash(text)
    starts = [i for i in range(len(joined)) if joined.startswith(needle, i)]
    assert starts, f"{text!r} not on the page"
    return g[starts[occurrence] : starts[occurrence] + len(needle)]


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    with Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def rendered(renderer: Renderer) -> dict[str, RenderedPdf]:
    return {name: CASES[name].render(renderer) for name in STYLES}


@pytest.mark.parametrize("style", STYLES)
def test_english_field_labels_follow_the_reference_sizes(style: str, rendered: dict[str, RenderedPdf]) -> None:
    pdf = rendered[style].pdf
    for label in LABELS:  # the last occurrence: the title and body come first ("Occupational Skill Level")
        sizes = {size for _, size, _ in run_of(pdf, label, -1)}
        assert sizes == {LABEL_PT[style]}, (label, sizes)
        assert {font for _, _, font in run_of(pdf, label, -1)} == {"LiberationSerif"}, label


@pytest.mark.parametrize("style", STYLES)
def test_filled_values_are_12pt_fangsong(style: str, rendered: dict[str, RenderedPdf]) -> None:
    pdf, rec = rendered[style].pdf, CASES[style].record
    dash = "——" if CASES[style].institution.variant.value == "beijing" else "--"
    for value in (rec.name, rec.id_number, rec.occupation, rec.job or dash, "居民身份证", rec.number or ""):
        run = run_of(pdf, value)
        assert {size for _, size, _ in run} == {12.0}, (value, run)
        for c, _, font in run:
            want = "LiberationSerif" if ord(c) < 0x2E80 else "FandolFang-Regular"
            assert font == want, (value, c, font)
    # labels, the institution's name and the body text stay in Kai
    assert {font for c, _, font in run_of(pdf, "姓名")} == {"LXGWWenKai-Regular"}


def test_a_character_the_fangsong_lacks_prints_in_kai_with_a_warning(renderer: Renderer) -> None:
    case = CASES["style1"]
    # 堃 and 喆: common in names, not in GB 2312
    rec = certificate(case.institution, name="王堃喆", id_number="11010519491231002X", occupation="电工")
    out = renderer.render(rec, case.institution, photo=demo_photo(7))
    run = run_of(out.pdf, "王堃喆")
    assert [font for _, _, font in run] == ["FandolFang-Regular", "LXGWWenKai-Regular", "LXGWWenKai-Regular"]
    (warning,) = [w for w in out.warnings if w.field == "name"]
    assert "堃" in warning.zh and "仿宋" in warning.zh and "FangSong" in warning.en and "font_dirs" in warning.en
    assert CASES["style1"].render(renderer).warnings == ()


def _fangsong_named_font(folder: Path, text: str) -> Path:
    """A small font whose family is "FangSong" (as Windows' licensed 仿宋 is named): the shipped face
    cut down to ``text`` and renamed, standing in for an institution's own file."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from render.fonts import FONT_DIR

    font = TTFont(FONT_DIR / "FandolFang-Regular.otf")
    sub = subset.Subsetter(subset.Options(name_IDs=["*"], notdef_outline=True))
    sub.populate(text=text)
    sub.subset(font)
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 6, 16):
            rec.string = "FangSong"
    font["CFF "].cff.fontNames = ["FangSong"]  # the name the PDF shows
    folder.mkdir(parents=True, exist_ok=True)
    font.save(folder / "simfang-standin.otf")
    return folder


def test_an_institutions_own_fangsong_comes_first(tmp_path: Path) -> None:
    case = CASES["style1"]
    own = _fangsong_named_font(tmp_path / "fonts", case.record.name + case.record.occupation)
    with Renderer(RenderSettings(font_dirs=(own,))) as r:
        assert r.fangsong_families[0] == "FangSong" and r.fangsong_families[-1] == "FandolFang R"
        out = case.render(r)
    assert {font for _, _, font in run_of(out.pdf, case.record.name)} == {"FangSong"}
    assert {font for _, _, font in run_of(out.pdf, case.record.occupation)} == {"FangSong"}
    # what the institution's font lacks still comes from the shipped FangSong, not from Kai
    assert {font for _, _, font in run_of(out.pdf, "居民身份证")} == {"FandolFang-Regular"}


def test_preview_names_the_fangsong_face(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcert.cli import cli

    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    r = CliRunner().invoke(cli, ["render", "--preview", "--out", str(tmp_path / "p.pdf")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "仿宋 FangSong: FandolFang R" in r.stdout and "font_dirs" in r.stdout
