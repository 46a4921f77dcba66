"""A stolen snapshot gives no order: record ids say nothing about issue order, no audit sequence
numbers are stored in the clear, and no public answer carries them (issue 11, item 7)."""

from __future__ import annotations

import json
import re
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from registry import Registry
from registry.merkle import verify_inclusion
from render import read_record
from search_index.privacy import PairKind, pair_key
from verify import RateLimit, SiteSettings, create_app

from .conftest import DemoHome

GENEROUS = RateLimit(per_minute=100_000, burst=100_000)


def _ranks(values: list[int]) -> list[int]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0] * len(values)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


def _spearman(a: list[int], b: list[int]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb, strict=True)) / (n * (n * n - 1))


def _folder(home: Path) -> Path:
    return (home / "snapshots" / "current").resolve()


def test_record_ids_do_not_follow_issue_order(demo_home: DemoHome) -> None:
    """Read certs.sqlite as a thief would: sort the records by id, and nothing lines up with the
    serial numbers (nor with the registry's import order)."""
    home = demo_home.home
    secret = (home / "index.secret").read_bytes()
    conn = sqlite3.connect(f"file:{_folder(home) / 'certs.sqlite'}?mode=ro", uri=True)
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            certs = sorted(reg.certificates.select(), key=lambda c: (c.institution_code, c.number or ""))
        rids = []
        for c in certs:
            row = conn.execute(
                "SELECT rid FROM keys WHERE k = ?", (pair_key(secret, PairKind.NUMBER_ID, c.number or "", c.id_number),)
            ).fetchone()
            assert row is not None, c.number
            rids.append(int(row[0]))
        assert len(set(rids)) == len(certs) == 92
        serial = list(range(len(certs)))
        assert abs(_spearman(rids, serial)) < 0.5  # a random order: |rho| < 0.5 fails once in ~1e6
        assert abs(_spearman(rids, [c.id for c in certs])) < 0.5
        assert min(rids) > 10**6  # not the registry ids (a keyed hash is 63 bits)
        # the downloads are filed under the same keyed ids, not the registry's
        downloads = sqlite3.connect(f"file:{_folder(home) / 'downloads.sqlite'}?mode=ro", uri=True)
        try:
            blob_rids = {int(r[0]) for r in downloads.execute("SELECT rid FROM blobs")}
        finally:
            downloads.close()
        assert blob_rids and blob_rids <= set(rids)
    finally:
        conn.close()


def _plain(seqs: tuple[int, ...]) -> set[bytes]:
    """How the first two numbers of a certificate's audit entries could sit in a blob in the clear."""
    a, b = seqs[:2]
    return {
        f"[{a}, {b}".encode(),
        f"[{a},{b}".encode(),
        struct.pack(">QQ", a, b),
        struct.pack("<QQ", a, b),
        struct.pack(">II", a, b),
        struct.pack("<II", a, b),
    }


def test_no_audit_sequence_numbers_in_the_snapshot(demo_home: DemoHome) -> None:
    """Nothing in certs.sqlite or downloads.sqlite holds a certificate's audit sequence numbers in
    the clear: not in the masked records, not in any other column."""
    home = demo_home.home
    with Registry.open(home / "registry.sqlite") as reg:
        per_cert = reg.audit.event_seqs()
    conn = sqlite3.connect(f"file:{_folder(home) / 'certs.sqlite'}?mode=ro", uri=True)
    try:
        docs = [json.loads(r[0]) for r in conn.execute("SELECT doc FROM records")]
        assert len(docs) >= 92 and not any("audit_seqs" in d for d in docs)
        assert not any(re.search(r"seq", k) for d in docs for k in d)
        seq_sets = {tuple(v) for v in per_cert.values()}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in conn.execute(f"SELECT * FROM {table}"):
                for value in row:
                    if isinstance(value, str) and value.startswith("["):
                        assert tuple(json.loads(value)) not in seq_sets, table
                    if isinstance(value, bytes):
                        assert not any(p in value for s in seq_sets if len(s) > 1 for p in _plain(s)), table
    finally:
        conn.close()


def _settings(home: Path) -> SiteSettings:
    from dataclasses import replace

    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    return replace(base, lookup_limit=GENEROUS, qr_limit=GENEROUS, upload_limit=GENEROUS, download_limit=GENEROUS)


@pytest.fixture
def record(demo_home: DemoHome) -> dict[str, Any]:
    rec = read_record(demo_home.pdfs[0].read_bytes())
    assert rec is not None
    return rec


def test_no_public_answer_carries_audit_sequence_numbers(demo_home: DemoHome, record: dict[str, Any]) -> None:
    number, token = record["number"], record["qr_url"].split("#")[0].split("t=")[1]
    code = record["institution_code"]
    with TestClient(create_app(_settings(demo_home.home))) as c:
        answers = [
            c.get("/api/v1/certificates/qr", params={"number": number, "t": token}),
            c.post("/api/v1/query", json={"number": number, "name": record["name"]}),
            c.post("/api/v1/query", json={"number": number, "id_number": record["id_number"]}),
            c.post("/api/v1/query", json={"name": record["name"], "id_number": record["id_number"]}),
            c.post("/api/v1/check", files={"file": ("c.pdf", demo_home.pdfs[0].read_bytes(), "application/pdf")}),
            c.get("/api/v1/institutions", params={"q": "明德"}),
            c.get(f"/api/v1/institutions/{code}"),
            c.get("/api/v1/snapshot"),
            c.get("/api/v1/audit/checkpoint"),
            c.get("/api/v1/audit/consistency", params={"old": "1"}),
            c.get(f"/c/{number}", params={"t": token}),
            c.post("/query", data={"number": number, "id_number": record["id_number"]}),
        ]
        for r in answers:
            assert r.status_code == 200, r.url
            assert "audit_seqs" not in r.text, r.url
        found = answers[0].json()
        assert found["found"] and found["status"] == "valid"
        assert set(found["record"]) >= {"name", "id", "occupation", "level", "issue_date", "status"}
        # the audit proof, reached with the QR pair, still gives what a proof needs
        proof = c.get("/api/v1/audit/proof", params={"number": number, "t": token}).json()
        size, root = proof["checkpoint"]["size"], proof["checkpoint"]["root"]
        assert proof["entries"]
        for e in proof["entries"]:
            leaf, path = bytes.fromhex(e["leaf"]), [bytes.fromhex(h) for h in e["proof"]]
            assert verify_inclusion(leaf, e["seq"] - 1, size, path, bytes.fromhex(root))
        assert c.get("/api/v1/audit/proof", params={"number": number, "t": "wrong"}).status_code == 404
