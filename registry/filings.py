"""Institution filings (机构备案) read from TOML, checked against the rules.

A filing file looks like ``skillcert/demo/institution-beijing.toml``: code, names, filing
number and date, style, seals and the scope of occupations, jobs and levels (SPEC §6).
A competition organising committee (竞赛组委会, ``003_…``) files ``kind = "competition"`` with
its filing receipt (职业技能竞赛备案回执, ``003_…`` 附件1) in a ``[competition]`` table; see
``skillcert/demo/institution-competition.toml``.
"""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

from .errors import InvalidNumber, Problem, RuleViolation
from .fields import clean_value, find_forbidden_words, is_no_job
from .models import (
    COMPETITION_SEAL_BOTTOM,
    COMPETITION_SEAL_TEXT,
    CompetitionFiling,
    Institution,
    InstitutionKind,
    ScopeItem,
    Seal,
    Style,
)
from .numbers import parse_institution_code
from .tables import LEVELS, Variant, level_from_text

__all__ = ["institution_from_dict", "institution_from_toml", "institution_to_dict"]

_SEAL_KINDS = ("institution", "issuing", "competition")
_INSTITUTION_BOTTOM = "职业技能等级认定专用章"
_COMMITTEE_WORDS = ("组委会", "组织委员会")
# the competition year is printed in positions 14-15 of the numbers: 2000-2099
_YEARS = range(2000, 2100)


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


def _text(
    data: dict[str, Any], key: str, problems: list[Problem], *, required: bool = True, field: str | None = None
) -> str:
    raw = data.get(key, "")
    if not isinstance(raw, str):
        problems.append(Problem(zh="应为文本", en="must be text", field=field or key))
        return ""
    value, p = clean_value(raw, field or key, required=required)
    if required and not value and not p:  # clean_value lets a value of spaces only through as ""
        p = [Problem(zh="不能为空", en="must not be empty", field=field or key)]
    problems.extend(p)
    return value


def _year(v: Any, field: str, problems: list[Problem]) -> int | None:
    if v is None or v == "":
        problems.append(Problem(zh="缺少竞赛年度", en="the competition year is missing", field=field))
        return None
    text = str(v).strip()
    if isinstance(v, bool) or not isinstance(v, int | str) or not (text.isascii() and text.isdigit()):
        problems.append(
            Problem(
                zh=f"竞赛年度 {v!r} 应为四位年份，如 2026",
                en=f"competition year {v!r} must be a year such as 2026",
                field=field,
            )
        )
        return None
    year = int(text)
    if year not in _YEARS:
        problems.append(
            Problem(
                zh=f"竞赛年度 {year} 应在 2000-2099 年之间",
                en=f"competition year {year} must be 2000-2099",
                field=field,
            )
        )
        return None
    return year


def _competition(raw: Any, problems: list[Problem]) -> CompetitionFiling | None:
    """The ``[competition]`` table: the filing receipt 职业技能竞赛备案回执 (``003_…`` 附件1)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                zh="竞赛备案回执应为 [competition] 表",
                en="the competition filing receipt must be a [competition] table",
                field="competition",
            )
        )
        return None
    before = len(problems)

    def text(key: str) -> str:
        return _text(raw, key, problems, field=f"competition.{key}")

    name, organiser, level, contact = text("name"), text("organiser"), text("level"), text("contact")
    receipt_number = text("receipt_number")
    year = _year(raw.get("year"), "competition.year", problems)
    receipt_date = _date(raw.get("receipt_date"), "competition.receipt_date", problems)
    submitted_on = _date(raw.get("submitted_on"), "competition.submitted_on", problems, required=False)
    if submitted_on and receipt_date and submitted_on > receipt_date:
        problems.append(
            Problem(
                zh=f"备案材料提交日期 {submitted_on} 晚于回执日期 {receipt_date}",
                en=f"the filing materials' submission date {submitted_on} is after the receipt date {receipt_date}",
                field="competition.submitted_on",
            )
        )
    if year is not None and receipt_date and receipt_date.year > year:
        problems.append(
            Problem(
                zh=f"备案回执日期 {receipt_date} 已过竞赛年度 {year} 年：证书只在竞赛活动所处自然年内办理",
                en=f"the receipt date {receipt_date} is after the competition year {year}: certificates are "
                "issued only within the competition's calendar year",
                field="competition.receipt_date",
            )
        )
    if len(problems) > before or year is None or receipt_date is None:
        return None
    return CompetitionFiling(
        name=name,
        organiser=organiser,
        level=level,
        contact=contact,
        year=year,
        receipt_number=receipt_number,
        receipt_date=receipt_date,
        submitted_on=submitted_on,
    )


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
    code_ok = False
    try:
        parsed = parse_institution_code(code_text)
        variant, ministry, code_ok = parsed.variant, parsed.ministry_filed, True
    except InvalidNumber as e:
        problems.extend(e.problems)
    kind_ok = True
    try:
        kind = InstitutionKind(data.get("kind", InstitutionKind.EVALUATION))
    except (ValueError, TypeError):
        kind_ok = False
        problems.append(
            Problem(
                zh="机构类型应为 evaluation（评价机构）或 competition（竞赛组委会）",
                en="kind must be evaluation (evaluation institution) or competition (competition committee)",
                field="kind",
            )
        )
        kind = InstitutionKind.EVALUATION
    committee = kind is InstitutionKind.COMPETITION
    if committee and code_ok and variant is not Variant.BEIJING:
        problems.append(  # 003_… 一: competitions filed with 北京市职业技能鉴定管理中心
            Problem(
                zh="竞赛组委会在北京市职业技能鉴定管理中心备案，机构编码第 6-7 位应为 11",
                en="a competition committee is filed with the Beijing centre: code positions 6-7 must be 11",
                field="code",
            )
        )
    name_zh = _text(data, "name_zh", problems)
    if committee and name_zh and not any(w in name_zh for w in _COMMITTEE_WORDS):
        problems.append(  # 003_… 三: issued in the name of the competition committee (office)
            Problem(
                zh="竞赛证书以竞赛组委会名义核发，名称应为竞赛组委会（含“组委会”或“组织委员会”）",
                en="competition certificates are issued in the committee's name: name_zh must name the "
                "competition committee (组委会 or 组织委员会)",
                field="name_zh",
            )
        )
    name_en = _text(data, "name_en", problems)
    if committee:
        default_style = Style.STYLE1
    else:
        default_style = (
            Style.GUANGDONG if variant is Variant.GUANGDONG else (Style.STYLE2 if ministry else Style.STYLE1)
        )
    try:
        style = Style(data.get("style", default_style))
    except ValueError:
        problems.append(
            Problem(
                zh="样式应为 style1、style2 或 guangdong", en="style must be style1, style2 or guangdong", field="style"
            )
        )
        style = default_style
    if committee and style is not Style.STYLE1:
        problems.append(  # 003_… 三: one seal, the competition seal — reference style (一)
            Problem(
                zh="竞赛证书只加盖竞赛专用章，样式应为 style1",
                en="a competition certificate carries the competition seal only: style must be style1",
                field="style",
            )
        )
    issuing_zh = _text(data, "issuing_body_zh", problems, required=style is Style.STYLE2)
    issuing_en = _text(data, "issuing_body_en", problems, required=style is Style.STYLE2)

    seals: list[Seal] = []
    for i, s in enumerate(data.get("seals", []), 1):
        f = f"seals[{i}]"
        seal_kind = s.get("kind", "competition" if committee else "institution")
        if seal_kind not in _SEAL_KINDS:
            problems.append(
                Problem(
                    zh=f"印章类型应为 {'/'.join(_SEAL_KINDS)}", en=f"seal kind must be one of {_SEAL_KINDS}", field=f
                )
            )
        elif committee and seal_kind != "competition":
            problems.append(  # 003_… 三: 北京市职业技能鉴定管理中心竞赛专用章形式
                Problem(
                    zh='竞赛组委会只备案竞赛专用章（kind = "competition"）',
                    en='a competition committee files the competition seal only (kind = "competition")',
                    field=f + ".kind",
                )
            )
        default_bottom = COMPETITION_SEAL_BOTTOM if seal_kind == "competition" else _INSTITUTION_BOTTOM
        seal_text, p = clean_value(str(s.get("text", "")), f + ".text")
        problems.extend(p)
        bottom, p = clean_value(str(s.get("bottom", default_bottom)), f + ".bottom", required=False)
        problems.extend(p)
        if committee and seal_kind == "competition":
            if seal_text and seal_text != COMPETITION_SEAL_TEXT:
                problems.append(
                    Problem(
                        zh=f"竞赛专用章的文字应为“{COMPETITION_SEAL_TEXT}”（北京市职业技能鉴定管理中心竞赛专用章）",
                        en=f"the competition seal's text must be {COMPETITION_SEAL_TEXT!r} (the Beijing centre's "
                        "competition seal)",
                        field=f + ".text",
                    )
                )
            if bottom != COMPETITION_SEAL_BOTTOM:
                problems.append(
                    Problem(
                        zh=f"竞赛专用章底部文字应为“{COMPETITION_SEAL_BOTTOM}”",
                        en=f"the competition seal's bottom text must be {COMPETITION_SEAL_BOTTOM!r}",
                        field=f + ".bottom",
                    )
                )
        for w in find_forbidden_words(bottom, variant):
            problems.append(Problem(zh=f"印章文字不得使用“{w}”", en=f"seal text must not use the word {w!r}", field=f))
        activated = _date(s.get("activated_on"), f + ".activated_on", problems)
        e_act = _date(s.get("e_seal_activated_on"), f + ".e_seal_activated_on", problems, required=False)
        seals.append(
            Seal(
                kind=seal_kind,
                text=seal_text,
                bottom=bottom,
                activated_on=activated or date.min,
                e_seal_activated_on=e_act,
            )
        )
    kinds = [s.kind for s in seals]
    if committee and "competition" not in kinds:
        problems.append(
            Problem(
                zh='竞赛组委会须备案北京市职业技能鉴定管理中心竞赛专用章（kind = "competition"）',
                en='a competition committee must file the Beijing centre\'s competition seal (kind = "competition")',
                field="seals",
            )
        )
    elif "institution" not in kinds and "competition" not in kinds:
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

    competition: CompetitionFiling | None = None
    if committee:
        competition = _competition(data.get("competition"), problems)
    elif "competition" in data and kind_ok:
        problems.append(
            Problem(
                zh='只有竞赛组委会（kind = "competition"）才备案 [competition] 竞赛备案回执',
                en='only a competition committee (kind = "competition") files a [competition] receipt',
                field="competition",
            )
        )
    # a committee's filing is its competition receipt: number and date default to the receipt's
    filing_date = _date(data.get("filing_date"), "filing_date", problems, required=not committee)
    filing_number = _text(data, "filing_number", problems, required=not committee)
    if competition is not None:
        filing_date = filing_date or competition.receipt_date
        filing_number = filing_number or competition.receipt_number
        if filing_date.year > competition.year:
            problems.append(
                Problem(
                    zh=f"备案日期 {filing_date} 已过竞赛年度 {competition.year} 年",
                    en=f"the filing date {filing_date} is after the competition year {competition.year}",
                    field="filing_date",
                )
            )
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
        kind=kind,
        competition=competition,
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
        "kind": inst.kind.value,
        "competition": _competition_to_dict(inst.competition) if inst.competition else None,
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


def _competition_to_dict(c: CompetitionFiling) -> dict[str, object]:
    return {
        "name": c.name,
        "organiser": c.organiser,
        "level": c.level,
        "contact": c.contact,
        "year": c.year,
        "receipt_number": c.receipt_number,
        "receipt_date": c.receipt_date.isoformat(),
        "submitted_on": c.submitted_on.isoformat() if c.submitted_on else None,
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
        kind=InstitutionKind(d.get("kind") or InstitutionKind.EVALUATION),  # filings before 003_… have no kind
        competition=_competition_from_dict(c) if (c := d.get("competition")) else None,
    )


def _competition_from_dict(c: dict[str, Any]) -> CompetitionFiling:
    return CompetitionFiling(
        name=c["name"],
        organiser=c["organiser"],
        level=c["level"],
        contact=c.get("contact", ""),
        year=int(c["year"]),
        receipt_number=c["receipt_number"],
        receipt_date=date.fromisoformat(c["receipt_date"]),
        submitted_on=date.fromisoformat(c["submitted_on"]) if c.get("submitted_on") else None,
    )
