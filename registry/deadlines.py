"""Reporting deadlines for certificate data (SPEC §4, ``000_…`` 第十三、十五条, ``004_…``).

- Report within 30 **working** days of the issue date (Beijing, national); Guangdong: 30
  calendar days to the city centre (``004_…`` 二(二)).
- Returned data is corrected within 15 (Beijing) / 20 (national) / 10 (Guangdong province)
  working days.
- Data more than 5 months (Beijing) / 6 months (national, Guangdong) overdue is not accepted.

:func:`institution_status` turns one institution's certificates and open returns into its
reporting dashboard as of a day (pure: the caller reads the registry).

A working-day deadline that runs into a year without an official holiday schedule is
**provisional** (暂定): counted on the statutory holidays alone (see :mod:`registry.workdays`),
it may move by a few days once the State Council publishes that year's makeup working days.
Every such deadline carries ``provisional=True`` and is shown as 暂定 / provisional.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ._returns_store import ReportReturn
from .errors import CalendarNotCovered
from .models import Certificate, Institution
from .tables import Variant
from .workdays import WorkdayCalendar, add_months

__all__ = [
    "CORRECTION_WORKDAYS",
    "CUTOFF_MONTHS",
    "DUE_SOON_WORKDAYS",
    "Deadlines",
    "InstitutionReportStatus",
    "ReturnedItem",
    "UnreportedItem",
    "deadlines_for",
    "institution_status",
    "report_rule",
    "resubmit_by",
]

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
    provisional_years: tuple[int, ...] = ()  # report_by counted on these statutory-only years

    @property
    def provisional(self) -> bool:
        """Is ``report_by`` provisional (暂定): counted on a year with no official schedule yet?"""
        return bool(self.provisional_years)

    def status(self, as_of: date, reported_on: date | None) -> str:
        """``reported`` · ``due`` · ``overdue`` · ``past_cutoff`` · ``unknown``."""
        if reported_on is not None:
            return "reported"
        if as_of > self.cutoff:
            return "past_cutoff"
        if self.report_by is None:
            return "unknown"
        return "overdue" if as_of > self.report_by else "due"


_RULES: dict[bool, tuple[str, str]] = {
    True: ("发证之日起30日内上报", "report within 30 days of issue"),  # Guangdong: calendar days
    False: ("发证之日起30个工作日内上报", "report within 30 working days of issue"),
}


def report_rule(variant: Variant) -> tuple[str, str]:
    """The reporting rule of a variant, in Chinese and English."""
    return _RULES[variant is Variant.GUANGDONG]


def deadlines_for(issue_date: date, variant: Variant, calendar: WorkdayCalendar) -> Deadlines:
    cutoff = add_months(issue_date, CUTOFF_MONTHS[variant])
    zh, en = report_rule(variant)
    if variant is Variant.GUANGDONG:
        return Deadlines(issue_date, issue_date + timedelta(days=30), cutoff, zh, en)
    try:
        report_by: date | None = calendar.add_workdays(issue_date, 30)
        gap = None
    except CalendarNotCovered as e:
        report_by, gap = None, e.year
    years = calendar.provisional_between(issue_date, report_by) if report_by is not None else ()
    return Deadlines(issue_date, report_by, cutoff, zh, en, gap, years)


DUE_SOON_WORKDAYS = 5  # "due soon": the deadline is at most this many working days away


def resubmit_by(returned_on: date, variant: Variant, calendar: WorkdayCalendar) -> date:
    """Last day to resubmit returned data: 15 (Beijing) / 20 (national) / 10 (Guangdong) working days.

    Provisional if ``calendar.provisional_between(returned_on, result)``; raises
    :class:`CalendarNotCovered` only for a year the calendar cannot count at all.
    """
    return calendar.add_workdays(returned_on, CORRECTION_WORKDAYS[variant])


def _within_workdays(calendar: WorkdayCalendar, start: date, end: date, n: int) -> bool:
    """Is ``end`` no later than the ``n``-th working day after ``start``?

    Looks only at the days before ``end``, so a deadline in a covered year never needs the
    holidays of the year after it.
    """
    seen, d = 0, start + timedelta(days=1)
    while d < end:
        if calendar.is_workday(d):
            seen += 1
            if seen >= n:
                return False
        d += timedelta(days=1)
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreportedItem:
    """A certificate whose data is not reported yet, with its deadlines."""

    certificate_id: int
    number: str
    issue_date: date
    report_by: date | None  # None only past the cut-off, when the deadline's year cannot be counted
    cutoff: date
    due_soon: bool = False  # still in time, and the deadline is within DUE_SOON_WORKDAYS working days
    provisional: bool = False  # report_by is counted on a provisional year (暂定)

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificate_id": self.certificate_id,
            "number": self.number,
            "issue_date": self.issue_date.isoformat(),
            "report_by": self.report_by.isoformat() if self.report_by else None,
            "report_by_provisional": self.provisional,
            "cutoff": self.cutoff.isoformat(),
            "due_soon": self.due_soon,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnedItem:
    """A certificate whose reported data was returned for correction and not resubmitted yet."""

    certificate_id: int
    number: str
    returned_on: date
    reason: str
    resubmit_by: date
    due_soon: bool = False
    provisional: bool = False  # resubmit_by is counted on a provisional year (暂定)

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificate_id": self.certificate_id,
            "number": self.number,
            "returned_on": self.returned_on.isoformat(),
            "reason": self.reason,
            "resubmit_by": self.resubmit_by.isoformat(),
            "resubmit_by_provisional": self.provisional,
            "due_soon": self.due_soon,
        }


def _first(dates: Iterable[date]) -> date | None:
    return min(dates, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstitutionReportStatus:
    """One institution's reporting dashboard as of a day. Every issued certificate is in exactly
    one of: ``due`` · ``overdue`` · ``past_cutoff`` (not reported yet) · ``returned`` ·
    ``returned_late`` (returned for correction, awaiting resubmission) · ``reported``."""

    code: str
    name_zh: str
    name_en: str
    variant: Variant
    as_of: date
    report_rule_zh: str
    report_rule_en: str
    resubmit_workdays: int
    cutoff_months: int
    due: tuple[UnreportedItem, ...] = ()  # by deadline, soonest first
    overdue: tuple[UnreportedItem, ...] = ()  # past the reporting deadline, before the cut-off
    past_cutoff: tuple[UnreportedItem, ...] = ()  # past the 5/6-month cut-off: not accepted any more
    reported: int = 0  # reported and not awaiting a correction (resubmitted ones included)
    returned: tuple[ReturnedItem, ...] = ()  # within the resubmission window
    returned_late: tuple[ReturnedItem, ...] = ()  # the resubmission window has passed
    provisional_years: tuple[int, ...] = ()  # years some deadline here was counted on provisionally

    @property
    def due_soon(self) -> tuple[UnreportedItem, ...]:
        return tuple(i for i in self.due if i.due_soon)

    @property
    def returned_due_soon(self) -> tuple[ReturnedItem, ...]:
        return tuple(i for i in self.returned if i.due_soon)

    @property
    def unreported(self) -> int:
        return len(self.due) + len(self.overdue) + len(self.past_cutoff)

    @property
    def total(self) -> int:
        return self.unreported + self.reported + len(self.returned) + len(self.returned_late)

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "unreported": self.unreported,
            "due": len(self.due),
            "due_soon": len(self.due_soon),
            "overdue": len(self.overdue),
            "past_cutoff": len(self.past_cutoff),
            "reported": self.reported,
            "returned": len(self.returned),
            "returned_due_soon": len(self.returned_due_soon),
            "returned_late": len(self.returned_late),
        }

    def soonest(self) -> dict[str, date | None]:
        """The earliest deadline per category (for late ones: the one missed longest ago)."""
        return {
            "due": _first(i.report_by for i in self.due if i.report_by),
            "overdue": _first(i.report_by for i in self.overdue if i.report_by),
            "past_cutoff": _first(i.cutoff for i in self.past_cutoff),
            "returned": _first(i.resubmit_by for i in self.returned),
            "returned_late": _first(i.resubmit_by for i in self.returned_late),
        }

    def soonest_provisional(self) -> dict[str, bool]:
        """Is the earliest deadline of each category (see :meth:`soonest`) provisional (暂定)?"""
        first = self.soonest()
        return {
            "due": any(i.provisional and i.report_by == first["due"] for i in self.due),
            "overdue": any(i.provisional and i.report_by == first["overdue"] for i in self.overdue),
            "past_cutoff": False,  # calendar months: no holidays involved
            "returned": any(i.provisional and i.resubmit_by == first["returned"] for i in self.returned),
            "returned_late": any(i.provisional and i.resubmit_by == first["returned_late"] for i in self.returned_late),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "institution": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "variant": self.variant.value,
            "as_of": self.as_of.isoformat(),
            "rules": {
                "report_zh": self.report_rule_zh,
                "report_en": self.report_rule_en,
                "resubmit_workdays": self.resubmit_workdays,
                "cutoff_months": self.cutoff_months,
                "due_soon_workdays": DUE_SOON_WORKDAYS,
            },
            "counts": self.counts(),
            "soonest": {k: v.isoformat() if v else None for k, v in self.soonest().items()},
            "soonest_provisional": self.soonest_provisional(),
            "provisional_years": list(self.provisional_years),
            "due": [i.as_dict() for i in self.due],
            "overdue": [i.as_dict() for i in self.overdue],
            "past_cutoff": [i.as_dict() for i in self.past_cutoff],
            "returned": [i.as_dict() for i in self.returned],
            "returned_late": [i.as_dict() for i in self.returned_late],
        }


def institution_status(
    inst: Institution,
    certificates: Iterable[Certificate],
    open_returns: Iterable[ReportReturn],
    *,
    as_of: date,
    calendar: WorkdayCalendar,
) -> InstitutionReportStatus:
    """The reporting dashboard of ``inst`` as of ``as_of``, from its certificates and open returns.

    Pending records (no number yet) and other institutions' certificates are ignored. A
    deadline in a year with no official schedule yet is counted provisionally and marked so; one
    that needs a year the calendar cannot cover at all (before the package's first year) raises
    :class:`CalendarNotCovered` (exit 8); certificates past the cut-off need no calendar.
    """
    variant = inst.variant
    by_cert = {r.certificate_id: r for r in open_returns if r.is_open and r.institution_code == inst.code}
    deadlines: dict[date, Deadlines] = {}
    windows: dict[date, tuple[date, tuple[int, ...]]] = {}
    provisional: set[int] = set()
    due: list[UnreportedItem] = []
    overdue: list[UnreportedItem] = []
    past: list[UnreportedItem] = []
    returned: list[ReturnedItem] = []
    late: list[ReturnedItem] = []
    reported = 0
    for c in certificates:
        if c.number is None or c.issue_date is None or c.institution_code != inst.code:
            continue
        ret = by_cert.get(c.id)
        if ret is not None:
            if ret.returned_on not in windows:
                end = resubmit_by(ret.returned_on, variant, calendar)
                windows[ret.returned_on] = (end, calendar.provisional_between(ret.returned_on, end))
            until, years = windows[ret.returned_on]
            provisional.update(years)
            item = ReturnedItem(
                certificate_id=c.id,
                number=c.number,
                returned_on=ret.returned_on,
                reason=ret.reason,
                resubmit_by=until,
                due_soon=as_of <= until and _within_workdays(calendar, as_of, until, DUE_SOON_WORKDAYS),
                provisional=bool(years),
            )
            (late if as_of > until else returned).append(item)
            continue
        if c.reported_on is not None:
            reported += 1
            continue
        if c.issue_date not in deadlines:  # many certificates share an issue date
            deadlines[c.issue_date] = deadlines_for(c.issue_date, variant, calendar)
        d = deadlines[c.issue_date]
        if as_of > d.cutoff:
            past.append(_unreported(c.id, c.number, d))
            continue
        if d.report_by is None:
            raise CalendarNotCovered(d.calendar_gap or d.issue_date.year, calendar.covered)
        provisional.update(d.provisional_years)
        if as_of > d.report_by:
            overdue.append(_unreported(c.id, c.number, d))
        else:
            soon = _within_workdays(calendar, as_of, d.report_by, DUE_SOON_WORKDAYS)
            due.append(_unreported(c.id, c.number, d, due_soon=soon))
    zh, en = report_rule(variant)
    return InstitutionReportStatus(
        code=inst.code,
        name_zh=inst.name_zh,
        name_en=inst.name_en,
        variant=variant,
        as_of=as_of,
        report_rule_zh=zh,
        report_rule_en=en,
        resubmit_workdays=CORRECTION_WORKDAYS[variant],
        cutoff_months=CUTOFF_MONTHS[variant],
        due=tuple(sorted(due, key=_by_report_by)),
        overdue=tuple(sorted(overdue, key=_by_report_by)),
        past_cutoff=tuple(sorted(past, key=lambda i: (i.cutoff, i.number))),
        reported=reported,
        returned=tuple(sorted(returned, key=lambda i: (i.resubmit_by, i.number))),
        returned_late=tuple(sorted(late, key=lambda i: (i.resubmit_by, i.number))),
        provisional_years=tuple(sorted(provisional)),
    )


def _unreported(cid: int, number: str, d: Deadlines, *, due_soon: bool = False) -> UnreportedItem:
    return UnreportedItem(
        certificate_id=cid,
        number=number,
        issue_date=d.issue_date,
        report_by=d.report_by,
        cutoff=d.cutoff,
        due_soon=due_soon,
        provisional=d.provisional,
    )


def _by_report_by(i: UnreportedItem) -> tuple[date, str]:
    return (i.report_by or i.cutoff, i.number)
