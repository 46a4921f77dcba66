"""Paper blank certificates (空白证书): sheet serials, periods, and the stock reconciliation report.

``001_…`` 第五条 asks for a ledger where every blank sheet can be traced from receipt to its end
(全程留痕、账目清晰、账物相符、去向清楚), 第六条 for the register of spoiled sheets and their
destruction, 第七条 for a stock-taking every half year that compares the physical stock with the
system's; ``002_…`` 第十八条 for ledgers of printing, issuing, destruction, reissue and what is left
(印制、核发、销毁、补发和余存台账). The store (:mod:`registry._blanks_store`) keeps the ledger; this
module holds the pure parts: serial ranges, periods, and :func:`reconcile`, which turns each sheet's
dated history into a :class:`StockReport` whose figures always satisfy

    closing stock = opening stock + received − printed − spoiled − destroyed from stock
    spoiled held (closing) = spoiled held (opening) + spoiled − destroyed after being spoiled

(a sheet leaves the stock once: printed, spoiled or destroyed unused; destroying a spoiled
sheet empties the spoiled pile, not the stock).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .errors import Problem, RuleViolation, SkillcertError
from .tabular import export_kind, write_tables

__all__ = [
    "MAX_RECEIPT",
    "SHEET_STATES",
    "BlankReceipt",
    "BlankSheet",
    "DestroyedSheet",
    "Period",
    "SerialRange",
    "SheetTimeline",
    "SpoiledSheet",
    "StockReport",
    "expand_serials",
    "export_blank_report",
    "normalise_serial",
    "parse_period",
    "parse_serial",
    "reconcile",
    "serial_range",
]

SHEET_STATES: dict[str, str] = {"in_stock": "在库", "printed": "已打印", "spoiled": "作废", "destroyed": "已销毁"}
MAX_RECEIPT = 100_000  # sheets in one receipt: a bigger range is far more likely a typo than a delivery

_SERIAL = re.compile(r"(?P<prefix>(?:[A-Z0-9-]*[A-Z-])?)(?P<digits>[0-9]+)")


# -- serials ---------------------------------------------------------------------------------
def normalise_serial(text: str) -> str:
    """Full-width characters to ASCII, upper case, no surrounding space (``ｂｊ２０２６…`` → ``BJ2026…``)."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def parse_serial(text: str) -> tuple[str, int, int]:
    """``(prefix, number, width)`` of a printed sheet number: a prefix and a fixed-width run of digits."""
    s = normalise_serial(text)
    m = _SERIAL.fullmatch(s)
    if m is None:
        raise RuleViolation(
            f"空白证书编号 {text!r} 应为前缀加定长数字（如 BJ2026000001）",
            f"blank sheet serial {text!r} must be a prefix and a fixed-width run of digits (e.g. BJ2026000001)",
        )
    return m["prefix"], int(m["digits"]), len(m["digits"])


@dataclass(frozen=True, slots=True)
class SerialRange:
    """Consecutive sheet serials ``prefix + number`` with the number zero-padded to ``width``."""

    prefix: str
    width: int
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def serial(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.width}d}"

    @property
    def first_serial(self) -> str:
        return self.serial(self.first)

    @property
    def last_serial(self) -> str:
        return self.serial(self.last)

    def __iter__(self) -> Iterator[str]:
        for n in range(self.first, self.last + 1):
            yield self.serial(n)

    def __str__(self) -> str:
        return self.first_serial if self.first == self.last else f"{self.first_serial}–{self.last_serial}"


def serial_range(first_serial: str, last_serial: str) -> SerialRange:
    """The range from ``first_serial`` to ``last_serial`` inclusive; both ends share prefix and width."""
    p1, n1, w1 = parse_serial(first_serial)
    p2, n2, w2 = parse_serial(last_serial)
    problems: list[Problem] = []
    if p1 != p2:
        problems.append(Problem(zh=f"前缀不同：{p1!r} 与 {p2!r}", en=f"the prefixes differ: {p1!r} and {p2!r}"))
    if w1 != w2:
        problems.append(
            Problem(zh=f"数字位数不同：{w1} 位与 {w2} 位", en=f"the digit runs differ in width: {w1} and {w2}")
        )
    if not problems and n2 < n1:
        problems.append(Problem(zh="终止号小于起始号", en="the last serial comes before the first"))
    if problems:
        raise RuleViolation(
            f"空白证书号段 {first_serial}–{last_serial} 无效",
            f"blank sheet range {first_serial}–{last_serial} is not valid",
            problems=problems,
        )
    r = SerialRange(p1, w1, n1, n2)
    if r.count > MAX_RECEIPT:
        raise RuleViolation(
            f"号段 {r} 共 {r.count} 张，超过单次入库上限 {MAX_RECEIPT} 张，请核对或分批入库",
            f"range {r} has {r.count} sheets, more than {MAX_RECEIPT} in one receipt; check it or split it",
        )
    return r


def expand_serials(items: Iterable[str]) -> list[str]:
    """Serials as typed: each item one serial or a range ``FIRST..LAST``; normalised, in order."""
    out: list[str] = []
    for item in items:
        if ".." in item:
            a, _, b = item.partition("..")
            out.extend(serial_range(a, b))
        else:
            parse_serial(item)
            out.append(normalise_serial(item))
    return out


# -- ledger rows -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BlankReceipt:
    """One delivery of blank sheets into an institution's stock (入库)."""

    id: int
    institution_code: str
    received_on: date
    first_serial: str
    last_serial: str
    count: int
    source: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "institution_code": self.institution_code,
            "received_on": self.received_on.isoformat(),
            "first_serial": self.first_serial,
            "last_serial": self.last_serial,
            "count": self.count,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BlankSheet:
    """One sheet's current line in the ledger."""

    serial: str
    institution_code: str
    receipt_id: int
    received_on: date
    state: str  # in_stock · printed · spoiled · destroyed
    certificate_id: int | None = None
    certificate_number: str | None = None
    changed_on: date | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "institution_code": self.institution_code,
            "receipt_id": self.receipt_id,
            "received_on": self.received_on.isoformat(),
            "state": self.state,
            "certificate_id": self.certificate_id,
            "certificate_number": self.certificate_number,
            "changed_on": self.changed_on.isoformat() if self.changed_on else None,
            "reason": self.reason,
        }


# -- periods ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


_HALF = re.compile(r"(\d{4})H([12])")
_QUARTER = re.compile(r"(\d{4})Q([1-4])")


def parse_period(text: str) -> Period:
    """``2026H1`` (Jan-Jun), ``2026H2`` (Jul-Dec), ``2026Q3``, ``2026`` or ``2026-01-01..2026-03-31``."""
    t = normalise_serial(text)
    try:
        if m := _HALF.fullmatch(t):
            y, h = int(m[1]), int(m[2])
            return Period(t, date(y, 1, 1) if h == 1 else date(y, 7, 1), date(y, 6, 30) if h == 1 else date(y, 12, 31))
        if m := _QUARTER.fullmatch(t):
            y, q = int(m[1]), int(m[2])
            start = date(y, 3 * q - 2, 1)
            end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
            return Period(t, start, end - timedelta(days=1))
        if re.fullmatch(r"\d{4}", t):
            return Period(t, date(int(t), 1, 1), date(int(t), 12, 31))
        if ".." in t:
            a, _, b = t.partition("..")
            start, end = date.fromisoformat(a), date.fromisoformat(b)
            if end >= start:
                return Period(f"{start}..{end}", start, end)
    except ValueError:
        pass
    raise SkillcertError(
        f"期间 {text!r} 无效，应如 2026H1、2026H2、2026Q3、2026 或 2026-01-01..2026-06-30",
        f"period {text!r} is not valid; use e.g. 2026H1, 2026H2, 2026Q3, 2026 or 2026-01-01..2026-06-30",
    )


# -- reconciliation --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class SheetTimeline:
    """One sheet's dated history: received, then at most one way out of stock, then maybe destroyed."""

    serial: str
    received_on: date
    printed_on: date | None = None
    certificate_id: int | None = None
    spoiled_on: date | None = None
    spoil_reason: str = ""
    destroyed_on: date | None = None
    destroy_reason: str = ""
    witness: str = ""

    @property
    def left_stock_on(self) -> date | None:
        return self.printed_on or self.spoiled_on or self.destroyed_on

    def in_stock_after(self, day: date) -> bool:
        """In stock at the end of ``day``."""
        left = self.left_stock_on
        return self.received_on <= day and (left is None or left > day)

    def spoiled_held_after(self, day: date) -> bool:
        """Spoiled and not yet destroyed at the end of ``day``."""
        return (
            self.spoiled_on is not None
            and self.spoiled_on <= day
            and (self.destroyed_on is None or self.destroyed_on > day)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SpoiledSheet:
    serial: str
    on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DestroyedSheet:
    serial: str
    on: date
    reason: str
    witness: str
    spoiled_on: date | None  # None: destroyed unused, straight from stock

    @property
    def source(self) -> str:
        return "spoiled" if self.spoiled_on else "in_stock"


@dataclass(frozen=True, slots=True, kw_only=True)
class StockReport:
    """The blank-stock reconciliation of one institution for one period (``001_…`` 第七条)."""

    institution_code: str
    institution_name: str
    period: Period
    opening_stock: int
    received: int
    printed: int
    spoiled: int
    destroyed_from_stock: int
    closing_stock: int
    opening_spoiled: int  # spoiled sheets awaiting destruction at the start
    destroyed_from_spoiled: int
    closing_spoiled: int
    receipts: tuple[BlankReceipt, ...] = ()
    spoiled_sheets: tuple[SpoiledSheet, ...] = ()
    destroyed_sheets: tuple[DestroyedSheet, ...] = ()

    @property
    def destroyed(self) -> int:
        return self.destroyed_from_stock + self.destroyed_from_spoiled

    @property
    def balances(self) -> bool:
        """Both identities hold (they do by construction unless the ledger itself is inconsistent)."""
        stock = self.opening_stock + self.received - self.printed - self.spoiled - self.destroyed_from_stock
        held = self.opening_spoiled + self.spoiled - self.destroyed_from_spoiled
        return stock == self.closing_stock and held == self.closing_spoiled

    @property
    def spoilage_rate(self) -> float | None:
        """废证率: spoiled sheets out of the sheets used (printed + spoiled) in the period."""
        used = self.printed + self.spoiled
        return self.spoiled / used if used else None

    def identity(self) -> str:
        return (
            f"{self.closing_stock} = {self.opening_stock} + {self.received} − {self.printed} − {self.spoiled}"
            f" − {self.destroyed_from_stock}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "institution_code": self.institution_code,
            "institution_name": self.institution_name,
            "period": {
                "label": self.period.label,
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
            },
            "opening_stock": self.opening_stock,
            "received": self.received,
            "printed": self.printed,
            "spoiled": self.spoiled,
            "destroyed_from_stock": self.destroyed_from_stock,
            "closing_stock": self.closing_stock,
            "opening_spoiled": self.opening_spoiled,
            "destroyed_from_spoiled": self.destroyed_from_spoiled,
            "closing_spoiled": self.closing_spoiled,
            "destroyed": self.destroyed,
            "spoilage_rate": self.spoilage_rate,
            "balances": self.balances,
            "identity": "closing_stock = opening_stock + received - printed - spoiled - destroyed_from_stock",
            "receipts": [r.as_dict() for r in self.receipts],
            "spoiled_sheets": [
                {"serial": s.serial, "on": s.on.isoformat(), "reason": s.reason} for s in self.spoiled_sheets
            ],
            "destroyed_sheets": [
                {
                    "serial": d.serial,
                    "on": d.on.isoformat(),
                    "from": d.source,
                    "spoiled_on": d.spoiled_on.isoformat() if d.spoiled_on else None,
                    "reason": d.reason,
                    "witness": d.witness,
                }
                for d in self.destroyed_sheets
            ],
        }


def reconcile(
    institution_code: str,
    period: Period,
    sheets: Iterable[SheetTimeline],
    receipts: Iterable[BlankReceipt] = (),
    *,
    institution_name: str = "",
) -> StockReport:
    """Count the stock at both ends of ``period`` and the movements inside it.

    Sheets whose whole history lies before the period (printed or destroyed earlier) or after it
    may be left out: they count nowhere. Opening and closing are counted independently of the
    movements, so :attr:`StockReport.balances` is a real check of the ledger's dates.
    """
    before = period.start - timedelta(days=1)
    opening = closing = received = printed = held_open = held_close = 0
    spoiled: list[SpoiledSheet] = []
    destroyed: list[DestroyedSheet] = []
    for s in sheets:
        opening += s.in_stock_after(before)
        closing += s.in_stock_after(period.end)
        held_open += s.spoiled_held_after(before)
        held_close += s.spoiled_held_after(period.end)
        received += s.received_on in period
        printed += s.printed_on in period
        if s.spoiled_on in period:
            assert s.spoiled_on is not None
            spoiled.append(SpoiledSheet(serial=s.serial, on=s.spoiled_on, reason=s.spoil_reason))
        if s.destroyed_on in period:
            assert s.destroyed_on is not None
            destroyed.append(
                DestroyedSheet(
                    serial=s.serial,
                    on=s.destroyed_on,
                    reason=s.destroy_reason,
                    witness=s.witness,
                    spoiled_on=s.spoiled_on,
                )
            )
    spoiled.sort(key=lambda x: (x.on, x.serial))
    destroyed.sort(key=lambda x: (x.on, x.serial))
    from_spoiled = sum(1 for d in destroyed if d.spoiled_on is not None)
    return StockReport(
        institution_code=institution_code,
        institution_name=institution_name,
        period=period,
        opening_stock=opening,
        received=received,
        printed=printed,
        spoiled=len(spoiled),
        destroyed_from_stock=len(destroyed) - from_spoiled,
        closing_stock=closing,
        opening_spoiled=held_open,
        destroyed_from_spoiled=from_spoiled,
        closing_spoiled=held_close,
        receipts=tuple(sorted((r for r in receipts if r.received_on in period), key=lambda r: (r.received_on, r.id))),
        spoiled_sheets=tuple(spoiled),
        destroyed_sheets=tuple(destroyed),
    )


# -- export ----------------------------------------------------------------------------------
SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("机构编码", "institution"),
    ("机构名称", "institution name"),
    ("期间", "period"),
    ("起", "from"),
    ("止", "to"),
    ("期初库存", "opening stock"),
    ("入库", "received"),
    ("领用打印", "printed"),
    ("作废", "spoiled"),
    ("库存销毁", "destroyed from stock"),
    ("期末库存", "closing stock"),
    ("期初待销毁废证", "spoiled held, opening"),
    ("废证销毁", "spoiled destroyed"),
    ("期末待销毁废证", "spoiled held, closing"),
    ("废证率", "spoilage rate"),
    ("平衡", "balances"),
)
LINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("机构编码", "institution"),
    ("期间", "period"),
    ("项目", "item"),
    ("日期", "date"),
    ("编号", "serials"),
    ("数量", "count"),
    ("原因/来源", "reason/source"),
    ("监销人", "witness"),
)
IDENTITY_NOTE = (
    "期末库存 = 期初库存 + 入库 − 领用打印 − 作废 − 库存销毁；期末待销毁废证 = 期初待销毁废证 + 作废 − 废证销毁 / "
    "closing = opening + received − printed − spoiled − destroyed from stock; "
    "spoiled held (closing) = spoiled held (opening) + spoiled − spoiled destroyed"
)


def _summary_row(r: StockReport) -> list[str | int | float]:
    rate = r.spoilage_rate
    return [
        r.institution_code,
        r.institution_name,
        r.period.label,
        r.period.start.isoformat(),
        r.period.end.isoformat(),
        r.opening_stock,
        r.received,
        r.printed,
        r.spoiled,
        r.destroyed_from_stock,
        r.closing_stock,
        r.opening_spoiled,
        r.destroyed_from_spoiled,
        r.closing_spoiled,
        round(rate, 4) if rate is not None else "",
        "是 yes" if r.balances else "否 NO",
    ]


def _line_rows(r: StockReport) -> Iterator[list[str | int]]:
    """The report as ledger lines: stock at both ends, each receipt, prints, each spoiled and destroyed sheet."""
    c, p = r.institution_code, r.period.label
    yield [c, p, "期初库存 opening_stock", r.period.start.isoformat(), "", r.opening_stock, "", ""]
    yield [c, p, "期初待销毁废证 opening_spoiled", r.period.start.isoformat(), "", r.opening_spoiled, "", ""]
    for rc in r.receipts:
        rng = rc.first_serial if rc.count == 1 else f"{rc.first_serial}–{rc.last_serial}"
        yield [c, p, "入库 received", rc.received_on.isoformat(), rng, rc.count, rc.source, ""]
    yield [c, p, "领用打印 printed", "", "", r.printed, "", ""]
    for s in r.spoiled_sheets:
        yield [c, p, "作废 spoiled", s.on.isoformat(), s.serial, 1, s.reason, ""]
    for d in r.destroyed_sheets:
        item = "废证销毁 destroyed_spoiled" if d.spoiled_on else "库存销毁 destroyed_from_stock"
        yield [c, p, item, d.on.isoformat(), d.serial, 1, d.reason, d.witness]
    yield [c, p, "期末库存 closing_stock", r.period.end.isoformat(), "", r.closing_stock, "", ""]
    yield [c, p, "期末待销毁废证 closing_spoiled", r.period.end.isoformat(), "", r.closing_spoiled, "", ""]


def export_blank_report(reports: Sequence[StockReport], out: Path, *, fmt: str | None = None) -> Path:
    """Write reconciliation reports as XLSX (sheets 盘点 summary, 明细 lines, 作废, 销毁) or CSV (the lines).

    Written to a temporary file and renamed, so ``out`` is either the old file or the whole new one.
    """
    kind = export_kind(out, fmt)
    lines: list[Sequence[Any]] = [
        [f"{zh} {en}" for zh, en in LINE_COLUMNS],
        *(row for r in reports for row in _line_rows(r)),
    ]
    summary: list[Sequence[Any]] = [
        [f"{zh} {en}" for zh, en in SUMMARY_COLUMNS],
        *(_summary_row(r) for r in reports),
        [],
        [IDENTITY_NOTE],
    ]
    spoiled: list[Sequence[Any]] = [
        ["机构编码 institution", "编号 serial", "作废日期 spoiled on", "原因 reason"],
        *([r.institution_code, s.serial, s.on.isoformat(), s.reason] for r in reports for s in r.spoiled_sheets),
    ]
    destroyed: list[Sequence[Any]] = [
        [
            "机构编码 institution",
            "编号 serial",
            "销毁日期 destroyed on",
            "来源 from",
            "作废日期 spoiled on",
            "原因 reason",
            "监销人 witness",
        ],
        *(
            [
                r.institution_code,
                d.serial,
                d.on.isoformat(),
                "作废 spoiled" if d.spoiled_on else "库存 in_stock",
                d.spoiled_on.isoformat() if d.spoiled_on else "",
                d.reason,
                d.witness,
            ]
            for r in reports
            for d in r.destroyed_sheets
        ),
    ]
    sheets = [
        ("盘点 Reconciliation", summary),
        ("明细 Lines", lines),
        ("作废 Spoiled", spoiled),
        ("销毁 Destroyed", destroyed),
    ]
    write_tables(out, kind, sheets, csv_sheet=1)
    return out
