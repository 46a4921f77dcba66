"""Backups that restore (issue 17): a consistent online copy while numbers are being allocated,
encrypted and checksummed; restore refuses a live register, a wrong key and an altered file, runs
`audit verify` before switching, and names the entries lost since the newest published manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from registry import Registry, parse_number
from registry.backup import MAGIC, read_header
from registry.errors import ExitCode
from skillcert.cli import cli

from .conftest import DEMO_CODES, DemoHome, add_pending

Run = Callable[..., Result]

WRITER = """
import sys, time
from datetime import date
from pathlib import Path
from registry import Registry
db, code, stop = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
reg = Registry.open(db)
got = 0
while not stop.exists():
    n = len(reg.certificates.issue(code, date(2026, 11, 20), actor="writer", limit=1))
    if not n:
        break
    got += n
reg.close()
print(got)
"""


@pytest.fixture
def home(demo_home: DemoHome, tmp_path: Path) -> Path:
    """A private copy of the session's demo home (issued, sealed, published)."""
    h = tmp_path / "home"
    shutil.copytree(demo_home.home, h, symlinks=True)
    return h


def runner_for(monkeypatch: pytest.MonkeyPatch, home: Path) -> Run:
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    monkeypatch.setenv("SKILLCERT_ACTOR", "test")
    monkeypatch.delenv("SKILLCERT_BACKUP_KEY", raising=False)
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False, env=env)

    return run


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, home: Path) -> Run:
    return runner_for(monkeypatch, home)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backup(run: Run, out: Path, *extra: str) -> dict[str, object]:
    r = run("backup", "--out", str(out), "--json", *extra)
    assert r.exit_code == 0, r.output
    return dict(json.loads(r.stdout))


def _no_leftovers(home: Path) -> None:
    assert [p.name for p in home.iterdir() if p.name.startswith((".restore-", ".backup-"))] == []


def test_a_backup_taken_while_numbers_are_allocated_restores_and_verifies(
    run: Run, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = DEMO_CODES["beijing"]
    with Registry.open(home / "registry.sqlite") as reg:
        add_pending(reg, 2000, code=code, seed=17)
        start_seq, _ = reg.audit.head()
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home / "registry.sqlite"), code, str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            deadline = time.monotonic() + 30
            while reg.audit.head()[0] < start_seq + 20 and time.monotonic() < deadline:
                time.sleep(0.01)
        taken = [_backup(run, tmp_path / "bk" / f"during-{i}.skcbak") for i in range(2)]
        assert writer.poll() is None, "the writer must still be writing after the backups"
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0 and int(out) > 0
    with Registry.open(home / "registry.sqlite") as reg:
        final_seq, _ = reg.audit.head()
    seqs = [int(str(b["audit_seq"])) for b in taken]
    assert start_seq < seqs[0] <= seqs[1] < final_seq, (start_seq, seqs, final_seq)
    assert stat.S_IMODE((home / "backup.key").stat().st_mode) == 0o600
    kid = (home / "keys" / "current").read_text().strip()  # the data keys travel with the backup
    members = {
        "registry.sqlite",
        "publisher.key",
        "index.secret",
        "settings.toml",
        "keys~current",
        f"keys~data-{kid}.key",
    }
    assert set(dict(taken[0]["files"])) == members  # type: ignore[call-overload]

    # disaster: a new, empty home on another machine; the key comes from the environment
    key = (home / "backup.key").read_text().strip()
    fresh = tmp_path / "fresh"
    run2 = runner_for(monkeypatch, fresh)
    r = run2("restore", str(tmp_path / "bk" / "during-0.skcbak"), "--json", env={"SKILLCERT_BACKUP_KEY": key})
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["audit_seq"] == seqs[0] and d["audit_verify"] == "ok" and d["lost"] is None
    restored = ("publisher.key", "index.secret", "settings.toml", "keys/current", f"keys/data-{kid}.key")
    assert d["files"] == {k: "restored" for k in restored}
    assert stat.S_IMODE((fresh / "publisher.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((fresh / "keys" / f"data-{kid}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((fresh / "keys").stat().st_mode) == 0o700
    assert not (fresh / "registry.sqlite-wal").exists()
    _no_leftovers(fresh)
    v = run2("audit", "verify", "--json")
    assert v.exit_code == 0, v.output
    assert json.loads(v.stdout)["entries"] == seqs[0]
    with Registry.open(fresh / "registry.sqlite") as reg:  # not torn: per year and level, serials 1…n
        by_series: dict[str, list[int]] = {}
        for c in reg.certificates.select(institution_code=code):
            if c.number:
                by_series.setdefault(c.number[:-6], []).append(parse_number(c.number).serial)
    writer_count = seqs[0] - start_seq
    assert sum(len(v) for v in by_series.values()) >= writer_count
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in by_series.values())


def test_an_altered_backup_is_refused_and_nothing_is_touched(run: Run, home: Path, tmp_path: Path) -> None:
    good = tmp_path / "a.skcbak"
    _backup(run, good)
    data = good.read_bytes()
    live = _sha(home / "registry.sqlite")
    header_end = len(MAGIC) + 4 + int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    for where in (header_end + (len(data) - header_end) // 2, len(data) - 1):  # the ciphertext, the tag
        bad = bytearray(data)
        bad[where] ^= 0x01
        (tmp_path / "bad.skcbak").write_bytes(bad)
        r = run("restore", str(tmp_path / "bad.skcbak"), "--force")
        assert r.exit_code == int(ExitCode.BACKUP_INVALID) == 16
        assert "错误" in r.stderr and "altered or is damaged" in r.stderr
    # the header is authenticated too: claim a longer log
    h = read_header(good)
    forged = data.replace(f'"audit_seq":{h.audit_seq}'.encode(), f'"audit_seq":{h.audit_seq + 9}'.encode(), 1)
    assert forged != data
    (tmp_path / "bad.skcbak").write_bytes(forged)
    r = run("restore", str(tmp_path / "bad.skcbak"), "--force", "--json")
    assert r.exit_code == 16 and json.loads(r.stdout)["error"] == "BackupInvalid"
    (tmp_path / "bad.skcbak").write_bytes(b"not a backup")
    assert run("restore", str(tmp_path / "bad.skcbak"), "--force").exit_code == 16
    assert _sha(home / "registry.sqlite") == live
    assert not list(home.glob("registry.sqlite.replaced-*"))
    _no_leftovers(home)


def test_a_wrong_or_missing_key_is_refused(
    run: Run, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "a.skcbak"
    _backup(run, good)
    live = _sha(home / "registry.sqlite")
    r = run("restore", str(good), "--force", env={"SKILLCERT_BACKUP_KEY": "ab" * 32})
    assert r.exit_code == 16
    assert "密钥错误" in r.stderr and "wrong key" in r.stderr and read_header(good).key_id in r.stderr
    r = run("restore", str(good), "--force", env={"SKILLCERT_BACKUP_KEY": "too short"})
    assert r.exit_code == 16 and "32-byte key" in r.stderr
    assert _sha(home / "registry.sqlite") == live
    run2 = runner_for(monkeypatch, tmp_path / "fresh")  # a new home without the key
    r = run2("restore", str(good))
    assert r.exit_code == 16 and "no backup key" in r.stderr
    assert not (tmp_path / "fresh" / "registry.sqlite").exists()


def test_restore_over_a_live_register_needs_force(run: Run, home: Path, tmp_path: Path) -> None:
    good = tmp_path / "a.skcbak"
    b = _backup(run, good)
    with Registry.open(home / "registry.sqlite") as reg:
        add_pending(reg, 2, seed=3)
        after = reg.audit.head()[0]
    live = _sha(home / "registry.sqlite")
    r = run("restore", str(good))
    assert r.exit_code == int(ExitCode.RESTORE_REFUSED) == 15
    assert "--force" in r.stderr and "错误" in r.stderr and "live register" in r.stderr
    assert _sha(home / "registry.sqlite") == live
    r = run("restore", str(good), "--force", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["audit_seq"] == b["audit_seq"] and d["audit_seq"] < after
    kept = Path(d["replaced"])
    with Registry.open(kept) as reg:  # the replaced register is kept, whole (its WAL folded in)
        assert reg.audit.head()[0] == after and reg.audit.verify_chain() is None
    kid = (home / "keys" / "current").read_text().strip()
    same = ("publisher.key", "index.secret", "settings.toml", "keys/current", f"keys/data-{kid}.key")
    assert d["files"] == {k: "same" for k in same}
    with Registry.open(home / "registry.sqlite") as reg:
        assert reg.audit.head()[0] == b["audit_seq"]
    _no_leftovers(home)


def test_restore_names_the_entries_lost_since_the_newest_manifest(run: Run, home: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.skcbak"
    b = _backup(run, old)
    with Registry.open(home / "registry.sqlite") as reg:
        add_pending(reg, 3, seed=5)
        reg.certificates.issue(DEMO_CODES["beijing"], date(2026, 11, 20), actor="test", limit=2)
    p = run("publish", "--incremental", "--json")
    assert p.exit_code == 0, p.output
    published = json.loads(p.stdout)["audit_seq"]
    with Registry.open(home / "registry.sqlite") as reg:
        add_pending(reg, 1, seed=6)  # after the publish: not in any manifest either
    assert published > int(str(b["audit_seq"]))
    r = run("restore", str(old), "--force", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    seq = int(str(b["audit_seq"]))
    assert d["manifest_audit_seq"] == published
    assert d["lost"] == {"count": published - seq, "first_seq": seq + 1, "last_seq": published}
    assert d["published_prefix"] is True  # the restored log is the beginning of the published one
    text = run("restore", str(old), "--force")
    assert text.exit_code == 0
    assert f"{published - seq} entries (#{seq + 1}-#{published})" in text.stdout and "LOST" in text.stdout


def test_keep_prunes_older_backups_of_the_same_pattern(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    folder.mkdir()
    (folder / "notes.skcbak").write_text("not a backup")
    (folder / "other.bak").write_bytes(MAGIC + b"x")
    for i in range(1, 4):
        d = _backup(run, folder / f"skillcert-{i}.skcbak", "--keep", "2")
    assert [Path(str(p)).name for p in d["pruned"]] == ["skillcert-1.skcbak"]  # type: ignore[attr-defined]
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.skcbak",
        "other.bak",
        "skillcert-2.skcbak",
        "skillcert-3.skcbak",
    ]


def test_a_backup_holds_no_clear_register_data(run: Run, home: Path, tmp_path: Path) -> None:
    stale = home / ".backup-killed"  # a backup killed yesterday left its clear copy: swept
    stale.mkdir()
    (stale / "registry.sqlite").write_bytes(b"SQLite format 3\x00")
    os.utime(stale, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    out = tmp_path / "a.skcbak"
    _backup(run, out)
    assert not stale.exists()
    blob = out.read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with Registry.open(home / "registry.sqlite") as reg:
        c = next(iter(reg.certificates.select()))
    for secret in (c.name, c.id_number, b"SQLite format 3", (home / "index.secret").read_bytes()):
        assert (secret.encode() if isinstance(secret, str) else secret) not in blob
    assert not [p for p in os.listdir(home) if p.startswith(".backup-")]
