"""One error base for the whole toolkit, with bilingual diagnostics.

Every error a user can cause carries a Chinese and an English sentence and, where it
applies, the field and the row it is about. The library never exits. :class:`ExitCode` is the
one table of exit codes (number, name, meaning): each error class names its member, and the CLI
turns errors and outcomes into exits in one place (``skillcert/cli/_runtime.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "CalendarNotCovered",
    "ExitCode",
    "ImportRejected",
    "InvalidIdNumber",
    "InvalidNumber",
    "NotFound",
    "Problem",
    "RegistryError",
    "RuleViolation",
    "SkillcertError",
]


class ExitCode(IntEnum):
    """Every exit code of the ``skillcert`` command, with its meaning in both languages: the one
    table (the README's list of exit codes is checked against it)."""

    zh: str
    en: str

    def __new__(cls, value: int, zh: str, en: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.zh, member.en = zh, en
        return member

    OK = 0, "成功", "success"
    ERROR = 1, "错误", "error"
    USAGE = 2, "用法错误", "usage"
    INVALID_INPUT = 3, "编号或证件号码无效", "invalid number or ID"
    RULE_VIOLATION = 4, "违反规则", "rule violation"
    NOT_FOUND = 5, "未找到", "not found"
    REGISTRY_UNAVAILABLE = 6, "登记库不可用", "registry unavailable"
    IMPORT_REJECTED = 7, "导入被拒绝，未写入", "import rejected (nothing written)"
    CALENDAR_NOT_COVERED = 8, "工作日历未覆盖该年", "calendar does not cover a year"
    RENDER_FAILED = 9, "无法生成证书（如字体缺字）", "rendering failed (e.g. a character no font has)"
    SEAL_FAILED = 10, "无法签章（issue：编号前即拒绝）", "sealing failed or refused before numbering"
    INCOMPLETE = 11, "批量中部分未完成，重跑续完", "some of a batch failed; rerun to resume"
    LOCKED = 12, "该机构已有签发在运行", "another issue run holds the institution's lock"
    UNREADABLE_PDF = 13, "无法读取的 PDF", "unreadable PDF"
    AUDIT_FAILED = 14, "审计核验未通过", "audit verification failed"
    RESTORE_REFUSED = (
        15,
        "恢复被拒绝：登记库在用（--force 覆盖）",
        "restore refused: a live register is there (--force)",
    )
    BACKUP_INVALID = (
        16,
        "备份无法解密或已被改动（密钥错误或文件损坏）",
        "backup cannot be decrypted or was altered (wrong key or damaged)",
    )
    SNAPSHOT_REFUSED = (
        17,
        "快照被拒绝：签名或内容不符，或不比当前快照新",
        "snapshot refused: signature or content does not check out, or it is not newer than the current one",
    )
    VERIFY_INVALID = 20, "验证：无效", "verify: invalid"
    VERIFY_NOT_CURRENT = 21, "验证：已吊销、已换发或已暂停", "verify: revoked, replaced or suspended"
    VERIFY_UNKNOWN = 22, "验证：未知", "verify: unknown"
    VERIFY_SEALED_DOCUMENT = 23, "验证：机构盖章文件，非登记证书", "verify: a sealed document, not a certificate"
    VERIFY_AUTHENTIC_OFFLINE = (
        24,
        "验证：离线核验数据真实，是否撤销需联网",
        "verify: authentic offline; whether revoked needs the network",
    )


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

    exit_code: ExitCode = ExitCode.ERROR

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

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, number: str, problems: Sequence[Problem]) -> None:
        super().__init__(
            f"证书编号 {number!r} 不符合编码规则",
            f"certificate number {number!r} does not follow the coding rule",
            problems=problems,
        )
        self.number = number


class InvalidIdNumber(SkillcertError):
    """An ID document number that fails its format or check digit."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, id_type: str, number: str, problems: Sequence[Problem]) -> None:
        super().__init__(
            f"证件号码 {number!r} 不符合证件类型 {id_type} 的规则",
            f"ID number {number!r} is not valid for ID type {id_type}",
            problems=problems,
        )


class RuleViolation(SkillcertError):
    """An action the rules forbid (reusing a retired code, out-of-scope level, ...)."""

    exit_code = ExitCode.RULE_VIOLATION


class DeliveryTaken(RuleViolation):
    """A delivery not recorded because another issue run delivered the certificate's version, or
    took over its claim after this run's lease ran out (the other run's file is the one kept)."""


class NotFound(SkillcertError):
    """A named thing (institution, certificate) is not in the registry."""

    exit_code = ExitCode.NOT_FOUND


class RegistryError(SkillcertError):
    """The registry store cannot be used (missing, newer schema, locked too long)."""

    exit_code = ExitCode.REGISTRY_UNAVAILABLE


class ImportRejected(SkillcertError):
    """A results batch with bad rows: nothing was written."""

    exit_code = ExitCode.IMPORT_REJECTED

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

    exit_code = ExitCode.CALENDAR_NOT_COVERED

    def __init__(self, year: int, covered: tuple[int, int]) -> None:
        super().__init__(
            f"工作日历没有 {year} 年的节假日安排（已有 {covered[0]}-{covered[1]} 年）；"
            "请在设置中补充该年的国务院节假日安排文件",
            f"the working-day calendar has no holiday data for {year} "
            f"(it covers {covered[0]}-{covered[1]}); add that year's State Council "
            "holiday schedule in the settings",
        )
        self.year = year
