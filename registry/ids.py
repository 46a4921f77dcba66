"""ID documents (证件): the type table and number checks.

居民身份证 numbers follow GB 11643: 6-digit region, 8-digit birth date, 3-digit sequence
and an ISO 7064 MOD 11-2 check character. The residence permits for Hong Kong, Macao
(``810000``/``820000``) and Taiwan (``830000``) residents and the 2023 foreign permanent
resident card (starting with ``9``) use the same structure. Other types get format checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .errors import InvalidIdNumber, Problem
from .tables import ID_TYPES, PROVINCES, IdType

__all__ = [
    "IdCardCheck",
    "IdDocument",
    "check_id",
    "id_check_char",
    "id_type_from_text",
    "normalise_id_number",
    "parse_id",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FIELD = "证件号码 ID number"


def id_check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id_number(text: str) -> str:
    """Full-width to half-width, spaces removed, upper case (``x`` → ``X``)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def id_type_from_text(text: str) -> IdType | None:
    """Accept the code (``201``), the Chinese or English name of the type, or both (``201 居民身份证``,
    as the template's drop-down list writes it)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t in ID_TYPES:
        return ID_TYPES[t]
    head, _, rest = t.partition(" ")
    if head in ID_TYPES and rest.strip() in (ID_TYPES[head].zh, ID_TYPES[head].en):
        return ID_TYPES[head]
    for it in ID_TYPES.values():
        if t in (it.zh, it.en) or t.lower() == it.en.lower():
            return it
    aliases = {"身份证": "201", "护照": "208", "passport": "208", "id card": "201"}
    code = aliases.get(t.lower())
    return ID_TYPES[code] if code else None


@dataclass(frozen=True, slots=True)
class IdDocument:
    type: IdType
    number: str
    birth_date: date | None = None

    def describe(self) -> dict[str, object]:
        return {
            "type": self.type.code,
            "type_zh": self.type.zh,
            "type_en": self.type.en,
            "number": self.number,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


def _p(zh: str, en: str) -> Problem:
    return Problem(zh=zh, en=en, field=_FIELD)


def _check_gb11643(n: str, today: date | None, prefixes: tuple[str, ...] | None) -> tuple[date | None, list[Problem]]:
    if not re.fullmatch(r"[0-9]{17}[0-9X]", n):
        return None, [
            _p(
                f"应为 17 位数字加 1 位校验码（数字或 X），实为 {len(n)} 位 {n!r}",
                f"must be 17 digits and a check character (digit or X), got {len(n)} characters {n!r}",
            )
        ]
    problems: list[Problem] = []
    if prefixes is not None:
        if not n.startswith(prefixes):
            problems.append(_p(f"应以 {'/'.join(prefixes)} 开头", f"must start with {'/'.join(prefixes)}"))
    elif n[:2] not in PROVINCES or n[:2] in ("71", "81", "82"):
        problems.append(
            _p(
                f"前 2 位 {n[:2]} 不是内地省级行政区划代码",
                f"the first 2 digits {n[:2]} are not a mainland province code",
            )
        )
    birth: date | None = None
    try:
        birth = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        problems.append(
            _p(
                f"第 7-14 位出生日期 {n[6:14]} 不是有效日期",
                f"digits 7-14, the birth date {n[6:14]}, are not a valid date",
            )
        )
    else:
        if birth.year < 1900 or (today is not None and birth > today):
            problems.append(
                _p(f"出生日期 {birth.isoformat()} 不合理", f"birth date {birth.isoformat()} is implausible")
            )
    expected = id_check_char(n[:17])
    if n[17] != expected:
        problems.append(
            _p(
                f"校验码应为 {expected}，实为 {n[17]}（GB 11643 MOD 11-2）",
                f"check character should be {expected}, got {n[17]} (GB 11643 MOD 11-2)",
            )
        )
    return birth, problems


_FORMATS: dict[str, tuple[str, str, str]] = {
    # code: (regex, zh description, en description)
    "227": (
        r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|[GDSP][0-9]{8}",
        "E+8 位数字、E+字母+7 位数字或 G/D/S/P+8 位数字",
        "E + 8 digits, E + letter + 7 digits, or G/D/S/P + 8 digits",
    ),
    "210": (r"[HM][0-9]{8}([0-9]{2})?", "H 或 M 加 8 位（旧版 10 位）数字", "H or M followed by 8 (old: 10) digits"),
    "213": (r"[0-9]{8}|[0-9]{10}", "8 位（旧版 10 位）数字", "8 (old: 10) digits"),
    "208": (r"[A-Z0-9]{5,17}", "5-17 位字母或数字", "5-17 letters or digits"),
    "239": (r"[A-Z0-9]{6,20}", "6-20 位字母或数字", "6-20 letters or digits"),
    "240": (r"[A-Z0-9]{6,20}", "6-20 位字母或数字", "6-20 letters or digits"),
    "241": (r"[A-Z0-9]{6,20}", "6-20 位字母或数字", "6-20 letters or digits"),
    "299": (r"[A-Z0-9()\-]{2,30}", "2-30 位字母、数字或括号连字符", "2-30 letters, digits, brackets or hyphens"),
}


def check_id(id_type: str, number: str, *, today: date | None = None) -> tuple[IdDocument | None, tuple[Problem, ...]]:
    """Check an ID number against its type; return the document or every problem."""
    it = id_type_from_text(id_type)
    if it is None:
        return None, (
            Problem(
                zh=f"未知证件类型 {id_type!r}（应为 201、227、210、237、213、238、208、233、239-241、299 之一）",
                en=f"unknown ID type {id_type!r} (use one of 201, 227, 210, 237, 213, 238, 208, 233, 239-241, 299)",
                field="证件类型 ID type",
            ),
        )
    n = normalise_id_number(number)
    if not n:
        return None, (_p("证件号码不能为空", "the ID number is empty"),)
    birth: date | None = None
    problems: list[Problem]
    if it.code == "201":
        birth, problems = _check_gb11643(n, today, None)
    elif it.code == "237":
        birth, problems = _check_gb11643(n, today, ("810000", "820000"))
    elif it.code == "238":
        birth, problems = _check_gb11643(n, today, ("830000",))
    elif it.code == "233":
        if re.fullmatch(r"[A-Z]{3}[0-9]{12}", n):
            problems = []
        elif n.startswith("9"):
            birth, problems = _check_gb11643(n, today, ("9",))
        else:
            problems = [
                _p(
                    "应为 3 位字母加 12 位数字（旧版）或以 9 开头的 18 位号码（2023 版）",
                    "must be 3 letters + 12 digits (old card) or 18 characters starting with 9 (2023 card)",
                )
            ]
    else:
        rx, zh, en = _FORMATS[it.code]
        problems = (
            []
            if re.fullmatch(rx, n)
            else [_p(f"{it.zh}号码应为{zh}，实为 {n!r}", f"a {it.en} number is {en}, got {n!r}")]
        )
    if problems:
        return None, tuple(problems)
    return IdDocument(it, n, birth), ()


_PLAIN_ID = re.compile(r"[0-9]{17}[0-9X]")


class IdCardCheck:
    """:func:`check_id` of a 居民身份证 (201) number for a whole batch, answering only "sound as
    written": True when ``check_id("201", n, today=today)`` gives ``n`` itself and no problem, else
    False (then ask :func:`check_id` for the document or the problems). Its three parts' shares of
    the MOD 11-2 sum — region (with its province check), birth date (with its plausibility) and
    sequence — are worked out once per distinct value, so a row costs three look-ups."""

    def __init__(self, today: date | None) -> None:
        self.today = today
        self._region: dict[str, int | None] = {}
        self._birth: dict[str, int | None] = {}
        self._seq: dict[str, int] = {}

    def sound(self, n: str) -> bool:
        if len(n) != 18 or _PLAIN_ID.fullmatch(n) is None:
            return False
        region = self._region.get(n[:6], -1)
        if region == -1:
            ok = n[:2] in PROVINCES and n[:2] not in ("71", "81", "82")
            region = self._region[n[:6]] = _share(n[:6], 0) if ok else None
        birth = self._birth.get(n[6:14], -1)
        if birth == -1:
            birth = self._birth[n[6:14]] = self._birth_share(n[6:14])
        seq = self._seq.get(n[14:17])
        if seq is None:
            seq = self._seq[n[14:17]] = _share(n[14:17], 14)
        if region is None or birth is None:
            return False
        return n[17] == _CHECK[(region + birth + seq) % 11]

    def _birth_share(self, digits: str) -> int | None:
        try:
            born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return None
        if born.year < 1900 or (self.today is not None and born > self.today):
            return None
        return _share(digits, 6)


def _share(digits: str, start: int) -> int:
    return sum(int(c) * w for c, w in zip(digits, _WEIGHTS[start:], strict=False))


def parse_id(id_type: str, number: str, *, today: date | None = None) -> IdDocument:
    doc, problems = check_id(id_type, number, today=today)
    if doc is None:
        raise InvalidIdNumber(id_type, number, problems)
    return doc
