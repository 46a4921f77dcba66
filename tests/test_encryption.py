"""Personal data at rest (issue 17): holders' names, ID numbers and photos are sealed in the
registry — tables, audit log, WAL — under a data key kept outside it, on SQLite and PostgreSQL;
look-ups, corrections and the audit still work; a rotation re-seals everything and resumes
after an interruption; an altered ciphertext or a missing key is an error that says so."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry import Registry
from registry._lifecycle_store import CorrectionField
from registry.errors import RegistryError
from registry.fieldcrypt import load_cipher, new_data_key
from skillcert.cli import cli
from skillcert.demo import DEMO_DIR
from skillcert.demo_job import DEMO_BATCHES

from .conftest import DEMO_CODES, add_pending, filing
from .raw_sql import Raw

BJ = DEMO_CODES["beijing"]
DAY = date(2026, 3, 2)


def _demo_people() -> list[tuple[str, str]]:
    """(name, ID number) of every row of the demo batches, straight from their CSV files."""
    out = []
    for f in [DEMO_DIR / results for _, results in DEMO_BATCHES]:
        for row in csv.DictReader(io.StringIO(f.read_text(encoding="utf-8-sig"))):
            values = list(row.values())
            name = next((v for k, v in row.items() if k and ("姓名" in k or k.lower() == "name")), values[0])
            idn = next((v for k, v in row.items() if k and ("证件号码" in k or "id" in k.lower())), "")
            out.append((name.strip(), idn.strip().upper()))
    assert len(out) >= 90 and all(n and i for n, i in out), out[:3]
    return out


def _photo_samples(reg: Registry) -> list[bytes]:
    """A 48-byte slice from the middle of every stored photo, as the holder's file has it."""
    shas = {c.photo_sha256 for c in reg.certificates.select()}
    samples = []
    for sha in sorted(shas):
        data = reg.certificates.photo(sha)
        samples.append(data[len(data) // 2 : len(data) // 2 + 48])
    return samples


def _assert_nothing_clear(blob: bytes, people: list[tuple[str, str]], photos: list[bytes], where: str) -> None:
    for name, idn in people:
        assert name.encode("utf-8") not in blob, f"{name!r} in clear in {where}"
        assert idn.encode("ascii") not in blob, f"{idn} in clear in {where}"
    for sample in photos:
        assert sample not in blob, f"a photo in clear in {where}"


@pytest.fixture
def sealed(tmp_path: Path, registry_at: str | Path, clock: Any, backend: str) -> Iterator[Registry]:
    """A registry with a data key (beside the file on SQLite, passed on PostgreSQL), demo institutions filed."""
    from registry.filings import institution_from_toml

    keys = tmp_path / "keys"
    new_data_key(keys)
    r = Registry.create(registry_at, clock=clock, keys=keys)
    for kind in DEMO_CODES:
        r.institutions.add(institution_from_toml(filing(kind)), actor="test")
    yield r
    r.close()


def test_demo_home_registry_files_hold_no_clear_personal_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every byte of registry.sqlite, its WAL and shared memory, read while the register is open
    after the demo issued and published."""
    home = tmp_path / "home"
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    monkeypatch.setenv("SKILLCERT_ACTOR", "test")
    r = CliRunner().invoke(cli, ["demo", "--no-issue"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert oct((home / "keys").stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in (home / "keys").iterdir())
    with Registry.open(home / "registry.sqlite") as reg:
        people = _demo_people()
        opened = {(c.name, c.id_number) for c in reg.certificates.select()}
        assert set(people) <= opened  # the register reads them back, with its key
        photos = _photo_samples(reg)
        reg.certificates.issue(BJ, DAY, actor="t")  # more writes into the WAL
        for path in sorted(home.glob("registry.sqlite*")):
            _assert_nothing_clear(path.read_bytes(), people, photos, path.name)
        assert (home / "registry.sqlite-wal").stat().st_size > 0  # the WAL was read while it held data
        assert reg.audit.verify().ok


@pytest.mark.slow
def test_postgresql_files_hold_no_clear_personal_data(tmp_path: Path, pg_server: Any) -> None:
    """A PostgreSQL server of its own (its WAL is shared by every database on it): after the demo
    batches, no byte of its data folder — tables, indexes, WAL — has a name, ID number or photo."""
    import shutil
    import tempfile

    from sign.pki import free_port

    from .pg_server import PgServer, find_pg_bin

    bin_dir = find_pg_bin()
    assert bin_dir is not None  # the session's server started (pg_server), so it is there
    folder = Path(tempfile.mkdtemp(prefix="skillcert-pg-sealed-"))
    server = PgServer(bin_dir, free_port(), folder)
    server.start()
    try:
        url = server.fresh()
        env = {"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_REGISTRY_URL": url, "SKILLCERT_ACTOR": "t"}
        r = CliRunner().invoke(cli, ["demo", "--no-issue"], env=env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        with Registry.open(url, keys=tmp_path / "home" / "keys") as reg:
            people, photos = _demo_people(), _photo_samples(reg)
            assert set(people) <= {(c.name, c.id_number) for c in reg.certificates.select()}
            assert reg.audit.verify().ok
            reg.db.execute("CHECKPOINT")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.stat().st_size:
                _assert_nothing_clear(path.read_bytes(), people, photos, str(path))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_look_ups_corrections_and_audit_work_sealed(sealed: Registry) -> None:
    rows = add_pending(sealed, 4)
    assert sealed.certificates.holder_exists(BJ, rows[0].id_number, rows[0].occupation, rows[0].job, rows[0].level)
    assert not sealed.certificates.holder_exists(BJ, "110101199003077777", rows[0].occupation, rows[0].job, 5)
    numbers = [n for _, n in sealed.certificates.issue(BJ, DAY, actor="t")]
    c = sealed.certificates.get(numbers[0])
    assert c.name == rows[0].name and c.id_number == rows[0].id_number
    assert [x.number for x in sealed.certificates.select(name_contains=rows[1].name[1:])] == [numbers[1]]
    fixed = sealed.lifecycle.correct(
        numbers[0], field=CorrectionField.NAME, value="王小明", reason="录入错误", approved_by="主任", on=DAY, actor="t"
    )
    assert fixed.name == "王小明" and fixed.version == 2
    (corr,) = sealed.lifecycle.corrections(c.id)
    assert (corr.before, corr.after) == (rows[0].name, "王小明")
    assert sealed.lifecycle.version_history(c.id)[0]["name"] == rows[0].name
    sealed.lifecycle.correct(
        numbers[1],
        field=CorrectionField.ID_NUMBER,
        value="11010119900307002X",
        reason="r",
        approved_by="a",
        on=DAY,
        actor="t",
    )
    assert sealed.certificates.holder_exists(BJ, "11010119900307002X", rows[1].occupation, rows[1].job, rows[1].level)
    raw = Raw(sealed)
    try:
        logged = " ".join(str(r[0]) + str(r[1]) for r in raw.execute("SELECT before, after FROM audit").fetchall())
        stored = " ".join(str(r) for r in raw.execute("SELECT name, id_number FROM certificates").fetchall())
        versions = " ".join(str(r[0]) for r in raw.execute("SELECT data FROM certificate_versions").fetchall())
    finally:
        raw.close()
    for text in (logged, stored, versions):
        for value in ("王小明", "11010119900307002X", *(r.name for r in rows), *(r.id_number for r in rows)):
            assert value not in text
    assert sealed.audit.verify().ok


def test_an_altered_ciphertext_is_named_not_a_traceback(sealed: Registry) -> None:
    add_pending(sealed, 2)
    raw = Raw(sealed)
    try:
        cid, name = raw.execute("SELECT id, name FROM certificates ORDER BY id").fetchall()[0]
        flipped = name[:-3] + ("A" if name[-3] != "A" else "B") + name[-2:]
        raw.execute("UPDATE certificates SET name = ? WHERE id = ?", (flipped, cid))
        other_cid, _ = raw.execute("SELECT id, name FROM certificates ORDER BY id").fetchall()[1]
        raw.execute("UPDATE certificates SET name = ? WHERE id = ?", (name, other_cid))  # moved to another row
    finally:
        raw.close()
    for bad in (cid, other_cid):
        with pytest.raises(RegistryError) as e:
            sealed.certificates.by_id(bad)
        assert "无法解开" in e.value.zh and "does not open" in e.value.en and str(bad) in e.value.en
    problems = [en for _, en in sealed.audit.verify().problems]
    assert any(".name" in p for p in problems), problems


def test_without_the_key_it_says_so(sealed: Registry, registry_at: str | Path, clock: Any, tmp_path: Path) -> None:
    add_pending(sealed, 1)
    bare = Registry.open(registry_at, clock=clock, keys=tmp_path / "no-keys-here")
    try:
        with pytest.raises(RegistryError) as e:
            next(bare.certificates.select())
        assert "没有数据密钥" in e.value.zh and "no data key" in e.value.en
        with pytest.raises(RegistryError):  # nor does it take clear values into a sealed register
            add_pending(bare, 1, seed=11)
    finally:
        bare.close()


def test_rotation_reseals_everything_and_resumes(sealed: Registry, tmp_path: Path) -> None:
    add_pending(sealed, 7)
    numbers = [n for _, n in sealed.certificates.issue(BJ, DAY, actor="t")]
    sealed.lifecycle.correct(
        numbers[0], field=CorrectionField.NAME, value="李四", reason="r", approved_by="a", on=DAY, actor="t"
    )
    first = sealed.keys.status().current
    before = {c.id: (c.name, c.id_number) for c in sealed.certificates.select()}

    class Stop(Exception):
        pass

    def stop(_: int) -> None:
        raise Stop  # killed after its first transaction

    with pytest.raises(Stop):
        sealed.keys.rotate(tmp_path / "keys", actor="t", batch=3, progress=stop)
    st = sealed.keys.status()
    assert st.current != first and st.pending == 7 - 3 + 1  # 4 certificates and the photo left
    done = sealed.keys.rotate(tmp_path / "keys", actor="t", batch=3)
    assert done.resumed and done.certificates == 4 and done.photos == 1
    st = sealed.keys.status()
    assert st.pending == 0 and set(st.certificates) == {st.current}
    assert {c.id: (c.name, c.id_number) for c in sealed.certificates.select()} == before
    assert sealed.lifecycle.version_history(sealed.certificates.get(numbers[0]).id)[0]["name"] != "李四"
    assert sealed.audit.verify().ok  # the replay follows the re-sealed values
    kinds = [e.action for e in sealed.audit.entries()]
    assert kinds.count("rotate") == 1 and kinds.count("reseal") == 7
    cipher = load_cipher(tmp_path / "keys")
    assert cipher is not None and len(cipher.keys) == 2  # the old key stays: history is under it


def test_a_clear_register_is_encrypted_by_its_first_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A register made before encryption (no keys): `skillcert keys rotate` seals it, resumably."""
    home = tmp_path / "home"
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    with Registry.create(home / "registry.sqlite") as reg:  # no keys folder: in clear
        from registry.filings import institution_from_toml

        reg.institutions.add(institution_from_toml(filing("beijing")), actor="t")
        rows = add_pending(reg, 5)
    con = sqlite3.connect(home / "registry.sqlite")
    assert con.execute("SELECT name FROM certificates ORDER BY id").fetchone()[0] == rows[0].name
    con.close()
    runner = CliRunner()
    st = json.loads(runner.invoke(cli, ["keys", "status", "--json"], catch_exceptions=False).stdout)
    assert st["current"] is None and st["certificates"] == {"clear": 5}
    out = runner.invoke(cli, ["keys", "rotate", "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    done = json.loads(out.stdout)
    assert done["previous"] is None and done["certificates"] == 5 and done["photos"] == 1
    con = sqlite3.connect(home / "registry.sqlite")
    assert all(str(r[0]).startswith("enc1:") for r in con.execute("SELECT name FROM certificates"))
    con.close()
    with Registry.open(home / "registry.sqlite") as reg:
        assert [c.name for c in reg.certificates.select()] == [r.name for r in rows]
        assert reg.audit.verify().ok
    assert os.stat(home / "keys").st_mode & 0o077 == 0
