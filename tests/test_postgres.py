"""The registry on PostgreSQL, end to end: the command-line tool with ``SKILLCERT_REGISTRY_URL``,
edits made behind the store found by ``audit verify``, and the issue lock shared by machines.

(The store's own tests run on both engines through the ``reg`` fixture; these are what only
PostgreSQL needs: a server shared by processes, and a database an attacker reaches directly.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from registry import Registry
from skillcert.cli import cli

from .conftest import DEMO_CODES, add_pending
from .raw_sql import Raw

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]
DAY = date(2026, 3, 2)


@pytest.fixture
def pg_reg(pg_server: Any, clock: Any) -> Any:
    from registry.filings import institution_from_toml

    from .conftest import filing

    r = Registry.create(pg_server.fresh(), clock=clock)
    for kind in DEMO_CODES:
        r.institutions.add(institution_from_toml(filing(kind)), actor="test")
    yield r
    r.close()


def _problems(reg: Registry) -> list[str]:
    report = reg.audit.verify()
    assert not report.ok
    return [en for _zh, en in report.problems]


def test_cli_runs_the_register_on_postgresql(pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_server.fresh()
    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKILLCERT_ACTOR", "clerk")
    monkeypatch.setenv("SKILLCERT_REGISTRY_URL", url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    assert run("demo", "--no-issue").exit_code == 0
    assert not (tmp_path / "home" / "registry.sqlite").exists()  # everything went to PostgreSQL
    made = json.loads(run("init", "--json").stdout)
    assert made["created"] is False and made["registry"].startswith("postgresql://") and "@" in made["registry"]
    with Registry.open(url) as reg:
        issued = reg.certificates.issue(GD, date(2026, 11, 20), actor="t")
    first = json.loads(run("publish", "--json").stdout)
    assert first["certificates"] == len(issued) == 12
    assert (tmp_path / "home" / "snapshots" / "current" / "certs.sqlite").exists()
    listed = run("certificates", "list", "--institution", GD, "--json")
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)["certificates"]) == 12
    verified = run("audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True


def test_sql_behind_the_store_is_refused_or_found(pg_reg: Registry) -> None:
    add_pending(pg_reg, 3)
    numbers = [n for _, n in pg_reg.certificates.issue(BJ, DAY, actor="t")]
    assert pg_reg.audit.verify().ok
    raw = Raw(pg_reg)
    try:
        for sql in ("TRUNCATE audit", "DELETE FROM audit", "UPDATE issued_numbers SET issue_date = '2020-01-01'"):
            with pytest.raises(raw.Refused):
                raw.execute(sql)
        cid = raw.one("SELECT certificate_id FROM issued_numbers WHERE number = ?", (numbers[1],))[0]
        raw.execute("UPDATE certificates SET qr_token = 'forged-token' WHERE id = ?", (cid,))
        assert any(f"certificates[{numbers[1]}].qr_token" in p for p in _problems(pg_reg))
        raw.execute("UPDATE certificates SET qr_token = NULL WHERE id = ?", (cid,))
        raw.execute("UPDATE number_counters SET last_serial = last_serial + 5")  # the trigger lets it go up
        assert any("number_counters" in p for p in _problems(pg_reg))
        raw.drop_trigger("audit_append_only_update", "audit")
        raw.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 4")
        assert pg_reg.audit.verify_chain() == 4
    finally:
        raw.close()


LOCKER = """
import sys, time
from pathlib import Path
from registry import Registry
from skillcert.issue_lock import issue_lock
reg = Registry.open(sys.argv[1])
with issue_lock(reg, sys.argv[2]):
    Path(sys.argv[3]).touch()
    time.sleep(60)
"""


@pytest.mark.slow
def test_one_issue_run_per_institution_across_machines(pg_reg: Registry, tmp_path: Path) -> None:
    """Two processes (as on two machines: they share nothing but the server) cannot both issue
    for one institution; a killed holder's lock is gone with its connection."""
    from skillcert.issue_lock import IssueLocked, issue_lock

    held = tmp_path / "held"
    url = str(pg_reg.db.url)  # type: ignore[attr-defined]
    other = subprocess.Popen([sys.executable, "-c", LOCKER, url, BJ, str(held)])
    try:
        deadline = time.monotonic() + 60
        while not held.exists():
            assert other.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(IssueLocked) as e, issue_lock(pg_reg, BJ):
            pass
        assert e.value.holder.get("pid") == str(other.pid)
        with issue_lock(pg_reg, GD):  # another institution is not held
            pass
    finally:
        other.kill()
        other.wait(timeout=30)
    deadline = time.monotonic() + 30
    while True:  # the server notices the dropped connection and releases its advisory lock
        try:
            with issue_lock(pg_reg, BJ):
                break
        except IssueLocked:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_backup_of_a_postgresql_registry_says_to_use_pg_dump(
    pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKILLCERT_REGISTRY_URL", pg_server.fresh())
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], catch_exceptions=False).exit_code == 0
    (tmp_path / "old.bak").write_bytes(b"any file")
    for args in (["backup", "--out", str(tmp_path / "b.bak")], ["restore", str(tmp_path / "old.bak")]):
        r = runner.invoke(cli, args, catch_exceptions=False)
        assert r.exit_code == 1 and "pg_dump" in r.output and "错误" in r.output, r.output
        assert "Traceback" not in r.output
