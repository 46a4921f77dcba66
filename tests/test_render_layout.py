"""Where things land on the page: long values wrap inside their places, no text runs into the
photo, the QR code, a seal or another line, and the seals are drawn as filed (SPEC §2)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import date

import pytest
from PIL import Image, ImageChops, ImageDraw

from registry import institution_from_toml
from registry.models import Certificate, Institution
from render import DocumentKind, RenderedPdf, Renderer
from render.layout import MM

from .render_fixtures import (
    Case,
    Char,
    Rect,
    box_pt,
    certificate,
    demo_cases,
    demo_photo,
    frame_pt,
    inside,
    intersects,
    line_overlaps,
    mm,
    page_chars,
    page_text,
    rasterise,
    squash,
    xywh,
)

CASES = demo_cases()


def other_kinds(case: Case) -> dict[str, Case]:
    """The same record as a replacement and as a proof document."""
    return {
        "replacement": Case(
            f"{case.name}-replacement",
            case.record,
            case.institution,
            case.photo,
            kind=DocumentKind.REPLACEMENT,
            options={"replacement_date": date(2027, 3, 15)},
        ),
        "proof": Case(
            f"{case.name}-proof",
            case.record,
            case.institution,
            case.photo,
            kind=DocumentKind.PROOF,
            options={"proof_number": "ZM-2027-0001", "proof_date": date(2027, 4, 8)},
        ),
    }


# the other kinds in the other styles (the golden set has them for style (一) only)
EXTRA = {c.name: c for base in ("style2", "guangdong", "competition") for c in other_kinds(CASES[base]).values()}
ALL = {**CASES, **EXTRA}
XFAIL_LAYOUT: dict[str, str] = {}


def cases_param(names: list[str], xfail: dict[str, str]) -> list[object]:
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=xfail[n])) if n in xfail else n for n in names]


LONG_NAME_ZH = {
    "style1": "北京市海淀区中关村智能制造与工业机器人应用型职业技能培训学校",
    "style2": "华电智联能源科技有限公司北京西城分公司工业机器人技能评价中心",
    "guangdong": "广州市白云区智能制造与工业机器人应用技术高级技师学院第二校区",
}
LONG_NAME_EN = (
    "Beijing Haidian Zhongguancun Intelligent Manufacturing and Industrial Robot Application "
    "Vocational Skills Training School (Applied Technology Campus)"
)
LONG_OCCUPATION = "工业机器人系统运维技术员"
LONG_JOB = "工业机器人装调与系统集成运维方向"
LONG_HOLDER = "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt"
CODES = {"style1": "S000011084099", "style2": "Y000211020002", "guangdong": "S000044012002"}


def long_filing(style: str) -> Institution:
    """A filing with a 30-character name, a long English name and a 12-character occupation."""
    name = LONG_NAME_ZH[style]
    issuing = ""
    if style == "style2":
        issuing = """
issuing_body_zh = "华电智联能源科技有限公司北京西城分公司"
issuing_body_en = "Huadian Zhilian Energy Technology Co., Ltd. Beijing Xicheng Branch"
[[seals]]
kind = "issuing"
text = "华电智联能源科技有限公司北京西城分公司"
activated_on = 2022-01-15
"""
    return institution_from_toml(
        f"""
code = "{CODES[style]}"
name_zh = "{name}"
name_en = "{LONG_NAME_EN}"
filing_number = "LONG-2026-0001"
filing_date = 2026-01-05
style = "{style}"
{issuing}
[[seals]]
kind = "institution"
text = "{name}"
activated_on = 2026-01-05

[[scope]]
occupation = "{LONG_OCCUPATION}"
jobs = ["{LONG_JOB}"]
levels = [1, 2, 3]
"""
    )


def long_record(inst: Institution) -> Certificate:
    return certificate(
        inst,
        name=LONG_HOLDER,
        id_type="208",
        id_number="X98765432DE",
        occupation=LONG_OCCUPATION,
        job=LONG_JOB,
        level=1,
    )


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    with Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def demo_rendered(renderer: Renderer) -> dict[str, RenderedPdf]:
    return {name: case.render(renderer) for name, case in ALL.items()}


LONG = {
    f"long-{style}": Case(f"long-{style}", long_record(inst), inst, demo_photo(40))
    for style, inst in ((s, long_filing(s)) for s in LONG_NAME_ZH)
}
LONG_OTHER = {c.name: c for case in LONG.values() for c in other_kinds(case).values()}


@pytest.fixture(scope="module")
def long_rendered(renderer: Renderer) -> dict[str, tuple[Case, RenderedPdf]]:
    return {name: (case, case.render(renderer)) for name, case in {**LONG, **LONG_OTHER}.items()}


def layout_problems(case: Case, out: RenderedPdf, renderer: Renderer) -> list[str]:
    """Black text over the photo, the QR code or a seal; lines over lines; text outside the frame."""
    layout = renderer.layout(case.template)
    chars = page_chars(out.pdf)
    text = [c for c in chars if not c.red]
    keep_out: dict[str, Rect] = {
        "photo": box_pt(layout.photo, layout.page_h),
        "QR code": box_pt(layout.qr, layout.page_h),
    }
    keep_out.update({f"{s.kind} seal": xywh(s.rect_pt) for s in out.seal_boxes})
    problems = [
        f"{c.text!r} {mm(c.box)} is over the {what} {mm(box)}"
        for c in text
        for what, box in keep_out.items()
        if intersects(c.box, box)
    ]
    problems += [f"{a.text!r} {mm(a.box)} overlaps {b.text!r} {mm(b.box)}" for a, b in line_overlaps(text)]
    frame = frame_pt(case.template, layout.page_h)
    problems += [f"{c.text!r} {mm(c.box)} is outside the frame" for c in chars if not inside(c.box, frame)]
    return problems


def baselines_of(chars: list[Char], value: str, *, occurrence: int = -1) -> set[float]:
    """Distinct baselines (rounded, points) of one occurrence of ``value`` among ``chars``."""
    joined = "".join(c.text for c in chars)
    needle = squash(value)
    starts = [i for i in range(len(joined)) if joined.startswith(needle, i)]
    assert starts, f"{value!r} not found"
    at = starts[occurrence]
    return {round(c.origin[1]) for c in chars[at : at + len(needle)]}


# -- 6. long values wrap cleanly ----------------------------------------------------------------


@pytest.mark.parametrize("style", cases_param(list(LONG_NAME_ZH), {}))
def test_long_values_wrap_inside_their_places(
    style: str, long_rendered: dict[str, tuple[Case, RenderedPdf]], renderer: Renderer
) -> None:
    case, out = long_rendered[f"long-{style}"]
    assert len(case.institution.name_zh) == 30
    assert len(case.record.occupation) == 12
    assert not layout_problems(case, out, renderer)
    text = squash(page_text(out.pdf))
    for value in (LONG_HOLDER, LONG_OCCUPATION, LONG_JOB, case.institution.name_zh, LONG_NAME_EN, "外国护照"):
        assert squash(value) in text, value
    chars = [c for c in page_chars(out.pdf) if not c.red]
    # the holder's name and the occupation take one or two lines, never more
    assert 1 <= len(baselines_of(chars, LONG_HOLDER)) <= 2
    assert len(baselines_of(chars, LONG_OCCUPATION)) == 1
    assert len(baselines_of(chars, LONG_JOB)) <= 2
    # the institution's name where it signs (after the body text): two lines at most
    assert len(baselines_of(chars, case.institution.name_zh)) <= 2


def test_long_holder_name_wraps_rather_than_running_off(long_rendered: dict[str, tuple[Case, RenderedPdf]]) -> None:
    _, out = long_rendered["long-guangdong"]
    chars = [c for c in page_chars(out.pdf) if not c.red]
    joined = "".join(c.text for c in chars)
    at = joined.index(squash(LONG_HOLDER))
    name_chars = chars[at : at + len(squash(LONG_HOLDER))]
    assert len({round(c.origin[1]) for c in name_chars}) == 2  # 70 mm of value column at 12 pt: two lines
    right = max(c.box[2] for c in name_chars)
    assert right <= 278 * MM  # the right panel's value column ends at 278 mm


@pytest.mark.parametrize("name", cases_param(list(LONG_OTHER), {}))
def test_long_values_in_replacements_and_proofs(
    name: str, long_rendered: dict[str, tuple[Case, RenderedPdf]], renderer: Renderer
) -> None:
    case, out = long_rendered[name]
    assert not layout_problems(case, out, renderer)
    assert squash(case.institution.name_zh) in squash(page_text(out.pdf))


# -- the same for every style with the demo data ---------------------------------------------------


@pytest.mark.parametrize("name", cases_param(list(ALL), XFAIL_LAYOUT))
def test_demo_documents_have_no_collisions(
    name: str, demo_rendered: dict[str, RenderedPdf], renderer: Renderer
) -> None:
    assert not layout_problems(ALL[name], demo_rendered[name], renderer)


def test_layout_check_sees_a_collision(demo_rendered: dict[str, RenderedPdf], renderer: Renderer) -> None:
    """The check itself: pretend the photo sits over the field rows and it must complain."""
    case, out = CASES["style1"], demo_rendered["style1"]
    layout = renderer.layout("style1")
    chars = [c for c in page_chars(out.pdf) if not c.red]
    name_box = next(c.box for c in chars if c.text == case.record.name[0])
    photo = box_pt(layout.photo, layout.page_h)
    moved = (name_box[0], name_box[1], name_box[0] + photo[2] - photo[0], name_box[1] + photo[3] - photo[1])
    assert any(intersects(c.box, moved) for c in chars)
    fake = [*chars, Char(-1, "X", chars[0].box, (chars[0].origin[0], chars[0].origin[1] - 5), 12.0, (0, 0, 0))]
    assert list(line_overlaps(fake))


# -- the seal: rim, upper arc left to right, bottom line, centre blank ------------------------------

SEAL_DPI = 300


def centre(c: Char) -> tuple[float, float]:
    return ((c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2)


class SealRaster:
    """The strongly red pixels of one seal box, with regions drawn in PDF coordinates to test them."""

    def __init__(self, page: Image.Image, rect_pt: tuple[float, float, float, float], page_h_pt: float) -> None:
        x, y, w, h = rect_pt
        self.scale = SEAL_DPI / 72
        self.page_h = page_h_pt
        self.left, self.top = round(x * self.scale), round((page_h_pt - y - h) * self.scale)
        crop = page.crop((self.left, self.top, self.left + round(w * self.scale), self.top + round(h * self.scale)))
        r, g, _ = crop.convert("RGB").split()
        self.mask = ImageChops.subtract(r, g).point(lambda v: 255 if v > 150 else 0)  # not anti-aliased fringes

    def px(self, x_pt: float, y_pt: float) -> tuple[float, float]:
        return (x_pt * self.scale - self.left, (self.page_h - y_pt) * self.scale - self.top)

    def disc(self, centre_pt: tuple[float, float], radius_mm: float) -> Image.Image:
        (cx, cy), r = self.px(*centre_pt), radius_mm * MM * self.scale
        region = Image.new("L", self.mask.size, 0)
        ImageDraw.Draw(region).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        return region

    def rect(self, box: Rect, grow_mm: float) -> Image.Image:
        g = grow_mm * MM
        x0, y0 = self.px(box[0] - g, box[3] + g)
        x1, y1 = self.px(box[2] + g, box[1] - g)
        region = Image.new("L", self.mask.size, 0)
        ImageDraw.Draw(region).rectangle((x0, y0, x1, y1), fill=255)
        return region

    def ink_in(self, region: Image.Image) -> bool:
        return ImageChops.multiply(self.mask, region).getbbox() is not None

    def inked(self, x_pt: float, y_pt: float) -> bool:
        x, y = self.px(x_pt, y_pt)
        return bool(self.mask.getpixel((round(x), round(y))))


def seal_problems(out: RenderedPdf, inst: Institution) -> list[str]:
    page = rasterise(out.pdf, SEAL_DPI, grey=False)
    chars = page_chars(out.pdf)
    filed = {s.kind: s for s in inst.seals}
    problems: list[str] = []
    for sb in out.seal_boxes:
        seal = filed.get(sb.kind) or filed["competition"]
        found = one_seal_problems(
            SealRaster(page, sb.rect_pt, out.page_mm[1] * MM),
            xywh(sb.rect_pt),
            [c for c in chars if c.red and inside(c.box, xywh(sb.rect_pt))],
            seal.text,
            seal.bottom,
        )
        problems += [f"{sb.kind} seal: {p}" for p in found]
    return problems


def one_seal_problems(raster: SealRaster, box: Rect, red: list[Char], text: str, bottom_text: str) -> list[str]:
    problems: list[str] = []
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    radius = (box[2] - box[0]) / 2 / MM  # mm
    # the 1 mm rim is unbroken
    for deg in range(0, 360, 3):
        a, r = math.radians(deg), (radius - 0.5) * MM
        if not raster.inked(cx + r * math.sin(a), cy + r * math.cos(a)):
            problems.append(f"the rim is broken at {deg}°")
            break
    # the text keeps clear of the rim, and the centre is blank
    if raster.ink_in(ImageChops.subtract(raster.disc((cx, cy), radius - 1.15), raster.disc((cx, cy), radius - 1.45))):
        problems.append("the text touches the rim")
    if raster.ink_in(raster.disc((cx, cy), 8.0)):
        problems.append("the centre is not blank")
    # the bottom line: the characters sharing the lowest baseline; the rest is the upper arc
    low = min(c.origin[1] for c in red)
    bottom = sorted((c for c in red if abs(c.origin[1] - low) < 0.1), key=lambda c: c.box[0])
    arc = [c for c in red if abs(c.origin[1] - low) >= 0.1]
    # by the angle from the top, clockwise: the upper arc must read left to right
    angle = {c.index: math.degrees(math.atan2(centre(c)[0] - cx, centre(c)[1] - cy)) for c in arc}
    arc.sort(key=lambda c: angle[c.index])
    if "".join(c.text for c in arc) != text or "".join(c.text for c in bottom) != bottom_text:
        return [*problems, f"arc {''.join(c.text for c in arc)!r}, bottom {''.join(c.text for c in bottom)!r}"]
    first, last = angle[arc[0].index], angle[arc[-1].index]
    if abs(first + last) > 3:
        problems.append(f"the arc is not symmetric ({first:.0f}° … {last:.0f}°)")
    # neighbouring glyphs on the arc keep apart: their em squares (condensed or not) do not overlap
    for a, b in itertools.pairwise(arc):
        apart, wide = math.dist(centre(a), centre(b)), (a.width + b.width) / 2
        if apart < 0.97 * wide:
            problems.append(f"{a.text}{b.text} are {apart / MM:.2f} mm apart but {wide / MM:.2f} mm wide: they touch")
            break
    # the bottom line is below the centre, and the arc's glyphs keep 0.5 mm clear of it
    if low >= cy:
        problems.append("the bottom text is not below the centre")
    line: Rect = (
        min(c.box[0] for c in bottom),
        min(c.box[1] for c in bottom),
        max(c.box[2] for c in bottom),
        max(c.box[3] for c in bottom),
    )
    if raster.ink_in(ImageChops.subtract(raster.rect(line, 0.5), raster.rect(line, 0.15))):
        problems.append("the arc's glyphs come within 0.5 mm of the bottom line")
    return problems


@pytest.mark.parametrize("name", list(CASES))
def test_seals_are_drawn_as_filed(name: str, demo_rendered: dict[str, RenderedPdf]) -> None:
    assert not seal_problems(demo_rendered[name], CASES[name].institution)


@pytest.mark.parametrize("style", list(LONG_NAME_ZH))
def test_seal_with_a_30_character_name(style: str, long_rendered: dict[str, tuple[Case, RenderedPdf]]) -> None:
    case, out = long_rendered[f"long-{style}"]
    assert not seal_problems(out, case.institution)
