"""Certificate numbers (证书编号): parse, check and format by the coding rule.

``L IIII PPRR SSSS YY G NNNNNN`` — 1 upper-case letter and 21 digits (SPEC §1, ``000_…``
编码规则, ``001_…`` 第十一条3). Positions 1-13 are the institution's code, assigned by the
authority; 14-22 are assigned by the institution when it issues a certificate.

Every rejection names the positions and says why, in Chinese and English.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from .errors import InvalidNumber, Problem
from .tables import (
    BEIJING_DISTRICTS,
    GUANGDONG_CITIES,
    LEVELS,
    PROVINCES,
    Variant,
    unit_category_for_serial,
)

__all__ = [
    "FIRST_YEAR",
    "CertificateNumber",
    "InstitutionCode",
    "check_number",
    "format_number",
    "normalise_number",
    "parse_institution_code",
    "parse_number",
]

FIRST_YEAR = 2019  # the national coding rule dates from 人社鉴发〔2019〕2号
_CATEGORIES = {"Y": ("用人单位", "employer"), "S": ("社会培训评价组织", "social training/evaluation organisation")}


@dataclass(frozen=True, slots=True)
class InstitutionCode:
    """Positions 1-13: category, authority code, region, institution serial."""

    category: str
    authority: str
    region: str
    serial: str

    def __str__(self) -> str:
        return f"{self.category}{self.authority}{self.region}{self.serial}"

    @property
    def variant(self) -> Variant:
        return _variant_of(str(self))

    @property
    def ministry_filed(self) -> bool:
        """Filed first with the Ministry (codes 0001-9999) rather than the province (0000)."""
        return self.authority != "0000"

    def describe(self) -> dict[str, object]:
        cat_zh, cat_en = _CATEGORIES[self.category]
        v = self.variant
        out: dict[str, object] = {
            "code": str(self),
            "variant": v.value,
            "category": self.category,
            "category_zh": cat_zh,
            "category_en": cat_en,
            "authority_code": self.authority,
            "filed_with_zh": "人力资源和社会保障部" if self.ministry_filed else "省级人力资源和社会保障部门",
            "filed_with_en": "the Ministry" if self.ministry_filed else "the provincial bureau",
            "region": self.region,
            "province": PROVINCES.get(self.region[:2]),
            "institution_serial": self.serial,
        }
        if v is Variant.BEIJING:
            out["district"] = BEIJING_DISTRICTS.get(self.region[2:])
            cat = unit_category_for_serial(int(self.serial))
            out["unit_category_zh"] = cat.zh if cat else None
            out["unit_category_en"] = cat.en if cat else None
        elif v is Variant.GUANGDONG:
            out["city"] = GUANGDONG_CITIES.get(self.region[2:])
        return out


@dataclass(frozen=True, slots=True)
class CertificateNumber:
    institution: InstitutionCode
    year: int  # full year, e.g. 2022
    level: int
    serial: int

    def __str__(self) -> str:
        return f"{self.institution}{self.year % 100:02d}{self.level}{self.serial:06d}"

    def describe(self) -> dict[str, object]:
        lv = LEVELS[self.level]
        return {
            "number": str(self),
            **self.institution.describe(),
            "institution_code": str(self.institution),
            "year": self.year,
            "level": self.level,
            "level_zh": lv.zh,
            "level_en": lv.en,
            "serial": self.serial,
        }


def normalise_number(text: str) -> str:
    """Full-width to half-width, spaces removed, letter upper-cased (for look-ups)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _variant_of(text: str) -> Variant:
    if text[5:7] == "11":
        return Variant.BEIJING
    if text[5:7] == "44" and text[1:5] == "0000" and text[9:10] == "2":
        return Variant.GUANGDONG
    return Variant.NATIONAL


def _p(a: int, b: int, zh: str, en: str) -> Problem:
    return Problem(zh=zh, en=en, positions=(a, b), field="证书编号 number")


def _check_code(text: str, variant: Variant | None) -> list[Problem]:
    """Check positions 1-13 of ``text`` (which may be longer)."""
    problems: list[Problem] = []
    cat, auth, prov, sub, serial = text[0:1], text[1:5], text[5:7], text[7:9], text[9:13]
    if cat not in _CATEGORIES:
        problems.append(
            _p(
                1,
                1,
                f"机构类别代码应为 Y（用人单位）或 S（社会培训评价组织），实为 {cat!r}",
                f"institution category must be Y (employer) or S (social organisation), got {cat!r}",
            )
        )
    if not (auth.isascii() and auth.isdigit() and len(auth) == 4):
        problems.append(
            _p(2, 5, f"机构代码应为 4 位数字，实为 {auth!r}", f"institution code must be 4 digits, got {auth!r}")
        )
    region_ok = prov.isascii() and prov.isdigit() and sub.isascii() and sub.isdigit()
    if not region_ok:
        problems.append(
            _p(6, 9, f"地区代码应为 4 位数字，实为 {prov + sub!r}", f"region code must be 4 digits, got {prov + sub!r}")
        )
    if not (serial.isascii() and serial.isdigit() and len(serial) == 4):
        problems.append(
            _p(
                10,
                13,
                f"机构序列码应为 4 位数字，实为 {serial!r}",
                f"institution serial must be 4 digits, got {serial!r}",
            )
        )
    if problems:
        return problems
    v = variant or _variant_of(text)
    if v is Variant.BEIJING:
        if prov != "11":
            problems.append(_p(6, 7, f"北京市代码应为 11，实为 {prov}", f"Beijing's code is 11, got {prov}"))
        if sub not in BEIJING_DISTRICTS:
            problems.append(
                _p(
                    8,
                    9,
                    f"{sub} 不是北京市行政区划代码（编码规则表4）",
                    f"{sub} is not a Beijing district code (coding rule table 4)",
                )
            )
        if unit_category_for_serial(int(serial)) is None:
            problems.append(
                _p(
                    10,
                    13,
                    f"机构序列码 {serial} 不在任何单位类别范围内（0001-0999、1001-1999 … 6001-6999，编码规则表5）",
                    f"institution serial {serial} is in no unit-category range "
                    "(0001-0999, 1001-1999 … 6001-6999, coding rule table 5)",
                )
            )
    elif v is Variant.GUANGDONG:
        if cat != "S":
            problems.append(
                _p(1, 1, "广东技工院校评价机构类别代码应为 S", "Guangdong technical schools use category S")
            )
        if auth != "0000":
            problems.append(
                _p(
                    2,
                    5,
                    f"广东技工院校机构代码固定为 0000，实为 {auth}",
                    f"Guangdong technical schools use 0000 here, got {auth}",
                )
            )
        if prov != "44":
            problems.append(_p(6, 7, f"广东省代码应为 44，实为 {prov}", f"Guangdong's code is 44, got {prov}"))
        if sub not in GUANGDONG_CITIES:
            problems.append(
                _p(
                    8,
                    9,
                    f"{sub} 不是广东省地市代码（指引表2）",
                    f"{sub} is not a Guangdong city code (guideline table 2)",
                )
            )
        if serial[0] != "2":
            problems.append(
                _p(
                    10,
                    10,
                    f"评价机构（站点）类别代码应为 2，实为 {serial[0]}",
                    f"the site category digit must be 2, got {serial[0]}",
                )
            )
    else:
        if prov not in PROVINCES:
            problems.append(_p(6, 7, f"{prov} 不是省级行政区划代码", f"{prov} is not a province code"))
        if serial == "0000":
            problems.append(_p(10, 13, "机构序列码不能为 0000", "institution serial cannot be 0000"))
    return problems


def parse_institution_code(text: str, *, variant: Variant | None = None) -> InstitutionCode:
    """Parse positions 1-13 (an institution's code)."""
    t = text.strip()
    problems: list[Problem] = []
    if len(t) != 13:
        problems.append(
            Problem(
                zh=f"机构编码应为 13 位（1 位字母 + 12 位数字），实为 {len(t)} 位",
                en=f"an institution code has 13 characters (1 letter + 12 digits), got {len(t)}",
                field="机构编码 institution code",
            )
        )
    else:
        problems.extend(_check_code(t, variant))
    if problems:
        raise InvalidNumber(t, problems)
    return InstitutionCode(t[0], t[1:5], t[5:9], t[9:13])


def check_number(
    text: str, *, variant: Variant | None = None, today: date | None = None
) -> tuple[CertificateNumber | None, tuple[Problem, ...]]:
    """Check a certificate number; return the parsed number or every problem found."""
    t = text.strip()
    problems: list[Problem] = []
    if len(t) != 22:
        problems.append(
            Problem(
                zh=f"证书编号应为 22 位（1 位大写字母 + 21 位数字），实为 {len(t)} 位",
                en=f"a certificate number has 22 characters (1 upper-case letter + 21 digits), got {len(t)}",
                field="证书编号 number",
            )
        )
        if t[:1] and t[:1] not in _CATEGORIES:
            problems.append(
                _p(1, 1, f"第 1 位应为 Y 或 S，实为 {t[:1]!r}", f"position 1 must be Y or S, got {t[:1]!r}")
            )
        bad = [i + 2 for i, c in enumerate(t[1:]) if not (c.isascii() and c.isdigit())]
        if bad:
            problems.append(_p(bad[0], bad[-1], "第 2 位起应全为数字", "positions 2 onwards must all be digits"))
        return None, tuple(problems)
    problems.extend(_check_code(t, variant))
    year, lv, serial = t[13:15], t[15:16], t[16:22]
    if not (year.isascii() and year.isdigit()):
        problems.append(
            _p(14, 15, f"核发年份代码应为 2 位数字，实为 {year!r}", f"issue year must be 2 digits, got {year!r}")
        )
    else:
        full = 2000 + int(year)
        if full < FIRST_YEAR:
            problems.append(
                _p(
                    14,
                    15,
                    f"核发年份 {full} 早于编码规则施行（{FIRST_YEAR}）",
                    f"issue year {full} is before the coding rule ({FIRST_YEAR})",
                )
            )
        elif today is not None and full > today.year:
            problems.append(_p(14, 15, f"核发年份 {full} 在未来", f"issue year {full} is in the future"))
    if not (lv.isascii() and lv.isdigit() and int(lv) in LEVELS):
        problems.append(_p(16, 16, f"职业技能等级代码应为 1-5，实为 {lv!r}", f"skill level must be 1-5, got {lv!r}"))
    if not (serial.isascii() and serial.isdigit()):
        problems.append(
            _p(
                17,
                22,
                f"证书序列码应为 6 位数字，实为 {serial!r}",
                f"certificate serial must be 6 digits, got {serial!r}",
            )
        )
    elif serial == "000000":
        problems.append(_p(17, 22, "证书序列码从 000001 开始", "certificate serials start at 000001"))
    if problems:
        return None, tuple(problems)
    code = InstitutionCode(t[0], t[1:5], t[5:9], t[9:13])
    return CertificateNumber(code, 2000 + int(year), int(lv), int(serial)), ()


def parse_number(text: str, *, variant: Variant | None = None, today: date | None = None) -> CertificateNumber:
    """Parse a certificate number or raise :class:`InvalidNumber` listing every problem."""
    number, problems = check_number(text, variant=variant, today=today)
    if number is None:
        raise InvalidNumber(text.strip(), problems)
    return number


def format_number(institution: InstitutionCode | str, year: int, level: int, serial: int) -> str:
    """Build the number a new certificate gets; the result is checked by :func:`parse_number`."""
    code = institution if isinstance(institution, InstitutionCode) else parse_institution_code(institution)
    if not 1 <= serial <= 999_999:
        raise InvalidNumber(
            f"{code}…",
            [_p(17, 22, f"证书序列码 {serial} 超出 000001-999999", f"serial {serial} is outside 000001-999999")],
        )
    text = f"{code}{year % 100:02d}{level}{serial:06d}"
    return str(parse_number(text))
