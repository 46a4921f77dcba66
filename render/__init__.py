"""Rendering certificates to PDF/A: record + institution + style -> bytes and seal boxes.

Imports only ``registry``; never signs (that is ``sign/``) but says where the seals are.
"""

from __future__ import annotations

from .engine import DocumentKind, RenderedPdf, Renderer, RenderSettings
from .errors import MissingGlyph, PhotoRejected, RenderError
from .layout import SealBox
from .pdfa import read_record

__all__ = [
    "DocumentKind",
    "MissingGlyph",
    "PhotoRejected",
    "RenderError",
    "RenderSettings",
    "RenderedPdf",
    "Renderer",
    "SealBox",
    "read_record",
    "render_certificate",
]


def render_certificate(record, institution, *, photo, settings=None, **kw):  # type: ignore[no-untyped-def]
    """Render one document with a throw-away :class:`Renderer` (use a Renderer for batches)."""
    with Renderer(settings) as r:
        return r.render(record, institution, photo=photo, **kw)
