"""Every upload is bounded: decompression bombs, crafted embedded records (issue 11, items 3 and 4)."""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import replace
from typing import Any

import pikepdf
import pytest
from starlette.testclient import TestClient

from render import RecordRejected, parse_record, read_record
from verify import RateLimit, SiteSettings, create_app

from .conftest import DemoHome

GENEROUS = RateLimit(per_minute=100_000, burst=100_000)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError


def _zeros_deflated(size: int) -> bytes:
    c = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = [c.compress(chunk) for _ in range(size >> 20)]
    out.append(c.flush())
    return b"".join(out)


def _with_record(good: bytes, raw: bytes, *, packed: bool = False) -> bytes:
    """``good`` rewritten with ``raw`` as its embedded certificate.json (the seal no longer covers it).

    ``packed``: ``raw`` is already deflated; otherwise it is deflated here. Either way the stream
    is declared FlateDecode, as Typst writes it.
    """
    with pikepdf.open(io.BytesIO(good)) as pdf:
        stream = pikepdf.Stream(pdf, b"")
        stream.write(raw if packed else zlib.compress(raw), filter=pikepdf.Name.FlateDecode)
        stream.Type = pikepdf.Name.EmbeddedFile
        spec = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Filespec,
                F=pikepdf.String("certificate.json"),
                UF=pikepdf.String("certificate.json"),
                EF=pikepdf.Dictionary(F=pdf.make_indirect(stream)),
            )
        )
        pdf.Root.Names.EmbeddedFiles = pikepdf.Dictionary(
            Names=pikepdf.Array([pikepdf.String("certificate.json"), spec])
        )
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.fixture(scope="module")
def client(demo_home: DemoHome) -> Any:
    base = SiteSettings.from_home(demo_home.home, trust_roots=(demo_home.home / "pki" / "certs" / "root.pem",))
    with TestClient(create_app(replace(base, upload_limit=GENEROUS)), raise_server_exceptions=False) as c:
        yield c


def _post(c: TestClient, data: bytes) -> Any:
    return c.post("/api/v1/check", files={"file": ("c.pdf", data, "application/pdf")})


def test_a_record_bomb_is_refused_quickly_without_memory(client: TestClient, demo_home: DemoHome) -> None:
    bomb = _with_record(demo_home.pdfs[0].read_bytes(), _zeros_deflated(1 << 30), packed=True)
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(RecordRejected):
        read_record(bomb)
    before = _rss_mb()
    r = _post(client, bomb)  # refused by the record's decoded-size cap, before any seal is checked
    assert r.status_code == 422 and "64 KB" in r.json()["en"], r.text
    assert _rss_mb() - before < 100
    assert client.get("/healthz").status_code == 200


def test_a_bomb_every_parser_must_decode_is_stopped_in_its_worker(client: TestClient, demo_home: DemoHome) -> None:
    """A later revision whose cross-reference *stream* inflates to 1 GiB: qpdf and pyHanko both
    decode it to read the file at all, so only the worker's memory cap (or its timeout) stops it."""
    good = demo_home.pdfs[0].read_bytes()
    packed = _zeros_deflated(1 << 30)
    with pikepdf.open(io.BytesIO(good)) as pdf:
        n = max(o.objgen[0] for o in pdf.objects if o.objgen[0]) + 1
    prev = int(good[good.rindex(b"startxref") + 9 :].split()[0])
    at = len(good) + 1
    xref = (
        f"\n{n} 0 obj\n<< /Type /XRef /Size {n + 1} /W [1 4 2] /Index [{n} 1] /Prev {prev} "
        f"/Root {_root_ref(good)} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n"
    ).encode()
    data = good + xref + packed + f"\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n".encode()
    before = _rss_mb()
    r = _post(client, data)
    assert r.status_code == 422, r.text
    assert r.json()["zh"] and r.json()["en"]  # the memory cap, the time limit or the parser gave up: a 4xx
    assert _rss_mb() - before < 100
    assert client.get("/healthz").status_code == 200
    # the site keeps checking genuine files afterwards (the pool replaced what failed)
    assert _post(client, good).json()["bottom_line"] == "valid"


def _root_ref(pdf: bytes) -> str:
    i = pdf.rindex(b"/Root")
    num, gen = pdf[i + 5 : i + 40].split()[:2]
    return f"{int(num)} {int(gen)} R"


CRAFTED: list[tuple[str, Any]] = [
    ("number only", {"number": "S000011084012262000001"}),
    ("empty number", {"number": "", "id_number": "1"}),
    ("version x", {"version": "x"}),
    ("month 13", {"issue_date": "2026-13-45"}),
    ("level dict", {"level": {"a": 1}}),
    ("level 9", {"level": 9}),
    ("level true", {"level": True}),
    ("huge name", {"name": "张" * 50_000}),
    ("list", [1, 2, 3]),
    ("not json", b"\xff\xfe{"),
    ("deep", b"[" * 100_000),
]


@pytest.mark.parametrize(("label", "change"), CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_records_get_a_clear_4xx(client: TestClient, demo_home: DemoHome, label: str, change: Any) -> None:
    good = demo_home.pdfs[0].read_bytes()
    record = read_record(good)
    assert record is not None
    if isinstance(change, bytes):
        raw = change
    elif isinstance(change, dict) and "number" in change and len(change) <= 2:
        raw = json.dumps({"schema": "skillcert/certificate/1", **change}).encode()
    elif isinstance(change, dict):
        raw = json.dumps({**record, **change}, ensure_ascii=False).encode()
    else:
        raw = json.dumps(change).encode()
    data = _with_record(good, raw)
    r = _post(client, data)
    assert r.status_code in (400, 422) or r.json()["bottom_line"] != "valid", (label, r.status_code, r.text[:300])
    assert r.status_code < 500
    body = r.json()
    assert body.get("zh") and body.get("en")


def test_parse_record_names_the_field() -> None:
    base = {
        "schema": "skillcert/certificate/1", "kind": "certificate", "style": "style1", "number": "N", "name": "王五",
        "id_type": "201", "id_number": "1", "occupation": "电工", "job": "", "level": 3, "issue_date": "2026-11-20",
        "institution_code": "S1", "institution_name": "机构", "version": 1,
    }  # fmt: skip
    assert parse_record(json.dumps(base).encode()).level == 3
    for key, bad in [("level", "3"), ("version", 1.5), ("issue_date", "2026-02-30"), ("kind", "diploma")]:
        with pytest.raises(RecordRejected) as e:
            parse_record(json.dumps({**base, key: bad}).encode())
        assert key in e.value.en and key in e.value.zh
