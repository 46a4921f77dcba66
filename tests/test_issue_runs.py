"""`skillcert issue` as a clerk runs it: two runs at once, a missing or unusable seal key, a worker
that fails. Real CLI subprocesses over a demo home; no traceback ever reaches the user."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from registry import Registry
from search_index.downloads import decrypt_pdf
from skillcert.demo_job import run_demo
from skillcert.seals import setup_demo_pki
from skillcert.settings import Settings

from .conftest import DEMO_CODES

BJ = DEMO_CODES["beijing"]  # 60 pending records in the demo
GD = DEMO_CODES["guangdong"]


def _home(path: Path, *, keys: bool) -> Path:
    s = Settings.from_env({"SKILLCERT_HOME": str(path), "SKILLCERT_ACTOR": "test"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    if keys:
        with Registry.open(s.registry_path) as reg:
            setup_demo_pki(s, reg)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield _home(tmp_path / "home", keys=True)


def _issue_cmd(out: Path, *extra: str, code: str = BJ) -> list[str]:
    return [sys.executable, "-m", "skillcert", "issue", "--institution", code, "--out", str(out), *extra]


def _env(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCERT_")}
    return {**env, "SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test", **more}


def _run(home: Path, cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=_env(home, **env), capture_output=True, text=True, timeout=300)


def _bilingual_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "concurrent.futures" not in stderr, stderr
    assert "错误：" in stderr and "Error: " in stderr, stderr


def _use_own_tsa(home: Path) -> None:
    """Settings naming a TSA that is not the demo PKI's: `issue` starts no local PKI server then."""
    settings = home / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("[seal]\n", '[seal]\ntsa_url = "http://127.0.0.1:9/tsa"\n', 1), encoding="utf-8")


def _assert_downloads_open(home: Path, out: Path, code: str) -> int:
    """Every delivered holder's notice code opens their download, and it is the delivered PDF."""
    with Registry.open(home / "registry.sqlite") as reg:
        certs = [c for c in reg.certificates.select(institution_code=code) if c.number]
        deliveries = {c.number: reg.seals.delivery(c.id) for c in certs}
    opened = 0
    for number, d in deliveries.items():
        assert d is not None and number is not None, number
        pdf = (out / f"{number}.pdf").read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == d.pdf_sha256, number
        notice = (out / "notices" / f"{number}.txt").read_text(encoding="utf-8")
        m = re.search(r"Download code: (\S+)", notice)
        assert m is not None, number
        blob = (home / "downloads" / f"{number}.bin").read_bytes()
        assert decrypt_pdf(blob, m.group(1), number=number) == pdf, f"{number}: the notice code does not open it"
        opened += 1
    for folder in (out, out / "notices", home / "downloads"):  # no temp or staged file left behind
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], folder
    return opened


def _numbering_state(home: Path) -> tuple[list[tuple[object, ...]], int, int]:
    """Counters, issued numbers and the audit's number allocations, read straight from the database."""
    con = sqlite3.connect(f"file:{home / 'registry.sqlite'}?mode=ro", uri=True)
    try:
        counters = con.execute("SELECT * FROM number_counters ORDER BY 1, 2, 3").fetchall()
        issued = con.execute("SELECT COUNT(*) FROM issued_numbers").fetchone()[0]
        allocations = con.execute("SELECT COUNT(*) FROM audit WHERE action = 'issue'").fetchone()[0]
    finally:
        con.close()
    return counters, int(issued), int(allocations)


@pytest.mark.slow
@pytest.mark.parametrize("tsa", ["demo", "own"])
def test_two_issue_runs_at_once(home: Path, tmp_path: Path, tsa: str) -> None:
    """Exactly one run issues; the other is refused by the lock (exit 12) naming the holder and since
    when, before doing anything. Every holder's notice code then opens their delivered PDF.

    ``demo``: the demo PKI's TSA, which each run would start on the same port; ``own``: a TSA of
    one's own, where both runs used to render and seal and one died on the delivery record."""
    if tsa == "own":
        _use_own_tsa(home)
    out = tmp_path / "out"
    cmd = _issue_cmd(out, "--level", "B-B", "--workers", "1", "--date", "2026-11-20")
    started = datetime.now(UTC).replace(microsecond=0)
    procs = [
        subprocess.Popen(cmd, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p, *p.communicate(timeout=300)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 12], [(p.returncode, err[-2000:]) for p, _, err in results]
    (winner, w_out, w_err), (_, l_out, l_err) = sorted(results, key=lambda r: r[0].returncode)
    assert "Traceback" not in w_err and "numbered 60, 交付 delivered 60" in w_out, w_err
    _bilingual_no_traceback(l_err)
    assert l_out == ""
    assert f"进程 {winner.pid}" in l_err and f"process {winner.pid}" in l_err, l_err
    assert BJ in l_err
    m = re.search(r"since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)", l_err)
    assert m is not None, l_err
    assert started <= datetime.fromisoformat(m.group(1)) <= datetime.now(UTC), m.group(1)
    assert _assert_downloads_open(home, out, BJ) == 60
    with Registry.open(home / "registry.sqlite") as reg:
        assert sum(1 for e in reg.audit.entries(entity="certificate") if e.action == "deliver") == 60
        assert reg.audit.verify_chain() is None
    # the lock went with the winner: the next run takes it and finds nothing left to do
    again = _run(home, cmd)
    assert again.returncode == 0 and "numbered 0, 交付 delivered 0" in again.stdout, again.stderr


def test_institution_without_a_seal_key_is_refused_before_numbering(tmp_path: Path) -> None:
    """No key filed: exit 10 before a number is allocated, naming the institution and the fix."""
    home = _home(tmp_path / "home", keys=False)
    before = _numbering_state(home)
    out = tmp_path / "out"
    r = _run(home, _issue_cmd(out, "--level", "B-B", "--workers", "2", "--date", "2026-11-20", code=GD))
    assert r.returncode == 10, r.stderr
    _bilingual_no_traceback(r.stderr)
    assert GD in r.stderr and "广州市白云工商技师学院" in r.stderr
    assert "skillcert identity add" in r.stderr and "skillcert pki demo" in r.stderr
    assert _numbering_state(home) == before and before == ([], 0, 0)
    assert not out.exists() or not list(out.glob("*.pdf"))
    with Registry.open(home / "registry.sqlite") as reg:
        assert reg.certificates.counts()["pending"] == 92 and reg.certificates.counts()["valid"] == 0


@pytest.mark.slow
def test_worker_failures_reach_the_user_as_bilingual_errors(home: Path, tmp_path: Path) -> None:
    """A key that does not open is refused before numbering; a TSA that is down and a damaged photo
    fail inside worker processes and come back as bilingual errors with their exit codes; fixed, a
    rerun delivers the rest."""
    out = tmp_path / "out"
    cmd = _issue_cmd(out, "--workers", "2", "--date", "2026-11-20")

    # the institution's PKCS#12 file is not where it was filed: refused before a number is allocated
    with Registry.open(home / "registry.sqlite") as reg:
        (key,) = [Path(i.location["path"]) for i in reg.seals.identities(BJ) if i.seal_kind != "qr"]
    key.rename(key.with_suffix(".moved"))
    r = _run(home, [*cmd, "--level", "B-B"])
    assert r.returncode == 10, r.stderr
    _bilingual_no_traceback(r.stderr)
    assert BJ in r.stderr and key.name in r.stderr and "skillcert identity add" in r.stderr
    assert _numbering_state(home) == ([], 0, 0)
    key.with_suffix(".moved").rename(key)
    # so is a QR and credential key that does not open
    with Registry.open(home / "registry.sqlite") as reg:
        qr_key = Path(reg.seals.identity(f"{BJ}-qr").location["path"])
    qr_key.rename(qr_key.with_suffix(".moved"))
    r = _run(home, [*cmd, "--level", "B-B"])
    assert r.returncode == 10, r.stderr
    _bilingual_no_traceback(r.stderr)
    assert "二维码" in r.stderr and "QR" in r.stderr and qr_key.name in r.stderr
    assert _numbering_state(home) == ([], 0, 0)
    qr_key.with_suffix(".moved").rename(qr_key)

    # the TSA is down: every seal fails in the workers; the run stops early and says so
    _use_own_tsa(home)
    r = _run(home, [*cmd, "--level", "B-T"])
    assert r.returncode == 10, r.stderr
    _bilingual_no_traceback(r.stderr)
    assert "签章失败" in r.stderr and "sealing failed" in r.stderr and "rerun" in r.stderr, r.stderr
    assert not list(out.glob("*.pdf"))

    # one holder's photo is damaged in the registry: that one certificate fails to render, the rest deliver
    con = sqlite3.connect(home / "registry.sqlite")
    number, sha = con.execute(
        "SELECT number, photo_sha256 FROM certificate_view WHERE institution_code = ? ORDER BY id LIMIT 1 OFFSET 7",
        (BJ,),
    ).fetchone()
    (photo,) = con.execute("SELECT data FROM photos WHERE sha256 = ?", (sha,)).fetchone()
    with con:
        con.execute("UPDATE photos SET data = ? WHERE sha256 = ?", (b"\xff\xd8\xff\xe0 not a JPEG any more", sha))
    r = _run(home, [*cmd, "--level", "B-B"])
    assert r.returncode == 9, r.stderr
    _bilingual_no_traceback(r.stderr)
    assert number in r.stderr and "59" in r.stderr, r.stderr
    assert len(list(out.glob("*.pdf"))) == 59 and not (out / f"{number}.pdf").exists()

    with con:
        con.execute("UPDATE photos SET data = ? WHERE sha256 = ?", (photo, sha))
    con.close()
    r = _run(home, [*cmd, "--level", "B-B"])
    assert r.returncode == 0 and "delivered 1 " in r.stdout, r.stderr
    assert _assert_downloads_open(home, out, BJ) == 60


def test_files_staged_by_a_killed_run_are_settled_by_the_next(home: Path, tmp_path: Path) -> None:
    """Killed after the delivery record and before the renames: the next run publishes the staged
    files the record names and deletes staged files no record names (a run killed before recording)."""
    from skillcert.files import write_staged
    from skillcert.lifecycle_job import issue_options
    from skillcert.pipeline import issue_batch

    s = Settings.from_env({"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"})
    out = tmp_path / "out"
    opts = issue_options(s, GD, out, issue_date=date(2026, 11, 20), level="B-B")
    with Registry.open(s.registry_path) as reg:
        assert issue_batch(reg, opts, render_settings=s.render_settings(), actor="t").delivered == 12
        first, second = sorted(out.glob("*.pdf"))[:2]
        recorded = reg.seals.delivery(reg.certificates.get(first.stem).id)
        assert recorded is not None
        tag = recorded.pdf_sha256[:16]
        # the first certificate's three files, staged but never renamed
        moved = [first, out / "notices" / f"{first.stem}.txt", home / "downloads" / f"{first.stem}.bin"]
        for path in moved:
            path.rename(path.with_name(f".{path.name}.{tag}.staged"))
        # another run's files for the second one that never got their record
        stray = write_staged(second, b"%PDF-1.7 not the delivered file", "0123456789abcdef")
        stray_notice = write_staged(out / "notices" / f"{second.stem}.txt", b"code: nobody has it", "0123456789abcdef")
        before = second.read_bytes()
        again = issue_batch(reg, opts, render_settings=s.render_settings(), actor="t")
    assert (again.numbered, again.delivered, again.recovered) == (0, 0, 0)
    assert all(p.is_file() for p in moved) and not stray.exists() and not stray_notice.exists()
    assert second.read_bytes() == before
    assert _assert_downloads_open(home, out, GD) == 12
