"""Backups of a PostgreSQL register (issue 17): one snapshot of every table into the package a
SQLite backup is, restored into a scratch schema, verified there, switched in by renaming schemas;
refused over a live register without ``--force``, while other sessions are connected, with a
flipped byte, and when the copy fails `audit verify` — with nothing of the live register touched."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from registry import Registry
from registry.backup import MAGIC, read_header
from registry.errors import ExitCode
from skillcert.cli import cli

from .conftest import DEMO_CODES, add_pending
from .raw_sql import Raw

GD = DEMO_CODES["guangdong"]


class Home:
    """A home whose register is a fresh PostgreSQL database; the CLI run in-process."""

    def __init__(self, url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.url, self.home = url, home
        monkeypatch.setenv("SKILLCERT_HOME", str(home))
        monkeypatch.setenv("SKILLCERT_ACTOR", "clerk")
        monkeypatch.setenv("SKILLCERT_REGISTRY_URL", url)
        monkeypatch.delenv("SKILLCERT_BACKUP_KEY", raising=False)
        self.runner = CliRunner()

    def open(self) -> Registry:
        return Registry.open(self.url, keys=self.home / "keys")  # the data keys, once the register is encrypted

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(cli, list(args), catch_exceptions=False, env=env)

    def state(self) -> tuple[Any, ...]:
        """The live register, as a stranger with database access sees it."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            head = conn.execute("SELECT max(seq), count(*) FROM audit").fetchone()
            certs = conn.execute("SELECT count(*) FROM certificates").fetchone()
            schemas = conn.execute(
                "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace "
                "WHERE nspname LIKE 'replaced\\_%' OR nspname LIKE 'skillcert\\_restore%'"
            ).fetchone()
        assert head is not None and certs is not None and schemas is not None
        return (*head, certs[0], schemas[0])


@pytest.fixture
def pg_home(pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    h = Home(pg_server.fresh(), tmp_path / "home", monkeypatch)
    assert h.run("demo", "--no-issue").exit_code == 0
    with h.open() as reg:
        reg.certificates.issue(GD, date(2026, 11, 20), actor="t")
        reg.claims.claim(GD, "a-run-on-another-machine", limit=3, lease_seconds=3600)  # working state
    return h


def _backup(h: Home, out: Path) -> dict[str, Any]:
    r = h.run("backup", "--out", str(out), "--json")
    assert r.exit_code == 0, r.output
    return dict(json.loads(r.stdout))


def test_a_postgresql_register_backs_up_and_restores_through_a_scratch_schema(pg_home: Home, tmp_path: Path) -> None:
    h = pg_home
    with h.open() as reg:
        head = reg.audit.head()
    b = _backup(h, tmp_path / "a.skcbak")
    assert (b["engine"], b["audit_seq"], b["audit_head"]) == ("postgresql", head[0], head[1])
    kid = (h.home / "keys" / "current").read_text().strip()  # the data keys travel with the register
    assert set(b["files"]) == {"registry.sqlite", "settings.toml", "keys~current", f"keys~data-{kid}.key"}
    with h.open() as reg:  # written after the backup: gone after the restore
        add_pending(reg, 4, seed=9)
    p = h.run("publish", "--json")  # and published: the restore names what is lost
    assert p.exit_code == 0, p.output
    published = json.loads(p.stdout)["audit_seq"]
    with h.open() as reg:
        after = reg.audit.head()[0]
    assert head[0] < published <= after
    before = h.state()

    r = h.run("restore", str(tmp_path / "a.skcbak"))
    assert r.exit_code == int(ExitCode.RESTORE_REFUSED), r.output
    assert "--force" in r.stderr and "live register" in r.stderr and "错误" in r.stderr
    assert h.state() == before

    r = h.run("restore", str(tmp_path / "a.skcbak"), "--force", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["audit_seq"] == head[0] and d["audit_head"] == head[1] and d["audit_verify"] == "ok"
    assert d["registry"].startswith("postgresql://") and d["replaced"].startswith("replaced_")
    assert d["manifest_audit_seq"] == published and d["published_prefix"] is True
    assert d["lost"] == {"count": published - head[0], "first_seq": head[0] + 1, "last_seq": published}
    seq, _, certs, schemas = h.state()
    assert seq == head[0] and certs == before[2] - 4 and schemas == d["replaced"]
    with psycopg.connect(h.url, autocommit=True) as conn:  # the replaced register is kept whole
        kept = conn.execute(f'SELECT max(seq) FROM "{d["replaced"]}".audit').fetchone()
        assert kept is not None and kept[0] == after
    v = h.run("audit", "verify", "--json")  # against the published snapshot: the loss stays named
    assert v.exit_code == int(ExitCode.AUDIT_FAILED) and json.loads(v.stdout)["entries"] == head[0], v.output
    assert f"entries #{head[0] + 1}–#{published} were deleted" in v.stdout
    with h.open() as reg:
        assert reg.claims.pending_elsewhere(GD, "me") == 0  # no run is alive on a restored register
        assert reg.audit.verify().ok  # the register itself is whole
        add_pending(reg, 2, seed=11)  # identities moved past the restored keys: new rows fit
        assert reg.audit.verify().ok
        numbers = [n for _, n in reg.certificates.issue(DEMO_CODES["beijing"], date(2026, 11, 20), actor="t")]
    assert numbers and len(set(numbers)) == len(numbers)


def test_an_altered_or_unverifiable_backup_touches_nothing(pg_home: Home, tmp_path: Path) -> None:
    h = pg_home
    good = tmp_path / "a.skcbak"
    _backup(h, good)
    data = good.read_bytes()
    before = h.state()
    header_end = len(MAGIC) + 4 + int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    bad = bytearray(data)
    bad[header_end + (len(data) - header_end) // 2] ^= 0x01
    (tmp_path / "bad.skcbak").write_bytes(bad)
    r = h.run("restore", str(tmp_path / "bad.skcbak"), "--force")
    assert r.exit_code == int(ExitCode.BACKUP_INVALID), r.output
    assert "altered or is damaged" in r.stderr and "nothing was changed" in r.stderr
    assert h.state() == before

    # a register edited behind the store is backed up as it is, and its copy fails `audit verify`
    with h.open() as reg:
        raw = Raw(reg)
        try:
            raw.execute(
                "UPDATE certificates SET qr_token = 'forged' WHERE qr_token IS NOT NULL AND id = "
                "(SELECT min(id) FROM certificates WHERE qr_token IS NOT NULL)"
            )
        finally:
            raw.close()
    _backup(h, tmp_path / "forged.skcbak")
    before = h.state()
    r = h.run("restore", str(tmp_path / "forged.skcbak"), "--force")
    assert r.exit_code == int(ExitCode.AUDIT_FAILED), r.output
    assert "nothing was switched" in r.stderr and "qr_token" in r.stderr
    assert h.state() == before  # the scratch schema is gone, the live one untouched


def test_restore_waits_for_no_one_and_goes_back_where_it_came_from(
    pg_home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = pg_home
    good = tmp_path / "a.skcbak"
    _backup(h, good)
    before = h.state()
    with psycopg.connect(h.url, autocommit=True, application_name="skillcert issue (pid 4242)"):
        r = h.run("restore", str(good), "--force")
    assert r.exit_code == int(ExitCode.RESTORE_REFUSED), r.output
    assert "other sessions are connected" in r.stderr and "pid 4242" in r.stderr
    assert h.state() == before
    assert read_header(good).engine == "postgresql"
    # the same backup into a home whose register is SQLite: refused, it says how to aim it
    monkeypatch.delenv("SKILLCERT_REGISTRY_URL")
    r = h.run("restore", str(good), env={"SKILLCERT_HOME": str(tmp_path / "other")})
    assert r.exit_code == int(ExitCode.RESTORE_REFUSED) and "SKILLCERT_REGISTRY_URL" in r.stderr, r.output
    assert not (tmp_path / "other" / "registry.sqlite").exists()
