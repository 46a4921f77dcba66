"""One typed record per boundary (issue 15, item 3): the embedded record (render), the snapshot
record (search_index) and the public record (verify), each with its one conversion; the seal box
from render to sign in one place."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import sqlite3
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import render
from render import EmbeddedRecord, RecordRejected, parse_record, record_json
from search_index import PairKind, Snapshot, SnapshotRecord, VersionNote
from search_index.privacy import pair_key
from search_index.record import DECOY_RECORD, SnapshotRecordRejected, decode_record, encode_record
from verify import RateLimit, SiteSettings, create_app
from verify.check import CheckReport
from verify.openapi import PUBLIC_RECORD_FIELDS, openapi_document
from verify.public_record import PublicRecord, public_record

from .conftest import DemoHome

ROOT = Path(__file__).resolve().parent.parent

# records exactly as a skillcert/snapshot/3 snapshot stored them before the typed record existed
# (published from the demo registry: a valid one, a revoked one, a reissued one and the record its
# old paper's QR token resolves to, the decoy)
STORED_V3 = [
    '{"id": "4201**********6714", "id_type": "201", "id_type_en": "Resident Identity Card", "id_type_zh": "居民身份证", "institution_code": "S000011084012", "institution_en": "Beijing Haidian Mingde Vocational Skills Training School", "institution_zh": "北京市海淀区明德职业技能培训学校", "issue_date": "2026-11-20", "job": "电焊工", "level": 4, "level_en": "Level 4 / Intermediate Worker", "level_zh": "四级/中级工", "name": "余*", "occupation": "焊工", "pdf_sha256": [], "proof_sha256": [], "replaced_on": null, "signer_fingerprints": [], "status": "valid", "status_date": null, "status_reason": null, "style": "style1", "version": 1, "versions": []}',
    '{"id": "3201**********8392", "id_type": "201", "id_type_en": "Resident Identity Card", "id_type_zh": "居民身份证", "institution_code": "S000011084012", "institution_en": "Beijing Haidian Mingde Vocational Skills Training School", "institution_zh": "北京市海淀区明德职业技能培训学校", "issue_date": "2026-11-20", "job": "电焊工", "level": 3, "level_en": "Level 3 / Senior Worker", "level_zh": "三级/高级工", "name": "王*", "occupation": "焊工", "pdf_sha256": [], "proof_sha256": [], "replaced_on": null, "signer_fingerprints": [], "status": "revoked", "status_date": "2026-11-21", "status_reason": "", "style": "style1", "version": 1, "versions": []}',
    '{"id": "3301**********6367", "id_type": "201", "id_type_en": "Resident Identity Card", "id_type_zh": "居民身份证", "institution_code": "S000011084012", "institution_en": "Beijing Haidian Mingde Vocational Skills Training School", "institution_zh": "北京市海淀区明德职业技能培训学校", "issue_date": "2026-11-20", "job": "", "level": 2, "level_en": "Level 2 / Technician", "level_zh": "二级/技师", "name": "周*芳", "occupation": "计算机程序设计员", "pdf_sha256": [], "proof_sha256": [], "qr_version": 1, "replaced_how": "reissue", "replaced_on": "2026-11-24", "signer_fingerprints": [], "status": "replaced", "status_date": "2026-11-24", "status_reason": "", "style": "style1", "version": 2, "versions": [{"how": "reissue", "on": "2026-11-24", "version": 2}]}',
    '{"id": "3301**********6367", "id_type": "201", "id_type_en": "Resident Identity Card", "id_type_zh": "居民身份证", "institution_code": "S000011084012", "institution_en": "Beijing Haidian Mingde Vocational Skills Training School", "institution_zh": "北京市海淀区明德职业技能培训学校", "issue_date": "2026-11-20", "job": "", "level": 2, "level_en": "Level 2 / Technician", "level_zh": "二级/技师", "name": "周*芳", "occupation": "计算机程序设计员", "pdf_sha256": [], "proof_sha256": [], "replaced_on": "2026-11-24", "signer_fingerprints": [], "status": "valid", "status_date": null, "status_reason": null, "style": "style1", "version": 2, "versions": [{"how": "reissue", "on": "2026-11-24", "version": 2}]}',
]  # fmt: skip
DECOY_V3 = '{"id": "******************", "id_type": "000", "id_type_en": "--------", "id_type_zh": "-", "institution_code": "-------------", "institution_en": "----------------------------------------", "institution_zh": "----------------", "issue_date": "0000-00-00", "job": "", "level": 0, "level_en": "-", "level_zh": "-", "name": "***", "occupation": "------", "pdf_sha256": ["0000000000000000000000000000000000000000000000000000000000000000"], "proof_sha256": [], "replaced_on": null, "signer_fingerprints": ["0000000000000000000000000000000000000000000000000000000000000000"], "status": "-", "status_date": null, "status_reason": null, "style": "-", "version": 0, "versions": []}'  # fmt: skip

# a record with every field filled, the storage-only ones with values that must never reach the API
FULL = SnapshotRecord(
    name="张*三", id="1101**********002X", id_type="201", id_type_zh="居民身份证", id_type_en="STORAGE-ONLY-EN",
    occupation="电工", job="", level=3, level_zh="三级/高级工", level_en="Level 3 / Senior Worker",
    issue_date="2026-11-20", institution_code="S000011084012", institution_zh="机构", institution_en="Institution",
    style="style1", status="replaced", status_date="2026-11-24", status_reason="", version=2,
    pdf_sha256=("a" * 64,), proof_sha256=("f0" * 32,), replaced_on="2026-11-24",
    versions=(VersionNote(version=2, how="reissue", on="2026-11-24"),), signer_fingerprints=("b" * 64,),
    replaced_how="reissue", qr_version=987654,
)  # fmt: skip
STORAGE_ONLY = {f.name for f in dataclasses.fields(SnapshotRecord)} - set(PUBLIC_RECORD_FIELDS)


# -- the snapshot record: one storage form, read back unchanged --------------------------------
@pytest.mark.parametrize("stored", [*STORED_V3, DECOY_V3])
def test_a_schema_3_record_reads_back_and_is_stored_byte_for_byte_as_before(stored: str) -> None:
    rec = decode_record(stored)
    assert encode_record(rec) == stored  # so a snapshot written before reads as one written now
    assert decode_record(encode_record(rec)) == rec


def test_the_decoy_is_the_stored_decoy_and_a_full_record_round_trips() -> None:
    assert encode_record(DECOY_RECORD) == DECOY_V3
    assert decode_record(encode_record(FULL)) == FULL
    assert decode_record(encode_record(FULL).encode()) == FULL  # bytes too (as sqlite may give them)


def test_a_schema_2_record_without_versions_reads_with_none() -> None:
    old = json.loads(STORED_V3[0])
    del old["versions"]
    assert decode_record(json.dumps(old)).versions == ()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"leaked_full_name": "张三"}, "leaked_full_name"),  # unknown: a newer layout, or tampering
        ({"name": None}, "name"),
        ({"level": "3"}, "level"),
        ({"level": True}, "level"),
        ({"pdf_sha256": "abc"}, "pdf_sha256"),
        ({"versions": [{"version": 2, "how": "reissue"}]}, "versions"),
        ({"versions": {}}, "versions"),
        ({"qr_version": None}, "qr_version"),
        ({"signer_fingerprints": [1]}, "signer_fingerprints"),
        ({"status_date": 20261124}, "status_date"),
    ],
)
def test_the_decoder_refuses_a_bad_stored_record_naming_the_field(change: dict[str, Any], named: str) -> None:
    with pytest.raises(SnapshotRecordRejected) as e:
        decode_record(json.dumps(json.loads(STORED_V3[0]) | change))
    assert named in e.value.zh and named in e.value.en and "skillcert publish" in e.value.en


@pytest.mark.parametrize("missing", ["name", "status", "signer_fingerprints"])
def test_the_decoder_refuses_a_record_without_a_field(missing: str) -> None:
    d = json.loads(STORED_V3[0])
    del d[missing]
    with pytest.raises(SnapshotRecordRejected) as e:
        decode_record(json.dumps(d))
    assert missing in e.value.zh and missing in e.value.en and "缺少" in e.value.zh


@pytest.mark.parametrize("text", ["[1]", "{", '"x"', "\ud800"])
def test_the_decoder_refuses_what_is_not_a_json_object(text: str) -> None:
    with pytest.raises(SnapshotRecordRejected) as e:
        decode_record(text.encode("utf-8", "surrogatepass"))
    assert e.value.zh and e.value.en


# -- the public record: built by one function, its shape the OpenAPI schema's ------------------
def _masked_schema() -> dict[str, Any]:
    schema: dict[str, Any] = openapi_document()["components"]["schemas"]["MaskedRecord"]
    return schema


def _conforms(value: Any, schema: dict[str, Any], where: str = "record") -> list[str]:
    """What in ``value`` the OpenAPI 3.0 ``schema`` (the subset MaskedRecord uses) does not allow."""
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null"]
    kind = schema.get("type")
    types = {"string": str, "integer": int, "array": list, "object": dict}
    if kind and (not isinstance(value, types[kind]) or (kind == "integer" and isinstance(value, bool))):
        return [f"{where}: {type(value).__name__} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']}"]
    out = []
    if kind == "array":
        for i, item in enumerate(value):
            out += _conforms(item, schema.get("items", {}), f"{where}[{i}]")
    if kind == "object":
        props = schema.get("properties", {})
        out += [f"{where}: lacks {k}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            out += [f"{where}: undocumented {k}" for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                out += _conforms(v, props[k], f"{where}.{k}")
    return out


def test_the_public_record_has_exactly_the_fields_of_the_schema() -> None:
    schema = _masked_schema()
    names = [f.name for f in dataclasses.fields(PublicRecord)]
    assert sorted(names) == sorted(schema["properties"]) == sorted(PUBLIC_RECORD_FIELDS)
    assert schema["additionalProperties"] is False  # a client may rely on the shape
    optional = set(schema["properties"]) - set(schema["required"])
    assert optional == {"replaced_how"}


@pytest.mark.parametrize("stored", STORED_V3)
def test_the_public_json_of_each_stored_record_conforms_to_the_schema(stored: str) -> None:
    out = public_record(decode_record(stored)).as_json()
    assert _conforms(out, _masked_schema()) == []
    assert ("replaced_how" in out) == ('"replaced_how"' in stored)


def test_no_storage_only_field_reaches_the_public_record() -> None:
    assert {"id_type_en", "proof_sha256", "qr_version"} == STORAGE_ONLY  # a new one: decide, then list it here
    out = public_record(FULL).as_json()
    assert _conforms(out, _masked_schema()) == []
    text = json.dumps(out, ensure_ascii=False)
    assert not STORAGE_ONLY & set(out)
    assert "STORAGE-ONLY-EN" not in text and "f0" * 32 not in text and "987654" not in text


def test_the_check_report_says_the_public_record() -> None:
    """The upload check's answer carries the public record, not the stored one."""
    from sign import Outcome
    from verify.check import Verdict

    report = CheckReport(Verdict.REPLACED, (), record=FULL)
    out = report.as_dict()["record"]
    assert _conforms(out, _masked_schema()) == [] and not STORAGE_ONLY & set(out)
    assert report.record is FULL and Outcome.PASS  # the pages still get the whole masked record
    assert CheckReport(Verdict.UNKNOWN, ()).as_dict()["record"] is None


def test_the_shape_check_itself_catches_a_leak_and_a_drift() -> None:
    """Attack the check: an extra key, a missing key and a wrong type are each reported."""
    good = public_record(FULL).as_json()
    schema = _masked_schema()
    assert _conforms(good | {"proof_sha256": ["x"]}, schema) == ["record: undocumented proof_sha256"]
    assert _conforms({k: v for k, v in good.items() if k != "status"}, schema) == ["record: lacks status"]
    assert _conforms(good | {"level": "3"}, schema) == ["record.level: str is not integer"]
    assert _conforms(good | {"versions": [{"version": 2, "how": "x", "on": ""}]}, schema)


def test_the_boundaries_are_typed() -> None:
    """What crosses a package boundary is the typed record, never a dict."""
    from search_index.reader import _Reads

    assert typing.get_type_hints(render.RenderedPdf)["record"] is EmbeddedRecord
    assert typing.get_type_hints(_Reads.lookup_by_qr)["return"] == SnapshotRecord | None
    assert typing.get_type_hints(_Reads.lookup_all_by_pair)["return"] == list[SnapshotRecord]
    assert typing.get_type_hints(CheckReport)["record"] == SnapshotRecord | None
    assert typing.get_type_hints(render.embedded_record)["return"] == EmbeddedRecord | None


# -- the embedded record: what the PDF carries ------------------------------------------------
EMBEDDED = EmbeddedRecord(
    schema="skillcert/certificate/1", kind="replacement", style="style2", number="S000011084012265000001",
    name="王五", id_type="201", id_number="11010519491231002X", occupation="电工", job="", level=3,
    issue_date=date(2026, 11, 20), institution_code="S000011084012", institution_name="机构", issuing_body=None,
    photo_sha256="c" * 64, version=2, qr_url="http://127.0.0.1:8000/c/S000011084012265000001?t=tok",
    replacement_date=date(2027, 3, 15), proof_number=None, proof_date=None,
)  # fmt: skip


def test_the_embedded_record_round_trips() -> None:
    data = record_json(EMBEDDED)
    assert parse_record(data.encode()) == EMBEDDED
    assert json.loads(data)["replacement_date"] == "2027-03-15"
    assert len(data.splitlines()) == 2 + len(dataclasses.fields(EmbeddedRecord))  # one key a line


@pytest.mark.parametrize(
    ("change", "named"),
    [({"holder_full_address": "x"}, "holder_full_address"), ({"name": None}, "name"), ({"level": 6}, "level")],
)
def test_the_embedded_record_refuses_unknown_and_bad_fields(change: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordRejected) as e:
        parse_record(json.dumps(json.loads(record_json(EMBEDDED)) | change).encode())
    assert named in e.value.zh and named in e.value.en


def test_the_embedded_record_refuses_a_missing_required_field() -> None:
    d = json.loads(record_json(EMBEDDED))
    del d["institution_code"], d["proof_date"]  # an optional one may be absent, a required one not
    with pytest.raises(RecordRejected) as e:
        parse_record(json.dumps(d).encode())
    assert "institution_code" in e.value.zh and "institution_code" in e.value.en and "proof_date" not in e.value.en


# -- the seal box: render's to sign's in one place ----------------------------------------------
def test_the_seal_box_conversion_is_in_one_place() -> None:
    """Only skillcert/seals.py builds a SealBoxSpec from a render SealBox (its ``rect_pt``)."""
    from render import SealBox
    from render.layout import Box
    from sign import SealBoxSpec
    from skillcert.seals import seal_box_spec

    box = SealBox("institution", 0, Box(1, 2, 3, 4), (10.0, 20.0, 30.0, 40.0), "印")
    assert seal_box_spec(box) == SealBoxSpec("institution", 0, (10.0, 20.0, 30.0, 40.0))
    found = []
    for folder in ("skillcert", "tests", "verify", "search_index"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                call = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SealBoxSpec"
                if call and "rect_pt" in ast.unparse(node):
                    found.append(str(path.relative_to(ROOT)))
    assert found == ["skillcert/seals.py"]


# -- over the site: what the API serves ---------------------------------------------------------
GENEROUS = RateLimit(per_minute=100_000, burst=100_000)


def _client(home: Path) -> TestClient:
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    settings = dataclasses.replace(
        base, lookup_limit=GENEROUS, qr_limit=GENEROUS, upload_limit=GENEROUS, download_limit=GENEROUS
    )
    return TestClient(create_app(settings))


def _records(body: Any) -> list[dict[str, Any]]:
    found = [body["record"]] if body.get("record") else []
    return found + [c["record"] for c in body.get("certificates", []) if c.get("record")]


def test_every_api_answer_carries_the_public_record_only(demo_home: DemoHome) -> None:
    """QR, query and upload check: each record is exactly MaskedRecord (the upload check once
    served the snapshot's stored record whole, with proof_sha256 and id_type_en)."""
    pdf = demo_home.pdfs[0].read_bytes()
    rec = render.embedded_record(pdf)
    assert rec is not None and rec.qr_url is not None
    token = rec.qr_url.split("#")[0].split("t=")[1]  # the fragment is the signed payload
    with _client(demo_home.home) as c:
        answers = {
            "qr": c.get("/api/v1/certificates/qr", params={"number": rec.number, "t": token}).json(),
            "query": c.post("/api/v1/query", json={"number": rec.number, "id_number": rec.id_number}).json(),
            "check": c.post("/api/v1/check", files={"file": ("c.pdf", pdf, "application/pdf")}).json(),
        }
    for name, body in answers.items():
        (record, *_) = _records(body)
        assert _conforms(record, _masked_schema()) == [], name
        assert not STORAGE_ONLY & set(record), name
        assert record["name"] != rec.name and record["occupation"] == rec.occupation, name


def test_a_snapshot_written_before_the_typed_record_is_served_the_same(demo_home: DemoHome, tmp_path: Path) -> None:
    """Replace a certificate's stored record with one in the exact pre-change form: the reader,
    the pages and the API answer from it as from any record (the storage form did not change)."""
    home = tmp_path / "home"
    for name in ("snapshots", "pki", "index.secret"):
        src = demo_home.home / name
        (shutil.copytree(src, home / name, symlinks=True) if src.is_dir() else shutil.copy(src, home / name))
    pdf = render.embedded_record(demo_home.pdfs[0].read_bytes())
    assert pdf is not None
    folder = (home / "snapshots" / "current").resolve()
    secret = (home / "index.secret").read_bytes()
    old = json.loads(STORED_V3[2])  # the stored form of a replaced record, with replaced_how and qr_version
    conn = sqlite3.connect(folder / "certs.sqlite")
    try:
        (rid,) = conn.execute(
            "SELECT rid FROM keys WHERE k = ?", (pair_key(secret, PairKind.NUMBER_ID, pdf.number, pdf.id_number),)
        ).fetchone()
        conn.execute("UPDATE records SET doc = ? WHERE rid = ?", (STORED_V3[2], rid))
        conn.commit()
    finally:
        conn.close()
    snap = Snapshot(home / "snapshots", secret)
    try:
        view = snap.lookup_by_pair(PairKind.NUMBER_ID, pdf.number, pdf.id_number)
        assert view == decode_record(STORED_V3[2]) and view.qr_version == 1
    finally:
        snap.close()
    with _client(home) as c:
        body = c.post("/api/v1/query", json={"number": pdf.number, "id_number": pdf.id_number}).json()
        page = c.post("/query", data={"number": pdf.number, "id_number": pdf.id_number}).text
    assert body["record"] == {k: v for k, v in old.items() if k in PUBLIC_RECORD_FIELDS}
    assert body["status"] == "replaced" and old["occupation"] in page and old["name"] in page
    assert re.search(r"居民身份证 \(201\)", page)
