"""The restore drill (issue 17), on SQLite and on PostgreSQL: a backup taken while a real
``skillcert issue`` batch runs, the run left to finish or killed, the home (and the database)
destroyed, the backup restored, the batch resumed — no duplicate or missing number, no lost
delivery, every delivered PDF verifies (seal, register and the QR code it carries), `audit verify`
consistent; and a backup with one flipped byte is refused with its reason, nothing made.

The output folder is outside the home, as the holders' files are in real life: what the run
wrote after the backup survives the disaster, and the resumed run records it as it is.
The signing keys are not in a backup (they belong to key custody): the drill keeps ``pki/`` (and
``keys/``, the data keys, where there are any) aside and puts them back, as an institution takes
its keys back from its HSM or safe."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest

from registry import Registry, parse_number
from registry.backup import MAGIC
from registry.errors import ExitCode
from render import embedded_record
from search_index import Snapshot
from skillcert.demo_job import run_demo
from skillcert.seals import setup_demo_pki
from skillcert.settings import Settings

from .conftest import DEMO_CODES

BJ = DEMO_CODES["beijing"]  # 60 pending records in the demo
BATCH = 60
KEY_CUSTODY = ("pki", "keys")  # the signing keys, and the data keys once the register is encrypted


@dataclass
class Drill:
    home: Path
    out: Path  # outside the home
    url: str | None  # the PostgreSQL register (None: SQLite in the home)

    @property
    def where(self) -> str | Path:
        return self.url or self.home / "registry.sqlite"

    def open(self) -> Registry:
        return Registry.open(self.where, keys=self.home / "keys")  # the data keys, once the register is encrypted

    def env(self, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCERT_")}
        env |= {"SKILLCERT_HOME": str(self.home), "SKILLCERT_ACTOR": "test", **more}
        return env | ({"SKILLCERT_REGISTRY_URL": self.url} if self.url else {})

    def issue(self) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "skillcert", "issue", "--institution", BJ, "--out", str(self.out)]
        cmd += ["--level", "B-LT", "--workers", "1", "--date", "2026-11-20", "--json"]  # valid offline
        return subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "skillcert", *args], env=self.env(**env), capture_output=True, text=True, timeout=300
        )

    def destroy(self) -> None:
        """The machine is lost: the home goes, and the register's database with it (the keys are in custody)."""
        shutil.rmtree(self.home)
        if self.url:
            _wait_alone(self.url)
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")

    def has_register(self) -> bool:
        if self.url is None:
            return (self.home / "registry.sqlite").exists()
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("SELECT to_regclass('public.skillcert_schema')").fetchone()
        return row is not None and row[0] is not None


def _wait_alone(url: str) -> None:
    """Until the server has noticed a killed client's connection is gone."""
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            assert time.monotonic() < deadline, "a killed run's connection lingers"
            time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def drill(request: pytest.FixtureRequest, tmp_path: Path) -> Drill:
    url = str(request.getfixturevalue("pg_server").fresh()) if request.param == "postgresql" else None
    d = Drill(tmp_path / "home", tmp_path / "out", url)
    s = Settings.from_env(d.env())
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with d.open() as reg:
        setup_demo_pki(s, reg)
    return d


def _flip_one_byte(good: Path, bad: Path) -> None:
    data = bytearray(good.read_bytes())
    header_end = len(MAGIC) + 4 + int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    data[header_end + (len(data) - header_end) // 3] ^= 0x01
    bad.write_bytes(bytes(data))


def _disaster_and_restore(d: Drill, backup: Path, tmp_path: Path) -> dict[str, Any]:
    """Destroy, check a corrupted copy is refused, restore, put the signing keys back."""
    key = (d.home / "backup.key").read_text().strip()  # kept away from the home, as the README says
    custody = tmp_path / "custody"
    for folder in KEY_CUSTODY:
        if (d.home / folder).is_dir():
            shutil.copytree(d.home / folder, custody / folder, symlinks=True)
    d.destroy()
    for folder in KEY_CUSTODY:  # the new machine gets its keys back from custody first
        if (custody / folder).is_dir():
            shutil.copytree(custody / folder, d.home / folder, symlinks=True)

    bad = tmp_path / "bad.skcbak"
    _flip_one_byte(backup, bad)
    r = d.cli("restore", str(bad), SKILLCERT_BACKUP_KEY=key)
    assert r.returncode == int(ExitCode.BACKUP_INVALID), r.stderr
    assert "altered or is damaged" in r.stderr and "校验失败" in r.stderr and "Traceback" not in r.stderr
    assert not d.has_register()

    r = d.cli("restore", str(backup), "--json", SKILLCERT_BACKUP_KEY=key)
    assert r.returncode == 0, r.stderr
    restored = dict(json.loads(r.stdout))
    assert restored["audit_verify"] == "ok" and restored["replaced"] is None
    return restored


def _assert_batch_whole(d: Drill) -> None:
    """Numbers 1…60 once each; every certificate delivered once, its PDF in the out folder being
    the recorded file; every PDF the site's verdict calls valid and its QR code opens its record."""
    with d.open() as reg:
        certs = [c for c in reg.certificates.select(institution_code=BJ)]
        assert len(certs) == BATCH and all(c.number for c in certs)
        numbers = [str(c.number) for c in certs]
        assert len(set(numbers)) == BATCH
        series: dict[tuple[int, int], list[int]] = {}
        for n in numbers:
            parsed = parse_number(n)
            series.setdefault((parsed.year, parsed.level), []).append(parsed.serial)
        assert all(sorted(v) == list(range(1, len(v) + 1)) for v in series.values()), series
        for c in certs:
            ds = reg.seals.deliveries(c.id)
            assert len(ds) == 1, (c.number, ds)
            pdf = d.out / f"{c.number}.pdf"
            assert pdf.is_file() and hashlib.sha256(pdf.read_bytes()).hexdigest() == ds[0].pdf_sha256, c.number
        tokens = {str(c.number): c.qr_token for c in certs}
    assert sorted(p.stem for p in d.out.glob("*.pdf")) == sorted(numbers)
    assert not [p.name for p in d.out.iterdir() if p.name.startswith(".")]

    v = d.cli("audit", "verify", "--json")
    assert v.returncode == 0 and json.loads(v.stdout)["ok"] is True, v.stdout + v.stderr
    p = d.cli("publish", "--json")
    assert p.returncode == 0, p.stderr
    checked = d.cli("verify", str(d.out), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["counts"] == {"valid": BATCH}

    snap = Snapshot.open(d.home)
    wrong = []
    for number, token in tokens.items():
        rec = embedded_record((d.out / f"{number}.pdf").read_bytes())
        assert rec is not None and rec.qr_url is not None
        printed = parse_qs(urlparse(rec.qr_url).query)["t"][0]
        if printed != token or snap.lookup_by_qr(number, printed) is None:
            wrong.append(number)
    assert not wrong, f"the QR code printed on {len(wrong)} delivered PDFs opens nothing: {wrong[:3]}…"


@pytest.mark.slow
@pytest.mark.parametrize("run_ends", ["finishes", "killed"])
def test_restore_drill_during_a_running_batch(drill: Drill, tmp_path: Path, run_ends: str) -> None:
    d = drill
    run = d.issue()
    backup = tmp_path / "bk" / "during.skcbak"
    try:
        deadline = time.monotonic() + 240
        while len(list(d.out.glob("*.pdf"))) < 5:
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-3000:]
            time.sleep(0.05)
        b = d.cli("backup", "--out", str(backup), "--json")
        assert b.returncode == 0, b.stderr
        assert run.poll() is None, "the batch must still be running after the backup"
        if run_ends == "killed":
            while len(list(d.out.glob("*.pdf"))) < 15:
                assert run.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            run.send_signal(signal.SIGKILL)
        _, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    if run_ends == "finishes":
        assert run.returncode == 0, err[-3000:]
    taken = json.loads(b.stdout)
    with d.open() as reg:
        at_backup = reg.audit.entries()  # what the backup holds: the deliveries recorded by then
        recorded_then = sum(1 for e in at_backup if e.action == "deliver" and e.seq <= taken["audit_seq"])
    written = len(list(d.out.glob("*.pdf")))
    assert 0 < recorded_then < written, (recorded_then, written)  # PDFs whose records the disaster takes

    restored = _disaster_and_restore(d, backup, tmp_path)
    assert restored["audit_seq"] == taken["audit_seq"]

    again = d.issue()
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and "Traceback" not in err, err[-3000:]
    summary = json.loads(out)
    assert summary["numbered"] == 0  # every number was in the backup: none allocated again
    assert summary["recovered"] == written - recorded_then  # the files the lost records named, recorded
    assert summary["delivered"] + summary["recovered"] + recorded_then == BATCH
    _assert_batch_whole(d)


@pytest.mark.slow
def test_restore_drill_from_a_backup_before_the_batch(drill: Drill, tmp_path: Path) -> None:
    """The nightly backup was taken before the batch was numbered; the batch ran to the end and
    then the machine was lost. Restored, the batch is numbered again (the same numbers, as the
    counters are back where they were) and the resumed run finds every PDF already in the out
    folder. Those PDFs carry the QR tokens of the lost numbering, so they cannot be recorded as
    they are: every delivered PDF must open its record by the QR code printed on it."""
    d = drill
    backup = tmp_path / "bk" / "nightly.skcbak"
    b = d.cli("backup", "--out", str(backup), "--json")
    assert b.returncode == 0, b.stderr
    run = d.issue()
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-3000:]
    assert len(list(d.out.glob("*.pdf"))) == BATCH
    _disaster_and_restore(d, backup, tmp_path)
    again = d.issue()
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert json.loads(out)["numbered"] == BATCH
    _assert_batch_whole(d)
