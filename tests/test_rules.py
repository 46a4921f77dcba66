"""Code tables, field rules, forbidden words, working days and deadlines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from registry import LEVELS, Variant, WorkdayCalendar
from registry.deadlines import deadlines_for
from registry.errors import CalendarNotCovered, SkillcertError
from registry.fields import clean_value, find_forbidden_words, job_text, wrap_units
from registry.tables import level_from_text
from registry.workdays import add_months


def test_levels_print_as_rule_says() -> None:
    assert [LEVELS[i].zh for i in range(1, 6)] == [
        "一级/高级技师",
        "二级/技师",
        "三级/高级工",
        "四级/中级工",
        "五级/初级工",
    ]
    for text, code in [("5", 5), ("五级", 5), ("初级工", 5), ("一级／高级技师", 1), ("Level 3", 3), ("六级", None)]:
        assert level_from_text(text) == code


def test_no_job_dash_by_variant() -> None:
    assert job_text("", Variant.BEIJING) == "——"
    assert job_text("", Variant.GUANGDONG) == "--" and job_text("", Variant.NATIONAL) == "--"
    assert job_text("电焊工", Variant.BEIJING) == "电焊工"


def test_forbidden_words() -> None:
    assert find_forbidden_words("中华人民共和国职业资格证书", Variant.BEIJING) == ("中华人民共和国", "职业资格")
    assert find_forbidden_words("广东省技能证书", Variant.GUANGDONG) == ("广东省",)
    assert find_forbidden_words("广东省技能证书", Variant.BEIJING) == ()
    assert find_forbidden_words("职业技能等级证书", Variant.BEIJING) == ()


def test_clean_value_refuses_empty_and_control_characters() -> None:
    assert clean_value("  张  三 ", "name") == ("张 三", [])
    assert clean_value("", "name")[1][0].en == "must not be empty"
    assert "U+0007" in clean_value("张\x07三", "name")[1][0].en


def test_wrap_two_lines_at_most() -> None:
    assert wrap_units("王𠇔", 28) == ("王𠇔",)
    long = "阿卜杜热合曼·买买提依明·艾合买提"
    lines = wrap_units(long, 28)
    assert lines is not None and len(lines) == 2 and "".join(lines) == long
    assert wrap_units("NGUYEN VAN AN", 8) == ("NGUYEN", "VAN AN")
    assert wrap_units("字" * 29, 28) is None


def test_holidays_and_swapped_weekends() -> None:
    cal = WorkdayCalendar()
    assert not cal.is_workday(date(2024, 10, 1))  # National Day
    assert cal.is_workday(date(2024, 10, 12))  # Saturday made a working day
    assert not cal.is_workday(date(2024, 10, 13))  # an ordinary Sunday
    assert cal.add_workdays(date(2024, 9, 27), 1) == date(2024, 9, 29)  # swapped Sunday
    assert cal.workdays_between(date(2024, 9, 30), date(2024, 10, 8)) == 1


def test_uncovered_year_fails_clearly_unless_a_file_adds_it(tmp_path: Path) -> None:
    cal = WorkdayCalendar()
    first, last = cal.covered
    with pytest.raises(CalendarNotCovered) as e:  # before the package: no rules to count on
        cal.is_workday(date(first - 1, 3, 1))
    assert str(first - 1) in e.value.zh and str(first - 1) in e.value.en
    assert cal.is_provisional(last + 1)  # after it: provisional (tests/test_calendar_provisional.py)
    f = tmp_path / "h.toml"
    f.write_text(
        f'[{last + 1}]\nholidays = ["{last + 1}-01-01", "{last + 1}-02-05..{last + 1}-02-11"]\n'
        f'workdays = ["{last + 1}-02-14"]\n'
    )
    extra = WorkdayCalendar.with_file(f)
    assert not extra.is_workday(date(last + 1, 2, 8)) and not extra.is_workday(date(last + 1, 1, 1))
    assert extra.covers(last + 1) and extra.covered[1] == last + 1 and not extra.is_provisional(last + 1)
    f.write_text('[2030]\nholidays = ["2031-01-01"]\n')
    with pytest.raises(SkillcertError):
        WorkdayCalendar.with_file(f)


def test_deadlines_by_variant() -> None:
    cal = WorkdayCalendar()
    bj = deadlines_for(date(2024, 9, 20), Variant.BEIJING, cal)
    assert bj.report_by == date(2024, 11, 6)  # 30 working days: incl. swapped Sun 29 Sep and Sat 12 Oct
    assert bj.cutoff == date(2025, 2, 20)  # 5 months
    gd = deadlines_for(date(2024, 9, 20), Variant.GUANGDONG, cal)
    assert gd.report_by == date(2024, 10, 20) and gd.cutoff == date(2025, 3, 20)
    assert bj.status(date(2024, 11, 6), None) == "due" and bj.status(date(2024, 11, 7), None) == "overdue"
    assert (
        bj.status(date(2025, 2, 21), None) == "past_cutoff"
        and bj.status(date(2025, 3, 1), date(2024, 10, 1)) == "reported"
    )
    late = deadlines_for(date(cal.covered[1], 12, 20), Variant.NATIONAL, cal)
    assert late.report_by is not None and late.report_by.year == cal.covered[1] + 1
    assert late.provisional and late.provisional_years == (cal.covered[1] + 1,) and late.calendar_gap is None
    assert not bj.provisional and not gd.provisional
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
