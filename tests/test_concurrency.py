"""Two real processes allocate numbers at once: 1,000 distinct, gap-free serials."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry import Registry, parse_number

from .conftest import DEMO_CODES, add_pending, location

WORKER = """
import sys, time
from datetime import date
from pathlib import Path
from registry import Registry
db, code, go, n, actor = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
reg = Registry.open(db)
while not go.exists():
    time.sleep(0.001)
got = 0
for _ in range(n):
    got += len(reg.certificates.issue(code, date(2026, 3, 2), actor=actor, limit=1))
    time.sleep(0.002)  # out of the lock a moment: SQLite's busy wait would let one process take every turn
reg.close()
print(got)
"""


@pytest.mark.slow
def test_two_processes_issue_500_each(reg: Registry, tmp_path: Path) -> None:
    code = DEMO_CODES["beijing"]
    add_pending(reg, 1000, seed=42)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, location(reg), code, str(go), "500", f"worker-{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs == ["500", "500"]
    numbers = [c.number for c in reg.certificates.select(institution_code=code)]
    assert len(numbers) == 1000 and None not in numbers and len(set(numbers)) == 1000
    serials = sorted(parse_number(n).serial for n in numbers if n)
    assert serials == list(range(1, 1001))
    # both processes really contended: in serial order the owner changes many times (one run
    # after the other would change it once), and each owns serials from both halves of the range
    owner = {
        parse_number(e.after["number"]).serial: e.actor
        for e in reg.audit.entries(entity="certificate")
        if e.action == "issue"
    }
    assert len(owner) == 1000 and set(owner.values()) == {"worker-0", "worker-1"}
    in_order = [owner[k] for k in sorted(owner)]
    switches = sum(a != b for a, b in itertools.pairwise(in_order))
    assert switches > 10, switches  # one run after the other would switch once
    for actor in ("worker-0", "worker-1"):
        mine = [k for k, a in owner.items() if a == actor]
        assert min(mine) <= 500 < max(mine), (actor, min(mine), max(mine))
    assert reg.audit.verify_chain() is None
