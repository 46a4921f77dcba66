from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import check_number, format_number, parse_number
from registry.errors import InvalidNumber
from registry.numbers import normalise_number, parse_institution_code
from registry.tables import BEIJING_DISTRICTS, GUANGDONG_CITIES, UNIT_CATEGORIES, Variant


def test_worked_example_1_employer_ministry_xicheng() -> None:
    n = parse_number("Y000111020001225000001")
    d = n.describe()
    assert (d["category"], d["authority_code"], d["region"], d["institution_serial"]) == ("Y", "0001", "1102", "0001")
    assert d["district"] == "西城区" and d["unit_category_zh"] == "央企在京子公司、分公司"
    assert (n.year, n.level, n.serial) == (2022, 5, 1)
    assert n.institution.ministry_filed and n.institution.variant is Variant.BEIJING


def test_worked_example_2_social_org_beijing_haidian() -> None:
    n = parse_number("S000011082003225000001")
    d = n.describe()
    assert d["category_zh"] == "社会培训评价组织" and d["authority_code"] == "0000"
    assert d["district"] == "海淀区" and d["unit_category_zh"] == "辖区用人单位"
    assert (n.year, n.level, n.serial) == (2022, 5, 1) and not n.institution.ministry_filed


@pytest.mark.parametrize(
    ("number", "positions", "word"),
    [
        ("S000011032003225000001", (8, 9), "district"),  # 03 is no Beijing district
        ("S000011082003226000001", (16, 16), "level"),  # level 6
        ("S000011087003225000001", (10, 13), "unit-category"),  # 7003 in no range
        ("X000011082003225000001", (1, 1), "category"),
        ("S000011082003225000000", (17, 22), "serial"),
        ("S000011082003185000001", (14, 15), "before"),  # 2018 predates the rule
    ],
)
def test_rejections_name_positions_in_both_languages(number: str, positions: tuple[int, int], word: str) -> None:
    parsed, problems = check_number(number)
    assert parsed is None
    assert [p.positions for p in problems] == [positions]
    assert word in problems[0].en and any("\u4e00" <= c <= "\u9fff" for c in problems[0].zh)


@pytest.mark.parametrize("number", ["S00001108200322500001", "S0000110820032250000011", ""])
def test_wrong_length(number: str) -> None:
    with pytest.raises(InvalidNumber) as e:
        parse_number(number)
    assert "22" in e.value.problems[0].zh and "22" in e.value.problems[0].en


def test_future_year_only_with_today() -> None:
    assert check_number("S000011082003305000001")[0] is not None
    assert check_number("S000011082003305000001", today=date(2026, 1, 1))[1][0].positions == (14, 15)


def test_guangdong_variant() -> None:
    n = parse_number("S000044012001235000123")
    assert n.institution.variant is Variant.GUANGDONG and n.institution.describe()["city"] == "广州市"
    _, problems = check_number("S000044102001235000123")  # city 10 does not exist
    assert [p.positions for p in problems] == [(8, 9)]
    _, problems = check_number("Y000044012001235000123", variant=Variant.GUANGDONG)
    assert (1, 1) in [p.positions for p in problems]


def test_national_variant_checks_province() -> None:
    assert parse_number("S000132010001235000001").institution.variant is Variant.NATIONAL
    _, problems = check_number("S000199010001235000001")
    assert [p.positions for p in problems] == [(6, 7)]


def test_institution_code_and_normalisation() -> None:
    assert str(parse_institution_code("S000011082003")) == "S000011082003"
    with pytest.raises(InvalidNumber):
        parse_institution_code("S00001108200")
    assert normalise_number(" ｓ０００ 011082003225000001 ") == "S000011082003225000001"


def _codes() -> st.SearchStrategy[str]:
    beijing = st.builds(
        lambda c, a, d, u: f"{c}{a}11{d}{u:04d}",
        st.sampled_from("YS"),
        st.sampled_from(["0000", "0001", "0420", "9999"]),
        st.sampled_from(sorted(BEIJING_DISTRICTS)),
        st.sampled_from(UNIT_CATEGORIES).flatmap(lambda u: st.integers(u.low, u.high)),
    )
    guangdong = st.builds(
        lambda c, s: f"S000044{c}2{s:03d}", st.sampled_from(sorted(GUANGDONG_CITIES)), st.integers(0, 999)
    )
    return st.one_of(beijing, guangdong)


@given(code=_codes(), year=st.integers(2019, 2099), level=st.integers(1, 5), serial=st.integers(1, 999_999))
def test_format_parse_round_trip(code: str, year: int, level: int, serial: int) -> None:
    text = format_number(code, year, level, serial)
    assert len(text) == 22
    n = parse_number(text)
    assert (str(n.institution), n.year, n.level, n.serial) == (code, year, level, serial)
    assert str(n) == text


@given(st.text(max_size=30))
def test_check_never_crashes(text: str) -> None:
    parsed, problems = check_number(text)
    assert (parsed is None) == bool(problems)
