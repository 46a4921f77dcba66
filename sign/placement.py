"""Where a seal goes on a PDF an institution already has: a box, a text anchor, the last page's
default spot, or a perforation seal (骑缝章) across the right edges of all pages.

Coordinates are PDF points in the page's user space (origin bottom left, as ``--seal-box``
takes them). Each function returns the :class:`~sign.appearance.Slice` list to draw: the last
one is the signature widget, any others are drawn into their pages.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .appearance import SealLook, SealPicture, Slice
from .errors import SealError
from .seal import SealBoxSpec

__all__ = [
    "MM",
    "PageBox",
    "Placement",
    "anchor_slices",
    "box_slices",
    "default_slices",
    "page_boxes",
    "perforation_slices",
    "plan",
]

MM = 72 / 25.4


@dataclass(frozen=True, slots=True)
class PageBox:
    """A page's visible box (the crop box within the media box), in points."""

    x0: float
    y0: float
    x1: float
    y1: float
    rotate: int = 0  # /Rotate: the page is shown turned clockwise by this many degrees

    @property
    def shown(self) -> tuple[float, float]:
        """Width and height of the page as a reader sees it."""
        w, h = self.x1 - self.x0, self.y1 - self.y0
        return (h, w) if self.rotate in (90, 270) else (w, h)

    def to_shown(self, x: float, y: float) -> tuple[float, float]:
        """A user-space point in the shown page's coordinates (origin bottom left as seen)."""
        return {
            90: (y - self.y0, self.x1 - x),
            180: (self.x1 - x, self.y1 - y),
            270: (self.y1 - y, x - self.x0),
        }.get(self.rotate, (x - self.x0, y - self.y0))

    def to_user(self, a: float, b: float, w: float, h: float) -> tuple[float, float, float, float]:
        """A box given in the shown page's coordinates, in user space (x, y, w, h)."""
        if self.rotate == 90:
            return (self.x1 - b - h, self.y0 + a, h, w)
        if self.rotate == 180:
            return (self.x1 - a - w, self.y1 - b - h, w, h)
        if self.rotate == 270:
            return (self.x0 + b, self.y1 - a - w, h, w)
        return (self.x0 + a, self.y0 + b, w, h)


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """How to place the seal: exactly one of ``box`` (page index, x, y, w, h), ``anchor`` (text),
    ``perforation``; none of them: the default spot on the last page. ``size`` is the seal's diameter."""

    box: tuple[int, float, float, float, float] | None = None
    anchor: str | None = None
    perforation: bool = False
    size: float = 40 * MM

    def slices(self, pdf: bytes) -> list[Slice]:
        pages = page_boxes(pdf)
        if self.perforation:
            return perforation_slices(pages, self.size)
        if self.box is not None:
            return box_slices(pages, self.box)
        if self.anchor is not None:
            return anchor_slices(pdf, pages, self.anchor, self.size)
        return default_slices(pages, self.size)


def page_boxes(pdf: bytes) -> list[PageBox]:
    import pikepdf

    out = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            m = [float(v) for v in page.mediabox]
            c = [float(v) for v in page.cropbox]
            x0, y0 = max(min(m[0], m[2]), min(c[0], c[2])), max(min(m[1], m[3]), min(c[1], c[3]))
            x1, y1 = min(max(m[0], m[2]), max(c[0], c[2])), min(max(m[1], m[3]), max(c[1], c[3]))
            rotate = int(page.obj.get("/Rotate", 0)) % 360
            out.append(PageBox(x0, y0, x1, y1, rotate))
    if not out:
        raise SealError("PDF 没有页面", "the PDF has no pages")
    return out


def _page(pages: list[PageBox], index: int) -> PageBox:
    page = pages[index]
    if page.rotate not in (0, 90, 180, 270):
        raise SealError(
            f"第 {index + 1} 页的旋转角度 /Rotate {page.rotate} 无效",
            f"page {index + 1} has an invalid /Rotate {page.rotate}",
        )
    return page


def box_slices(pages: list[PageBox], box: tuple[int, float, float, float, float]) -> list[Slice]:
    """A box in the page's user space (as pyHanko and ``--seal-box`` take it); the seal reads upright."""
    index, x, y, w, h = box
    if not 0 <= index < len(pages):
        raise SealError(
            f"印章位置的页码 {index + 1} 超出范围（共 {len(pages)} 页）",
            f"the seal box's page {index + 1} is out of range (the PDF has {len(pages)})",
        )
    page = _page(pages, index)
    if w <= 0 or h <= 0 or x < page.x0 or y < page.y0 or x + w > page.x1 + 0.5 or y + h > page.y1 + 0.5:
        raise SealError(
            f"印章框 {x:g},{y:g},{w:g},{h:g} 不在第 {index + 1} 页内",
            f"the seal box {x:g},{y:g},{w:g},{h:g} is not inside page {index + 1} "
            f"({page.x0:g},{page.y0:g}-{page.x1:g},{page.y1:g})",
        )
    return [Slice(index, (x, y, w, h), 0, 1, min(w, h), page.rotate)]


def _centred(pages: list[PageBox], index: int, cx: float, cy: float, size: float) -> list[Slice]:
    """A seal of ``size`` centred on (cx, cy) of the shown page, moved inside it where it would stick out."""
    page = _page(pages, index)
    width, height = page.shown
    size = min(size, width, height)
    a = min(max(cx - size / 2, 0.0), width - size)
    b = min(max(cy - size / 2, 0.0), height - size)
    return [Slice(index, page.to_user(a, b, size, size), 0, 1, size, page.rotate)]


def default_slices(pages: list[PageBox], size: float) -> list[Slice]:
    """The last page, lower right as shown: the seal's right edge 25 mm from the page's, its bottom 30 mm up."""
    index = len(pages) - 1
    width, _ = _page(pages, index).shown
    return _centred(pages, index, width - 25 * MM - size / 2, 30 * MM + size / 2, size)


def anchor_slices(pdf: bytes, pages: list[PageBox], text: str, size: float) -> list[Slice]:
    """The seal centred over the last occurrence of ``text`` in the document (as a clerk stamps
    over “（盖章）” or the institution's name); pdfium finds the text."""
    import pypdfium2 as pdfium

    if not text.strip():
        raise SealError("定位文字为空", "the anchor text is empty")
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc) - 1, -1, -1):
            page = doc[index]
            textpage = page.get_textpage()
            searcher = textpage.search(text, match_case=True)
            last = None
            while (hit := searcher.get_next()) is not None:
                last = hit
            if last is None:
                continue
            start, count = last
            boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
            left = min(b[0] for b in boxes)
            bottom = min(b[1] for b in boxes)
            right = max(b[2] for b in boxes)
            top = max(b[3] for b in boxes)
            cx, cy = _page(pages, index).to_shown((left + right) / 2, (bottom + top) / 2)
            return _centred(pages, index, cx, cy, size)
    finally:
        doc.close()
    raise SealError(f"文件中找不到定位文字“{text}”", f"the anchor text {text!r} does not occur in the PDF")


def perforation_slices(pages: list[PageBox], size: float) -> list[Slice]:
    """A 骑缝章: slice *i* of *n* at page *i*'s right edge as shown, vertically centred (one page:
    the right half of the seal over the edge, as a single sheet is stamped)."""
    n = len(pages)
    count = 2 if n == 1 else n
    w = size / count
    out = []
    for i in range(n):
        page = _page(pages, i)
        width, height = page.shown
        rect = page.to_user(width - w, (height - size) / 2, w, size)
        out.append(Slice(i, rect, i, count, size, page.rotate))
    return out


def plan(pdf: bytes, placement: Placement, picture: SealPicture, kind: str) -> tuple[SealBoxSpec, SealLook]:
    """The widget's box and the look (picture and page slices) for sealing ``pdf``."""
    slices = placement.slices(pdf)
    widget = slices[-1]
    return SealBoxSpec(kind, widget.page, widget.rect), SealLook(picture, widget=widget, page_slices=tuple(slices[:-1]))
