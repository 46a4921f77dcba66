"""The QR code: ``<site>/c/<number>?t=<token>``, error correction M or better, as vectors."""

from __future__ import annotations

import io

__all__ = ["qr_svg", "qr_url"]


def qr_url(site: str, number: str, token: str) -> str:
    return f"{site.rstrip('/')}/c/{number}?t={token}"


def qr_svg(url: str) -> str:
    """An SVG with one path for the dark modules (segno), quiet zone included."""
    import segno

    # a fixed mask: any mask decodes (readers take it from the format information), and segno's
    # search for the "best" one was a quarter of the time per certificate
    code = segno.make(url, error="m", boost_error=True, micro=False, mask=4)
    buf = io.BytesIO()
    code.save(buf, kind="svg", border=4, xmldecl=False, svgclass=None, lineclass=None, scale=1)
    return buf.getvalue().decode("ascii")
