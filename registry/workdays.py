"""China's working-day calendar: public holidays and the swapped working weekends.

Built on the maintained ``chinesecalendar`` package (State Council holiday schedules). A
year's official schedule can also be given by the institution, from the State Council notice,
in ``settings.toml`` or a small TOML file named there (the same tables)::

    [2027]
    holidays = ["2027-01-01", "2027-02-05..2027-02-11"]
    workdays = ["2027-02-14"]          # weekend days that are working days

A later year that neither covers is **provisional**: its days off are computed from the statute
(:mod:`registry._statutory`) with no makeup working days (调休), which only the State Council's
notice fixes. :meth:`WorkdayCalendar.provisional_between` tells whether a deadline depends on
such a year; once a package update or the settings bring the official schedule, it is used.
Years before the package's first year raise :class:`CalendarNotCovered`.
"""

from __future__ import annotations

import calendar as _cal
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chinese_calendar import constants as _cc

from ._statutory import FIRST_YEAR as _FIRST_STATUTORY
from ._statutory import LAST_YEAR as _LAST_STATUTORY
from ._statutory import statutory_holidays
from .errors import CalendarNotCovered, SkillcertError

__all__ = ["WorkdayCalendar", "add_months"]

_BUILTIN_HOLIDAYS: frozenset[date] = frozenset(_cc.holidays)
_BUILTIN_WORKDAYS: frozenset[date] = frozenset(_cc.workdays)
_BUILTIN_YEARS = (min(d.year for d in _BUILTIN_HOLIDAYS), max(d.year for d in _BUILTIN_HOLIDAYS))


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, _cal.monthrange(y, m)[1]))


def _dates(items: list[str], where: str) -> set[date]:
    out: set[date] = set()
    for item in items:
        try:
            if ".." in str(item):
                a, b = (date.fromisoformat(x.strip()) for x in str(item).split(".."))
                out.update(a + timedelta(days=i) for i in range((b - a).days + 1))
            else:
                out.add(item if isinstance(item, date) else date.fromisoformat(str(item).strip()))
        except ValueError as e:
            raise SkillcertError(
                f"节假日文件 {where} 中的日期 {item!r} 无效", f"invalid date {item!r} in holiday file {where}"
            ) from e
    return out


@dataclass(frozen=True, slots=True)
class WorkdayCalendar:
    """Working days in China. ``extra_years`` maps a year to (holidays, working weekend days)."""

    extra_years: Mapping[int, tuple[frozenset[date], frozenset[date]]] = field(default_factory=dict)

    @classmethod
    def with_file(cls, path: Path | None) -> WorkdayCalendar:
        """The built-in calendar plus the years in a holiday TOML file (if given)."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise SkillcertError(f"无法读取节假日文件 {path}：{e}", f"cannot read holiday file {path}: {e}") from e
        return cls().with_tables(data, str(path))

    def with_tables(self, tables: Mapping[str, object], where: str) -> WorkdayCalendar:
        """This calendar with the official schedules in ``tables`` (``{"2027": {"holidays": [...],
        "workdays": [...]}}``) added; a year given here replaces the same year given before."""
        years = dict(self.extra_years)
        for key, table in tables.items():
            if not isinstance(table, Mapping) or not key.isdigit() or len(key) != 4:
                raise SkillcertError(
                    f"{where}：{key!r} 应为年份表，如 [2027] 或 [calendar.2027]",
                    f"{where}: {key!r} should be a year's table, such as [2027] or [calendar.2027]",
                )
            year = int(key)
            hol = _dates(list(table.get("holidays", [])), where)
            work = _dates(list(table.get("workdays", [])), where)
            if any(d.year != year for d in hol | work):
                raise SkillcertError(
                    f"节假日文件 {where} 的 [{year}] 中有其他年份的日期",
                    f"holiday file {where}: [{year}] lists dates of another year",
                )
            years[year] = (frozenset(hol), frozenset(work))
        return WorkdayCalendar(years)

    @property
    def covered(self) -> tuple[int, int]:
        """The years with an official schedule (built in or given), first and last."""
        last = max([_BUILTIN_YEARS[1], *self.extra_years])
        return _BUILTIN_YEARS[0], last

    def covers(self, year: int) -> bool:
        """Has ``year`` an official schedule (from the package or the settings)?"""
        return year in self.extra_years or _BUILTIN_YEARS[0] <= year <= _BUILTIN_YEARS[1]

    def is_provisional(self, year: int) -> bool:
        """Is ``year`` computed from the statute alone (no official schedule yet)?"""
        first = max(_BUILTIN_YEARS[1] + 1, _FIRST_STATUTORY)  # the 2024 rules apply from 2025 on
        return not self.covers(year) and first <= year <= _LAST_STATUTORY

    def provisional_between(self, start: date, end: date) -> tuple[int, ...]:
        """The provisional years among the days in ``(start, end]`` (a deadline counted from
        ``start`` to ``end`` is provisional if this is not empty)."""
        first, last = sorted((start, end))
        return tuple(y for y in range((first + timedelta(days=1)).year, last.year + 1) if self.is_provisional(y))

    def is_workday(self, d: date) -> bool:
        if d.year in self.extra_years:
            hol, work = self.extra_years[d.year]
            if d in work:
                return True
            return d.weekday() < 5 and d not in hol
        if self.is_provisional(d.year):
            return d.weekday() < 5 and d not in statutory_holidays(d.year)
        if not _BUILTIN_YEARS[0] <= d.year <= _BUILTIN_YEARS[1]:
            raise CalendarNotCovered(d.year, self.covered)
        if d in _BUILTIN_WORKDAYS:
            return True
        return d.weekday() < 5 and d not in _BUILTIN_HOLIDAYS

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (a deadline "within n working days")."""
        d, left = start, n
        while left > 0:
            d += timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative if ``end`` is before ``start``."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=i)))
