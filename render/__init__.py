"""Rendering certificates to PDF/A: record + institution + style -> bytes and seal boxes.

Imports only ``registry``; never signs (that is ``sign/``) but says where the seals are.
"""

from __future__ import annotations

from .engine import DocumentKind, RenderedPdf, Renderer, RenderSettings
from .errors import MissingGlyph, PhotoRejected, RecordRejected, RenderError
from .layout import SealBox
from .pdfa import embedded_record, read_record
from .record import EmbeddedRecord, parse_record, record_bytes, record_json

__all__ = [
    "DocumentKind",
    "EmbeddedRecord",
    "MissingGlyph",
    "PhotoRejected",
    "RecordRejected",
    "RenderError",
    "RenderSettings",
    "RenderedPdf",
    "Renderer",
    "SealBox",
    "embedded_record",
    "parse_record",
    "read_record",
    "record_bytes",
    "record_json",
    "render_certificate",
]


def render_certificate(record, institution, *, photo, settings=None, **kw):  # type: ignore[no-untyped-def]
    """Render one document with a throw-away :class:`Renderer` (use a Renderer for batches)."""
    with Renderer(settings) as r:
        return r.render(record, institution, photo=photo, **kw)
