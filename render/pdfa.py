"""Reading back what the templates put inside a certificate PDF: the record (a PDF/A-3
associated file ``certificate.json``) and skillcert's XMP keywords. Typst writes both itself,
so no post-processing step rewrites the PDF before it is signed."""

from __future__ import annotations

import io
import json
from typing import Any

__all__ = ["ATTACHMENT", "read_record", "xmp_properties"]

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
    """The embedded record of a skillcert PDF as written, or ``None`` (bounded: see :mod:`.record`)."""
    from .record import record_bytes

    data = record_bytes(pdf_bytes, ATTACHMENT)
    return None if data is None else dict(json.loads(data))
