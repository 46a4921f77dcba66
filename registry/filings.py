"""Institution filings (机构备案) read from TOML, checked against the rules.

A filing file looks like ``skillcert/demo/institution-beijing.toml``: code, names, filing
number and date, style, seals and the scope of occupations, jobs and levels (SPEC §6).
"""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

from .errors import InvalidNumber, Problem, RuleViolation
from .fields import clean_value, find_forbidden_words, is_no_job
from .models import Institution, ScopeItem, Seal, Style
from .numbers import parse_institution_code
from .tables import LEVELS, Variant, level_from_text

__all__ = ["institution_from_dict", "institution_from_toml", "institution_to_dict"]

_SEAL_KINDS = ("institution", "issuing", "competition")


def _date(v: Any, field: str, problems: list[Problem], *, required: bool = True) -> date | None:
    if v is None or v == "":
        if required:
            problems.append(Problem(zh="缺少日期", en="date is missing", field=field))
        return None
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        problems.append(Problem(zh=f"日期 {v!r} 应为 YYYY-MM-DD", en=f"date {v!r} must be YYYY-MM-DD", field=field))
        return None


def _text(data: dict[str, Any], key: str, problems: list[Problem], *, required: bool = True) -> str:
    raw = data.get(key, "")
    if not isinstance(raw, str):
        problems.append(Problem(zh="应为文本", en="must be text", field=key))
        return ""
    value, p = clean_value(raw, key, required=required)
    problems.extend(p)
    return value


def institution_from_toml(text: str, *, source: str = "filing") -> Institution:
    """Read and check a filing; raise :class:`RuleViolation` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RuleViolation(f"{source} 不是有效的 TOML：{e}", f"{source} is not valid TOML: {e}") from e
    problems: list[Problem] = []
    code_text = _text(data, "code", problems)
    variant = Variant.NATIONAL
    ministry = False
    try:
        parsed = parse_institution_code(code_text)
        variant, ministry = parsed.variant, parsed.ministry_filed
    except InvalidNumber as e:
        problems.extend(e.problems)
    name_zh = _text(data, "name_zh", problems)
    name_en = _text(data, "name_en", problems)
    default_style = Style.GUANGDONG if variant is Variant.GUANGDONG else (Style.STYLE2 if ministry else Style.STYLE1)
    try:
        style = Style(data.get("style", default_style))
    except ValueError:
        problems.append(
            Problem(
                zh="样式应为 style1、style2 或 guangdong", en="style must be style1, style2 or guangdong", field="style"
            )
        )
        style = default_style
    issuing_zh = _text(data, "issuing_body_zh", problems, required=style is Style.STYLE2)
    issuing_en = _text(data, "issuing_body_en", problems, required=style is Style.STYLE2)

    seals: list[Seal] = []
    for i, s in enumerate(data.get("seals", []), 1):
        f = f"seals[{i}]"
        kind = s.get("kind", "institution")
        if kind not in _SEAL_KINDS:
            problems.append(
                Problem(
                    zh=f"印章类型应为 {'/'.join(_SEAL_KINDS)}", en=f"seal kind must be one of {_SEAL_KINDS}", field=f
                )
            )
        seal_text, p = clean_value(str(s.get("text", "")), f + ".text")
        problems.extend(p)
        bottom, p = clean_value(str(s.get("bottom", "职业技能等级认定专用章")), f + ".bottom", required=False)
        problems.extend(p)
        for w in find_forbidden_words(bottom, variant):
            problems.append(Problem(zh=f"印章文字不得使用“{w}”", en=f"seal text must not use the word {w!r}", field=f))
        activated = _date(s.get("activated_on"), f + ".activated_on", problems)
        e_act = _date(s.get("e_seal_activated_on"), f + ".e_seal_activated_on", problems, required=False)
        seals.append(
            Seal(
                kind=kind, text=seal_text, bottom=bottom, activated_on=activated or date.min, e_seal_activated_on=e_act
            )
        )
    kinds = [s.kind for s in seals]
    if "institution" not in kinds and "competition" not in kinds:
        problems.append(
            Problem(zh="至少需要备案一枚评价机构印章", en="at least one institution seal must be filed", field="seals")
        )
    if style is Style.STYLE2 and "issuing" not in kinds:
        problems.append(
            Problem(
                zh='样式（二）需要发证机构印章（kind = "issuing"）',
                en='style (二) needs an issuing-body seal (kind = "issuing")',
                field="seals",
            )
        )

    scope: list[ScopeItem] = []
    for i, item in enumerate(data.get("scope", []), 1):
        f = f"scope[{i}]"
        occ, p = clean_value(str(item.get("occupation", "")), f + ".occupation")
        problems.extend(p)
        levels: set[int] = set()
        for lv in item.get("levels", []):
            code = lv if isinstance(lv, int) else level_from_text(str(lv))
            if code not in LEVELS:
                problems.append(
                    Problem(zh=f"等级 {lv!r} 应为 1-5", en=f"level {lv!r} must be 1-5", field=f + ".levels")
                )
            else:
                levels.add(code)
        if not levels:
            problems.append(Problem(zh="至少需要一个等级", en="at least one level is needed", field=f + ".levels"))
        jobs = [str(j) for j in item.get("jobs", [])] or [""]
        for j in jobs:
            job = "" if is_no_job(j) else clean_value(j, f + ".jobs")[0]
            scope.append(ScopeItem(occupation=occ, job=job, levels=frozenset(levels)))
    if not scope:
        problems.append(Problem(zh="备案评价范围不能为空", en="the filed scope must not be empty", field="scope"))

    filing_date = _date(data.get("filing_date"), "filing_date", problems)
    filing_number = _text(data, "filing_number", problems)
    if problems:
        raise RuleViolation(
            f"{source} 中的机构备案有误", f"the institution filing in {source} has errors", problems=problems
        )
    return Institution(
        code=code_text,
        name_zh=name_zh,
        name_en=name_en,
        parent_body=_text(data, "parent_body", [], required=False),
        filing_number=filing_number,
        filing_date=filing_date or date.min,
        style=style,
        issuing_body_zh=issuing_zh,
        issuing_body_en=issuing_en,
        seals=tuple(seals),
        scope=tuple(scope),
        one_modification_only=bool(data.get("one_modification_only", variant is Variant.GUANGDONG)),
    )


def institution_to_dict(inst: Institution) -> dict[str, object]:
    """A JSON-ready view of a filing (for ``--json`` and the data report)."""
    return {
        "code": inst.code,
        "variant": inst.variant.value,
        "name_zh": inst.name_zh,
        "name_en": inst.name_en,
        "parent_body": inst.parent_body,
        "filing_number": inst.filing_number,
        "filing_date": inst.filing_date.isoformat(),
        "style": inst.style.value,
        "issuing_body_zh": inst.issuing_body_zh,
        "issuing_body_en": inst.issuing_body_en,
        "status": inst.status.value,
        "status_date": inst.status_date.isoformat() if inst.status_date else None,
        "merged_into": inst.merged_into,
        "one_modification_only": inst.one_modification_only,
        "seals": [
            {
                "kind": s.kind,
                "text": s.text,
                "bottom": s.bottom,
                "activated_on": s.activated_on.isoformat(),
                "e_seal_activated_on": s.e_seal_activated_on.isoformat() if s.e_seal_activated_on else None,
            }
            for s in inst.seals
        ],
        "scope": [{"occupation": s.occupation, "job": s.job, "levels": sorted(s.levels)} for s in inst.scope],
    }


def institution_from_dict(d: dict[str, Any]) -> Institution:
    """The inverse of :func:`institution_to_dict` (for what the store saved)."""
    from .models import InstitutionStatus

    def _d(v: Any) -> date | None:
        return date.fromisoformat(v) if v else None

    return Institution(
        code=d["code"],
        name_zh=d["name_zh"],
        name_en=d["name_en"],
        parent_body=d.get("parent_body", ""),
        filing_number=d["filing_number"],
        filing_date=date.fromisoformat(d["filing_date"]),
        style=Style(d["style"]),
        issuing_body_zh=d.get("issuing_body_zh", ""),
        issuing_body_en=d.get("issuing_body_en", ""),
        seals=tuple(
            Seal(
                kind=s["kind"],
                text=s["text"],
                bottom=s["bottom"],
                activated_on=date.fromisoformat(s["activated_on"]),
                e_seal_activated_on=_d(s.get("e_seal_activated_on")),
            )
            for s in d["seals"]
        ),
        scope=tuple(
            ScopeItem(occupation=s["occupation"], job=s["job"], levels=frozenset(s["levels"])) for s in d["scope"]
        ),
        status=InstitutionStatus(d.get("status", "active")),
        status_date=_d(d.get("status_date")),
        merged_into=d.get("merged_into"),
        one_modification_only=bool(d.get("one_modification_only", False)),
    )
