"""What the renderer is given: markup characters print literally, rare name characters print
and copy, a character no font has stops rendering, and the photo rules (SPEC §2)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw, ImageStat

import render
from registry import institution_from_toml
from render import DocumentKind, MissingGlyph, PhotoRejected, Renderer
from render.photo import DPI, prepare_photo

from .render_fixtures import (
    box_pt,
    certificate,
    certificate_from_demo,
    demo_cases,
    demo_institution,
    page_chars,
    page_text,
    rasterise,
    squash,
)

CASES = demo_cases()

MARKUP_NAME = r"#panic()]$x$*b*<l>\\"
MARKUP_OCCUPATION = "电工[#emph]_`$*b*<x>@y"
MARKUP_FILING = """
code = "S000011084098"
name_zh = "北京市#[海淀]*明德*_职业技能培训学校"
name_en = "Beijing #strong[Mingde] *School* $x$ <l> @ref"
filing_number = "JZJBA-2026-0098"
filing_date = 2026-01-05

[[seals]]
kind = "institution"
text = "北京市#[海淀]*明德*_职业技能培训学校"
activated_on = 2026-01-05

[[scope]]
occupation = '电工[#emph]_`$*b*<x>@y'
jobs = ['#(1+1)]']
levels = [4, 5]
"""


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    with Renderer() as r:
        yield r


def jpeg(image: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def portrait(size: tuple[int, int] = (354, 472), background: str | tuple[int, ...] = "white") -> Image.Image:
    im = Image.new("RGB", size, background)
    w, h = size
    d = ImageDraw.Draw(im)
    d.ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.55), fill=(225, 185, 150))
    d.rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=(30, 50, 120))
    return im


# -- 7. markup characters print literally ------------------------------------------------------------


@pytest.mark.parametrize("kind", [DocumentKind.CERTIFICATE, DocumentKind.PROOF])
def test_markup_characters_print_literally(renderer: Renderer, kind: DocumentKind) -> None:
    inst = institution_from_toml(MARKUP_FILING)
    rec = certificate(
        inst, name=MARKUP_NAME, id_number="110105194912310029", occupation=MARKUP_OCCUPATION, job="#(1+1)]", level=5
    )
    options = {"proof_number": "#P-1]", "proof_date": rec.issue_date} if kind is DocumentKind.PROOF else {}
    out = renderer.render(rec, inst, photo=CASES["style1"].photo, kind=kind, **options)  # type: ignore[arg-type]
    text = page_text(out.pdf)
    lines = text.splitlines()
    assert MARKUP_NAME in lines, "the name is not one line of its own in the text layer"
    for value in (MARKUP_OCCUPATION, "#(1+1)]"):
        assert value in lines
    # the institution's name mixes scripts: Typst sets a CJK-Latin gap, which extracts as a space
    assert squash(inst.name_zh) in squash(text)
    if kind is DocumentKind.CERTIFICATE:
        assert inst.name_en in " ".join(text.split())
    # the seal text, placed glyph by glyph, reads as filed too
    red = "".join(c.text for c in page_chars(out.pdf) if c.red)
    assert red == inst.seals[0].text + inst.seals[0].bottom
    assert render.read_record(out.pdf)["name"] == MARKUP_NAME  # type: ignore[index]


# -- 8. rare characters --------------------------------------------------------------------------


@pytest.mark.parametrize("holder", ["刘䶮", "王𠇔"])
@pytest.mark.parametrize("kind", ["beijing", "guangdong"])
def test_rare_name_characters_print_and_copy(renderer: Renderer, holder: str, kind: str) -> None:
    rec, photo = certificate_from_demo(demo_institution("beijing"), "results.csv", holder)
    inst = demo_institution(kind)
    if kind == "guangdong":  # the same person certified by the Guangdong school
        rec = certificate(inst, name=holder, id_number=rec.id_number, occupation="电工", level=5)
    out = renderer.render(rec, inst, photo=photo)
    assert holder in page_text(out.pdf).splitlines()
    chars = page_chars(out.pdf)
    assert [c.text for c in chars if c.text in holder][:2] == list(holder)


# -- 9. a character no font has -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "char"),
    [("name", "\U000323af"), ("name", "\U00018b00"), ("occupation", "\U0002ebf0")],
    ids=["cjk-ext-h-in-name", "khitan-in-name", "cjk-ext-i-in-occupation"],
)
def test_a_character_no_font_has_stops_rendering(renderer: Renderer, field: str, char: str) -> None:
    inst = demo_institution("beijing")
    values = {"name": "张三", "occupation": "电工"}
    values[field] = values[field][:1] + char
    rec = certificate(inst, name=values["name"], id_number="110105194912310029", occupation=values["occupation"])
    with pytest.raises(MissingGlyph) as info:
        renderer.render(rec, inst, photo=CASES["style1"].photo)
    err = info.value
    assert err.missing == [(field, char)]
    assert err.exit_code == 9
    code = f"U+{ord(char):04X}"
    zh, en = err.diagnostics().splitlines()[:2]
    assert zh.startswith("错误：") and char in zh and code in zh and field in zh
    assert en.startswith("Error: ") and code in en and field in en
    (problem,) = err.problems
    assert problem.field == field and code in problem.en
    # nothing is left behind: the next document renders
    assert renderer.render(CASES["style1"].record, CASES["style1"].institution, photo=CASES["style1"].photo).pdf


def test_a_character_no_font_has_in_the_institution_name(renderer: Renderer) -> None:
    inst = institution_from_toml(MARKUP_FILING.replace("北京市#[海淀]", "北京市\U00018b00", 1))
    rec = certificate(inst, name="张三", id_number="110105194912310029", occupation=MARKUP_OCCUPATION)
    with pytest.raises(MissingGlyph) as info:
        renderer.render(rec, inst, photo=CASES["style1"].photo)
    assert info.value.missing == [("institution", "\U00018b00")]


# -- 10. the photo --------------------------------------------------------------------------------


def test_a_small_photo_is_refused(renderer: Renderer) -> None:
    case = CASES["style1"]
    with pytest.raises(PhotoRejected) as info:
        renderer.render(case.record, case.institution, photo=jpeg(portrait((150, 200))))
    assert "150×200" in info.value.diagnostics() and "200" in info.value.en
    assert info.value.exit_code == 9


@pytest.mark.parametrize("data", [b"", b"not an image"], ids=["empty", "garbage"])
def test_a_missing_or_unreadable_photo_is_refused(renderer: Renderer, data: bytes) -> None:
    case = CASES["style1"]
    with pytest.raises(PhotoRejected):
        renderer.render(case.record, case.institution, photo=data)


def test_exif_orientation_is_honoured() -> None:
    # as the camera saw it: portrait, a dark band across the top of the head room
    seen = Image.new("RGB", (300, 400), "white")
    ImageDraw.Draw(seen).rectangle((0, 0, 299, 59), fill="black")
    # as a phone stores it: landscape pixels, "rotate 90° clockwise to display" (orientation 6)
    stored = seen.rotate(90, expand=True)
    assert stored.size == (400, 300)
    exif = Image.Exif()
    exif[0x0112] = 6
    prepared = prepare_photo(jpeg(stored, exif=exif), 30, 40)
    with Image.open(io.BytesIO(prepared.jpeg)) as im:
        assert im.height > im.width
        grey = im.convert("L")
        w, h = grey.size
        top = ImageStat.Stat(grey.crop((0, 0, w, h // 10))).mean[0]
        left = ImageStat.Stat(grey.crop((0, h // 3, w // 10, h))).mean[0]
    assert top < 60, "the dark band is not at the top: the EXIF orientation was ignored"
    assert left > 200


def test_photo_is_scaled_to_300_dpi_for_its_box() -> None:
    prepared = prepare_photo(jpeg(portrait((1200, 1600))), 30, 40)
    assert (prepared.width_px, prepared.height_px) == (round(30 / 25.4 * DPI), round(40 / 25.4 * DPI))
    assert prepared.warnings == ()


def test_a_dark_background_is_a_warning(renderer: Renderer) -> None:
    case = CASES["style1"]
    out = renderer.render(case.record, case.institution, photo=jpeg(portrait(background=(70, 80, 95))))
    (warning,) = out.warnings
    assert "背景" in warning.zh and "background" in warning.en
    assert case.render(renderer).warnings == ()  # the demo photos are on white


def test_a_png_with_alpha_gets_a_white_background(renderer: Renderer) -> None:
    im = portrait(background=(0, 0, 0)).convert("RGBA")
    alpha = Image.new("L", im.size, 0)
    w, h = im.size
    ImageDraw.Draw(alpha).ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.55), fill=255)
    ImageDraw.Draw(alpha).rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=255)
    im.putalpha(alpha)  # transparent (black) background around the figure
    buf = io.BytesIO()
    im.save(buf, "PNG")
    case = CASES["style1"]
    out = renderer.render(case.record, case.institution, photo=buf.getvalue())
    assert out.warnings == ()
    page = rasterise(out.pdf, 100)
    layout = renderer.layout("style1")
    x0, y0, x1, y1 = box_pt(layout.photo, layout.page_h)
    s = 100 / 72
    page_h = layout.page_h * 72 / 25.4
    photo = page.crop(
        (round(x0 * s) + 2, round((page_h - y1) * s) + 2, round(x1 * s) - 2, round((page_h - y0) * s) - 2)
    )
    corner = ImageStat.Stat(photo.crop((0, 0, photo.width // 8, photo.height // 8))).mean[0]
    assert corner > 240, "the transparent background did not become white"
    assert ImageStat.Stat(photo).mean[0] < 235  # and the figure is there


def test_a_mixed_script_name_copies_exactly(renderer: Renderer) -> None:
    case = CASES["competition"]
    inst = case.institution
    rec = certificate(inst, name="李A", id_number="110105194912310029", occupation="电工", level=3)
    lines = page_text(renderer.render(rec, inst, photo=case.photo).pdf).splitlines()
    assert "李A" in lines
    assert inst.name_zh in lines
