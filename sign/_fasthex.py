"""pyHanko's hex-string reader, the same answer at C speed for the plain case.

pyHanko reads a PDF hex string (``<3082…>``) one byte at a time through ``read_non_whitespace``:
a seal's ``/Contents`` holds 30,000 hex digits or more, so reading it is a large part of opening a
sealed file (issue 18). :func:`read_hex_string` gives exactly what
``pyhanko.pdf_utils.generic.read_hex_string_from_stream`` gives, and leaves the stream where it
leaves it: when everything between ``<`` and the first ``>`` is hex digits and PDF white space,
the digits are joined and unhexlified in one call (an odd count padded with ``0``, as pyHanko
does); anything else — a comment (``%``), a stray byte, no ``>`` before the end — goes to
pyHanko's own function from the same position, which answers (or raises) as it always has.
:func:`install` puts it in pyHanko's place; tests/test_fasthex.py compares the two on every
kind of input.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

__all__ = ["install", "read_hex_string"]

_WHITESPACE = b" \n\r\t\f\x00"  # pyhanko.pdf_utils.misc.PDF_WHITESPACE
_PLAIN = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")
_BLOCK = 65536
_original: Any = None


def read_hex_string(stream: Any) -> Any:
    """``read_hex_string_from_stream(stream)``, fast when the string is plain."""
    from pyhanko.pdf_utils.generic import pdf_string

    start = stream.tell()
    stream.read(1)  # the "<"
    pieces = []
    while True:
        block = stream.read(_BLOCK)
        if not block:  # no ">" before the end: pyHanko says how that fails
            stream.seek(start)
            return _original(stream)
        end = block.find(b">")
        if end >= 0:
            pieces.append(block[:end])
            break
        pieces.append(block)
    body = b"".join(pieces)
    if not _PLAIN.fullmatch(body):  # a comment or a stray byte: pyHanko's way, from the start
        stream.seek(start)
        return _original(stream)
    stream.seek(start + 1 + len(body) + 1)
    digits = body.translate(None, _WHITESPACE)
    if len(digits) % 2:
        digits += b"0"
    return pdf_string(binascii.unhexlify(digits))


def install() -> None:
    """Use :func:`read_hex_string` wherever pyHanko reads a hex string (idempotent)."""
    global _original
    from pyhanko.pdf_utils import generic

    if _original is None:
        _original = generic.read_hex_string_from_stream
    generic.read_hex_string_from_stream = read_hex_string


def original() -> Any:
    """pyHanko's own function (for the comparison test)."""
    install()
    return _original
