"""Field rules for what is filled in on a certificate (SPEC §2).

No field may be empty; a missing job prints ``——`` (Beijing) or ``--`` (Guangdong and
generic); values are printed as filed; long values may wrap to two lines and no more;
template text must not use the forbidden words (``000_…`` 第七条, ``001_…`` 第十一条).
"""

from __future__ import annotations

import unicodedata

from .errors import Problem
from .tables import Variant

__all__ = [
    "FIELD_LINE_UNITS",
    "FORBIDDEN_WORDS",
    "NO_JOB_MARKS",
    "clean_value",
    "display_units",
    "find_forbidden_words",
    "is_no_job",
    "job_text",
    "wrap_units",
]

_COMMON_FORBIDDEN = (
    "中华人民共和国",
    "中国",
    "中华",
    "国家",
    "全国",
    "人力资源和社会保障部门",
    "职业技能鉴定中心",
    "中国就业培训技术指导中心",
    "职业资格",
    "资格凭证",
    "就业凭证",
    "录用依据",
)
FORBIDDEN_WORDS: dict[Variant, tuple[str, ...]] = {
    Variant.BEIJING: _COMMON_FORBIDDEN,
    Variant.NATIONAL: _COMMON_FORBIDDEN,
    Variant.GUANGDONG: (*_COMMON_FORBIDDEN, "广东", "广东省", "人员资格"),
}

NO_JOB_MARKS = frozenset({"", "——", "--", "—", "-", "－－", "无", "/", "N/A", "n/a"})

# How many display units (a CJK character is 2, a Latin letter 1) fit on one printed line
# of each field at 12 pt in the reference styles; two lines at most.
FIELD_LINE_UNITS: dict[str, int] = {"name": 28, "occupation": 28, "job": 28, "institution": 56}
MAX_LINES = 2


def display_units(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def find_forbidden_words(text: str, variant: Variant) -> tuple[str, ...]:
    """Forbidden words that occur in template text (an institution's filed name is exempt)."""
    found = [w for w in FORBIDDEN_WORDS[variant] if w in text]
    # report the longest matches only: 中华人民共和国 contains 中华
    return tuple(w for w in found if not any(w != o and w in o for o in found))


def is_no_job(value: str) -> bool:
    return value.strip() in NO_JOB_MARKS


def job_text(job: str, variant: Variant) -> str:
    """What prints in 工种/职业方向: the job, or the variant's dash when there is none."""
    return job if job.strip() else variant.no_job_text


def clean_value(value: str, field: str, *, required: bool = True, row: int | None = None) -> tuple[str, list[Problem]]:
    """NFC-normalise and trim a value; refuse control characters and, if required, emptiness."""
    if value and value.isprintable() and unicodedata.is_normalized("NFC", value):  # the common case
        if value[0] != " " and value[-1] != " " and "  " not in value:
            return value, []
        return " ".join(value.split()), []
    v = " ".join(unicodedata.normalize("NFC", value).split())
    if v and v.isprintable():
        return v, []
    problems: list[Problem] = []
    if required and not v:
        problems.append(Problem(zh="不能为空", en="must not be empty", field=field, row=row))
    bad = sorted({c for c in v if unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs")})
    if bad:
        codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
        problems.append(
            Problem(zh=f"含有不可打印字符 {codes}", en=f"contains unprintable characters {codes}", field=field, row=row)
        )
    return v, problems


def wrap_units(text: str, line_units: int, *, max_lines: int = MAX_LINES) -> tuple[str, ...] | None:
    """Split ``text`` into lines of at most ``line_units``; ``None`` if it needs more lines.

    Latin words are kept whole where they fit; CJK text breaks between any two characters.
    """
    lines: list[str] = []
    cur, cur_u = "", 0
    tokens: list[str] = []
    word = ""
    for c in text:
        if unicodedata.east_asian_width(c) in "WF" or c == " ":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(c)
        else:
            word += c
    if word:
        tokens.append(word)
    for tok in tokens:
        u = display_units(tok)
        if cur_u + u > line_units and cur:
            lines.append(cur.rstrip())
            cur, cur_u = "", 0
            if tok == " ":
                continue
        while u > line_units:  # a single Latin word longer than a line: hard break
            lines.append(tok[:line_units])
            tok = tok[line_units:]
            u = display_units(tok)
        cur += tok
        cur_u += u
    if cur.strip():
        lines.append(cur.rstrip())
    return tuple(lines) if len(lines) <= max_lines else None
