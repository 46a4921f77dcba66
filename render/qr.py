"""The QR code: ``<site>/c/<number>?t=<token>#<payload>``, error correction M, as vectors.

zxing-cpp (C++, already what ``skillcert verify-qr`` reads codes with) encodes the symbol: the
smallest version for the URL at level M, and the mask its penalty rules find best. That takes
≈ 1 ms for a URL with its signed payload (version 15), where segno's pure-Python encoder took
≈ 3-4 ms even with placement and mask from tables. The SVG is one path of the dark modules,
row by row, quiet zone included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import RenderError

__all__ = ["QrSymbol", "qr_code", "qr_svg", "qr_url"]

_BORDER = 4
# zxing-cpp's image: 0 for a dark module, 255 for a light one -> 1 and 0; anything else -> 2
_MODULES = bytes(1 if b == 0 else 0 if b == 255 else 2 for b in range(256))


def qr_url(site: str, number: str, token: str, payload: str | None = None) -> str:
    """The printed URL; ``payload`` (the signed QR payload, base64url) goes in its fragment, which
    a browser never sends to the server."""
    url = f"{site.rstrip('/')}/c/{number}?t={token}"
    return f"{url}#{payload}" if payload else url


@dataclass(frozen=True, slots=True)
class QrSymbol:
    """A QR code as modules: ``matrix`` row after row, 1 for dark, without the quiet zone."""

    version: int
    error: str  # "M"
    matrix: tuple[bytes, ...]


def qr_code(url: str) -> QrSymbol:
    """The QR code for ``url`` at error correction level M (raises :class:`RenderError` when the
    URL does not fit any QR version)."""
    import zxingcpp

    code: Any
    try:
        code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    except (ValueError, RuntimeError) as e:
        raise RenderError(f"二维码放不下这个网址（{len(url)} 个字符）", f"the URL does not fit a QR code ({e})") from e
    image = memoryview(code.to_image(scale=1, add_quiet_zones=False))
    height, width = image.shape or (0, 0)
    flat = image.tobytes().translate(_MODULES)
    if height != width or (width - 17) % 4 or b"\x02" in flat:  # pragma: no cover - zxing-cpp's contract
        raise RenderError("二维码生成异常", "the QR encoder gave an unexpected image")
    rows = tuple(flat[k : k + width] for k in range(0, len(flat), width))
    return QrSymbol((width - 17) // 4, str(code.extra.get("ECLevel", "M")), rows)


def _chunk(pattern: int) -> str:
    """The path commands of 8 modules (``pattern``'s high bit first) from the pen at their left
    edge to their right edge: ``h`` over each dark run, ``m`` over each light one."""
    out, k = [], 0
    while k < 8:
        dark = bool(pattern & (0x80 >> k))
        n = 1
        while k + n < 8 and bool(pattern & (0x80 >> (k + n))) == dark:
            n += 1
        out.append(f"h{n}" if dark else f"m{n} 0")
        k += n
    return "".join(out)


_CHUNKS = tuple(_chunk(p) for p in range(256))
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def qr_svg(url: str) -> str:
    """An SVG (``width`` = ``height`` = modules + 8, one unit per module) with one path for the
    dark modules: per row, from its left edge (``M``), a horizontal line over each dark run (``h``)
    and a move over each light one (``m``), stroked one unit wide through the middle of the row.
    Eight modules at a time from a table: a few C-level operations per row, none per run."""
    code = qr_code(url)
    width = len(code.matrix)
    size = width + 2 * _BORDER
    pad = -width % 8
    nbytes = (width + pad) // 8
    rows = []
    for row_no, line in enumerate(code.matrix):
        packed = (int(line.translate(_DIGITS), 2) << pad).to_bytes(nbytes, "big")
        rows.append(f"M{_BORDER} {_BORDER + row_no}.5" + "".join(map(_CHUNKS.__getitem__, packed)))
    d = "".join(rows)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}"><path stroke="#000" d="{d}"/></svg>\n'
    )
