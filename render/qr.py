"""The QR code: ``<site>/c/<number>?t=<token>#<payload>``, error correction M or better, as vectors."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["qr_code", "qr_svg", "qr_url"]


def qr_url(site: str, number: str, token: str, payload: str | None = None) -> str:
    """The printed URL; ``payload`` (the signed QR payload, base64url) goes in its fragment, which
    a browser never sends to the server."""
    url = f"{site.rstrip('/')}/c/{number}?t={token}"
    return f"{url}#{payload}" if payload else url


_BORDER = 4
_DARK_RUN = re.compile(rb"\x01+")


def qr_code(url: str) -> Any:
    """The segno QR code for ``url``: error correction M (or better, when it fits), mask 4 —
    ``segno.make``'s code, module for module, with placement and mask from tables (``_qr_fast``)."""
    from ._qr_fast import make

    # a fixed mask: any mask decodes (readers take it from the format information), and segno's
    # search for the "best" one was a quarter of the time per certificate
    return make(url)


def qr_svg(url: str) -> str:
    """An SVG with one path for the dark modules, quiet zone included: the bytes segno's own SVG
    writer gives (``border=4, scale=1``, no XML declaration or classes), written from the module
    matrix in a few string operations instead of segno's module-by-module loop (≈ 0.7 ms)."""
    code = qr_code(url)
    size = len(code.matrix) + 2 * _BORDER
    parts: list[str] = []
    px, py = 0, 0.0
    for row_no, row in enumerate(code.matrix):
        line = bytes(row)
        if line.translate(None, b"\x00\x01"):  # segno's matrix holds 0 and 1 once a code is made
            raise ValueError("unexpected QR module value")
        y = _BORDER + 0.5 + row_no
        for m in _DARK_RUN.finditer(line):
            x1, x2 = _BORDER + m.start(), _BORDER + m.end()
            dy = y - py
            parts.append(f"{'m' if parts else 'M'}{x1 - px} {int(dy) if int(dy) == dy else dy}h{x2 - x1}")
            px, py = x2, y
    d = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}"><path stroke="#000" d="{d}"/></svg>\n'
    )
