"""The store's guards hold against plain SQL from another program (the sqlite3 shell)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date

import pytest

from registry import Registry

from .conftest import DEMO_CODES, add_pending

pytestmark = pytest.mark.sqlite_only  # edits the SQLite file behind the store; PostgreSQL: tests/test_postgres.py


@pytest.mark.system
def test_sqlite_shell_cannot_delete_or_renumber(reg: Registry, require_program: Callable[[str], str]) -> None:
    sqlite3_cli = require_program("sqlite3")
    add_pending(reg, 3, seed=11)
    issued = reg.certificates.issue(DEMO_CODES["beijing"], date(2026, 3, 2), actor="t")
    reg.institutions.retire(DEMO_CODES["guangdong"], on=date(2026, 3, 3), reason="test", actor="t")
    for sql in (
        "DELETE FROM certificates WHERE id = 1;",
        "DELETE FROM issued_numbers;",
        f"UPDATE issued_numbers SET number = 'x' WHERE number = '{issued[0][1]}';",
        "DELETE FROM audit;",
        "DELETE FROM retired_codes;",
    ):
        r = subprocess.run([sqlite3_cli, str(reg.path), sql], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, sql
        assert "only" in r.stderr or "never" in r.stderr, r.stderr
    assert [reg.certificates.get(n).number for _, n in issued] == [n for _, n in issued]
    assert reg.audit.verify_chain() is None
