"""Reading back what the templates put inside a certificate PDF: the record (a PDF/A-3
associated file ``certificate.json``) and skillcert's XMP keywords. Typst writes both itself,
so no post-processing step rewrites the PDF before it is signed."""

from __future__ import annotations

import io
import json
from typing import Any

from .record import EmbeddedRecord, parse_record, record_bytes

__all__ = ["ATTACHMENT", "embedded_record", "read_record", "xmp_properties"]

ATTACHMENT = "certificate.json"


def xmp_properties(pdf_bytes: bytes) -> dict[str, str]:
    """skillcert's identifying fields, written by the template as XMP keywords ``skillcert:key=value``."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        meta = pdf.open_metadata()
        words = str(meta.get("pdf:Keywords") or "")
    out: dict[str, str] = {}
    for word in words.replace(";", ",").split(","):
        key, sep, value = word.strip().partition("=")
        if sep and key.startswith("skillcert:"):
            out[key.removeprefix("skillcert:")] = value
    return out


def read_record(pdf_bytes: bytes) -> dict[str, Any] | None:
    """The embedded record of a skillcert PDF as written, unchecked JSON, or ``None`` (bounded: see
    :mod:`.record`) — for people and tests looking inside a file; code takes :func:`embedded_record`."""
    data = record_bytes(pdf_bytes, ATTACHMENT)
    return None if data is None else dict(json.loads(data))


def embedded_record(pdf_bytes: bytes) -> EmbeddedRecord | None:
    """The embedded record, checked and typed (:class:`~.errors.RecordRejected` if malformed), or ``None``."""
    data = record_bytes(pdf_bytes, ATTACHMENT)
    return None if data is None else parse_record(data)
