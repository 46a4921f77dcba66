"""The records of the registry as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .numbers import InstitutionCode, parse_institution_code
from .tables import LEVELS, Variant

__all__ = [
    "COMPETITION_SEAL_BOTTOM",
    "COMPETITION_SEAL_TEXT",
    "CertStatus",
    "Certificate",
    "CompetitionFiling",
    "Institution",
    "InstitutionKind",
    "InstitutionStatus",
    "ResultRow",
    "ScopeItem",
    "Seal",
    "Style",
]


class Style(StrEnum):
    STYLE1 = "style1"  # reference style (一): filed with the province, one seal
    STYLE2 = "style2"  # reference style (二): filed with the Ministry, two seals
    GUANGDONG = "guangdong"  # Guangdong technical-school landscape style


class InstitutionKind(StrEnum):
    EVALUATION = "evaluation"  # an evaluation institution (评价机构), SPEC §6
    COMPETITION = "competition"  # a competition organising committee (竞赛组委会), 003_… 三


# 003_… 三: competition certificates carry 北京市职业技能鉴定管理中心竞赛专用章
COMPETITION_SEAL_TEXT = "北京市职业技能鉴定管理中心"  # along the upper arc
COMPETITION_SEAL_BOTTOM = "竞赛专用章"  # the line at the bottom


class InstitutionStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    MERGED = "merged"


class CertStatus(StrEnum):
    PENDING = "pending"  # imported, no number yet
    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True, kw_only=True)
class Seal:
    kind: str  # "institution" (评价机构) · "issuing" (发证机构) · "competition" (竞赛专用章)
    text: str  # along the upper arc
    bottom: str = "职业技能等级认定专用章"
    activated_on: date
    e_seal_activated_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeItem:
    occupation: str
    job: str  # "" when the occupation has no job/direction
    levels: frozenset[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompetitionFiling:
    """A competition committee's filing receipt 职业技能竞赛备案回执 (``003_…`` 附件1, 六(三))."""

    name: str  # 竞赛名称
    organiser: str  # 竞赛主办单位
    level: str  # 竞赛级别, e.g. 市级决赛 (003_… 一: municipal finals)
    contact: str  # 联系人
    year: int  # the calendar year the competition is held in (竞赛活动所处自然年, 003_… 四)
    receipt_number: str  # 编号
    receipt_date: date  # the date 北京市职业技能鉴定管理中心 signed the receipt
    submitted_on: date | None = None  # "年 月 日你单位提交的竞赛备案登记材料"

    def covers(self, day: date) -> bool:
        """Is ``day`` inside the competition's calendar year (the only time certificates are issued)?"""
        return day.year == self.year


@dataclass(frozen=True, slots=True, kw_only=True)
class Institution:
    """An evaluation institution (or a competition committee, ``003_…``) and its filing (机构备案, SPEC §6)."""

    code: str  # positions 1-13 of its certificate numbers
    name_zh: str
    name_en: str
    parent_body: str = ""
    filing_number: str
    filing_date: date
    style: Style
    issuing_body_zh: str = ""  # style (二): 发证机构 / 分支机构
    issuing_body_en: str = ""
    seals: tuple[Seal, ...]
    scope: tuple[ScopeItem, ...]
    status: InstitutionStatus = InstitutionStatus.ACTIVE
    status_date: date | None = None
    merged_into: str | None = None
    one_modification_only: bool = False  # Guangdong: one modification request per certificate
    kind: InstitutionKind = InstitutionKind.EVALUATION
    competition: CompetitionFiling | None = None  # the receipt, for kind "competition" only
    _scope_index: dict[tuple[str, str], frozenset[int]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if (self.kind == InstitutionKind.COMPETITION) != (self.competition is not None):
            raise ValueError("a competition committee, and only one, carries its competition filing receipt")
        index: dict[tuple[str, str], frozenset[int]] = {}
        for item in self.scope:
            key = (item.occupation, item.job)
            index[key] = index.get(key, frozenset()) | item.levels
        object.__setattr__(self, "_scope_index", index)

    def issue_date_refusal(self, day: date) -> tuple[str, str] | None:
        """Why certificates cannot be dated ``day`` (zh, en), or ``None``: not before the filing;
        a competition committee (``003_…`` 四、七(二)) only within the competition's calendar year
        and not before its filing receipt."""
        if day < self.filing_date:
            return (
                f"发证日期 {day} 早于机构备案日期 {self.filing_date}",
                f"issue date {day} is before the institution's filing date {self.filing_date}",
            )
        comp = self.competition
        if comp is not None and not comp.covers(day):
            return (
                f"发证日期 {day} 不在竞赛“{comp.name}”所处自然年 {comp.year} 年内：竞赛证书只在竞赛年度内核发，逾期不再办理",
                f"issue date {day} is outside the competition year {comp.year} of {comp.name!r}: "
                "competition certificates are issued only within that calendar year",
            )
        if comp is not None and day < comp.receipt_date:
            return (
                f"发证日期 {day} 早于竞赛备案回执日期 {comp.receipt_date}",
                f"issue date {day} is before the competition filing receipt's date {comp.receipt_date}",
            )
        return None

    @property
    def parsed_code(self) -> InstitutionCode:
        return parse_institution_code(self.code)

    @property
    def variant(self) -> Variant:
        return self.parsed_code.variant

    def levels_for(self, occupation: str, job: str) -> frozenset[int]:
        return self._scope_index.get((occupation, job), frozenset())

    def seal_for(self, slot: str) -> Seal | None:
        """The filed seal that fills a layout's seal ``slot`` ("institution" or "issuing").

        ``003_…`` 三: a competition committee issues under the centre's competition seal, which
        stands where an institution's own seal would be; its signing key is filed under the seal's
        kind ("competition"), so the slot and the key's kind can differ.
        """
        by_kind = {s.kind: s for s in self.seals}
        if slot == "institution" and "competition" in by_kind:
            return by_kind.get("institution", by_kind["competition"])
        return by_kind.get(slot)

    def occupations(self) -> frozenset[str]:
        return frozenset(o for o, _ in self._scope_index)

    def jobs_for(self, occupation: str) -> tuple[str, ...]:
        return tuple(j for o, j in self._scope_index if o == occupation)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    """One validated row of a results batch, ready to store."""

    row: int
    name: str
    id_type: str
    id_number: str
    occupation: str
    job: str
    level: int
    photo_sha256: str
    work_unit: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A certificate record (SPEC §3) as the registry holds it now."""

    id: int
    institution_code: str
    batch_id: int
    row: int
    name: str
    id_type: str
    id_number: str
    occupation: str
    job: str
    level: int
    photo_sha256: str
    work_unit: str
    status: CertStatus
    version: int
    number: str | None = None
    issue_date: date | None = None
    qr_token: str | None = None
    reported_on: date | None = None

    @property
    def level_zh(self) -> str:
        return LEVELS[self.level].zh

    @property
    def level_en(self) -> str:
        return LEVELS[self.level].en
