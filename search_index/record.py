"""The masked record a snapshot holds for one certificate, and its one storage form.

:class:`SnapshotRecord` is what :mod:`search_index` writes into ``certs.sqlite`` and what every
look-up gives back: masked name and ID number, what the certificate says, its status, the hashes
of its delivered files and the filed seal keys. :func:`encode_record` and :func:`decode_record`
are the only way in and out of the stored JSON text; nothing outside this package sees that text.

The storage form is the one ``skillcert/snapshot/3`` has always held (keys sorted, UTF-8 kept),
so snapshots published before this module read back unchanged. ``versions`` is absent from the
records of ``skillcert/snapshot/2`` (read as none); ``replaced_how`` and ``qr_version`` are only
on the record an old paper's QR token resolves to. A stored record with a field this code does
not know, or without one it needs, is refused with the field named in both languages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from registry.errors import SkillcertError

__all__ = ["DECOY_RECORD", "SnapshotRecord", "SnapshotRecordRejected", "VersionNote", "decode_record", "encode_record"]


class SnapshotRecordRejected(SkillcertError):
    """A stored snapshot record is not one this code can read (damaged, or of a newer layout)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionNote:
    """What created a later version of the certificate: ``correct`` (更正) or ``reissue`` (补发), and when."""

    version: int
    how: str
    on: str


@dataclass(frozen=True, kw_only=True)  # no slots: decode_record fills __dict__ (see there)
class SnapshotRecord:
    """One certificate as a snapshot holds it (masked: no full name, ID number or certificate number)."""

    name: str  # masked: 张*三
    id: str  # masked ID number: 1101**********002X
    id_type: str
    id_type_zh: str
    id_type_en: str
    occupation: str
    job: str
    level: int
    level_zh: str
    level_en: str
    issue_date: str | None
    institution_code: str
    institution_zh: str
    institution_en: str
    style: str
    status: str  # valid / revoked / suspended, or replaced (an old paper's QR token)
    status_date: str | None
    status_reason: str | None
    version: int
    pdf_sha256: tuple[str, ...]  # every delivered file, oldest first
    proof_sha256: tuple[str, ...]  # every proof document (证明) issued for it
    replaced_on: str | None
    versions: tuple[VersionNote, ...]
    signer_fingerprints: tuple[str, ...]  # the institution's filed seal keys
    replaced_how: str | None = None  # only on a retired QR token's record: "reissue"
    qr_version: int | None = None  # only on a retired QR token's record: the version its paper carried


# field -> (type, may be null): the stored JSON, checked before anything is built from it
_STR, _INT, _STRS, _VERSIONS = "text", "integer", "list of text", "list of versions"
_FIELDS: dict[str, tuple[str, bool]] = {
    "name": (_STR, False),
    "id": (_STR, False),
    "id_type": (_STR, False),
    "id_type_zh": (_STR, False),
    "id_type_en": (_STR, False),
    "occupation": (_STR, False),
    "job": (_STR, False),
    "level": (_INT, False),
    "level_zh": (_STR, False),
    "level_en": (_STR, False),
    "issue_date": (_STR, True),
    "institution_code": (_STR, False),
    "institution_zh": (_STR, False),
    "institution_en": (_STR, False),
    "style": (_STR, False),
    "status": (_STR, False),
    "status_date": (_STR, True),
    "status_reason": (_STR, True),
    "version": (_INT, False),
    "pdf_sha256": (_STRS, False),
    "proof_sha256": (_STRS, False),
    "replaced_on": (_STR, True),
    "versions": (_VERSIONS, False),
    "signer_fingerprints": (_STRS, False),
    "replaced_how": (_STR, False),
    "qr_version": (_INT, False),
}
_REQUIRED = frozenset(_FIELDS) - {"versions", "replaced_how", "qr_version"}
_KNOWN = frozenset(_FIELDS)
_ZH_TYPE = {_STR: "文字", _INT: "整数", _STRS: "文字列表", _VERSIONS: "版本列表"}


def _rejected(zh: str, en: str) -> SnapshotRecordRejected:
    return SnapshotRecordRejected(
        f"快照中的证书记录无法读取：{zh}；请重新完整发布（skillcert publish）",
        f"a certificate record in the snapshot cannot be read: {en}; publish a full snapshot (skillcert publish)",
    )


def _is(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, list) and all(
        isinstance(v, dict)
        and v.keys() == {"version", "how", "on"}
        and _is(v["version"], _INT)
        and isinstance(v["how"], str)
        and isinstance(v["on"], str)
        for v in value
    )


_OPTIONAL = ("versions", "replaced_how", "qr_version")
_TEXT_KEYS = tuple(k for k, (kind, null) in _FIELDS.items() if kind == _STR and not null and k not in _OPTIONAL)
_TEXT_OR_NULL_KEYS = tuple(k for k, (kind, null) in _FIELDS.items() if kind == _STR and null)
_TEXT, _TEXT_OR_NULL = {str}, {str, type(None)}


def _texts(value: Any) -> bool:
    return type(value) is list and _TEXT.issuperset(map(type, value))


def _well_typed(d: dict[str, Any]) -> bool:
    """Every field of the right type: the quick test each look-up runs (hit and miss alike)."""
    return (
        set(map(type, map(d.__getitem__, _TEXT_KEYS))) == _TEXT
        and _TEXT_OR_NULL.issuperset(map(type, map(d.__getitem__, _TEXT_OR_NULL_KEYS)))
        and type(d["level"]) is int
        and type(d["version"]) is int
        and _texts(d["pdf_sha256"])
        and _texts(d["proof_sha256"])
        and _texts(d["signer_fingerprints"])
        and type(d.get("replaced_how", "")) is str
        and type(d.get("qr_version", 0)) is int
        and ("versions" not in d or _is(d["versions"], _VERSIONS))
    )


def _layouts() -> dict[tuple[str, ...], frozenset[tuple[type, ...]]]:
    """Every key order :func:`encode_record` writes (sorted; the optional fields present or not),
    each with every tuple of value types its fields may have (``None`` where a field may be null)."""
    from itertools import combinations, product

    out: dict[tuple[str, ...], frozenset[tuple[type, ...]]] = {}
    for n in range(len(_OPTIONAL) + 1):
        for extra in combinations(_OPTIONAL, n):
            keys = tuple(sorted(_REQUIRED | set(extra)))
            kinds = [
                (str, type(None)) if _FIELDS[k][1] else {_STR: (str,), _INT: (int,)}.get(_FIELDS[k][0], (list,))
                for k in keys
            ]
            out[keys] = frozenset(product(*kinds))
    return out


_LAYOUTS = _layouts()
_STR_LISTS = ("pdf_sha256", "proof_sha256", "signer_fingerprints")


def _stored_form(d: dict[str, Any]) -> bool:
    """The quick test of a record in the form :func:`encode_record` writes (its keys in that order):
    one look-up for the keys, one for the types of all values, then the items of the lists. It
    accepts exactly what the checks in :func:`decode_record` accept for such a record (``type(v)
    is int`` excludes ``bool`` as they do); a record in any other key order takes those checks."""
    types = _LAYOUTS.get(tuple(d))
    if types is None or tuple(map(type, d.values())) not in types:
        return False
    try:  # the lists hold text only (JSON gives no str subclass): joining them is one C call each
        "".join(d["pdf_sha256"]), "".join(d["proof_sha256"]), "".join(d["signer_fingerprints"])
    except TypeError:
        return False
    return not d.get("versions") or _is(d["versions"], _VERSIONS)


# json.loads without its layers for whitespace, bytes and the Python frame of raw_decode: the C
# scanner itself, which gives (value, end) or raises StopIteration where no value starts
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def decode_record(text: str | bytes) -> SnapshotRecord:
    """The record from its stored JSON; :class:`SnapshotRecordRejected` naming what is wrong."""
    if type(text) is str:  # what SQLite gives for the TEXT column: the C scanner straight away
        try:
            d, end = _scan_once(text, 0)
        except (StopIteration, json.JSONDecodeError, RecursionError):
            end = -1  # json.loads below says what is wrong (or that it is only whitespace around it)
        if end == len(text) and type(d) is dict and _stored_form(d):
            return _built(d)
    try:
        d = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise _rejected("不是有效的 JSON", "it is not valid JSON") from e
    if type(d) is dict and _stored_form(d):
        return _built(d)
    if not isinstance(d, dict):
        raise _rejected("应为 JSON 对象", "it must be a JSON object")
    if not _KNOWN.issuperset(d):
        extra = ", ".join(sorted(d.keys() - _KNOWN))
        raise _rejected(
            f"有未知字段 {extra}（快照来自更新的版本？）", f"unknown field(s) {extra} (a snapshot of a newer layout?)"
        )
    if len(d) - sum(k in d for k in _OPTIONAL) != len(_REQUIRED):  # every key is known: count the required
        missing = ", ".join(sorted(_REQUIRED - d.keys()))
        raise _rejected(f"缺少字段 {missing}", f"missing field(s) {missing}")
    if not _well_typed(d):
        for key, value in d.items():  # name the first wrong field
            kind, nullable = _FIELDS[key]
            if not (_is(value, kind) or (nullable and value is None)):
                raise _rejected(f"字段 {key} 应为{_ZH_TYPE[kind]}", f"the field '{key}' must be {kind}")
    return _built(d)


def _built(d: dict[str, Any]) -> SnapshotRecord:
    """The record from a checked dict. The keys are the fields' names and the values of their
    types: only the lists become tuples. Every look-up (hit or miss) decodes a record, and the
    frozen dataclass's __init__ (one object.__setattr__ a field) costs about fifteen times filling
    __dict__ at once; an absent replaced_how or qr_version reads the class's default (None)."""
    d["pdf_sha256"] = tuple(d["pdf_sha256"])
    d["proof_sha256"] = tuple(d["proof_sha256"])
    d["signer_fingerprints"] = tuple(d["signer_fingerprints"])
    vs = d.get("versions")  # mostly [] (absent in skillcert/snapshot/2)
    d["versions"] = tuple(VersionNote(version=v["version"], how=v["how"], on=v["on"]) for v in vs) if vs else ()
    rec = object.__new__(SnapshotRecord)
    rec.__dict__.update(d)
    return rec


def encode_record(rec: SnapshotRecord) -> str:
    """The stored JSON text of ``rec`` (what :func:`decode_record` reads back to an equal record)."""
    d: dict[str, object] = {
        "name": rec.name,
        "id": rec.id,
        "id_type": rec.id_type,
        "id_type_zh": rec.id_type_zh,
        "id_type_en": rec.id_type_en,
        "occupation": rec.occupation,
        "job": rec.job,
        "level": rec.level,
        "level_zh": rec.level_zh,
        "level_en": rec.level_en,
        "issue_date": rec.issue_date,
        "institution_code": rec.institution_code,
        "institution_zh": rec.institution_zh,
        "institution_en": rec.institution_en,
        "style": rec.style,
        "status": rec.status,
        "status_date": rec.status_date,
        "status_reason": rec.status_reason,
        "version": rec.version,
        "pdf_sha256": list(rec.pdf_sha256),
        "proof_sha256": list(rec.proof_sha256),
        "replaced_on": rec.replaced_on,
        "versions": [{"version": v.version, "how": v.how, "on": v.on} for v in rec.versions],
        "signer_fingerprints": list(rec.signer_fingerprints),
    }
    if rec.replaced_how is not None:
        d["replaced_how"] = rec.replaced_how
    if rec.qr_version is not None:
        d["qr_version"] = rec.qr_version
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


# what a miss reads in a snapshot without certificates (otherwise a miss reads a random real
# record): the shape of a real one, so that decoding it costs what decoding a record costs
DECOY_RECORD = SnapshotRecord(
    name="*" * 3,
    id="*" * 18,
    id_type="000",
    id_type_zh="-",
    id_type_en="-" * 8,
    occupation="-" * 6,
    job="",
    level=0,
    level_zh="-",
    level_en="-",
    issue_date="0000-00-00",
    institution_code="-" * 13,
    institution_zh="-" * 16,
    institution_en="-" * 40,
    style="-",
    status="-",
    status_date=None,
    status_reason=None,
    version=0,
    pdf_sha256=("0" * 64,),
    proof_sha256=(),
    replaced_on=None,
    versions=(),
    signer_fingerprints=("0" * 64,),
)
