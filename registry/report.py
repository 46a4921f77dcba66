"""The certificate data report (证书数据上报) as CSV or XLSX, with the reporting deadlines.

Columns are the data fields of ``004_…`` 第七条 / ``000_…`` 第十二条 with the code tables of
``000_…`` 附件4 (ID type codes, level 1-5, dates as YYYY-MM-DD), followed by each record's
reporting deadline, cut-off and status as of a given day. A deadline counted on a year with
no official holiday schedule yet reads ``YYYY-MM-DD 暂定 provisional``.

:func:`report_status` is the reporting dashboard per institution: what is due, overdue, past
the cut-off, reported, and returned for correction (see :func:`registry.deadlines.institution_status`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .deadlines import DUE_SOON_WORKDAYS, Deadlines, InstitutionReportStatus, deadlines_for, institution_status
from .models import Certificate, Institution
from .store import Registry
from .tabular import export_kind, write_tables
from .workdays import WorkdayCalendar

__all__ = ["REPORT_COLUMNS", "ReportStatus", "ReportSummary", "export_report", "report_status"]

REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("姓名", "name"),
    ("证件类型", "id_type"),
    ("证件号码", "id_number"),
    ("职业名称", "occupation"),
    ("工种/职业方向", "job"),
    ("职业技能等级", "level"),
    ("证书编号", "number"),
    ("发证日期", "issue_date"),
    ("发证机构名称", "issuing_body"),
    ("评价机构", "institution"),
    ("所在单位", "work_unit"),
    ("上报期限", "report_by"),
    ("受理截止", "cutoff"),
    ("上报状态", "report_status"),
    ("上报日期", "reported_on"),
)
_STATUS_ZH = {
    "reported": "已上报",
    "due": "待上报",
    "overdue": "已逾期",
    "past_cutoff": "超过受理期限",
    "unknown": "未知（日历未覆盖）",
}


@dataclass(slots=True)
class ReportSummary:
    path: Path
    rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    overdue: list[str] = field(default_factory=list)
    past_cutoff: list[str] = field(default_factory=list)
    provisional: list[str] = field(default_factory=list)  # numbers whose report_by is provisional (暂定)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "rows": self.rows,
            "by_status": self.by_status,
            "overdue": self.overdue,
            "past_cutoff": self.past_cutoff,
            "provisional": self.provisional,
        }


def _rows(
    reg: Registry, certs: Iterator[Certificate], as_of: date, calendar: WorkdayCalendar, summary: ReportSummary
) -> Iterator[list[str]]:
    insts: dict[str, Institution] = {}
    for c in certs:
        if c.number is None or c.issue_date is None:
            continue
        inst = insts.get(c.institution_code) or insts.setdefault(
            c.institution_code, reg.institutions.get(c.institution_code)
        )
        d = deadlines_for(c.issue_date, inst.variant, calendar)
        status = d.status(as_of, c.reported_on)
        summary.rows += 1
        summary.by_status[status] = summary.by_status.get(status, 0) + 1
        if status == "overdue":
            summary.overdue.append(c.number)
        elif status == "past_cutoff":
            summary.past_cutoff.append(c.number)
        if d.provisional:
            summary.provisional.append(c.number)
        yield [
            c.name,
            c.id_type,
            c.id_number,
            c.occupation,
            c.job,
            str(c.level),
            c.number,
            c.issue_date.isoformat(),
            inst.issuing_body_zh or inst.name_zh,
            inst.name_zh,
            c.work_unit,
            _report_by(d),
            d.cutoff.isoformat(),
            f"{_STATUS_ZH[status]} {status}",
            c.reported_on.isoformat() if c.reported_on else "",
        ]


def _report_by(d: Deadlines) -> str:
    if d.report_by is None:
        return f"未知 unknown ({d.calendar_gap})"
    return f"{d.report_by.isoformat()} 暂定 provisional" if d.provisional else d.report_by.isoformat()


def export_report(
    reg: Registry,
    out: Path,
    *,
    as_of: date,
    calendar: WorkdayCalendar,
    institution_code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    fmt: str | None = None,
) -> ReportSummary:
    """Write the data report for issued certificates in a date range; atomically (temp + rename)."""
    kind = export_kind(out, fmt)
    if institution_code is not None:
        reg.institutions.get(institution_code)  # NotFound if unknown
    summary = ReportSummary(out)
    certs = reg.certificates.select(institution_code=institution_code, issued_from=date_from, issued_to=date_to)
    header = [f"{zh} {en}" for zh, en in REPORT_COLUMNS]
    rows = _rows(reg, certs, as_of, calendar, summary)
    write_tables(out, kind, [("证书数据", itertools.chain([header], rows))])
    return summary


@dataclass(frozen=True, slots=True)
class ReportStatus:
    """The reporting dashboard as of a day: one entry per institution, by code."""

    as_of: date
    institutions: tuple[InstitutionReportStatus, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "due_soon_workdays": DUE_SOON_WORKDAYS,
            "institutions": [i.as_dict() for i in self.institutions],
        }


def report_status(
    reg: Registry, *, as_of: date, calendar: WorkdayCalendar, institution_code: str | None = None
) -> ReportStatus:
    """Every institution's (or one institution's) reporting status as of ``as_of``.

    Judges the registry's current records (reported, returned, resubmitted) against the day.
    """
    insts = [reg.institutions.get(institution_code)] if institution_code is not None else reg.institutions.all()
    return ReportStatus(
        as_of,
        tuple(
            institution_status(
                inst,
                reg.certificates.select(institution_code=inst.code),
                reg.returns.open_returns(inst.code),
                as_of=as_of,
                calendar=calendar,
            )
            for inst in insts
        ),
    )
