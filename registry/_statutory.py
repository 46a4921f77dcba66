"""Statutory public holidays of a year, computed before the State Council publishes its schedule.

《全国年节及纪念日放假办法》 as amended in 2024 (in force from 2025), 第二条 — holidays for
all citizens: New Year's Day 1 day (1 January); Spring Festival 4 days (除夕 to 初三, lunar);
Qingming 1 day (the solar term's day); Labour Day 2 days (1-2 May); Dragon Boat 1 day (lunar
5/5); Mid-Autumn 1 day (lunar 8/15); National Day 3 days (1-3 October). 第六条: a holiday for
all citizens that falls on a Saturday or Sunday is made up on a working day (补假) — here the
next weekdays that are not holidays themselves.

What cannot be computed: the makeup working days (调休, weekend days worked to join holidays
into a longer break) are decided each year by the State Council's notice, so a provisional
schedule has none. Lunar dates and the solar term come from ``tyme4py`` (MIT, pure Python,
astronomical, offline).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarDay, SolarTerm

__all__ = ["FIRST_YEAR", "LAST_YEAR", "statutory_holidays"]

FIRST_YEAR = 2025  # the 2024 amendment's rules apply from 2025 on
LAST_YEAR = 2199  # far enough; a bound keeps a mistyped year from computing for ever


def _solar(d: SolarDay) -> date:
    return date(d.get_year(), d.get_month(), d.get_day())


def _lunar(year: int, month: int, day: int) -> date:
    return _solar(LunarDay.from_ymd(year, month, day).get_solar_day())


@functools.lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[date]:
    """Every day off in ``year`` by the statute alone: the holidays plus their 补假 days.

    The lunar new year falls between 21 January and 20 February, so 除夕 and its 补假 days are
    always in the same solar year.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"no statutory holiday rules for {year}")
    spring = _lunar(year, 1, 1)
    days = {spring + timedelta(days=i) for i in range(-1, 3)}  # 除夕, 初一, 初二, 初三
    days.add(date(year, 1, 1))
    qingming = SolarTerm.from_name(year, "清明").get_julian_day().get_solar_day()
    days.add(_solar(qingming))
    days.update({date(year, 5, 1), date(year, 5, 2)})
    days.add(_lunar(year, 5, 5))
    days.add(_lunar(year, 8, 15))
    days.update(date(year, 10, d) for d in (1, 2, 3))
    holidays = frozenset(days)
    # 第六条: each holiday on a weekend is made up on the next weekday that is not a holiday
    made_up: set[date] = set()
    for d in sorted(holidays):
        if d.weekday() >= 5:
            m = d + timedelta(days=1)
            while m.weekday() >= 5 or m in holidays or m in made_up:
                m += timedelta(days=1)
            made_up.add(m)
    return holidays | made_up
