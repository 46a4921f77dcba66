"""The tamper-evident trail: replay, signed Merkle checkpoints, proofs through the CLI and the site."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from registry import Registry
from registry.audit import GENESIS, AuditEntry
from registry.merkle import verify_consistency, verify_inclusion
from render import read_record
from search_index import publish
from skillcert.cli import cli
from verify import SiteSettings, create_app

from .conftest import DEMO_CODES, TODAY, DemoHome, add_pending


def _home(reg: Registry, tmp_path: Path) -> Path:
    home = tmp_path / "pub"
    publish(reg, home, actor="t")
    return home


def _first_problem(reg: Registry) -> str:
    report = reg.audit.verify()
    assert not report.ok
    return report.problems[0][1]


@pytest.mark.sqlite_only  # raw SQLite edits; on PostgreSQL: tests/test_postgres.py
def test_sql_edits_are_named(reg: Registry, tmp_path: Path) -> None:
    add_pending(reg, 3)
    numbers = [n for _, n in reg.certificates.issue(DEMO_CODES["beijing"], TODAY, actor="t")]
    reg.seals.mark_delivered(
        reg.certificates.get(numbers[0]).id, 1, pdf_sha256="a" * 64, file_name="x.pdf", level="B-LT", actor="t"
    )
    assert reg.audit.verify().ok
    raw = sqlite3.connect(tmp_path / "registry.sqlite")
    raw.execute(
        "UPDATE certificates SET name = '冒名' WHERE id = (SELECT certificate_id FROM issued_numbers WHERE number = ?)",
        (numbers[1],),
    )
    raw.commit()
    assert f"certificates[{numbers[1]}].name" in _first_problem(reg) and "冒名" in _first_problem(reg)
    raw.execute(
        "UPDATE certificates SET name = (SELECT json_extract(after, '$.name') FROM audit WHERE entity = 'certificate' AND action = 'import' "
        "AND entity_key = CAST(certificates.id AS TEXT))"
    )
    raw.commit()
    assert reg.audit.verify().ok
    raw.execute("UPDATE deliveries SET pdf_sha256 = ?", ("b" * 64,))
    raw.commit()
    assert "deliveries[" in _first_problem(reg)
    raw.execute("UPDATE deliveries SET pdf_sha256 = ?", ("a" * 64,))
    raw.execute(
        "UPDATE certificates SET status = 'valid', level = 1 WHERE id = (SELECT certificate_id FROM issued_numbers WHERE number = ?)",
        (numbers[2],),
    )
    raw.commit()
    assert f"certificates[{numbers[2]}].level" in _first_problem(reg)


def _rechain(raw: sqlite3.Connection) -> None:
    """What a forger with full database access would do: rewrite the chain so it verifies again."""
    raw.execute("DROP TRIGGER IF EXISTS audit_append_only_update")
    prev = GENESIS
    for r in raw.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        e = AuditEntry.from_row(r)
        h = hashlib.sha256(prev.encode() + e.body().encode()).hexdigest()
        raw.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, e.seq))
        prev = h
    raw.commit()


@pytest.mark.sqlite_only  # raw SQLite edits; on PostgreSQL: tests/test_postgres.py
def test_rewritten_history_breaks_the_signed_checkpoint(reg: Registry, tmp_path: Path) -> None:
    add_pending(reg, 2)
    reg.certificates.issue(DEMO_CODES["beijing"], TODAY, actor="t")
    _home(reg, tmp_path)
    assert reg.audit.verify().ok and len(reg.audit.checkpoints()) == 1
    raw = sqlite3.connect(tmp_path / "registry.sqlite")
    raw.execute("DROP TRIGGER audit_append_only_update")
    raw.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 3")
    raw.commit()
    assert "#3" in _first_problem(reg)  # the chain breaks at the edited entry
    _rechain(raw)
    assert reg.audit.verify_chain() is None  # the chain alone no longer shows it ...
    assert "history was rewritten" in _first_problem(reg)  # ... the signed Merkle root does


def test_consistency_and_inclusion_via_cli_and_site(
    demo_home: DemoHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home.home, home, symlinks=True)
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    first = json.loads((home / "snapshots" / "current" / "manifest.json").read_text())["checkpoint"]
    rec = read_record(sorted((home / "out").glob("*.pdf"))[0].read_bytes())
    assert rec is not None
    assert run("revoke", rec["number"], "--reason", "测试", "--benefits-cancelled-confirmed").exit_code == 0
    assert run("publish", "--incremental").exit_code == 0
    second = json.loads((home / "snapshots" / "current" / "manifest.json").read_text())["checkpoint"]
    assert second["size"] > first["size"]
    r = run("audit", "check-consistency", str(first["size"]), str(home / "snapshots" / "current"), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["consistent"]
    r = run("audit", "prove", rec["number"], "--json")
    body = json.loads(r.stdout)
    assert (
        r.exit_code == 0
        and body["signature_valid"]
        and [e["action"] for e in body["entries"]][:3] == ["import", "issue", "deliver"]
    )
    assert "revoke" in [e["action"] for e in body["entries"]]
    assert run("audit", "verify").exit_code == 0
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    with TestClient(create_app(base)) as c:
        cp = c.get("/api/v1/audit/checkpoint").json()
        assert cp == second
        number, token = rec["qr_url"].split("#")[0].split("/c/")[1].split("?t=")  # the fragment: the signed payload
        proofs = c.get("/api/v1/audit/proof", params={"number": number, "t": token}).json()
        root = bytes.fromhex(cp["root"])
        assert proofs["entries"] and all(
            verify_inclusion(
                bytes.fromhex(e["leaf"]), e["seq"] - 1, cp["size"], [bytes.fromhex(h) for h in e["proof"]], root
            )
            for e in proofs["entries"]
        )
        assert c.get("/api/v1/audit/proof", params={"number": number, "t": "wrong"}).status_code == 404
        cons = c.get("/api/v1/audit/consistency", params={"old": first["size"]}).json()
        assert verify_consistency(
            first["size"], cp["size"], bytes.fromhex(first["root"]), root, [bytes.fromhex(h) for h in cons["proof"]]
        )
    raw = sqlite3.connect(home / "registry.sqlite")
    raw.execute("UPDATE certificates SET occupation = '厨师' WHERE id = 1")
    raw.commit()
    r = run("audit", "verify", "--json")
    assert r.exit_code == 14 and "occupation" in json.loads(r.stdout)["problems"][0]["en"]
