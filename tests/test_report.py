from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from registry import Registry, WorkdayCalendar, export_report
from registry.errors import SkillcertError
from registry.report import REPORT_COLUMNS

from .conftest import DEMO_CODES, add_pending

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]


def _issue(reg: Registry) -> None:
    add_pending(reg, 2, seed=1)
    reg.issue_numbers(BJ, date(2024, 9, 2), actor="t")
    add_pending(reg, 1, seed=2)
    reg.issue_numbers(BJ, date(2024, 9, 20), actor="t")
    add_pending(reg, 1, code=GD, seed=3)
    reg.issue_numbers(GD, date(2024, 9, 20), actor="t")
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
    reg.mark_reported(
        [c.id for c in reg.certificates(institution_code=GD)], on=date(2024, 9, 30), actor="t", target="x"
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
