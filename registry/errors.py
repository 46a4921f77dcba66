"""One error base for the whole toolkit, with bilingual diagnostics.

Every error a user can cause carries a Chinese and an English sentence and, where it
applies, the field and the row it is about. The library never exits; the CLI maps these
classes to exit codes in one place (``skillcert/cli/_runtime.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CalendarNotCovered",
    "ImportRejected",
    "InvalidIdNumber",
    "InvalidNumber",
    "NotFound",
    "Problem",
    "RegistryError",
    "RuleViolation",
    "SkillcertError",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with one value: where it is and why, in both languages."""

    zh: str
    en: str
    field: str | None = None
    row: int | None = None
    positions: tuple[int, int] | None = None  # 1-based, inclusive (certificate numbers)

    def where(self) -> str:
        parts: list[str] = []
        if self.row is not None:
            parts.append(f"第{self.row}行 row {self.row}")
        if self.field is not None:
            parts.append(f"[{self.field}]")
        if self.positions is not None:
            a, b = self.positions
            parts.append(f"第{a}位" if a == b else f"第{a}-{b}位")
            parts.append(f"pos {a}" if a == b else f"pos {a}-{b}")
        return " ".join(parts)

    def text(self) -> str:
        where = self.where()
        body = f"{self.zh} / {self.en}"
        return f"{where}: {body}" if where else body

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "field": self.field,
            "positions": list(self.positions) if self.positions else None,
            "zh": self.zh,
            "en": self.en,
        }


class SkillcertError(Exception):
    """Base of every error skillcert raises on purpose."""

    exit_code = 1

    def __init__(self, zh: str, en: str, *, problems: Iterable[Problem] = ()) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.problems: tuple[Problem, ...] = tuple(problems)

    def diagnostics(self) -> str:
        """The message a person reads: Chinese first, English second, then each problem."""
        lines = [f"错误：{self.zh}", f"Error: {self.en}"]
        lines.extend(f"  - {p.text()}" for p in self.problems)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "zh": self.zh,
            "en": self.en,
            "problems": [p.as_dict() for p in self.problems],
        }


class InvalidNumber(SkillcertError):
    """A certificate number that breaks the coding rule."""

    exit_code = 3

    def __init__(self, number: str, problems: Sequence[Problem]) -> None:
        super().__init__(
            f"证书编号 {number!r} 不符合编码规则",
            f"certificate number {number!r} does not follow the coding rule",
            problems=problems,
        )
        self.number = number


class InvalidIdNumber(SkillcertError):
    """An ID document number that fails its format or check digit."""

    exit_code = 3

    def __init__(self, id_type: str, number: str, problems: Sequence[Problem]) -> None:
        super().__init__(
            f"证件号码 {number!r} 不符合证件类型 {id_type} 的规则",
            f"ID number {number!r} is not valid for ID type {id_type}",
            problems=problems,
        )


class RuleViolation(SkillcertError):
    """An action the rules forbid (reusing a retired code, out-of-scope level, ...)."""

    exit_code = 4


class NotFound(SkillcertError):
    """A named thing (institution, certificate) is not in the registry."""

    exit_code = 5


class RegistryError(SkillcertError):
    """The registry store cannot be used (missing, newer schema, locked too long)."""

    exit_code = 6


class ImportRejected(SkillcertError):
    """A results batch with bad rows: nothing was written."""

    exit_code = 7

    def __init__(self, source: str, problems: Sequence[Problem], *, rows: int) -> None:
        bad_rows = len({p.row for p in problems})
        super().__init__(
            f"{source}：{rows} 行中有 {bad_rows} 行有误，未写入任何数据",
            f"{source}: {bad_rows} of {rows} rows are wrong; nothing was written",
            problems=problems,
        )
        self.rows = rows


class CalendarNotCovered(SkillcertError):
    """The working-day calendar has no holiday data for a year."""

    exit_code = 8

    def __init__(self, year: int, covered: tuple[int, int]) -> None:
        super().__init__(
            f"工作日历没有 {year} 年的节假日安排（已有 {covered[0]}-{covered[1]} 年）；"
            "请在设置中补充该年的国务院节假日安排文件",
            f"the working-day calendar has no holiday data for {year} "
            f"(it covers {covered[0]}-{covered[1]}); add that year's State Council "
            "holiday schedule in the settings",
        )
        self.year = year
