"""Fixed sample documents and PDF inspection helpers for the renderer tests.

The sample records are rows of the demo results files (names, ID numbers, occupations,
photos) with a fixed certificate number, QR token and issue date, so every rendering is
reproducible. The inspection helpers read a page back with pypdfium2 (the text layer with
each character's box, origin, size and fill colour) and rasterise it.
"""

from __future__ import annotations

import csv
import ctypes
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from registry import institution_from_toml
from registry.models import Certificate, CertStatus, Institution
from registry.numbers import format_number
from registry.tables import level_from_text
from render import DocumentKind, Renderer
from render.layout import MM, Box
from skillcert.demo import DEMO_DIR

ISSUE_DATE = date(2026, 11, 20)
TOKEN = "q7Hc2LmV9xRt4KpZ"
SITE = "http://127.0.0.1:8000"  # RenderSettings().site_url, the default the QR code points to
CERT_ID = 33
QUERY_URLS = ("http://jndj.osta.org.cn/", "http://pjjg.osta.org.cn/")

# The content area inside each template's frame (mm from the top-left): text must stay inside.
FRAME_MM = {
    "style1": (8.0, 8.0, 202.0, 289.0),
    "style2": (8.0, 8.0, 202.0, 289.0),
    "proof": (8.0, 8.0, 202.0, 289.0),
    "guangdong": (12.0, 12.0, 285.0, 198.0),
}


# -- sample data ------------------------------------------------------------------------------


def demo_institution(kind: str) -> Institution:
    """One of the demo filings: ``beijing`` (style1), ``ministry`` (style2), ``guangdong``."""
    return institution_from_toml((DEMO_DIR / f"institution-{kind}.toml").read_text(encoding="utf-8"))


def demo_row(results: str, name: str) -> dict[str, str]:
    with (DEMO_DIR / results).open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["姓名"] == name:
                return row
    raise LookupError(f"{name} not in {results}")


def demo_photo(n: int | str) -> bytes:
    path = DEMO_DIR / n if isinstance(n, str) else DEMO_DIR / "photos" / f"{n:03d}.jpg"
    return path.read_bytes()


def certificate(
    institution: Institution,
    *,
    name: str,
    id_number: str,
    occupation: str,
    job: str = "",
    level: int = 4,
    id_type: str = "201",
    cert_id: int = CERT_ID,
    token: str = TOKEN,
    issue_date: date = ISSUE_DATE,
) -> Certificate:
    """A valid, numbered record built directly (no registry): fixed number, token and date."""
    return Certificate(
        id=cert_id,
        institution_code=institution.code,
        batch_id=1,
        row=cert_id + 1,
        name=name,
        id_type=id_type,
        id_number=id_number,
        occupation=occupation,
        job=job,
        level=level,
        photo_sha256="0" * 64,
        work_unit="",
        status=CertStatus.VALID,
        version=1,
        number=format_number(institution.code, issue_date.year, level, cert_id),
        issue_date=issue_date,
        qr_token=token,
    )


def certificate_from_demo(institution: Institution, results: str, name: str) -> tuple[Certificate, bytes]:
    row = demo_row(results, name)
    cert = certificate(
        institution,
        name=row["姓名"],
        id_number=row["证件号码"],
        occupation=row["职业名称"],
        job=row["工种/职业方向"].strip(),
        level=level_from_text(row["职业技能等级"]) or 5,
    )
    return cert, demo_photo(row["照片"])


COMPETITION_TOML = """
code = "S000011016001"
name_zh = "2026年北京市职业技能大赛组委会"
name_en = "Organizing Committee of the 2026 Beijing Vocational Skills Competition"
filing_number = "JSBA-2026-0001"
filing_date = 2026-03-01
style = "style1"

[[seals]]
kind = "competition"
text = "北京市职业技能鉴定管理中心"
bottom = "竞赛专用章"
activated_on = 2026-03-01

[[scope]]
occupation = "电工"
jobs = []
levels = [2, 3, 4]
"""


def competition_institution() -> Institution:
    return institution_from_toml(COMPETITION_TOML)


@dataclass(frozen=True)
class Case:
    """One document to render: what goes in, and what must be printed."""

    name: str
    record: Certificate
    institution: Institution
    photo: bytes
    kind: DocumentKind = DocumentKind.CERTIFICATE
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return "proof" if self.kind is DocumentKind.PROOF else self.institution.style.value

    def render(self, renderer: Renderer) -> Any:
        return renderer.render(self.record, self.institution, photo=self.photo, kind=self.kind, **self.options)


def demo_cases() -> dict[str, Case]:
    """The six documents of the golden tests and of docs/img, from the demo data."""
    beijing, ministry, guangdong = (demo_institution(k) for k in ("beijing", "ministry", "guangdong"))
    competition = competition_institution()

    def from_demo(name: str, inst: Institution, results: str, holder: str, **kw: Any) -> Case:
        cert, photo = certificate_from_demo(inst, results, holder)
        return Case(name, cert, inst, photo, **kw)

    cases = [
        from_demo("style1", beijing, "results.csv", "冯龙军"),
        from_demo("style2", ministry, "results-y0001.csv", "程宇"),
        from_demo("guangdong", guangdong, "results-gd.csv", "陶宇龙"),
        from_demo(
            "replacement",
            beijing,
            "results.csv",
            "陆静丽",
            kind=DocumentKind.REPLACEMENT,
            options={"replacement_date": date(2027, 3, 15)},
        ),
        from_demo(
            "proof",
            beijing,
            "results.csv",
            "蒋慧云",
            kind=DocumentKind.PROOF,
            options={"proof_number": "ZM-S000011084012-2027-0005", "proof_date": date(2027, 4, 8)},
        ),
    ]
    comp_cert = certificate(
        competition, name="杨刚洋", id_number="110112196906141533", occupation="电工", level=3, cert_id=CERT_ID
    )
    cases.append(Case("competition", comp_cert, competition, demo_photo(13)))
    return {c.name: c for c in cases}


# -- reading a PDF back -------------------------------------------------------------------------

Rect = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (origin bottom-left)


@dataclass(frozen=True, slots=True)
class Char:
    index: int
    text: str
    box: Rect  # tight glyph box
    origin: tuple[float, float]  # baseline origin
    size: float  # font size in points
    rgb: tuple[int, int, int]
    hscale: float = 1.0  # horizontal scale of the glyph (condensed < 1)

    @property
    def width(self) -> float:
        """The glyph's advance along its baseline for a full-width (CJK) character, in points."""
        return self.size * self.hscale

    @property
    def red(self) -> bool:
        r, g, b = self.rgb
        return r > 150 and g < 100 and b < 100


def page_chars(pdf: bytes, page: int = 0) -> list[Char]:
    """Every printed (not generated, not blank) character of a page, in content-stream order."""
    doc = pdfium.PdfDocument(pdf)
    try:
        tp = doc[page].get_textpage()
        n = tp.count_chars()
        out: list[Char] = []
        for i in range(n):
            if pdfium_c.FPDFText_IsGenerated(tp.raw, i) == 1:
                continue
            u = pdfium_c.FPDFText_GetUnicode(tp.raw, i)
            if 0xDC00 <= u < 0xE000:  # the second half of a surrogate pair, read with the first
                continue
            if 0xD800 <= u < 0xDC00 and i + 1 < n:  # a character beyond the BMP (𠇔) is two UTF-16 units
                u = 0x10000 + ((u - 0xD800) << 10) + (pdfium_c.FPDFText_GetUnicode(tp.raw, i + 1) - 0xDC00)
            # pdfium reports a hyphen that ends a line as U+0002 ("is hyphen"); it is a printed "-"
            c = "-" if pdfium_c.FPDFText_IsHyphen(tp.raw, i) == 1 else chr(u)
            if c.isspace() or not c.isprintable():
                continue
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_c.FPDFText_GetCharOrigin(tp.raw, i, x, y)
            r, g, b, a = (ctypes.c_uint() for _ in range(4))
            pdfium_c.FPDFText_GetFillColor(tp.raw, i, r, g, b, a)
            m = pdfium_c.FS_MATRIX()
            pdfium_c.FPDFText_GetMatrix(tp.raw, i, m)
            out.append(
                Char(
                    i,
                    c,
                    tuple(tp.get_charbox(i)),  # type: ignore[arg-type]
                    (x.value, y.value),
                    pdfium_c.FPDFText_GetFontSize(tp.raw, i),
                    (r.value, g.value, b.value),
                    math.hypot(m.a, m.b),
                )
            )
        return out
    finally:
        doc.close()


def page_text(pdf: bytes, page: int = 0) -> str:
    """The page's text as a reader copies it (pdfium marks a hyphen that ends a line as U+FFFE)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return str(doc[page].get_textpage().get_text_range()).replace("\ufffe", "-")
    finally:
        doc.close()


def squash(text: str) -> str:
    """Text without any whitespace: line breaks and CJK-Latin spacing do not count."""
    return "".join(text.split())


def rasterise(pdf: bytes, dpi: float, *, grey: bool = True, page: int = 0) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].render(scale=dpi / 72, grayscale=grey).to_pil().copy()
    finally:
        doc.close()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def box_pt(box: Box, page_h_mm: float) -> Rect:
    """A layout box (mm from the top-left) as a PDF rectangle (points, origin bottom-left)."""
    x, y, w, h = box.to_pdf(page_h_mm)
    return (x, y, x + w, y + h)


def frame_pt(template: str, page_h_mm: float) -> Rect:
    x0, y0, x1, y1 = FRAME_MM[template]
    return (x0 * MM, (page_h_mm - y1) * MM, x1 * MM, (page_h_mm - y0) * MM)


def xywh(rect: tuple[float, float, float, float]) -> Rect:
    x, y, w, h = rect
    return (x, y, x + w, y + h)


def intersects(a: Rect, b: Rect, *, tolerance: float = 0.0) -> bool:
    """Whether two rectangles overlap by more than ``tolerance`` points in both directions."""
    return min(a[2], b[2]) - max(a[0], b[0]) > tolerance and min(a[3], b[3]) - max(a[1], b[1]) > tolerance


def inside(a: Rect, b: Rect) -> bool:
    return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]


def mm(rect: Rect) -> str:
    return "(" + ", ".join(f"{v / MM:.1f}" for v in rect) + ") mm"


def line_overlaps(chars: list[Char], *, tolerance: float = 0.2) -> Iterator[tuple[Char, Char]]:
    """Pairs of upright characters on different baselines whose boxes intersect."""
    upright = sorted(chars, key=lambda c: c.box[0])
    for i, a in enumerate(upright):
        for b in upright[i + 1 :]:
            if b.box[0] >= a.box[2]:
                break
            if abs(a.origin[1] - b.origin[1]) > 1.0 and intersects(a.box, b.box, tolerance=tolerance):
                yield a, b
