from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import check_id, parse_id
from registry.errors import InvalidIdNumber
from registry.ids import id_check_char, id_type_from_text


def test_spec_example_is_valid() -> None:
    doc = parse_id("201", "11010519491231002X")
    assert doc.birth_date == date(1949, 12, 31) and doc.type.zh == "居民身份证"


def test_lower_case_x_and_full_width_are_normalised() -> None:
    assert parse_id("居民身份证", "１１０１０５１９４９１２３１００２x").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "word"),
    [
        ("110105194912310021", "check character"),
        ("110105194902300028", "birth date"),
        ("990105194912310025", "province"),
        ("1101051949123100", "17 digits"),
    ],
)
def test_resident_id_rejections(number: str, word: str) -> None:
    with pytest.raises(InvalidIdNumber) as e:
        parse_id("201", number)
    assert any(word in p.en for p in e.value.problems), e.value.diagnostics()


def test_future_birth_date_refused_with_today() -> None:
    body = "11010520300101001"
    assert check_id("201", body + id_check_char(body), today=date(2026, 1, 1))[0] is None


@pytest.mark.parametrize(
    ("t", "n", "ok"),
    [
        ("227", "E12345678", True),
        ("227", "X1234567", False),
        ("210", "H12345678", True),
        ("210", "K12345678", False),
        ("213", "12345678", True),
        ("213", "1234567", False),
        ("208", "C01X00T47", True),
        ("208", "AB", False),
        ("238", "830000" + "19900101001" + id_check_char("83000019900101001"), True),
        ("237", "110105194912310021", False),
        ("233", "USA123456789012", True),
        ("241", "ABC123456", True),
        ("299", "", False),
        ("999", "whatever", False),
    ],
)
def test_other_types(t: str, n: str, ok: bool) -> None:
    assert (check_id(t, n)[0] is not None) == ok


def test_type_names() -> None:
    assert id_type_from_text("外国护照").code == "208"  # type: ignore[union-attr]
    assert id_type_from_text("Foreign Passport").code == "208"  # type: ignore[union-attr]
    assert id_type_from_text("nope") is None


ids17 = st.builds(
    lambda p, d, s: f"{p}{d:%Y%m%d}{s:03d}",
    st.sampled_from(["110105", "440106", "650102", "320102"]),
    st.dates(date(1920, 1, 1), date(2010, 12, 31)),
    st.integers(0, 999),
)


@given(ids17)
def test_check_digit_accepts_exactly_the_right_character(first17: str) -> None:
    right = id_check_char(first17)
    assert check_id("201", first17 + right)[0] is not None
    for wrong in "0123456789X":
        if wrong != right:
            assert check_id("201", first17 + wrong)[0] is None


@given(ids17, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(first17: str, pos: int, delta: int) -> None:
    good = first17 + id_check_char(first17)
    digits = list(good)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    assert check_id("201", "".join(digits))[0] is None
