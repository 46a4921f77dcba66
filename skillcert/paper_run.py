"""Paper runs: the blank sheet each certificate prints on (001_… 第六条), drawn from the ledger."""

from __future__ import annotations

from datetime import date

from registry import Registry
from registry.errors import RuleViolation

__all__ = ["check_paper_stock", "paper_serials"]


def paper_serials(reg: Registry, code: str, ids: list[int], on: date, actor: str) -> dict[int, str]:
    """The blank sheet each certificate prints on: its sheet if it has one for this version, else
    one drawn now (in one transaction per kind: short stock draws nothing)."""
    out, first, again = _sheets_needed(reg, code, ids)
    if first:
        out.update(reg.blanks.draw_many(code, first, on=on, actor=actor))
    if again:
        out.update(reg.blanks.draw_many(code, again, on=on, actor=actor, replacement=True))
    return out


def _sheets_needed(reg: Registry, code: str, ids: list[int]) -> tuple[dict[int, str], list[int], list[int]]:
    """The sheets the certificates have already, those needing a first sheet and those needing a
    new one (a replacement prints on a new sheet)."""
    latest: dict[int, tuple[str, date | None]] = {}
    for sheet in reg.blanks.sheets(code, state="printed"):
        if sheet.certificate_id is not None:
            latest[sheet.certificate_id] = (sheet.serial, sheet.changed_on)  # serials ascend: the last is newest
    out: dict[int, str] = {}
    first, again = [], []
    for cid in ids:
        have = latest.get(cid)
        replaced_on = reg.lifecycle.replacement_date(cid)
        if have is None:
            first.append(cid)
        elif replaced_on is not None and (have[1] is None or have[1] < replaced_on):
            again.append(cid)  # a replacement prints on a new sheet
        else:
            out[cid] = have[0]
    return out, first, again


def check_paper_stock(reg: Registry, code: str) -> None:
    """Refuse a paper run before anything renders when the blank stock cannot cover what is left."""
    ids = list(reg.seals.undelivered_ids(code))
    _, first, again = _sheets_needed(reg, code, ids)
    have = reg.blanks.stock(code)["in_stock"]
    if len(first) + len(again) > have:
        raise RuleViolation(
            f"机构 {code} 空白证书库存不足：尚需 {len(first) + len(again)} 张，库存 {have} 张；请先登记领入的空白证书",
            f"institution {code} has too few blank sheets: {len(first) + len(again)} needed, {have} in stock; "
            "record a receipt of blanks first",
        )
