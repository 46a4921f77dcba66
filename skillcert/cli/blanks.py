"""``skillcert blanks``: the paper blank-certificate ledger (001_… 第五-七条, 002_… 第十八条)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import click

from registry import Period, StockReport, export_blank_report, parse_period
from registry.blanks import SHEET_STATES, BlankSheet, expand_serials, parse_serial
from registry.errors import SkillcertError

from ._runtime import INSTITUTION_HELP, JSON_HELP, emit, errors_mapped, open_registry, settings

_DATE = click.DateTime(["%Y-%m-%d"])


def _day(v: datetime | None) -> date:
    return v.date() if v else date.today()


def _period(ctx: click.Context, param: click.Parameter, value: str) -> Period:
    try:
        return parse_period(value)
    except SkillcertError as e:
        raise click.BadParameter(f"{e.zh} / {e.en}", ctx, param) from e


@click.group("blanks")
def blanks() -> None:
    """空白证书台账：入库、领用、作废、销毁、盘点 / the blank-certificate stock ledger."""


@blanks.command("receive")
@click.option("--institution", "code", required=True, help="机构编码 / institution code")
@click.option("--first", "first", required=True, help="起始编号 / first serial, e.g. BJ2026000001")
@click.option("--last", "last", required=True, help="终止编号 / last serial (same prefix and width)")
@click.option("--on", "on", type=_DATE, required=True, help="入库日期 / received on (YYYY-MM-DD)")
@click.option("--source", required=True, help="来源（供货方、联盟）/ supplier or issuing body")
@click.option("--note", default="", help="备注 / note")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def receive(code: str, first: str, last: str, on: datetime, source: str, note: str, as_json: bool) -> None:
    """空白证书入库 / put a delivery of blank sheets into stock."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        receipt = reg.blanks.receive(
            code, first_serial=first, last_serial=last, on=on.date(), source=source, note=note, actor=s.actor
        )
        stock = reg.blanks.stock(code)["in_stock"]
    emit(
        {**receipt.as_dict(), "in_stock": stock},
        as_json,
        f"已入库 received: {receipt.count} 张 sheets {receipt.first_serial}–{receipt.last_serial} "
        f"({receipt.received_on}, {receipt.source}); 库存 in stock: {stock}",
    )


@blanks.command("spoil")
@click.argument("serial")
@click.option("--reason", required=True, help="作废原因 / why (misprint, jam, damage)")
@click.option("--on", "on", type=_DATE, help="作废日期（默认今天）/ date, default today")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def spoil(serial: str, reason: str, on: datetime | None, as_json: bool) -> None:
    """登记作废的空白证书 / record an unused sheet as spoiled."""
    s = settings()
    day = _day(on)
    with errors_mapped(as_json), open_registry(s) as reg:
        reg.blanks.spoil(serial, on=day, reason=reason, actor=s.actor)
        sheet = reg.blanks.sheet(serial)
    emit(sheet.as_dict(), as_json, f"已作废 spoiled: {sheet.serial} ({day}): {reason}")


@blanks.command("destroy")
@click.argument("serials", nargs=-1, required=True)
@click.option("--reason", required=True, help="销毁原因 / why")
@click.option("--witness", required=True, help="监销人 / who witnessed the destruction")
@click.option("--on", "on", type=_DATE, help="销毁日期（默认今天）/ date, default today")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def destroy(serials: tuple[str, ...], reason: str, witness: str, on: datetime | None, as_json: bool) -> None:
    """销毁作废或多余的空白证书（可写 FIRST..LAST）/ destroy spoiled or surplus sheets (FIRST..LAST ranges too)."""
    s = settings()
    day = _day(on)
    with errors_mapped(as_json):
        wanted = expand_serials(serials)
        with open_registry(s) as reg:
            before = reg.blanks.destroy(wanted, on=day, reason=reason, witness=witness, actor=s.actor)
    from_spoiled = sum(1 for v in before.values() if v == "spoiled")
    emit(
        {"destroyed": before, "on": day.isoformat(), "reason": reason, "witness": witness},
        as_json,
        f"已销毁 destroyed: {len(before)} 张 sheets ({day}; 作废 spoiled {from_spoiled}, "
        f"库存 from stock {len(before) - from_spoiled}); 监销人 witness: {witness}",
    )


def _ranges(items: Iterable[tuple[str, tuple[object, ...]]]) -> list[tuple[str, int, tuple[object, ...]]]:
    """Consecutive serials with the same key as one ``FIRST–LAST`` range: (range, count, key)."""
    out: list[tuple[str, int, tuple[object, ...]]] = []
    first = last = ""
    n, prev = 0, ("", -1, -1)
    key: tuple[object, ...] = ()

    def close() -> None:
        if n:
            out.append((first if n == 1 else f"{first}–{last}", n, key))

    for serial, k in items:
        p, num, w = parse_serial(serial)
        if n and k == key and (p, w) == (prev[0], prev[2]) and num == prev[1] + 1:
            last, n = serial, n + 1
        else:
            close()
            first = last = serial
            n, key = 1, k
        prev = (p, num, w)
    close()
    return out


def _runs(sheets: list[BlankSheet]) -> list[str]:
    """Text lines: consecutive sheets with the same fate as one range, printed sheets one by one."""
    lines = []
    for rng, n, (state, _receipt, changed, reason, _one, number, received) in _ranges(
        (
            x.serial,
            (
                x.state,
                x.receipt_id,
                x.changed_on,
                x.reason,
                x.serial if x.certificate_id is not None else None,
                x.certificate_number,
                x.received_on,
            ),
        )
        for x in sheets
    ):
        when = f"  {changed}" if changed else f"  入库 received {received}"
        what = f"  {number}" if number else ""
        why = f"  {reason}" if reason else ""
        lines.append(f"{rng}  {state:9} {n:>6}{when}{what}{why}")
    return lines


@blanks.command("list")
@click.option("--institution", "code", required=True, help=INSTITUTION_HELP)
@click.option("--state", type=click.Choice(list(SHEET_STATES)), help="只列此状态 / only this state")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def list_(code: str, state: str | None, as_json: bool) -> None:
    """列出空白证书台账 / list the blank-sheet ledger of an institution."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        reg.institutions.get(code)  # NotFound if unknown
        stock = reg.blanks.stock(code)
        sheets = reg.blanks.sheets(code, state=state)
    head = f"{code} 空白证书 blank sheets: " + " · ".join(f"{SHEET_STATES[k]} {k} {n}" for k, n in stock.items())
    emit(
        {"institution_code": code, "counts": stock, "sheets": [x.as_dict() for x in sheets]},
        as_json,
        "\n".join([head, *(_runs(sheets) or ["（无 none）"])]),
    )


def _text(r: StockReport) -> str:
    rate = f"{r.spoilage_rate:.1%}" if r.spoilage_rate is not None else "—"
    lines = [
        f"空白证书盘点 blank-stock reconciliation {r.institution_code} {r.institution_name} "
        f"{r.period.label} ({r.period.start}..{r.period.end})",
        f"  期初库存 opening stock          {r.opening_stock:>8}",
        f"  + 入库 received                 {r.received:>8}",
        f"  − 领用打印 printed              {r.printed:>8}",
        f"  − 作废 spoiled                  {r.spoiled:>8}",
        f"  − 库存销毁 destroyed from stock {r.destroyed_from_stock:>8}",
        f"  = 期末库存 closing stock        {r.closing_stock:>8}   "
        + ("平衡 balances" if r.balances else "不平衡 DOES NOT BALANCE"),
        f"  待销毁废证 spoiled awaiting destruction: {r.opening_spoiled} → {r.closing_spoiled} "
        f"(销毁 destroyed {r.destroyed_from_spoiled})",
        f"  废证率 spoilage rate: {rate}",
    ]
    for rc in r.receipts:
        lines.append(f"  入库 received {rc.received_on}: {rc.first_serial}–{rc.last_serial} ×{rc.count} ({rc.source})")
    for rng, n, (on, reason) in _ranges((sp.serial, (sp.on, sp.reason)) for sp in r.spoiled_sheets):
        lines.append(f"  作废 spoiled {on}: {rng} ×{n} — {reason}")
    for rng, n, (on, src, reason, witness) in _ranges(
        (d.serial, (d.on, "作废 spoiled" if d.spoiled_on else "库存 stock", d.reason, d.witness))
        for d in r.destroyed_sheets
    ):
        lines.append(f"  销毁 destroyed {on}: {rng} ×{n} ({src}) — {reason}; 监销人 witness {witness}")
    return "\n".join(lines)


@blanks.command("report")
@click.option("--institution", "code", help="机构编码（默认全部）/ institution code (default: all with blanks)")
@click.option(
    "--period",
    "period",
    required=True,
    callback=_period,
    help="报告期：半年、季度、全年或日期区间 / period: 2026H1 · 2026H2 · 2026Q3 · 2026 · D1..D2",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="写出 .xlsx 或 .csv / write XLSX or CSV")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def report(code: str | None, period: Period, out: Path | None, as_json: bool) -> None:
    """半年盘点：期初、入库、打印、作废、销毁、期末 / stock reconciliation for a period (第七条)."""
    s = settings()
    with errors_mapped(as_json):
        with open_registry(s) as reg:
            reports = [reg.blanks.report(code, period)] if code else reg.blanks.reports(period)
        if out is not None:
            export_blank_report(reports, out)
    text = "\n\n".join(_text(r) for r in reports) or "（无空白证书台账 no blank-stock ledger）"
    if out is not None:
        text += f"\n已导出 exported → {out}"
    data = {"reports": [r.as_dict() for r in reports], "out": str(out) if out else None}
    emit(data if not code else {**reports[0].as_dict(), "out": data["out"]}, as_json, text)
