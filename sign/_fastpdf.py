"""A PAdES B-B seal written directly, for the common case (private to :mod:`sign`, issue 18).

What pyHanko does to add one signature to a freshly rendered certificate costs ≈ 5 ms, more than
ten times the RSA-2048 operation itself: it parses the whole file into objects, builds the CMS
with asn1crypto and writes the update through its object writer. For the case the issue pipeline
meets thousands of times — one new signature field on a page of a single-revision file with a
classic cross-reference table, no form yet, an RSA PKCS#1 v1.5 key in memory — this module writes
the same incremental update itself:

* the page (its dictionary as it was, plus ``/Annots``), the catalog (plus ``/AcroForm`` and the
  ESIC extension, as pyHanko writes them), the form, the widget-field with an empty ``/AP /N``
  appearance, the signature dictionary, an xref section and a trailer chaining to the first one;
* the CMS from a :class:`CmsTemplate` made from a signature **pyHanko itself** produced for the
  same signer: the signed attributes (content type, message digest, signing-certificate-v2) are
  the same for every document except the 32-byte digest, and PKCS#1 v1.5 is deterministic, so
  the template is only accepted when it reproduces pyHanko's own CMS for that document byte for
  byte.

Anything else (a form or annotations already there, an xref stream, an earlier update, another
key type, a token key, a visible look, a timestamp) returns ``None`` and the caller seals with
pyHanko as before. The output is checked by the same validators as pyHanko's (tests/test_sign.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["CmsTemplate", "fast_seal", "template_from"]

_RESERVED_HEX = 8192  # as sign.seal reserves for B-B
_NAME_OK = re.compile(rb"[A-Za-z0-9_.\-]+")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_REF = rb"(\d+)\s+(\d+)\s+R"
_OBJ = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\s*")
_LITERAL = re.compile(rb"\((?:[^()\\]|\\.)*\)", re.DOTALL)  # a literal string without nested parentheses
_HEX = re.compile(rb"<[0-9A-Fa-f\s]*>")
_DELIMS = re.compile(rb"<<|>>")


def _plain_dict(body: bytes) -> bool:
    """Whether ``body`` is one dictionary whose last ``>>`` closes it, written plainly: strings only
    without nested parentheses, no comments, no streams or object keywords. Anything else: pyHanko."""
    rest = _HEX.sub(b" ", _LITERAL.sub(b" ", body))
    if any(c in rest for c in (b"(", b")", b"%", b"\\")) or re.search(rb"\b(stream|endstream|obj|endobj)\b", rest):
        return False
    depth = 0
    for m in _DELIMS.finditer(rest):
        depth += 1 if m.group() == b"<<" else -1
        if depth == 0 and m.end() != len(rest):
            return False  # the first dictionary closes before the end
        if depth < 0:
            return False
    rest = _DELIMS.sub(b" ", rest)
    return depth == 0 and b"<" not in rest and b">" not in rest and rest.strip() != b""


@dataclass(frozen=True, slots=True)
class CmsTemplate:
    """pyHanko's CMS for one signer with the digest and the signature at known offsets."""

    der: bytes
    attrs_at: int  # where the signed attributes ([0] IMPLICIT SET) start in ``der``
    attrs_len: int
    digest_at: int  # where the message digest value sits, relative to ``attrs_at``
    signature_at: int  # where the 256-byte signature value sits in ``der``
    key: Any  # the cryptography RSA private key

    def cms(self, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        attrs = bytearray(self.der[self.attrs_at : self.attrs_at + self.attrs_len])
        attrs[self.digest_at : self.digest_at + 32] = digest
        attrs[0] = 0x31  # signed as a SET OF (RFC 5652 §5.4), embedded as [0] IMPLICIT
        signature = self.key.sign(bytes(attrs), padding.PKCS1v15(), hashes.SHA256())
        if len(signature) != 256:
            raise ValueError("unexpected signature length")
        attrs[0] = 0xA0
        out = bytearray(self.der)
        out[self.attrs_at : self.attrs_at + self.attrs_len] = attrs
        out[self.signature_at : self.signature_at + 256] = signature
        return bytes(out)


def template_from(sealed: bytes, signer: Any) -> CmsTemplate | None:
    """The template for ``signer`` from a file pyHanko just sealed with it (its last signature), or
    ``None`` when the signature is not one this module can reproduce exactly."""
    from asn1crypto import cms
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = getattr(signer, "_key", None)
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != 2048:
        return None
    found = _last_signature(sealed)
    if found is None:
        return None
    digest, raw = found
    try:
        ci = cms.ContentInfo.load(raw)
        der = ci.dump()
        si = ci["content"]["signer_infos"][0]
        if (
            len(ci["content"]["signer_infos"]) != 1
            or si["digest_algorithm"]["algorithm"].native != "sha256"
            or si["signature_algorithm"]["algorithm"].native != "sha256_rsa"
            or si["unsigned_attrs"].native is not None
        ):
            return None
        attrs = si["signed_attrs"].dump()
        kinds = [a["type"].native for a in si["signed_attrs"]]
        md = next(a["values"][0].native for a in si["signed_attrs"] if a["type"].native == "message_digest")
        signature = si["signature"].native
    except (ValueError, KeyError, TypeError, StopIteration):
        return None
    if kinds != ["content_type", "message_digest", "signing_certificate_v2"] or md != digest:
        return None  # only attributes that are the same for every document (no signing time)
    attrs_at = der.find(attrs)
    signature_at = der.find(signature)
    if attrs_at < 0 or der.count(attrs) != 1 or der.count(signature) != 1 or attrs.count(md) != 1:
        return None
    template = CmsTemplate(der, attrs_at, len(attrs), attrs.find(md), signature_at, key)
    try:
        same = template.cms(digest) == der  # pyHanko's own bytes for this very document
    except ValueError:
        return None
    return template if same else None


def _last_signature(data: bytes) -> tuple[bytes, bytes] | None:
    """(SHA-256 over the ByteRange, the CMS DER) of the last signature dictionary in ``data``."""
    found = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))
    if not found:
        return None
    m = found[-1]
    a, b, c, d = (int(x) for x in m.groups())
    if a != 0 or data[b : b + 1] != b"<" or data[c - 1 : c] != b">" or c + d > len(data):
        return None
    h = hashlib.sha256()
    h.update(memoryview(data)[:b])
    h.update(memoryview(data)[c : c + d])
    try:
        raw = bytes.fromhex(data[b + 1 : c - 1].decode("ascii"))
    except ValueError:
        return None
    return h.digest(), raw


# -- the file ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Doc:
    startxref: int
    size: int
    root: int
    info: bytes  # the trailer's ``/Info n g R`` as written, or b""
    first_id: bytes  # the first /ID string as written (kept), or b""
    offsets: dict[int, int]


def _parse(data: bytes) -> _Doc | None:
    """The single classic xref section and trailer of a file that was never updated, or ``None``."""
    m = _STARTXREF.search(data, max(0, len(data) - 64))
    if m is None:
        return None
    start = int(m.group(1))
    if data[start : start + 4] != b"xref":
        return None  # an xref stream
    t = data.find(b"trailer", start)
    if t < 0 or data.count(b"xref", start + 4, t) or data.count(b"startxref", 0, start) or data.count(b"%%EOF") != 1:
        return None
    trailer = data[t : m.start()]
    if any(k in trailer for k in (b"/Prev", b"/XRefStm", b"/Encrypt")):
        return None
    size = re.search(rb"/Size\s+(\d+)", trailer)
    root = re.search(rb"/Root\s+" + _REF, trailer)
    if size is None or root is None or root.group(2) != b"0":
        return None
    info = re.search(rb"/Info\s+\d+\s+\d+\s+R", trailer)
    first_id = re.search(rb"/ID\s*\[\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>)", trailer, re.DOTALL)
    if first_id is None and b"/ID" in trailer:
        return None  # an /ID this parser does not read (nested parentheses): pyHanko keeps it
    offsets = _xref_offsets(data[start + 4 : t])
    if offsets is None:
        return None
    return _Doc(
        start,
        int(size.group(1)),
        int(root.group(1)),
        info.group(0) if info else b"",
        first_id.group(1) if first_id else b"",
        offsets,
    )


def _xref_offsets(table: bytes) -> dict[int, int] | None:
    """Object number -> offset of the in-use entries of a classic xref table, or ``None`` if malformed."""
    offsets: dict[int, int] = {}
    rows = [ln.split() for ln in table.splitlines() if ln.strip()]
    i = 0
    try:
        while i < len(rows):
            if len(rows[i]) != 2:
                return None
            first, count = int(rows[i][0]), int(rows[i][1])
            for k in range(count):
                entry = rows[i + 1 + k]
                if len(entry) != 3 or entry[2] not in (b"n", b"f"):
                    return None
                if entry[2] == b"n":
                    offsets[first + k] = int(entry[0])
            i += 1 + count
    except (ValueError, IndexError):
        return None
    return offsets


def _dict_of(data: bytes, doc: _Doc, num: int) -> bytes | None:
    """The dictionary of object ``num`` (generation 0, not a stream) as written, or ``None``."""
    at = doc.offsets.get(num)
    if at is None:
        return None
    head = _OBJ.match(data, at)
    if head is None or int(head.group(1)) != num or head.group(2) != b"0":
        return None
    end = data.find(b"endobj", head.end())
    if end < 0:
        return None
    body = data[head.end() : end].strip()
    if not body.startswith(b"<<") or not body.endswith(b">>") or not _plain_dict(body):
        return None
    return body


def _page(data: bytes, doc: _Doc, catalog: bytes, index: int) -> tuple[int, bytes] | None:
    pages = re.search(rb"/Pages\s+" + _REF, catalog)
    if pages is None:
        return None
    tree = _dict_of(data, doc, int(pages.group(1)))
    kids = re.search(rb"/Kids\s*\[([^\]]*)\]", tree or b"")
    if kids is None:
        return None
    refs = re.findall(_REF, kids.group(1))
    if index >= len(refs) or refs[index][1] != b"0":
        return None
    num = int(refs[index][0])
    page = _dict_of(data, doc, num)
    if page is None or not re.search(rb"/Type\s*/Page(?![A-Za-z])", page):
        return None  # a nested page tree: pyHanko
    return num, page


def _text(s: str) -> bytes:
    """A PDF text string: UTF-16BE with its byte order mark, in hex."""
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


def fast_seal(
    data: bytes,
    *,
    page_index: int,
    rect: tuple[int, int, int, int],
    field_name: str,
    reason: str | None,
    location: str | None,
    template: CmsTemplate,
    when: datetime | None = None,
) -> bytes | None:
    """``data`` with one PAdES signature in a new field at ``rect`` on the page, or ``None`` when the
    file is not the simple case this module writes (the caller then uses pyHanko)."""
    name = field_name.encode()
    if not _NAME_OK.fullmatch(name):
        return None
    doc = _parse(data)
    if doc is None:
        return None
    catalog = _dict_of(data, doc, doc.root)
    if catalog is None or any(k in catalog for k in (b"/AcroForm", b"/Extensions", b"/Perms", b"/NeedsRendering")):
        return None
    found = _page(data, doc, catalog, page_index)
    if found is None:
        return None
    page_num, page = found
    if b"/Annots" in page:
        return None
    form, widget, ap, sig = doc.size, doc.size + 1, doc.size + 2, doc.size + 3
    x1, y1, x2, y2 = rect
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ").encode()
    sig_extra = b"".join(
        [
            b"/Reason " + _text(reason) + b"\n" if reason else b"",
            b"/Location " + _text(location) + b"\n" if location else b"",
        ]
    )
    objects: list[tuple[int, bytes]] = [
        (page_num, page[:-2].rstrip() + b"\n/Annots [ %d 0 R ]\n>>" % widget),
        (
            doc.root,
            catalog[:-2].rstrip()
            + b"\n/AcroForm %d 0 R\n/Extensions <<\n/ESIC <<\n/Type /DeveloperExtensions\n/BaseVersion /1.7\n"
            b"/ExtensionLevel 1\n>>\n>>\n>>" % form,
        ),
        (form, b"<<\n/Fields [ %d 0 R ]\n/SigFlags 3\n>>" % widget),
        (
            widget,
            b"<<\n/FT /Sig\n/T (%s)\n/Type /Annot\n/Subtype /Widget\n/F 132\n/Rect [ %d %d %d %d ]\n/P %d 0 R\n"
            b"/AP <<\n/N %d 0 R\n>>\n/V %d 0 R\n>>" % (name, x1, y1, x2, y2, page_num, ap, sig),
        ),
        (
            ap,
            b"<<\n/BBox [ 0 0 %d %d ]\n/Resources <<\n>>\n/Type /XObject\n/Subtype /Form\n/Length 0\n>>\nstream\n\nendstream"
            % (x2 - x1, y2 - y1),
        ),
    ]
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    where: dict[int, int] = {}
    for num, body in objects:
        where[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    where[sig] = len(out)
    out += b"%d 0 obj\n<<\n/Contents " % sig
    contents_at = len(out)
    out += b"<" + b"0" * _RESERVED_HEX + b">"
    contents_end = len(out)
    out += b"\n/ByteRange "
    range_at = len(out)
    out += b" " * 60
    out += b"\n/Type /Sig\n/Filter /Adobe.PPKLite\n/SubFilter /ETSI.CAdES.detached\n/M (%s)\n%s>>\nendobj\n" % (
        stamp,
        sig_extra,
    )
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    nums = sorted(where)
    k = 0
    while k < len(nums):  # runs of consecutive object numbers
        j = k
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out += b"%d %d\n" % (nums[k], j - k + 1)
        for n in nums[k : j + 1]:
            out += b"%010d 00000 n \n" % where[n]
        k = j + 1
    second_id = b"<" + os.urandom(16).hex().encode() + b">"
    ids = b"/ID [ %s %s ]\n" % (doc.first_id, second_id) if doc.first_id else b""
    info = doc.info + b"\n" if doc.info else b""
    out += b"trailer\n<<\n/Size %d\n/Root %d 0 R\n%s%s/Prev %d\n>>\nstartxref\n%d\n%%%%EOF\n" % (
        sig + 1,
        doc.root,
        info,
        ids,
        doc.startxref,
        xref_at,
    )
    byte_range = b"[0 %d %d %d]" % (contents_at, contents_end, len(out) - contents_end)
    out[range_at : range_at + len(byte_range)] = byte_range
    h = hashlib.sha256()
    view = memoryview(out)
    h.update(view[:contents_at])
    h.update(view[contents_end:])
    view.release()
    cms = template.cms(h.digest()).hex().upper().encode()
    if len(cms) > _RESERVED_HEX:
        return None
    out[contents_at + 1 : contents_at + 1 + len(cms)] = cms
    return bytes(out)
