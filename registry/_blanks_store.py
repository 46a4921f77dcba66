"""The registry's part for the paper blank-stock ledger (001_… 第五-七条, 002_… 第十八条).

Every sheet has one row in ``blank_sheets`` from the day it is received; the row only moves
forward (``in_stock`` → ``printed`` | ``spoiled`` | ``destroyed``, ``spoiled`` → ``destroyed``;
triggers refuse anything else and any DELETE). Each change writes its audit entries in the same
transaction: one per receipt (``blank_receive``, entity ``blank_receipt``) and one per sheet for
every later step (``blank_print`` · ``blank_spoil`` · ``blank_destroy``, entity ``blank_sheet``,
key = the serial). A sheet row keeps only its latest date and reason, so a destroyed sheet's
earlier spoiling and the destruction witness are read back from its ``blank_destroy`` entry.

Dates are business dates (``on``): a sheet cannot leave the stock before the day it was received,
nor be destroyed before the day it was spoiled — which is what keeps every period's
reconciliation balanced.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from ._db import Database, Tx
from .audit import AuditEntry
from .blanks import (
    BlankReceipt,
    BlankSheet,
    Period,
    SheetTimeline,
    StockReport,
    normalise_serial,
    reconcile,
    serial_range,
)
from .errors import NotFound, RegistryError, RuleViolation
from .events import BlankDestroyed, BlankPrinted, BlankSpoiled, BlanksReceived

__all__ = ["Blanks"]

_CHUNK = 500
_SHEET_COLS = (
    "s.serial, s.institution_code, s.receipt_id, r.received_on, s.state, s.certificate_id, n.number, "
    "s.changed_on, s.reason"
)
_SHEET_FROM = (
    "blank_sheets s JOIN blank_receipts r ON r.id = s.receipt_id "
    "LEFT JOIN issued_numbers n ON n.certificate_id = s.certificate_id"
)


def _sheet(r: Sequence[Any]) -> BlankSheet:
    return BlankSheet(
        serial=r[0],
        institution_code=r[1],
        receipt_id=int(r[2]),
        received_on=date.fromisoformat(r[3]),
        state=r[4],
        certificate_id=r[5],
        certificate_number=r[6],
        changed_on=date.fromisoformat(r[7]) if r[7] else None,
        reason=r[8],
    )


def _receipt(r: Sequence[Any]) -> BlankReceipt:
    return BlankReceipt(
        id=int(r[0]),
        institution_code=r[1],
        received_on=date.fromisoformat(r[2]),
        first_serial=r[3],
        last_serial=r[4],
        count=int(r[5]),
        source=r[6],
        note=r[7],
    )


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _need(text: str, zh: str, en: str) -> str:
    if not text.strip():
        raise RuleViolation(f"必须写明{zh}", f"a {en} is required")
    return text.strip()


class Blanks:
    """The blank-sheet ledger (``reg.blanks``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _blank_institution(tx: Tx | Database, code: str, *, active: bool) -> str:
        row = tx.execute("SELECT status, name_zh FROM institutions WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFound(f"机构 {code} 未备案", f"institution {code} is not filed")
        if active and row[0] != "active":
            raise RuleViolation(f"机构 {code} 已{row[0]}", f"institution {code} is {row[0]}")
        return str(row[1])

    @staticmethod
    def _sheets_by_serial(tx: Tx, serials: Sequence[str]) -> dict[str, BlankSheet]:
        found: dict[str, BlankSheet] = {}
        for chunk in _chunks(serials):
            q = ",".join("?" * len(chunk))
            for r in tx.execute(f"SELECT {_SHEET_COLS} FROM {_SHEET_FROM} WHERE s.serial IN ({q})", chunk):
                found[r[0]] = _sheet(r)
        return found

    # -- receipt ---------------------------------------------------------------------------
    def receive(
        self,
        institution_code: str,
        *,
        first_serial: str,
        last_serial: str,
        on: date,
        source: str,
        note: str = "",
        actor: str,
    ) -> BlankReceipt:
        """Put a delivery of blank sheets ``first_serial``..``last_serial`` into stock (入库, 第五条).

        Both ends share the prefix and the digit width; the range may not overlap any sheet already
        in the ledger (of any institution). One row per sheet, one audit entry for the receipt.
        """
        rng = serial_range(first_serial, last_serial)
        source = _need(source, "来源（供货方或发放单位）", "source (supplier or issuing body)")
        with self._db.write(actor) as tx:
            self._blank_institution(tx, institution_code, active=True)
            digits_from = len(rng.prefix) + 1
            hit = tx.execute(
                "SELECT serial, institution_code, receipt_id, COUNT(*) OVER () FROM blank_sheets "
                "WHERE serial BETWEEN ? AND ? AND length(serial) = ? AND substr(serial, ?) NOT GLOB '*[^0-9]*' "
                "ORDER BY serial LIMIT 1",
                (rng.first_serial, rng.last_serial, len(rng.first_serial), digits_from),
            ).fetchone()
            if hit is not None:
                raise RuleViolation(
                    f"号段 {rng} 与台账中已有的 {hit[3]} 张空白证书重叠（如 {hit[0]}，机构 {hit[1]} 第 {hit[2]} 次入库）",
                    f"range {rng} overlaps {hit[3]} blank sheet(s) already in the ledger "
                    f"(e.g. {hit[0]}, institution {hit[1]}, receipt {hit[2]})",
                )
            now = tx.at
            receipt_id = tx.insert(
                "INSERT INTO blank_receipts (institution_code, received_on, first_serial, last_serial, count, source, "
                "note, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (institution_code, on.isoformat(), rng.first_serial, rng.last_serial, rng.count, source, note, now),
            )
            tx.executemany(
                "INSERT INTO blank_sheets (serial, institution_code, receipt_id) VALUES (?,?,?)",
                ((s, institution_code, receipt_id) for s in rng),
            )
            receipt = BlankReceipt(
                id=receipt_id,
                institution_code=institution_code,
                received_on=on,
                first_serial=rng.first_serial,
                last_serial=rng.last_serial,
                count=rng.count,
                source=source,
                note=note,
            )
            tx.log(str(receipt_id), BlanksReceived(**dataclasses.asdict(receipt)))  # the receipt, as logged
            return receipt

    # -- printing --------------------------------------------------------------------------
    def draw(
        self, institution_code: str, certificate_id: int, *, on: date, actor: str, replacement: bool = False
    ) -> str:
        """The serial of the sheet the certificate is printed on: the lowest one in stock on ``on``.

        The sheet becomes ``printed`` for that certificate. See :meth:`draw_many`.
        """
        return self.draw_many(institution_code, [certificate_id], on=on, actor=actor, replacement=replacement)[
            certificate_id
        ]

    def draw_many(
        self,
        institution_code: str,
        certificate_ids: Sequence[int],
        *,
        on: date,
        actor: str,
        replacement: bool = False,
    ) -> dict[int, str]:
        """Draw one sheet per certificate, in the given order, lowest serials first; all or nothing.

        Each certificate must be this institution's, numbered and valid, and must not have a printed
        sheet yet — unless ``replacement`` (补发, SPEC §4: a replacement keeps the certificate number
        and is printed on a new sheet), which requires that it has one. Only sheets received on or
        before ``on`` can be drawn. Refused, with nothing written, when the stock is short.
        """
        ids = list(certificate_ids)
        if not ids:
            return {}
        seen: set[int] = set()
        for cid in ids:
            if cid in seen:
                raise RuleViolation(f"记录 {cid} 重复出现", f"record {cid} is listed twice")
            seen.add(cid)
        day = on.isoformat()
        with self._db.write(actor) as tx:
            self._blank_institution(tx, institution_code, active=True)
            numbers: dict[int, str] = {}
            for chunk in _chunks(ids):
                q = ",".join("?" * len(chunk))
                found = {
                    int(r[0]): (r[1], r[2], r[3])
                    for r in tx.execute(
                        "SELECT c.id, c.institution_code, c.status, n.number FROM certificates c "
                        f"LEFT JOIN issued_numbers n ON n.certificate_id = c.id WHERE c.id IN ({q})",
                        chunk,
                    )
                }
                for cid in chunk:
                    if cid not in found or found[cid][0] != institution_code:
                        raise NotFound(
                            f"机构 {institution_code} 没有记录 {cid}",
                            f"institution {institution_code} has no record {cid}",
                        )
                    _, status, number = found[cid]
                    if status != "valid" or number is None:
                        raise RuleViolation(
                            f"记录 {cid} 状态为 {status}，只有已编号的有效证书才能打印",
                            f"record {cid} is {status}; only numbered, valid certificates are printed",
                        )
                    numbers[cid] = number
            printed: dict[int, list[str]] = {}
            if len(ids) == 1:
                rows = tx.execute(
                    "SELECT certificate_id, serial FROM blank_sheets WHERE institution_code = ? AND state = 'printed' "
                    "AND certificate_id = ?",
                    (institution_code, ids[0]),
                )
            else:
                rows = tx.execute(
                    "SELECT certificate_id, serial FROM blank_sheets WHERE institution_code = ? AND state = 'printed'",
                    (institution_code,),
                )
            for cid, serial in rows:
                if cid in seen:
                    printed.setdefault(int(cid), []).append(serial)
            for cid in ids:
                if cid in printed and not replacement:
                    raise RuleViolation(
                        f"证书 {numbers[cid]} 已打印在空白证书 {', '.join(printed[cid])} 上；补发请按补发办理",
                        f"certificate {numbers[cid]} is already printed on blank sheet {', '.join(printed[cid])}; "
                        "a replacement is drawn as such",
                    )
                if replacement and cid not in printed:
                    raise RuleViolation(
                        f"证书 {numbers[cid]} 还没有打印过，不是补发", f"certificate {numbers[cid]} was never printed"
                    )
            sheets = [
                r[0]
                for r in tx.execute(
                    "SELECT s.serial FROM blank_sheets s JOIN blank_receipts r ON r.id = s.receipt_id "
                    "WHERE s.institution_code = ? AND s.state = 'in_stock' AND r.received_on <= ? "
                    "ORDER BY s.serial LIMIT ?",
                    (institution_code, day, len(ids)),
                )
            ]
            if len(sheets) < len(ids):
                total = int(
                    tx.execute(
                        "SELECT COUNT(*) FROM blank_sheets WHERE institution_code = ? AND state = 'in_stock'",
                        (institution_code,),
                    ).fetchone()[0]
                )
                later = total - len(sheets)
                raise RuleViolation(
                    f"机构 {institution_code} 空白证书库存不足：需要 {len(ids)} 张，{day} 库存 {len(sheets)} 张"
                    + (f"（另有 {later} 张在 {day} 之后入库）" if later else ""),
                    f"institution {institution_code} has too few blank sheets: {len(ids)} needed, "
                    f"{len(sheets)} in stock on {day}" + (f" ({later} more received after {day})" if later else ""),
                )
            reason = "补发 replacement" if replacement else None
            tx.executemany(
                "UPDATE blank_sheets SET state = 'printed', certificate_id = ?, changed_on = ?, reason = ? "
                "WHERE serial = ? AND state = 'in_stock'",
                [(cid, day, reason, serial) for cid, serial in zip(ids, sheets, strict=True)],
            )
            for cid, serial in zip(ids, sheets, strict=True):
                tx.log(
                    serial,
                    BlankPrinted(
                        on=on,
                        certificate_id=cid,
                        number=numbers[cid],
                        replaces=printed[cid] if replacement else None,
                    ),
                )
            return dict(zip(ids, sheets, strict=True))

    # -- spoiling and destruction -----------------------------------------------------------
    def spoil(self, serial: str, *, on: date, reason: str, actor: str) -> None:
        """Record an unused sheet as spoiled (作废: misprint, jam, damage; 第六条 损耗证书去向登记).

        Only a sheet in stock can be spoiled. A sheet recorded as printed stays printed: the ledger
        only moves forward, so spoil a misprinted sheet *before* its print is recorded, and treat a
        damaged printed certificate as a replacement (``draw(..., replacement=True)``).
        """
        reason = _need(reason, "作废原因", "reason for spoiling")
        serial = normalise_serial(serial)
        with self._db.write(actor) as tx:
            sheet = self._sheets_by_serial(tx, [serial]).get(serial)
            if sheet is None:
                raise NotFound(f"台账中没有空白证书 {serial}", f"blank sheet {serial} is not in the ledger")
            if sheet.state == "printed":
                raise RuleViolation(
                    f"空白证书 {serial} 已于 {sheet.changed_on} 打印为证书 {sheet.certificate_number}，"
                    "不能再登记为作废（台账状态只能前进）；打印失败的纸张应在登记打印前作废，"
                    "已打印的证书损坏时按补发办理，另领新纸",
                    f"blank sheet {serial} was printed as certificate {sheet.certificate_number} on "
                    f"{sheet.changed_on} and cannot become spoiled (the ledger only moves forward); spoil a "
                    "misprinted sheet before its print is recorded, and reissue a damaged printed certificate "
                    "on a new sheet",
                )
            if sheet.state != "in_stock":
                raise RuleViolation(
                    f"空白证书 {serial} 已于 {sheet.changed_on} {_state_zh(sheet.state)}",
                    f"blank sheet {serial} was already {sheet.state} on {sheet.changed_on}",
                )
            if on < sheet.received_on:
                raise RuleViolation(
                    f"作废日期 {on} 早于空白证书 {serial} 的入库日期 {sheet.received_on}",
                    f"spoiling date {on} is before blank sheet {serial} was received ({sheet.received_on})",
                )
            tx.execute(
                "UPDATE blank_sheets SET state = 'spoiled', changed_on = ?, reason = ? WHERE serial = ?",
                (on.isoformat(), reason, serial),
            )
            tx.log(serial, BlankSpoiled(on=on, reason=reason))

    def destroy(self, serials: Iterable[str], *, on: date, reason: str, witness: str, actor: str) -> dict[str, str]:
        """Destroy spoiled sheets or surplus sheets from stock (销毁, 第六条), with who witnessed it.

        All or nothing; returns each serial's state before (``spoiled`` or ``in_stock``).
        """
        reason = _need(reason, "销毁原因", "reason for the destruction")
        witness = _need(witness, "监销人", "witness")
        wanted = [normalise_serial(s) for s in serials]
        if not wanted:
            raise RuleViolation("没有指定要销毁的空白证书", "no blank sheets were named for destruction")
        if len(set(wanted)) != len(wanted):
            dup = next(s for i, s in enumerate(wanted) if s in wanted[:i])
            raise RuleViolation(f"空白证书 {dup} 重复出现", f"blank sheet {dup} is listed twice")
        day = on.isoformat()
        with self._db.write(actor) as tx:
            found = self._sheets_by_serial(tx, wanted)
            updates: list[tuple[str, str, str]] = []
            before: dict[str, str] = {}
            for serial in wanted:
                sheet = found.get(serial)
                if sheet is None:
                    raise NotFound(f"台账中没有空白证书 {serial}", f"blank sheet {serial} is not in the ledger")
                if sheet.state == "printed":
                    raise RuleViolation(
                        f"空白证书 {serial} 已打印为证书 {sheet.certificate_number}，不能作为空白证书销毁",
                        f"blank sheet {serial} is printed as certificate {sheet.certificate_number}; "
                        "it is not a blank to destroy",
                    )
                if sheet.state == "destroyed":
                    raise RuleViolation(
                        f"空白证书 {serial} 已于 {sheet.changed_on} 销毁",
                        f"blank sheet {serial} was already destroyed on {sheet.changed_on}",
                    )
                spoiled = sheet.state == "spoiled"
                since = sheet.changed_on if spoiled and sheet.changed_on else sheet.received_on
                if on < since:
                    raise RuleViolation(
                        f"销毁日期 {on} 早于空白证书 {serial} 的{'作废' if spoiled else '入库'}日期 {since}",
                        f"destruction date {on} is before blank sheet {serial} was "
                        f"{'spoiled' if spoiled else 'received'} ({since})",
                    )
                before[serial] = sheet.state
                updates.append((day, reason, serial))
            tx.executemany(
                "UPDATE blank_sheets SET state = 'destroyed', changed_on = ?, reason = ? WHERE serial = ?", updates
            )
            for serial in wanted:
                sheet = found[serial]
                spoiled = sheet.state == "spoiled"
                tx.log(
                    serial,
                    BlankDestroyed(
                        was_state=sheet.state,
                        spoiled_on=sheet.changed_on if spoiled else None,
                        spoil_reason=sheet.reason if spoiled else None,
                        on=on,
                        reason=reason,
                        witness=witness,
                    ),
                )
            return before

    # -- reading ---------------------------------------------------------------------------
    def sheet(self, serial: str) -> BlankSheet:
        serial = normalise_serial(serial)
        r = self._db.execute(f"SELECT {_SHEET_COLS} FROM {_SHEET_FROM} WHERE s.serial = ?", (serial,)).fetchone()
        if r is None:
            raise NotFound(f"台账中没有空白证书 {serial}", f"blank sheet {serial} is not in the ledger")
        return _sheet(r)

    def sheets(self, institution_code: str, *, state: str | None = None) -> list[BlankSheet]:
        """The institution's sheets in serial order, optionally in one state."""
        sql = f"SELECT {_SHEET_COLS} FROM {_SHEET_FROM} WHERE s.institution_code = ?"
        params: list[Any] = [institution_code]
        if state is not None:
            sql += " AND s.state = ?"
            params.append(state)
        return [_sheet(r) for r in self._db.execute(sql + " ORDER BY s.serial", params)]

    def stock(self, institution_code: str) -> dict[str, int]:
        """Sheets per state now (``in_stock`` is what a physical count should find)."""
        out = {"in_stock": 0, "printed": 0, "spoiled": 0, "destroyed": 0}
        for state, n in self._db.execute(
            "SELECT state, COUNT(*) FROM blank_sheets WHERE institution_code = ? GROUP BY state", (institution_code,)
        ):
            out[state] = int(n)
        return out

    def receipts(self, institution_code: str) -> list[BlankReceipt]:
        rows = self._db.execute(
            "SELECT id, institution_code, received_on, first_serial, last_serial, count, source, note "
            "FROM blank_receipts WHERE institution_code = ? ORDER BY received_on, id",
            (institution_code,),
        )
        return [_receipt(r) for r in rows]

    def history(self, serial: str) -> list[AuditEntry]:
        """A sheet's trace from the audit log: its receipt, then every step of the sheet itself."""
        sheet = self.sheet(serial)
        rows = self._db.execute(
            "SELECT * FROM audit WHERE (entity = 'blank_receipt' AND entity_key = ?) "
            "OR (entity = 'blank_sheet' AND entity_key = ?) ORDER BY seq",
            (str(sheet.receipt_id), sheet.serial),
        )
        return [AuditEntry.from_row(r) for r in rows]

    def report(self, institution_code: str, period: Period) -> StockReport:
        """The stock reconciliation of one institution for ``period`` (e.g. a half year, 第七条)."""
        name = self._blank_institution(self._db, institution_code, active=False)
        start, end = period.start.isoformat(), period.end.isoformat()
        rows = self._db.execute(
            "SELECT s.serial, r.received_on, s.state, s.certificate_id, s.changed_on, s.reason "
            "FROM blank_sheets s JOIN blank_receipts r ON r.id = s.receipt_id "
            "WHERE s.institution_code = ? AND r.received_on <= ? "
            "AND NOT (s.state IN ('printed', 'destroyed') AND s.changed_on < ?)",
            (institution_code, end, start),
        ).fetchall()
        destroyed = [r[0] for r in rows if r[2] == "destroyed"]
        events: dict[str, BlankDestroyed] = {}
        for chunk in _chunks(destroyed):
            q = ",".join("?" * len(chunk))
            for key, before, after in self._db.execute(
                "SELECT entity_key, before, after FROM audit WHERE entity = 'blank_sheet' "
                f"AND entity_key IN ({q}) AND action = 'blank_destroy'",
                chunk,
            ):
                events[key] = BlankDestroyed.decode(json.loads(before), json.loads(after))
        timelines: list[SheetTimeline] = []
        for serial, received_on, state, cid, changed_on, reason in rows:
            received = date.fromisoformat(received_on)
            changed = date.fromisoformat(changed_on) if changed_on else None
            if state == "in_stock":
                timelines.append(SheetTimeline(serial=serial, received_on=received))
            elif state == "printed":
                timelines.append(
                    SheetTimeline(serial=serial, received_on=received, printed_on=changed, certificate_id=cid)
                )
            elif state == "spoiled":
                timelines.append(
                    SheetTimeline(serial=serial, received_on=received, spoiled_on=changed, spoil_reason=reason or "")
                )
            else:
                if serial not in events:
                    raise RegistryError(
                        f"已销毁的空白证书 {serial} 在审计日志中没有销毁记录",
                        f"destroyed blank sheet {serial} has no destruction entry in the audit log",
                    )
                ev = events[serial]
                spoiled = ev.was_state == "spoiled"
                timelines.append(
                    SheetTimeline(
                        serial=serial,
                        received_on=received,
                        spoiled_on=ev.spoiled_on if spoiled else None,
                        spoil_reason=(ev.spoil_reason or "") if spoiled else "",
                        destroyed_on=changed,
                        destroy_reason=ev.reason or reason or "",
                        witness=ev.witness,
                    )
                )
        return reconcile(
            institution_code,
            period,
            timelines,
            self.receipts(institution_code),
            institution_name=name,
        )

    def reports(self, period: Period) -> list[StockReport]:
        """:meth:`report` for every institution that has received blank sheets."""
        codes = [r[0] for r in self._db.execute("SELECT DISTINCT institution_code FROM blank_receipts ORDER BY 1")]
        return [self.report(code, period) for code in codes]


def _state_zh(state: str) -> str:
    return {"spoiled": "作废", "destroyed": "销毁", "printed": "打印"}.get(state, state)
