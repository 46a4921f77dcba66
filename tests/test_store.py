from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from registry import Registry, institution_from_toml, parse_number
from registry.errors import NotFound, RegistryError, RuleViolation
from registry.models import CertStatus, InstitutionStatus

from .conftest import DEMO_CODES, Clock, add_pending, filing
from .raw_sql import Raw

BJ = DEMO_CODES["beijing"]


def test_migrations_from_empty_and_newer_schema_refused(tmp_path: Path) -> None:
    p = tmp_path / "r.sqlite"
    with Registry.create(p) as r:
        assert r.schema_version >= 1
    with Registry.open(p) as r:
        assert r.schema_version >= 1
    sqlite3.connect(p).execute("PRAGMA user_version = 999").connection.commit()
    with pytest.raises(RegistryError):
        Registry.open(p)
    with pytest.raises(RegistryError):
        Registry.open(tmp_path / "missing.sqlite")


def test_filing_round_trip_and_duplicates(reg: Registry) -> None:
    inst = reg.institutions.get(DEMO_CODES["ministry"])
    assert inst.issuing_body_zh and [s.kind for s in inst.seals] == ["institution", "issuing"]
    assert inst.levels_for("焊工", "电焊工") == {3, 4}
    assert reg.institutions.get(DEMO_CODES["guangdong"]).one_modification_only
    with pytest.raises(RuleViolation):
        reg.institutions.add(institution_from_toml(filing("beijing")), actor="t")


def test_retired_code_is_never_reassigned(reg: Registry) -> None:
    reg.institutions.retire(BJ, on=date(2026, 1, 5), reason="机构取消", actor="t")
    inst = reg.institutions.get(BJ)
    assert inst.status is InstitutionStatus.CANCELLED and inst.status_date == date(2026, 1, 5)
    assert reg.institutions.retired_codes()[0][0] == BJ
    with pytest.raises(RuleViolation) as e:
        reg.institutions.add(institution_from_toml(filing("beijing")), actor="t")
    assert "废置库" in e.value.zh and "never reassigned" in e.value.en
    with pytest.raises(RuleViolation):
        reg.certificates.issue(BJ, date(2026, 2, 1), actor="t")


def test_merge_keeps_absorbing_code(reg: Registry) -> None:
    reg.institutions.retire(
        DEMO_CODES["guangdong"], on=date(2026, 1, 5), reason="并入", actor="t", merged_into=DEMO_CODES["beijing"]
    )
    assert reg.institutions.get(DEMO_CODES["guangdong"]).merged_into == BJ
    assert reg.institutions.get(BJ).status is InstitutionStatus.ACTIVE


def test_allocation_is_sequential_per_year_and_level(reg: Registry) -> None:
    add_pending(reg, 5, level=5, seed=1)
    add_pending(reg, 3, level=4, seed=2)
    got = reg.certificates.issue(BJ, date(2026, 3, 2), actor="t")
    numbers = sorted(parse_number(n).serial for _, n in got if parse_number(n).level == 5)
    assert numbers == [1, 2, 3, 4, 5]
    assert sorted(parse_number(n).serial for _, n in got if parse_number(n).level == 4) == [1, 2, 3]
    assert all(parse_number(n).year == 2026 for _, n in got)
    c = reg.certificates.get(got[0][1])
    assert c.status is CertStatus.VALID and c.issue_date == date(2026, 3, 2) and c.qr_token
    add_pending(reg, 2, level=5, seed=3)
    more = reg.certificates.issue(BJ, date(2026, 3, 3), actor="t")
    assert [parse_number(n).serial for _, n in more] == [6, 7]
    add_pending(reg, 1, level=5, seed=4)
    next_year = reg.certificates.issue(BJ, date(2027, 1, 4), actor="t")
    assert parse_number(next_year[0][1]).serial == 1 and parse_number(next_year[0][1]).year == 2027


def test_issue_by_ids_refuses_issued_and_foreign_records(reg: Registry) -> None:
    add_pending(reg, 2, seed=5)
    ids = [c.id for c in reg.certificates.select(institution_code=BJ)]
    reg.certificates.issue(BJ, date(2026, 3, 2), actor="t", ids=ids[:1])
    with pytest.raises(RuleViolation):
        reg.certificates.issue(BJ, date(2026, 3, 2), actor="t", ids=ids[:1])
    with pytest.raises(NotFound):
        reg.certificates.issue(DEMO_CODES["ministry"], date(2026, 3, 2), actor="t", ids=ids[1:])
    with pytest.raises(RuleViolation):  # before the filing date
        reg.certificates.issue(BJ, date(2020, 1, 1), actor="t")


def test_failed_issue_burns_no_number(reg: Registry) -> None:
    add_pending(reg, 3, seed=6)
    ids = [c.id for c in reg.certificates.select(institution_code=BJ)]
    with pytest.raises(NotFound):
        reg.certificates.issue(BJ, date(2026, 3, 2), actor="t", ids=[*ids, 99999])
    got = reg.certificates.issue(BJ, date(2026, 3, 2), actor="t", ids=ids)
    assert [parse_number(n).serial for _, n in got] == [1, 2, 3]


def test_store_refuses_physical_deletion_and_number_changes(reg: Registry) -> None:
    add_pending(reg, 1, seed=8)
    ((_, number),) = reg.certificates.issue(BJ, date(2026, 3, 2), actor="t")
    reg.institutions.retire(DEMO_CODES["guangdong"], on=date(2026, 3, 2), reason="撤销", actor="t")
    raw = Raw(reg)
    for sql in [
        "DELETE FROM certificates",
        "DELETE FROM audit",
        "UPDATE audit SET actor = 'x'",
        "DELETE FROM institutions",
        f"UPDATE issued_numbers SET number = 'S000011084012265000099' WHERE number = '{number}'",
        "DELETE FROM issued_numbers",
        "UPDATE number_counters SET last_serial = 0",
        "DELETE FROM retired_codes",
    ] + (
        ["TRUNCATE audit", "TRUNCATE issued_numbers CASCADE", "TRUNCATE retired_codes"] if raw.kind != "sqlite" else []
    ):
        with pytest.raises(raw.Refused):
            raw.execute(sql)
    raw.close()
    assert reg.certificates.get(number).number == number


def test_audit_chain_records_every_change_and_detects_edits(reg: Registry, clock: Clock) -> None:
    add_pending(reg, 2, seed=9)
    got = reg.certificates.issue(BJ, date(2026, 3, 2), actor="张三")
    entries = list(reg.audit.entries())
    assert [e.action for e in entries[:3]] == ["file", "file", "file"]
    assert [e.action for e in entries].count("import") == 3 and [e.action for e in entries].count("issue") == 2
    issue = next(e for e in entries if e.action == "issue")
    assert issue.actor == "张三" and issue.before == {"status": "pending"} and issue.after["number"] == got[0][1]
    assert reg.audit.verify_chain() is None
    raw = Raw(reg)
    raw.drop_trigger("audit_append_only_update", "audit")
    raw.execute("UPDATE audit SET actor = '李四' WHERE seq = 5")
    raw.close()
    assert reg.audit.verify_chain() == 5


def test_mark_reported_is_audited(reg: Registry) -> None:
    add_pending(reg, 2, seed=10)
    reg.certificates.issue(BJ, date(2026, 3, 2), actor="t")
    ids = [c.id for c in reg.certificates.select(institution_code=BJ)]
    assert reg.certificates.mark_reported(ids, on=date(2026, 3, 10), actor="t", target="r.csv") == 2
    assert reg.certificates.mark_reported(ids, on=date(2026, 3, 11), actor="t", target="r.csv") == 0
    assert [e.action for e in reg.audit.entries(entity="certificate", key=str(ids[0]))] == ["import", "issue", "report"]
