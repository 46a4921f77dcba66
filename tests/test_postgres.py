"""The registry on PostgreSQL, end to end: the command-line tool with ``SKILLCERT_REGISTRY_URL``,
edits made behind the store found by ``audit verify``, and issue runs on several machines sharing
one batch.

(The store's own tests run on both engines through the ``reg`` fixture; these are what only
PostgreSQL needs: a server shared by processes, and a database an attacker reaches directly.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from registry import Registry, parse_number
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
    with Registry.open(url, keys=tmp_path / "home" / "keys") as reg:
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


def _pg_home(path: Path, url: str, *, lease_seconds: int) -> Path:
    from skillcert.demo_job import run_demo
    from skillcert.seals import setup_demo_pki
    from skillcert.settings import Settings

    s = Settings.from_env({"SKILLCERT_HOME": str(path), "SKILLCERT_ACTOR": "test", "SKILLCERT_REGISTRY_URL": url})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(url, keys=s.keys_dir) as reg:
        setup_demo_pki(s, reg)
    settings = path / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("[issue]\n", f"[issue]\nlease_seconds = {lease_seconds}\n", 1), encoding="utf-8")
    return path


def _issue(home: Path, url: str, out: Path, *, level: str = "B-B") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCERT_")}
    env |= {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test", "SKILLCERT_REGISTRY_URL": url}
    cmd = [sys.executable, "-m", "skillcert", "issue", "--institution", BJ, "--out", str(out)]
    cmd += ["--level", level, "--workers", "1", "--date", "2026-11-20", "--json"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _delivered_once(url: str, home: Path, out: Path) -> int:
    """Every certificate of the batch delivered exactly once, its PDF, notice and download in place
    and the same file the record names; nothing staged or half-written left behind."""
    from search_index.downloads import decrypt_pdf

    with Registry.open(url, keys=home / "keys") as reg:
        certs = [c for c in reg.certificates.select(institution_code=BJ) if c.number]
        for c in certs:
            ds = reg.seals.deliveries(c.id)
            assert len(ds) == 1, (c.number, ds)
            pdf = (out / f"{c.number}.pdf").read_bytes()
            assert hashlib.sha256(pdf).hexdigest() == ds[0].pdf_sha256, c.number
            notice = (out / "notices" / f"{c.number}.txt").read_text(encoding="utf-8")
            code = re.search(r"Download code: (\S+)", notice)
            assert code is not None, c.number
            blob = (home / "downloads" / f"{c.number}.bin").read_bytes()
            assert decrypt_pdf(blob, code.group(1), number=str(c.number)) == pdf, c.number
        groups: dict[tuple[int, int], list[int]] = {}
        for c in certs:
            n = parse_number(str(c.number))
            groups.setdefault((n.year, n.level), []).append(n.serial)
        for serials in groups.values():  # gap-free from 1 per year and level
            assert sorted(serials) == list(range(1, len(serials) + 1)), groups
        assert reg.audit.verify().ok
        assert reg.db.one("SELECT COUNT(*) FROM issue_claims") == (0,)  # every run gave its claims back
    for folder in (out, out / "notices", home / "downloads"):
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], folder
    return len(certs)


@pytest.mark.slow
def test_issue_runs_on_two_machines_share_one_batch(pg_server: Any, tmp_path: Path) -> None:
    """Two runs started together (as on two machines: they share the server and the output
    folder) split the batch between them; each certificate is delivered once. Both time-stamp
    (B-T) with the demo PKI's TSA, which one of them serves on its fixed port for both."""
    url = pg_server.fresh()
    home = _pg_home(tmp_path / "home", url, lease_seconds=60)
    out = tmp_path / "out"
    runs = [_issue(home, url, out, level="B-T") for _ in range(2)]
    done = [(p, *p.communicate(timeout=300)) for p in runs]
    for p, _, err in done:
        assert p.returncode == 0 and "Traceback" not in err, err[-3000:]
    shares = [json.loads(stdout)["delivered"] for _, stdout, _ in done]
    assert sum(shares) == 60 and min(shares) > 0, shares  # both worked on it
    assert sum(json.loads(stdout)["numbered"] for _, stdout, _ in done) == 60  # numbered once
    assert _delivered_once(url, home, out) == 60


@pytest.mark.slow
def test_a_killed_runs_share_is_finished_by_the_next(pg_server: Any, tmp_path: Path) -> None:
    """SIGKILL in the middle of a batch: its leases run out and another run finishes the batch —
    nothing delivered twice, nothing lost, nothing of the killed run's left in the folders."""
    url = pg_server.fresh()
    home = _pg_home(tmp_path / "home", url, lease_seconds=3)
    out = tmp_path / "out"
    first = _issue(home, url, out)
    deadline = time.monotonic() + 240
    while len(list(out.glob("*.pdf"))) < 5:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[1][-3000:]
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    with Registry.open(url, keys=home / "keys") as reg:
        held = reg.db.one("SELECT COUNT(*) FROM issue_claims")
        assert held is not None and held[0] > 0  # the killed run's claims stay until they lapse
        before = sum(1 for c in reg.certificates.select(institution_code=BJ) if reg.seals.delivery(c.id))
    second = _issue(home, url, out)
    stdout, err = second.communicate(timeout=300)
    assert second.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert json.loads(stdout)["delivered"] + before == 60
    assert _delivered_once(url, home, out) == 60
