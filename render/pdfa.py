"""Post-processing with pikepdf (before any signature): the record as a PDF/A-3 associated
file and skillcert's XMP properties, keeping Typst's PDF/A identification."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["XMP_NS", "attach_record", "read_record"]

XMP_NS = "https://skillcert.invalid/ns/1.0/"
ATTACHMENT = "certificate.json"


def attach_record(pdf_bytes: bytes, record: Mapping[str, Any], xmp: Mapping[str, str]) -> bytes:
    import pikepdf
    from pikepdf import Array, Name

    data = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        spec = pikepdf.AttachedFileSpec(
            pdf,
            data,
            description="职业技能等级证书数据 certificate record",
            filename=ATTACHMENT,
            mime_type="application/json",
            relationship=Name.Data,  # type: ignore[call-arg]
        )
        pdf.attachments[ATTACHMENT] = spec
        pdf.Root.AF = pdf.make_indirect(Array([spec.obj]))
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.register_xml_namespace(XMP_NS, "skillcert")
            for key, value in xmp.items():
                meta[f"{{{XMP_NS}}}{key}"] = value
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def read_record(pdf_bytes: bytes) -> dict[str, Any] | None:
    """The embedded record of a skillcert PDF, or ``None``."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        spec = pdf.attachments.get(ATTACHMENT)
        if spec is None:
            return None
        return dict(json.loads(spec.get_file().read_bytes()))
