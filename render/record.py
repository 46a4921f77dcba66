"""The record a certificate PDF carries (``certificate.json``), as one typed, checked value.

An uploaded PDF is hostile until proven otherwise: the record is read with a hard cap (a real one
is about 1 KB; more than :data:`MAX_RECORD_BYTES` decoded is refused), only unfiltered or plain
FlateDecode streams are accepted, and every field is checked for type and form (ISO dates, level
1-5, integer version) before any of it is used. What fails names the field, in both languages.
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import RecordRejected

__all__ = ["MAX_RECORD_BYTES", "SCHEMA", "EmbeddedRecord", "parse_record", "record_bytes", "record_json"]

SCHEMA = "skillcert/certificate/1"

MAX_RECORD_BYTES = 64 * 1024
_KINDS = frozenset({"certificate", "replacement", "proof"})
_MAX_TEXT = 400
_MAX_URL = 3000  # the QR URL with its signed payload in the fragment (at most 2,048 characters)


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(raw, MAX_RECORD_BYTES + 1)
    except zlib.error as e:
        raise RecordRejected("证书数据无法解压", f"the certificate record cannot be decompressed ({e})") from e
    if len(out) > MAX_RECORD_BYTES or d.unconsumed_tail:
        raise _too_large()
    return out


def _too_large() -> RecordRejected:
    kb = MAX_RECORD_BYTES // 1024
    return RecordRejected(
        f"证书数据超过 {kb} KB，不是本系统签发的证书", f"the certificate record is over {kb} KB: refused"
    )


def record_bytes(pdf_bytes: bytes, name: str) -> bytes | None:
    """The decoded bytes of the attached file ``name``, bounded; ``None`` when there is none."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes), attempt_recovery=False) as pdf:
        spec = pdf.attachments.get(name)
        if spec is None:
            return None
        stream = spec.get_file().obj
        raw = stream.read_raw_bytes()
        if len(raw) > MAX_RECORD_BYTES:
            raise _too_large()
        filters = stream.get("/Filter")
        if filters is None:
            return bytes(raw)
        names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)]
        if names != ["/FlateDecode"] or stream.get("/DecodeParms") is not None:
            raise RecordRejected(
                "证书数据的编码方式不被接受", f"the certificate record uses an encoding that is not accepted ({names})"
            )
        return _inflate(bytes(raw))


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedRecord:
    """``skillcert/certificate/1``: what the renderer embeds (see ``render.engine``).

    :func:`record_json` writes it (the bytes a PDF carries), :func:`parse_record` reads it back.
    """

    schema: str
    kind: str
    style: str
    number: str
    name: str
    id_type: str
    id_number: str
    occupation: str
    job: str
    level: int
    issue_date: date
    institution_code: str
    institution_name: str
    issuing_body: str | None
    photo_sha256: str | None
    version: int
    qr_url: str | None
    replacement_date: date | None
    proof_number: str | None
    proof_date: date | None


_OPTIONAL = ("issuing_body", "photo_sha256", "qr_url", "replacement_date", "proof_number", "proof_date")
_FIELDS = frozenset(EmbeddedRecord.__dataclass_fields__)
_REQUIRED = _FIELDS - frozenset(_OPTIONAL)


def record_json(rec: EmbeddedRecord) -> str:
    """The record as the PDF carries it (``certificate.json``): sorted keys, one per line, UTF-8 kept."""
    d: dict[str, object] = {
        "schema": rec.schema,
        "kind": rec.kind,
        "style": rec.style,
        "number": rec.number,
        "name": rec.name,
        "id_type": rec.id_type,
        "id_number": rec.id_number,
        "occupation": rec.occupation,
        "job": rec.job,
        "level": rec.level,
        "issue_date": rec.issue_date.isoformat(),
        "institution_code": rec.institution_code,
        "institution_name": rec.institution_name,
        "issuing_body": rec.issuing_body,
        "photo_sha256": rec.photo_sha256,
        "version": rec.version,
        "qr_url": rec.qr_url,
        "replacement_date": rec.replacement_date.isoformat() if rec.replacement_date else None,
        "proof_number": rec.proof_number,
        "proof_date": rec.proof_date.isoformat() if rec.proof_date else None,
    }
    return json.dumps(d, ensure_ascii=False, sort_keys=True, indent=1)


def _bad(field: str, zh: str, en: str) -> RecordRejected:
    return RecordRejected(
        f"证书数据的字段 {field} 无效：{zh}", f"the certificate record's field '{field}' is invalid: {en}"
    )


def _text(
    d: dict[str, Any], key: str, *, required: bool = True, empty: bool = False, limit: int = _MAX_TEXT
) -> str | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise _bad(key, "应为文字", "it must be text")
    if len(v) > limit:
        raise _bad(key, "过长", "it is too long")
    if not empty and not v.strip():
        raise _bad(key, "为空", "it is empty")
    return v


def _int(d: dict[str, Any], key: str, low: int, high: int) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise _bad(key, f"应为 {low} 到 {high} 的整数", f"it must be an integer from {low} to {high}")
    return v


def _date(d: dict[str, Any], key: str, *, required: bool = True) -> date | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or len(v) != 10:
        raise _bad(key, "应为 YYYY-MM-DD 日期", "it must be a YYYY-MM-DD date")
    try:
        return date.fromisoformat(v)
    except ValueError as e:
        raise _bad(key, "不是有效日期", "it is not a real date") from e


def parse_record(data: bytes) -> EmbeddedRecord:
    """Check and type the record's JSON; :class:`RecordRejected` naming the first bad field."""
    try:
        d = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise RecordRejected("证书数据不是有效的 JSON", "the certificate record is not valid JSON") from e
    if not isinstance(d, dict):
        raise RecordRejected("证书数据应为 JSON 对象", "the certificate record must be a JSON object")
    if d.get("schema") != SCHEMA:
        raise _bad("schema", "不是 skillcert/certificate/1", "it is not skillcert/certificate/1")
    if not d.keys() <= _FIELDS:
        extra = ", ".join(repr(k[:40]) for k in sorted(d.keys() - _FIELDS)[:5])  # a hostile file names its own
        raise RecordRejected(f"证书数据有未知字段：{extra}", f"the certificate record has unknown field(s): {extra}")
    if not d.keys() >= _REQUIRED:
        missing = ", ".join(sorted(_REQUIRED - d.keys()))
        raise RecordRejected(f"证书数据缺少字段：{missing}", f"the certificate record lacks the field(s): {missing}")
    kind = _text(d, "kind")
    if kind not in _KINDS:
        raise _bad("kind", "不是已知的文书种类", "it is not a known document kind")
    issue_date = _date(d, "issue_date")
    assert issue_date is not None
    return EmbeddedRecord(
        schema=SCHEMA,
        kind=kind,
        style=str(_text(d, "style")),
        number=str(_text(d, "number")),
        name=str(_text(d, "name")),
        id_type=str(_text(d, "id_type")),
        id_number=str(_text(d, "id_number")),
        occupation=str(_text(d, "occupation")),
        job=str(_text(d, "job", empty=True)),
        level=_int(d, "level", 1, 5),
        issue_date=issue_date,
        institution_code=str(_text(d, "institution_code")),
        institution_name=str(_text(d, "institution_name")),
        issuing_body=_text(d, "issuing_body", required=False, empty=True),
        photo_sha256=_text(d, "photo_sha256", required=False, empty=True),
        version=_int(d, "version", 1, 10_000),
        qr_url=_text(d, "qr_url", required=False, empty=True, limit=_MAX_URL),
        replacement_date=_date(d, "replacement_date", required=False),
        proof_number=_text(d, "proof_number", required=False, empty=True),
        proof_date=_date(d, "proof_date", required=False),
    )
