"""Reporting deadlines for certificate data (SPEC §4, ``000_…`` 第十三、十五条, ``004_…``).

- Report within 30 **working** days of the issue date (Beijing, national); Guangdong: 30
  calendar days to the city centre (``004_…`` 二(二)).
- Returned data is corrected within 15 (Beijing) / 20 (national) / 10 (Guangdong province)
  working days.
- Data more than 5 months (Beijing) / 6 months (national, Guangdong) overdue is not accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .errors import CalendarNotCovered
from .tables import Variant
from .workdays import WorkdayCalendar, add_months

__all__ = ["CORRECTION_WORKDAYS", "Deadlines", "deadlines_for"]

CORRECTION_WORKDAYS: dict[Variant, int] = {Variant.BEIJING: 15, Variant.NATIONAL: 20, Variant.GUANGDONG: 10}
CUTOFF_MONTHS: dict[Variant, int] = {Variant.BEIJING: 5, Variant.NATIONAL: 6, Variant.GUANGDONG: 6}


@dataclass(frozen=True, slots=True)
class Deadlines:
    issue_date: date
    report_by: date | None  # None: the calendar does not cover the year it falls in
    cutoff: date  # after this the data is, in principle, not accepted
    rule_zh: str
    rule_en: str
    calendar_gap: int | None = None  # the uncovered year, if any

    def status(self, as_of: date, reported_on: date | None) -> str:
        """``reported`` · ``due`` · ``overdue`` · ``past_cutoff`` · ``unknown``."""
        if reported_on is not None:
            return "reported"
        if as_of > self.cutoff:
            return "past_cutoff"
        if self.report_by is None:
            return "unknown"
        return "overdue" if as_of > self.report_by else "due"


def deadlines_for(issue_date: date, variant: Variant, calendar: WorkdayCalendar) -> Deadlines:
    cutoff = add_months(issue_date, CUTOFF_MONTHS[variant])
    if variant is Variant.GUANGDONG:
        return Deadlines(
            issue_date,
            issue_date + timedelta(days=30),
            cutoff,
            "发证之日起30日内上报",
            "report within 30 days of issue",
        )
    try:
        report_by: date | None = calendar.add_workdays(issue_date, 30)
        gap = None
    except CalendarNotCovered as e:
        report_by, gap = None, e.year
    return Deadlines(
        issue_date, report_by, cutoff, "发证之日起30个工作日内上报", "report within 30 working days of issue", gap
    )
