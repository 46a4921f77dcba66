"""Benchmark: back up and restore a register of 100,000 certificates (issue 17).

A home with ``--rows`` imported and numbered certificates, their names, ID numbers and photos
sealed under a data key (``skillcert init`` makes one), is backed up with ``skillcert.backups
.backup_home`` (a consistent online copy, packed, AES-256-GCM, checksummed) and restored into an
empty home with ``restore_home`` (decrypt, check, full ``audit verify`` on the copy, switch in).
Each is printed beside its floor measured on the same machine in the same run: for the backup,
copying the database file and hashing it (what any consistent backup must at least read and
write); for the restore, that copy plus the ``audit verify`` the restore runs on the copy.

    ./run bench backup [--rows 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import CODE, make_batch  # noqa: E402
from registry import Registry, import_results, institution_from_toml  # noqa: E402
from registry.fieldcrypt import new_data_key  # noqa: E402
from skillcert.backups import backup_home, restore_home  # noqa: E402
from skillcert.demo import DEMO_DIR  # noqa: E402
from skillcert.settings import Settings  # noqa: E402


def _home(root: Path, rows: int) -> Settings:
    s = Settings.from_env({"SKILLCERT_HOME": str(root / "home"), "SKILLCERT_ACTOR": "bench"})
    s.home.mkdir(parents=True)
    new_data_key(s.keys_dir)
    batch = make_batch(root / "batch", rows, 1000)
    with Registry.create(s.registry_path, keys=s.keys_dir) as reg:
        reg.institutions.add(
            institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")), actor="bench"
        )
        import_results(reg, batch, CODE, today=date(2026, 11, 22), actor="bench")
        reg.certificates.issue(CODE, date(2026, 11, 22), actor="bench")
    return s


def _floor_copy(src: Path, dst: Path) -> float:
    t0 = time.perf_counter()
    shutil.copyfile(src, dst)
    h = hashlib.sha256()
    with dst.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    env = {"SKILLCERT_BACKUP_KEY": "ab" * 32}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        s = _home(root, a.rows)
        setup = time.perf_counter() - t0
        db_mb = s.registry_path.stat().st_size / 1e6
        backups, restores, copies, verifies = [], [], [], []
        size_mb = 0.0
        for i in range(a.runs):
            out = root / f"b{i}.skcbak"
            t0 = time.perf_counter()
            backup_home(s, out, now=datetime.now(UTC), env=env)
            backups.append(time.perf_counter() - t0)
            size_mb = out.stat().st_size / 1e6
            copies.append(_floor_copy(s.registry_path, root / f"copy{i}.sqlite"))
            with Registry.open(root / f"copy{i}.sqlite", keys=s.keys_dir) as reg:
                t0 = time.perf_counter()
                assert reg.audit.verify().ok
                verifies.append(time.perf_counter() - t0)
            target = Settings.from_env({"SKILLCERT_HOME": str(root / f"restored{i}"), "SKILLCERT_ACTOR": "bench"})
            t0 = time.perf_counter()
            restore_home(target, out, now=datetime.now(UTC), env=env)
            restores.append(time.perf_counter() - t0)
            with Registry.open(target.registry_path, keys=target.keys_dir) as reg:
                assert sum(reg.certificates.counts().values()) == a.rows
    b, r, c, v = (statistics.median(x) for x in (backups, restores, copies, verifies))
    print(f"backup/restore benchmark: {a.rows:,} certificates (sealed), median of {a.runs} runs")
    print(f"  setup (import + allocate, not timed below)  {setup:8.1f} s;  registry.sqlite {db_mb:.1f} MB")
    print(f"  backup (online copy, pack, encrypt)         {b:8.2f} s   backup file {size_mb:.1f} MB")
    print(f"    floor: copy + SHA-256 of the database     {c:8.2f} s   ratio {b / c:.1f}x")
    print(f"  restore (decrypt, check, audit verify, switch) {r:5.2f} s")
    print(
        f"    floor: copy + audit verify                {c + v:8.2f} s   ratio {r / (c + v):.1f}x"
        f"   (audit verify alone {v:.2f} s)"
    )


if __name__ == "__main__":
    main()
