from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from registry import Registry, ReportStatus, Variant, WorkdayCalendar, export_report, report_status
from registry.deadlines import InstitutionReportStatus
from registry.errors import SkillcertError
from registry.report import REPORT_COLUMNS

from .conftest import DEMO_CODES, add_pending
from .raw_sql import Raw

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]


def _issue(reg: Registry) -> None:
    add_pending(reg, 2, seed=1)
    reg.certificates.issue(BJ, date(2024, 9, 2), actor="t")
    add_pending(reg, 1, seed=2)
    reg.certificates.issue(BJ, date(2024, 9, 20), actor="t")
    add_pending(reg, 1, code=GD, seed=3)
    reg.certificates.issue(GD, date(2024, 9, 20), actor="t")
    add_pending(reg, 1, seed=4)  # pending: no number, not in the report


def test_csv_report_fields_codes_and_deadlines(reg: Registry, tmp_path: Path) -> None:
    _issue(reg)
    out = tmp_path / "out" / "report.csv"
    s = export_report(reg, out, as_of=date(2024, 11, 8), calendar=WorkdayCalendar())
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "姓名 name" and len(rows[0]) == len(REPORT_COLUMNS)
    body = {r[6]: dict(zip([en for _, en in REPORT_COLUMNS], r, strict=True)) for r in rows[1:]}
    assert s.rows == 4 == len(body)
    first = body[next(n for n in body if n.startswith(BJ))]
    assert first["id_type"] == "201" and first["level"] == "5" and first["issue_date"].startswith("2024-09")
    assert first["job"] == ""
    # Beijing: 30 working days (2024-09-20 -> 2024-11-06); Guangdong: 30 days -> all overdue on 2024-11-08
    assert sorted(s.overdue) == sorted(body)
    gd = body[next(n for n in body if n.startswith(GD))]
    assert gd["report_by"] == "2024-10-20" and gd["cutoff"] == "2025-03-20"  # 30 calendar days, 6 months
    assert s.by_status == {"overdue": 4}
    late = export_report(reg, out, as_of=date(2025, 2, 21), calendar=WorkdayCalendar(), institution_code=BJ)
    assert len(late.past_cutoff) == 3 and late.rows == 3
    ranged = export_report(
        reg,
        out,
        as_of=date(2024, 9, 25),
        calendar=WorkdayCalendar(),
        date_from=date(2024, 9, 10),
        date_to=date(2024, 9, 30),
    )
    assert ranged.rows == 2 and ranged.by_status == {"due": 2}


def test_xlsx_report_and_reported_status(reg: Registry, tmp_path: Path) -> None:
    _issue(reg)
    reg.certificates.mark_reported(
        [c.id for c in reg.certificates.select(institution_code=GD)], on=date(2024, 9, 30), actor="t", target="x"
    )
    out = tmp_path / "report.xlsx"
    s = export_report(reg, out, as_of=date(2024, 11, 8), calendar=WorkdayCalendar())
    ws = openpyxl.load_workbook(out).active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][7] == "发证日期 issue_date" and len(values) == 5
    assert s.by_status == {"overdue": 3, "reported": 1}


def test_bad_format_leaves_no_file(reg: Registry, tmp_path: Path) -> None:
    with pytest.raises(SkillcertError):
        export_report(reg, tmp_path / "r.pdf", as_of=date(2024, 1, 1), calendar=WorkdayCalendar())
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob(".report-*"))


# -- reporting status: returns for correction and the dashboard --------------------------------

NAT = "S000132010001"  # a national-variant institution (Jiangsu region code), for the 20-day window
CAL = WorkdayCalendar()


def _file_national(reg: Registry) -> None:
    from registry import institution_from_toml

    from .conftest import filing

    reg.institutions.add(institution_from_toml(filing("ministry").replace("Y000111020001", NAT)), actor="t")


def _issue_on(reg: Registry, code: str, day: date, n: int, seed: int) -> list[str]:
    add_pending(reg, n, code=code, seed=seed)
    return [num for _, num in reg.certificates.issue(code, day, actor="t")]


def _report(reg: Registry, numbers: list[str], day: date) -> None:
    reg.certificates.mark_reported([reg.certificates.get(n).id for n in numbers], on=day, actor="t", target="x")


def _inst(status: ReportStatus, code: str) -> InstitutionReportStatus:
    (one,) = [i for i in status.institutions if i.code == code]
    return one


def test_holiday_calendar_2026_national_day() -> None:
    """chinesecalendar's 2026 schedule: 中秋 09-25..27, 国庆 10-01..07, swapped working Sun 09-20 and Sat 10-10."""
    assert not any(CAL.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert not CAL.is_workday(date(2026, 9, 25))
    assert CAL.is_workday(date(2026, 9, 20)) and CAL.is_workday(date(2026, 10, 10))
    assert not CAL.is_workday(date(2026, 10, 11))


def test_status_categories_beijing(reg: Registry) -> None:
    early = _issue_on(reg, BJ, date(2026, 3, 2), 2, seed=11)  # cut-off 2026-08-02 (5 months)
    sept = _issue_on(reg, BJ, date(2026, 9, 1), 3, seed=12)  # 30 working days -> 2026-10-19
    late = _issue_on(reg, BJ, date(2026, 9, 28), 2, seed=13)  # -> 2026-11-13
    add_pending(reg, 1, seed=14)  # pending: no number, not in the dashboard
    _report(reg, [early[0], sept[0], sept[1]], date(2026, 9, 29))
    reg.returns.mark_returned([sept[1]], on=date(2026, 9, 30), reason="姓名有误 wrong name", actor="t")

    st = report_status(reg, as_of=date(2026, 10, 12), calendar=CAL, institution_code=BJ)
    assert [i.code for i in st.institutions] == [BJ]
    bj = st.institutions[0]
    assert bj.counts() == {
        "total": 7,
        "unreported": 4,
        "due": 3,
        "due_soon": 1,
        "overdue": 0,
        "past_cutoff": 1,
        "reported": 2,
        "returned": 1,
        "returned_due_soon": 0,
        "returned_late": 0,
    }
    # the 30 working days span 中秋 and 国庆 with both swapped working weekend days
    assert [(i.number, i.report_by) for i in bj.due] == [
        (sept[2], date(2026, 10, 19)),
        (late[0], date(2026, 11, 13)),
        (late[1], date(2026, 11, 13)),
    ]
    assert [i.number for i in bj.due_soon] == [sept[2]]  # 10-13..10-16, 10-19: the 5th working day
    assert [(i.number, i.cutoff) for i in bj.past_cutoff] == [(early[1], date(2026, 8, 2))]
    # Beijing: 15 working days from 2026-09-30 over 国庆 (10-10 works) -> 2026-10-27
    (ret,) = bj.returned
    assert (ret.number, ret.resubmit_by, ret.reason) == (sept[1], date(2026, 10, 27), "姓名有误 wrong name")
    assert bj.soonest() == {
        "due": date(2026, 10, 19),
        "overdue": None,
        "past_cutoff": date(2026, 8, 2),
        "returned": date(2026, 10, 27),
        "returned_late": None,
    }
    assert (bj.resubmit_workdays, bj.cutoff_months, bj.variant) == (15, 5, Variant.BEIJING)

    on_deadline = _inst(report_status(reg, as_of=date(2026, 10, 19), calendar=CAL), BJ)
    assert [i.number for i in on_deadline.due_soon][:1] == [sept[2]] and not on_deadline.overdue
    after = _inst(report_status(reg, as_of=date(2026, 10, 28), calendar=CAL), BJ)
    assert [i.number for i in after.overdue] == [sept[2]]
    assert [i.number for i in after.returned_late] == [sept[1]] and not after.returned
    assert after.reported == 2

    reg.returns.mark_resubmitted([sept[1]], on=date(2026, 10, 20), actor="t")
    again = _inst(report_status(reg, as_of=date(2026, 10, 28), calendar=CAL), BJ)
    assert again.reported == 3 and not again.returned and not again.returned_late


def test_resubmission_window_by_region(reg: Registry) -> None:
    """Returned on 2026-09-30, just before 国庆: Guangdong 10, Beijing 15, national 20 working days."""
    _file_national(reg)
    nums = {code: _issue_on(reg, code, date(2026, 9, 1), 1, seed=s) for code, s in ((BJ, 21), (GD, 22), (NAT, 23))}
    returned = [n for (n,) in nums.values()]
    _report(reg, returned, date(2026, 9, 10))
    reg.returns.mark_returned(returned, on=date(2026, 9, 30), reason="照片不清晰", actor="t")

    def windows(day: date) -> dict[str, tuple[list[date], list[date]]]:
        st = report_status(reg, as_of=day, calendar=CAL)
        return {
            i.code: ([r.resubmit_by for r in i.returned], [r.resubmit_by for r in i.returned_late])
            for i in st.institutions
            if i.code in nums
        }

    gd_by, bj_by, nat_by = date(2026, 10, 20), date(2026, 10, 27), date(2026, 11, 3)
    assert windows(date(2026, 10, 20)) == {GD: ([gd_by], []), BJ: ([bj_by], []), NAT: ([nat_by], [])}
    assert windows(date(2026, 10, 21)) == {GD: ([], [gd_by]), BJ: ([bj_by], []), NAT: ([nat_by], [])}
    assert windows(date(2026, 10, 28)) == {GD: ([], [gd_by]), BJ: ([], [bj_by]), NAT: ([nat_by], [])}
    nat = _inst(report_status(reg, as_of=date(2026, 10, 28), calendar=CAL), NAT)
    assert nat.returned[0].due_soon and (nat.resubmit_workdays, nat.cutoff_months) == (20, 6)
    assert _inst(report_status(reg, as_of=date(2026, 10, 28), calendar=CAL), GD).resubmit_workdays == 10


def test_guangdong_calendar_days_and_due_soon_over_holiday(reg: Registry) -> None:
    a = _issue_on(reg, GD, date(2026, 9, 12), 1, seed=31)  # 30 calendar days -> 2026-10-12
    b = _issue_on(reg, GD, date(2026, 9, 14), 1, seed=32)  # -> 2026-10-14
    old = _issue_on(reg, GD, date(2026, 3, 20), 1, seed=33)  # 6 months -> cut-off 2026-09-20
    gd = _inst(report_status(reg, as_of=date(2026, 9, 30), calendar=CAL), GD)
    assert [(i.number, i.report_by) for i in gd.due] == [(a[0], date(2026, 10, 12)), (b[0], date(2026, 10, 14))]
    # 12 calendar days away but only 4 working days (10-08, 10-09, Sat 10-10, 10-12): due soon;
    # 10-14 is after the 5th working day (10-13)
    assert [i.number for i in gd.due_soon] == [a[0]]
    assert [(i.number, i.cutoff) for i in gd.past_cutoff] == [(old[0], date(2026, 9, 20))]
    assert gd.report_rule_en == "report within 30 days of issue"
    assert _inst(report_status(reg, as_of=date(2026, 10, 13), calendar=CAL), GD).overdue[0].number == a[0]


def test_uncovered_year_fails_clearly_unless_not_needed(reg: Registry) -> None:
    """A year after the package's last is provisional (tests/test_calendar_provisional.py); one
    before its first has no rules to count on and fails with exit 8."""
    from registry.errors import CalendarNotCovered

    first, last = CAL.covered
    assert CAL.is_provisional(last + 1) and not CAL.is_provisional(last) and not CAL.is_provisional(first - 1)
    with pytest.raises(CalendarNotCovered) as e:
        CAL.add_workdays(date(first - 1, 12, 1), 30)
    assert e.value.year == first - 1 and e.value.exit_code == 8
    _issue_on(reg, BJ, date(last, 12, 1), 1, seed=41)  # 30 working days reach the next year
    st = _inst(report_status(reg, as_of=date(last, 12, 10), calendar=CAL, institution_code=BJ), BJ)
    assert st.due[0].report_by is not None and st.due[0].report_by.year == last + 1 and st.due[0].provisional
    extra = WorkdayCalendar({last + 1: (frozenset({date(last + 1, 1, 1)}), frozenset())})
    st = _inst(report_status(reg, as_of=date(last, 12, 10), calendar=extra, institution_code=BJ), BJ)
    assert st.due[0].report_by is not None and not st.due[0].provisional and st.provisional_years == ()
    # past the cut-off the deadline is not needed
    assert len(_inst(report_status(reg, as_of=date(last + 1, 6, 1), calendar=CAL), BJ).past_cutoff) == 1


def test_return_refusals_are_all_or_nothing(reg: Registry) -> None:
    from registry.errors import NotFound, RuleViolation

    nums = _issue_on(reg, BJ, date(2026, 9, 1), 3, seed=51)
    _report(reg, nums[:2], date(2026, 9, 10))
    audit_before = len(list(reg.audit.entries()))
    missing = "S000011084012265999999"
    with pytest.raises(NotFound) as nf:
        reg.returns.mark_returned([nums[0], missing], on=date(2026, 9, 30), reason="r", actor="t")
    assert missing in nf.value.zh and missing in nf.value.en
    with pytest.raises(RuleViolation) as nr:
        reg.returns.mark_returned([nums[0], nums[2]], on=date(2026, 9, 30), reason="r", actor="t")
    assert nums[2] in nr.value.zh and "never reported" in nr.value.en
    with pytest.raises(RuleViolation, match="before it was reported"):
        reg.returns.mark_returned([nums[0]], on=date(2026, 9, 9), reason="r", actor="t")
    with pytest.raises(RuleViolation, match="reason"):
        reg.returns.mark_returned([nums[0]], on=date(2026, 9, 30), reason="  ", actor="t")
    with pytest.raises(RuleViolation, match="no return awaiting"):
        reg.returns.mark_resubmitted([nums[0]], on=date(2026, 10, 9), actor="t")
    with pytest.raises(NotFound):
        reg.returns.mark_resubmitted([missing], on=date(2026, 10, 9), actor="t")
    # nothing was written by the refused calls
    assert reg.returns.returns(reg.certificates.get(nums[0]).id) == [] and reg.returns.open_returns(BJ) == []
    assert len(list(reg.audit.entries())) == audit_before

    reg.returns.mark_returned([nums[0]], on=date(2026, 9, 30), reason="r", actor="t")
    with pytest.raises(RuleViolation, match="already returned") as dup:
        reg.returns.mark_returned([nums[1], nums[0]], on=date(2026, 10, 8), reason="r", actor="t")
    assert nums[0] in dup.value.zh
    with pytest.raises(RuleViolation, match="before it was returned"):
        reg.returns.mark_resubmitted([nums[0]], on=date(2026, 9, 29), actor="t")
    assert [r.number for r in reg.returns.open_returns(BJ)] == [nums[0]]  # nums[1] was not returned either


def test_returns_history_and_audit(reg: Registry) -> None:
    (n,) = _issue_on(reg, BJ, date(2026, 9, 1), 1, seed=61)
    cid = reg.certificates.get(n).id
    _report(reg, [n], date(2026, 9, 10))
    done = reg.returns.mark_returned([n.lower(), n], on=date(2026, 9, 30), reason="证件号码有误", actor="张三")
    assert [(r.number, r.institution_code, r.is_open) for r in done] == [(n, BJ, True)]  # de-duplicated
    reg.returns.mark_resubmitted([n], on=date(2026, 10, 12), actor="李四")
    reg.returns.mark_returned([n], on=date(2026, 10, 20), reason="照片", actor="张三")
    hist = reg.returns.returns(cid)
    assert [(r.returned_on, r.resubmitted_on, r.reason) for r in hist] == [
        (date(2026, 9, 30), date(2026, 10, 12), "证件号码有误"),
        (date(2026, 10, 20), None, "照片"),
    ]
    assert [r.returned_on for r in reg.returns.open_returns(BJ)] == [date(2026, 10, 20)] and reg.returns.open_returns(
        GD
    ) == []
    entries = [
        e
        for e in reg.audit.entries(entity="certificate", key=str(cid))
        if e.action in ("report_return", "report_resubmit")
    ]
    assert [(e.action, e.actor) for e in entries] == [
        ("report_return", "张三"),
        ("report_resubmit", "李四"),
        ("report_return", "张三"),
    ]
    assert entries[0].before == {"reported_on": "2026-09-10"}
    assert entries[0].after == {"returned_on": "2026-09-30", "reason": "证件号码有误"}
    assert entries[1].after == {"returned_on": "2026-09-30", "resubmitted_on": "2026-10-12"}
    assert reg.audit.verify_chain() is None
    raw = Raw(reg)
    with pytest.raises(raw.Refused, match="never deleted"):
        raw.execute("DELETE FROM report_returns")
    raw.close()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner, Result

    from skillcert.cli import cli

    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKILLCERT_ACTOR", "tester")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_cli_status_returned_resubmitted(run, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    from registry import institution_from_toml

    from .conftest import filing

    with Registry.create(tmp_path / "home" / "registry.sqlite", clock=clock) as reg:
        for kind in ("beijing", "guangdong"):
            reg.institutions.add(institution_from_toml(filing(kind)), actor="t")
        bj = _issue_on(reg, BJ, date(2026, 9, 1), 3, seed=71)
        gd = _issue_on(reg, GD, date(2026, 9, 15), 2, seed=72)
        _report(reg, [bj[0], bj[1], gd[0]], date(2026, 9, 20))

    r = run("report", "returned", bj[0], gd[0], "--on", "2026-09-30", "--reason", "姓名有误", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {"returned": [bj[0], gd[0]], "returned_on": "2026-09-30", "reason": "姓名有误"}
    r = run("report", "returned", bj[2], "--on", "2026-09-30", "--reason", "x")
    assert r.exit_code == 4 and bj[2] in r.stderr and "never reported" in r.stderr and "尚未上报" in r.stderr
    r = run("report", "returned", "S000011084012265999999", "--on", "2026-09-30", "--reason", "x", "--json")
    assert r.exit_code == 5 and json.loads(r.stdout)["error"] == "NotFound"
    assert run("report", "returned", bj[1], "--on", "2026-09-30").exit_code == 2  # --reason is required

    r = run("report", "status", "--as-of", "2026-10-21", "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["as_of"] == "2026-10-21" and d["due_soon_workdays"] == 5
    by = {i["institution"]: i for i in d["institutions"]}
    assert set(by) == {BJ, GD}
    assert by[BJ]["counts"]["returned"] == 1 and by[BJ]["returned"][0]["resubmit_by"] == "2026-10-27"
    assert by[BJ]["counts"]["overdue"] == 1 and by[BJ]["overdue"][0]["report_by"] == "2026-10-19"
    assert by[GD]["counts"]["returned_late"] == 1 and by[GD]["returned_late"][0]["resubmit_by"] == "2026-10-20"
    assert by[GD]["counts"]["overdue"] == 1 and by[GD]["soonest"]["overdue"] == "2026-10-15"
    assert by[GD]["rules"]["resubmit_workdays"] == 10 and by[BJ]["rules"]["resubmit_workdays"] == 15

    r = run("report", "status", "--institution", BJ, "--as-of", "2026-10-21")
    assert r.exit_code == 0 and GD not in r.stdout
    assert "退回待重报 returned for correction" in r.stdout and f"{bj[0]} (2026-10-27)" in r.stdout
    assert "已逾期 overdue" in r.stdout and bj[2] in r.stdout
    assert run("report", "status", "--institution", "S000011084099").exit_code == 5

    r = run("report", "resubmitted", bj[0], "--on", "2026-10-22", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["resubmitted"][0]["number"] == bj[0]
    assert run("report", "resubmitted", bj[0], "--on", "2026-10-23").exit_code == 4  # nothing open any more
    d = json.loads(run("report", "status", "--as-of", "2026-10-23", "--json", "--institution", BJ).stdout)
    assert d["institutions"][0]["counts"]["reported"] == 2 and d["institutions"][0]["counts"]["returned"] == 0
    with Registry.open(tmp_path / "home" / "registry.sqlite") as reg:
        actions = [e.action for e in reg.audit.entries() if e.action.startswith("report_")]
        assert actions == ["report_return", "report_return", "report_resubmit"]
        assert all(e.actor == "tester" for e in reg.audit.entries() if e.action.startswith("report_"))
        assert reg.audit.verify_chain() is None
