"""The seal drawn as a signature's visible appearance, whole or as a perforation seal (骑缝章).

The picture is a one-page vector PDF of the seal (``render.seal_pdf`` draws the filed seal with the
same code as the certificates; a filed seal image wrapped as a PDF page would do as well). It is
imported into each document as one form XObject and drawn by:

- the signature widget's ``/AP /N`` — the seal centred in the widget's box, scaled to fit it;
- for a 骑缝章, a vertical slice per page at the page's right edge: slice *i* of *n* shows the
  part of the drawing between ``i/n`` and ``(i+1)/n`` of its width, so the pages fanned out show
  one seal. The last page's slice is the signature widget; the others are drawn into their
  pages' content in the revision the signature covers (pyHanko signs a field with exactly one
  widget), so the one signature covers every slice and any later change to one is a
  modification after the seal.

``Sealer.seal(..., look=...)`` calls :meth:`SealLook.stamp_style` for the widget and
:meth:`SealLook.prepare` on the incremental writer before signing.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import SealError

if TYPE_CHECKING:
    from .seal import SealBoxSpec

__all__ = ["SealLook", "SealPicture", "Slice"]


@dataclass(frozen=True, slots=True)
class SealPicture:
    """A seal drawing: a one-page PDF whose page is the seal (square, transparent background)."""

    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


@dataclass(frozen=True, slots=True)
class Slice:
    """Part ``index`` of ``count`` of the seal, drawn in ``rect`` (x, y, w, h, points) on ``page``.

    ``size`` is the whole seal's diameter in points; the slice shows the drawing's x range
    ``[index * size / count, (index + 1) * size / count]``. A whole seal is ``Slice(page, rect, 0, 1, size)``.
    ``rect`` is in the page's user space; on a rotated page the slice's width runs along the
    displayed page's horizontal.
    """

    page: int
    rect: tuple[float, float, float, float]
    index: int
    count: int
    size: float
    rotate: int = 0  # the page's /Rotate: the drawing is turned back so that it reads upright


@functools.lru_cache(maxsize=4)
def _reader(pdf: bytes) -> Any:
    """The picture parsed once per worker (pyHanko's ``ImportedPdfPage`` re-opens its file per signature)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if len(reader.root["/Pages"]["/Kids"]) < 1:
            raise ValueError("no page")
    except Exception as e:  # a bad picture is a configuration error, said once
        raise SealError("印章图形不是有效的 PDF", f"the seal picture is not a usable PDF ({e})") from e
    return reader


def _draw(xobj_name: str, bbox: tuple[float, float, float, float], cut: Slice) -> bytes:
    """Content that draws the picture for ``cut`` in a box whose origin is the slice's lower left."""
    x0, y0, x1, y1 = bbox
    pw, ph = abs(x1 - x0) or 1.0, abs(y1 - y0) or 1.0
    _, _, wu, hu = cut.rect
    # from the box as the reader sees it (the page turned by /Rotate) to the box in user space
    turn = {
        90: f"0 1 -1 0 {wu:.4f} 0 cm ",
        180: f"-1 0 0 -1 {wu:.4f} {hu:.4f} cm ",
        270: f"0 -1 1 0 0 {hu:.4f} cm ",
    }.get(cut.rotate, "")
    w, h = (hu, wu) if cut.rotate in (90, 270) else (wu, hu)
    if cut.count == 1:  # a whole seal: fit the box, centred
        size = min(w, h)
        dx, dy = (w - size) / 2, (h - size) / 2
    else:
        size = cut.size
        dx, dy = -cut.index * size / cut.count, (h - size) / 2
    sx, sy = size / pw, size / ph
    return (
        f"q {turn}0 0 {w:.4f} {h:.4f} re W n {sx:.6f} 0 0 {sy:.6f} {dx - x0 * sx:.4f} {dy - y0 * sy:.4f} cm "
        f"{xobj_name} Do Q"
    ).encode()


class SealLook:
    """How one document's seal looks: the picture and the slices drawn into page content.

    One per document (it remembers the picture's XObject imported into that document's writer).
    """

    def __init__(
        self, picture: SealPicture, *, widget: Slice | None = None, page_slices: tuple[Slice, ...] = ()
    ) -> None:
        self.picture = picture
        self.widget = widget
        self.page_slices = page_slices
        self._xobj: Any = None
        self._bbox: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    def _import(self, writer: Any) -> Any:
        if self._xobj is None:
            ref = writer.import_page_as_xobject(_reader(self.picture.pdf), page_ix=0)
            self._bbox = tuple(float(v) for v in ref.get_object()["/BBox"])  # type: ignore[assignment]
            self._xobj = ref
        return self._xobj

    def prepare(self, writer: Any, box: SealBoxSpec) -> None:
        """Draw the page slices of a 骑缝章 into their pages (same revision as the signature)."""
        from pyhanko.pdf_utils import generic

        for cut in self.page_slices:
            ref = self._import(writer)
            name = "/SkcSeal" + self.picture.sha256[:8]
            x, y, _, _ = cut.rect
            body = b"q 1 0 0 1 %.4f %.4f cm " % (x, y) + _draw(name, self._bbox, cut) + b" Q"
            # existing content may leave its graphics state changed: wrap it in q ... Q first
            opener = writer.add_object(generic.StreamObject(stream_data=b"q\n"))
            writer.add_stream_to_page(cut.page, opener, prepend=True)
            stream = generic.StreamObject(stream_data=b"\nQ\n" + body + b"\n")
            stream.compress()
            resources: Any = generic.DictionaryObject(
                {generic.pdf_name("/XObject"): generic.DictionaryObject({generic.pdf_name(name): ref})}
            )
            if _has_xobject(writer, cut.page, name):  # pages sharing one resource dictionary
                resources = None
            writer.add_stream_to_page(cut.page, writer.add_object(stream), resources=resources)

    def stamp_style(self) -> Any:
        """A pyHanko stamp style drawing the widget's part of the seal as its ``/AP /N``."""
        return _seal_style(self)


def _has_xobject(writer: Any, page: int, name: str) -> bool:
    _, res = writer.find_page_for_modification(page)
    xobjects = res.get_object().get("/XObject")
    return xobjects is not None and name in xobjects.get_object()


def _seal_style(look: SealLook) -> Any:
    from pyhanko.pdf_utils.content import AppearanceContent
    from pyhanko.stamp import BaseStampStyle

    class _SealContent(AppearanceContent):
        def render(self) -> bytes:
            ref = look._import(self._ensure_writer)
            name = "/SkcSeal" + look.picture.sha256[:8]
            self.resources.xobject[name] = ref
            w, h = float(self.box.width), float(self.box.height)
            cut = look.widget
            if cut is None or cut.count == 1:  # a whole seal fits the widget pyHanko made (or found)
                cut = Slice(cut.page if cut else 0, (0.0, 0.0, w, h), 0, 1, min(w, h), cut.rotate if cut else 0)
            return _draw(name, look._bbox, cut)

    @dataclass(frozen=True)
    class _SealStampStyle(BaseStampStyle):
        def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> Any:
            return _SealContent(writer=writer, box=box)

    return _SealStampStyle()
