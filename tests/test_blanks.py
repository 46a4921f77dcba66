"""The paper blank-stock ledger (001_… 第五-七条, 002_… 第十八条): receipt, printing, spoiling,
destruction, the half-yearly reconciliation, its export, the triggers, the audit trail and the CLI."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from registry import CertStatus, Registry, export_blank_report, parse_period
from registry.blanks import SheetTimeline, expand_serials, reconcile, serial_range
from registry.errors import NotFound, RuleViolation, SkillcertError
from skillcert.cli import cli
from skillcert.cli.blanks import blanks
from skillcert.demo import DEMO_DIR

from .conftest import DEMO_CODES, add_pending
from .raw_sql import Raw

BJ = DEMO_CODES["beijing"]
GD = DEMO_CODES["guangdong"]
D = date.fromisoformat


def receive(reg: Registry, first: str, last: str, on: str = "2026-03-02", code: str = BJ) -> int:
    return reg.blanks.receive(code, first_serial=first, last_serial=last, on=D(on), source="北京联盟", actor="t").id


def issued(reg: Registry, n: int, *, seed: int = 7, on: str = "2026-03-02", code: str = BJ) -> list[int]:
    add_pending(reg, n, seed=seed, code=code)
    return [cid for cid, _ in reg.certificates.issue(code, D(on), actor="t")]


def span(text: str) -> tuple[date, date]:
    p = parse_period(text)
    return p.start, p.end


def audit_len(reg: Registry) -> int:
    return reg.audit.head()[0]


# -- serials and periods ---------------------------------------------------------------------
def test_serial_ranges_and_periods() -> None:
    r = serial_range("bj2026000001", "ＢＪ2026000100")
    assert (r.prefix, r.width, r.count, r.first_serial, r.last_serial) == (
        "BJ",
        10,
        100,
        "BJ2026000001",
        "BJ2026000100",
    )
    assert serial_range("0099", "0101").count == 3 and list(serial_range("A-09", "A-11")) == ["A-09", "A-10", "A-11"]
    assert expand_serials(["bj001..bj003", "X7"]) == ["BJ001", "BJ002", "BJ003", "X7"]
    for a, b, en in [
        ("BJ2026000001", "SH2026000009", "prefixes differ"),
        ("BJ2026000001", "BJ202600009", "differ in width"),
        ("BJ2026000009", "BJ2026000001", "comes before"),
    ]:
        with pytest.raises(RuleViolation) as e:
            serial_range(a, b)
        assert a in e.value.en and en in e.value.diagnostics()
    with pytest.raises(RuleViolation, match="BJ-"):
        serial_range("BJ-", "BJ-")
    with pytest.raises(RuleViolation, match="split it"):
        serial_range("A000000", "A999999")
    assert span("2026H1") == (D("2026-01-01"), D("2026-06-30"))
    assert span("2026h2") == (D("2026-07-01"), D("2026-12-31"))
    assert span("2026Q4") == (D("2026-10-01"), D("2026-12-31"))
    assert span("2026") == (D("2026-01-01"), D("2026-12-31"))
    assert parse_period("2026-02-01..2026-02-28").end == D("2026-02-28")
    for bad in ("2026H3", "H1", "2026-06-30..2026-01-01", "2026-02-30..2026-03-01"):
        with pytest.raises(SkillcertError, match="period"):
            parse_period(bad)


# -- receipt ---------------------------------------------------------------------------------
def test_receive_puts_every_sheet_in_stock(reg: Registry) -> None:
    rid = receive(reg, "bj2026000001", "BJ2026000100")
    sheets = reg.blanks.sheets(BJ)
    assert [s.serial for s in sheets[:2]] == ["BJ2026000001", "BJ2026000002"] and len(sheets) == 100
    assert {s.state for s in sheets} == {"in_stock"} and {s.receipt_id for s in sheets} == {rid}
    assert reg.blanks.stock(BJ) == {"in_stock": 100, "printed": 0, "spoiled": 0, "destroyed": 0}
    (rc,) = reg.blanks.receipts(BJ)
    assert (rc.count, rc.first_serial, rc.received_on, rc.source) == (100, "BJ2026000001", D("2026-03-02"), "北京联盟")
    (entry,) = reg.audit.entries(entity="blank_receipt", key=str(rid))
    assert entry.action == "blank_receive" and entry.after["count"] == 100 and entry.actor == "t"


def test_receive_refuses_overlap_and_bad_input_writing_nothing(reg: Registry) -> None:
    receive(reg, "BJ2026000101", "BJ2026000200")
    seq = audit_len(reg)
    for first, last in [
        ("BJ2026000050", "BJ2026000101"),  # touches the first sheet
        ("BJ2026000200", "BJ2026000300"),  # touches the last
        ("BJ2026000150", "BJ2026000150"),  # inside
        ("BJ2026000001", "BJ2026009999"),  # around
    ]:
        with pytest.raises(RuleViolation) as e:
            receive(reg, first, last)
        assert "overlaps" in e.value.en and first in e.value.en and "BJ2026000" in e.value.zh
    with pytest.raises(RuleViolation, match="overlaps 100 blank sheet"):
        receive(reg, "BJ2026000001", "BJ2026009999", code=GD)  # the serials are taken, whoever asks
    with pytest.raises(NotFound):
        receive(reg, "BJ2026000001", "BJ2026000002", code="S000011089999")
    with pytest.raises(RuleViolation, match="source"):
        reg.blanks.receive(
            BJ, first_serial="BJ2026000001", last_serial="BJ2026000002", on=D("2026-03-02"), source=" ", actor="t"
        )
    assert audit_len(reg) == seq and reg.blanks.stock(BJ)["in_stock"] == 100 and len(reg.blanks.receipts(BJ)) == 1
    # adjacent ranges and another series (other width, other prefix) are not overlaps
    receive(reg, "BJ2026000201", "BJ2026000300")
    receive(reg, "BJ202600150", "BJ202600160")
    receive(reg, "BJ2026000150X1", "BJ2026000150X2")
    assert reg.blanks.stock(BJ)["in_stock"] == 100 + 100 + 11 + 2


def _statements(reg: Registry, first: str, last: str) -> int:
    """How many SQL statements receiving ``first``..``last`` runs (counted, not timed)."""
    seen: list[str] = []
    reg.db.connection.set_trace_callback(seen.append)
    try:
        receive(reg, first, last)
    finally:
        reg.db.connection.set_trace_callback(None)
    return len(seen)


@pytest.mark.sqlite_only  # counts statements with SQLite's trace callback
def test_receiving_sheets_costs_one_insert_each_and_nothing_more_with_stock(reg: Registry) -> None:
    """Counted, not timed: a receipt runs a fixed number of statements plus one insert per sheet
    (each sheet is a row: it can be spoiled or destroyed alone), and the overlap check stays a
    range look-up — receiving into a stock of 10,000 costs what receiving into none did."""
    small = _statements(reg, "BJ2026000001", "BJ2026000010")
    large = _statements(reg, "BJ2026000011", "BJ2026010010")
    again = _statements(reg, "BJ2026010011", "BJ2026020010")  # with 10,010 sheets already in stock
    assert reg.blanks.stock(BJ)["in_stock"] == 20_010
    assert large - small == 10_000 - 10 and again == large, (small, large, again)


# -- printing --------------------------------------------------------------------------------
def test_draw_lowest_serial_in_order(reg: Registry) -> None:
    receive(reg, "BJ2026000011", "BJ2026000020")
    receive(reg, "BJ2026000001", "BJ2026000010", on="2026-03-01")
    ids = issued(reg, 5)
    assert reg.blanks.draw(BJ, ids[0], on=D("2026-03-02"), actor="t") == "BJ2026000001"
    got = reg.blanks.draw_many(BJ, [ids[3], ids[1], ids[2]], on=D("2026-03-02"), actor="t")
    assert got == {ids[3]: "BJ2026000002", ids[1]: "BJ2026000003", ids[2]: "BJ2026000004"}
    sheet = reg.blanks.sheet("bj2026000002")
    number = reg.certificates.by_id(ids[3]).number
    assert (sheet.state, sheet.certificate_id, sheet.certificate_number, sheet.changed_on) == (
        "printed",
        ids[3],
        number,
        D("2026-03-02"),
    )
    (entry,) = reg.audit.entries(entity="blank_sheet", key="BJ2026000002")
    assert entry.action == "blank_print" and entry.before == {"state": "in_stock"}
    assert entry.after == {"state": "printed", "on": "2026-03-02", "certificate_id": ids[3], "number": number}
    assert reg.blanks.stock(BJ) == {"in_stock": 16, "printed": 4, "spoiled": 0, "destroyed": 0}
    assert reg.blanks.draw_many(BJ, [], on=D("2026-03-02"), actor="t") == {}


def test_draw_refusals(reg: Registry) -> None:
    receive(reg, "BJ2026000001", "BJ2026000010")
    ids = issued(reg, 3)
    reg.blanks.draw(BJ, ids[0], on=D("2026-03-02"), actor="t")
    add_pending(reg, 1, seed=8)
    (pending,) = [c.id for c in reg.certificates.select(institution_code=BJ, status=CertStatus.PENDING)]
    seq = audit_len(reg)
    with pytest.raises(RuleViolation, match="already printed on blank sheet BJ2026000001"):
        reg.blanks.draw(BJ, ids[0], on=D("2026-03-02"), actor="t")
    with pytest.raises(RuleViolation, match="already printed"):  # inside a batch too: nothing of it is drawn
        reg.blanks.draw_many(BJ, [ids[1], ids[0]], on=D("2026-03-02"), actor="t")
    with pytest.raises(RuleViolation, match="listed twice"):
        reg.blanks.draw_many(BJ, [ids[1], ids[1]], on=D("2026-03-02"), actor="t")
    with pytest.raises(RuleViolation, match="only numbered, valid certificates"):
        reg.blanks.draw(BJ, pending, on=D("2026-03-02"), actor="t")
    with pytest.raises(NotFound, match="has no record"):
        reg.blanks.draw(GD, ids[1], on=D("2026-03-02"), actor="t")
    with pytest.raises(NotFound):
        reg.blanks.draw(BJ, 99_999, on=D("2026-03-02"), actor="t")
    with pytest.raises(RuleViolation, match="never printed"):
        reg.blanks.draw(BJ, ids[1], on=D("2026-03-02"), actor="t", replacement=True)
    assert audit_len(reg) == seq and reg.blanks.stock(BJ)["printed"] == 1
    # a damaged printed certificate is reissued (补发) on a new sheet; the old sheet stays printed
    new = reg.blanks.draw(BJ, ids[0], on=D("2026-03-05"), actor="t", replacement=True)
    assert new == "BJ2026000002" and reg.blanks.sheet(new).reason == "补发 replacement"
    assert next(reg.audit.entries(entity="blank_sheet", key=new)).after["replaces"] == ["BJ2026000001"]


def test_exhausted_stock_refused_and_nothing_written(reg: Registry) -> None:
    receive(reg, "BJ2026000001", "BJ2026000002")
    receive(reg, "BJ2026000003", "BJ2026000003", on="2026-04-01")  # not yet received on 2026-03-02
    ids = issued(reg, 4)
    seq = audit_len(reg)
    with pytest.raises(RuleViolation) as e:
        reg.blanks.draw_many(BJ, ids[:3], on=D("2026-03-02"), actor="t")
    assert "3 needed, 2 in stock on 2026-03-02 (1 more received after 2026-03-02)" in e.value.en
    assert "库存不足" in e.value.zh and "2 张" in e.value.zh
    assert audit_len(reg) == seq and reg.blanks.stock(BJ)["in_stock"] == 3
    assert reg.blanks.draw_many(BJ, ids[:3], on=D("2026-04-01"), actor="t")[ids[2]] == "BJ2026000003"
    with pytest.raises(RuleViolation, match="1 needed, 0 in stock on 2026-04-01"):
        reg.blanks.draw(BJ, ids[3], on=D("2026-04-01"), actor="t")
    assert reg.blanks.stock(BJ) == {"in_stock": 0, "printed": 3, "spoiled": 0, "destroyed": 0}


# -- spoiling and destruction ----------------------------------------------------------------
def test_spoil_rules(reg: Registry) -> None:
    receive(reg, "BJ2026000001", "BJ2026000010")
    (cid,) = issued(reg, 1)
    reg.blanks.spoil("BJ2026000001", on=D("2026-03-03"), reason="卡纸 paper jam", actor="t")
    sheet = reg.blanks.sheet("BJ2026000001")
    assert (sheet.state, sheet.changed_on, sheet.reason) == ("spoiled", D("2026-03-03"), "卡纸 paper jam")
    # the next print skips the spoiled sheet
    assert reg.blanks.draw(BJ, cid, on=D("2026-03-03"), actor="t") == "BJ2026000002"
    seq = audit_len(reg)
    with pytest.raises(RuleViolation, match="already spoiled on 2026-03-03"):
        reg.blanks.spoil("BJ2026000001", on=D("2026-03-04"), reason="again", actor="t")
    with pytest.raises(RuleViolation) as e:
        reg.blanks.spoil("BJ2026000002", on=D("2026-03-04"), reason="smudged", actor="t")
    number = reg.certificates.by_id(cid).number
    assert number is not None and number in e.value.en and "only moves forward" in e.value.en and "补发" in e.value.zh
    with pytest.raises(RuleViolation, match="before blank sheet BJ2026000003 was received"):
        reg.blanks.spoil("BJ2026000003", on=D("2026-03-01"), reason="x", actor="t")
    with pytest.raises(RuleViolation, match="reason"):
        reg.blanks.spoil("BJ2026000003", on=D("2026-03-04"), reason="  ", actor="t")
    with pytest.raises(NotFound, match="BJ2026000099"):
        reg.blanks.spoil("BJ2026000099", on=D("2026-03-04"), reason="x", actor="t")
    assert audit_len(reg) == seq


def test_destroy_rules(reg: Registry) -> None:
    receive(reg, "BJ2026000001", "BJ2026000010")
    (cid,) = issued(reg, 1)
    reg.blanks.draw(BJ, cid, on=D("2026-03-02"), actor="t")  # BJ2026000001
    reg.blanks.spoil("BJ2026000002", on=D("2026-03-10"), reason="misprint", actor="t")
    seq = audit_len(reg)
    refusals = [
        (["BJ2026000002", "BJ2026000001"], {}, "printed as certificate"),
        (["BJ2026000002", "BJ2026000002"], {}, "listed twice"),
        (["BJ2026000002", "BJ2026000077"], {}, "not in the ledger"),
        (["BJ2026000002"], {"on": D("2026-03-09")}, "before blank sheet BJ2026000002 was spoiled"),
        (["BJ2026000003"], {"on": D("2026-03-01")}, "before blank sheet BJ2026000003 was received"),
        (["BJ2026000003"], {"witness": ""}, "witness"),
        ([], {}, "no blank sheets"),
    ]
    for serials, kw, msg in refusals:
        args = {"on": D("2026-03-20"), "reason": "年度销毁", "witness": "李四", **kw}
        with pytest.raises(SkillcertError, match=msg):
            reg.blanks.destroy(serials, actor="t", **args)  # type: ignore[arg-type]
    assert audit_len(reg) == seq and reg.blanks.sheet("BJ2026000002").state == "spoiled"
    before = reg.blanks.destroy(
        ["bj2026000002", "BJ2026000009", "BJ2026000010"],
        on=D("2026-03-20"),
        reason="年度销毁",
        witness="李四",
        actor="t",
    )
    assert before == {"BJ2026000002": "spoiled", "BJ2026000009": "in_stock", "BJ2026000010": "in_stock"}
    assert reg.blanks.stock(BJ) == {"in_stock": 6, "printed": 1, "spoiled": 0, "destroyed": 3}
    with pytest.raises(RuleViolation, match="already destroyed on 2026-03-20"):
        reg.blanks.destroy(["BJ2026000009"], on=D("2026-03-21"), reason="x", witness="y", actor="t")
    history = reg.blanks.history("BJ2026000002")
    assert [e.action for e in history] == ["blank_receive", "blank_spoil", "blank_destroy"]
    assert history[-1].before == {"state": "spoiled", "on": "2026-03-10", "reason": "misprint"}
    assert history[-1].after == {"state": "destroyed", "on": "2026-03-20", "reason": "年度销毁", "witness": "李四"}


# -- the reconciliation ----------------------------------------------------------------------
def _activity(reg: Registry) -> list[int]:
    """Before 2026H2: 100 received, 3 printed, 2 spoiled (1 destroyed), 1 destroyed from stock.
    Inside 2026H2: 50 received, 4 printed, 3 spoiled, 1 old + 1 new spoiled destroyed, 2 surplus destroyed."""
    ids = issued(reg, 7, on="2026-03-02")
    receive(reg, "BJ2026000001", "BJ2026000100", on="2026-03-02")
    reg.blanks.draw_many(BJ, ids[:3], on=D("2026-03-05"), actor="t")  # 001-003
    reg.blanks.spoil("BJ2026000004", on=D("2026-03-05"), reason="卡纸", actor="t")
    reg.blanks.spoil("BJ2026000005", on=D("2026-05-05"), reason="污损", actor="t")
    reg.blanks.destroy(
        ["BJ2026000004", "BJ2026000100"], on=D("2026-06-30"), reason="半年销毁", witness="李四", actor="t"
    )
    receive(reg, "BJ2026000101", "BJ2026000150", on="2026-07-01")
    reg.blanks.draw_many(BJ, ids[3:7], on=D("2026-08-01"), actor="t")  # 006-009
    for serial, on in [("BJ2026000010", "2026-08-01"), ("BJ2026000011", "2026-09-01"), ("BJ2026000120", "2026-12-31")]:
        reg.blanks.spoil(serial, on=D(on), reason="错印", actor="t")
    reg.blanks.destroy(
        ["BJ2026000005", "BJ2026000010", "BJ2026000149", "BJ2026000150"],
        on=D("2026-12-30"),
        reason="年终销毁",
        witness="王五",
        actor="t",
    )
    return ids


def test_report_balances_over_a_period_with_earlier_activity(reg: Registry) -> None:
    _activity(reg)
    h1, h2 = reg.blanks.report(BJ, parse_period("2026H1")), reg.blanks.report(BJ, parse_period("2026H2"))
    assert (h1.opening_stock, h1.received, h1.printed, h1.spoiled, h1.destroyed_from_stock, h1.closing_stock) == (
        0,
        100,
        3,
        2,
        1,
        94,
    )
    assert (h1.opening_spoiled, h1.destroyed_from_spoiled, h1.closing_spoiled) == (0, 1, 1)
    assert (h2.opening_stock, h2.received, h2.printed, h2.spoiled, h2.destroyed_from_stock, h2.closing_stock) == (
        94,
        50,
        4,
        3,
        2,
        135,
    )
    assert (h2.opening_spoiled, h2.destroyed_from_spoiled, h2.closing_spoiled) == (1, 2, 2)
    for r in (h1, h2):
        assert r.balances
        assert r.closing_stock == r.opening_stock + r.received - r.printed - r.spoiled - r.destroyed_from_stock
        assert r.closing_spoiled == r.opening_spoiled + r.spoiled - r.destroyed_from_spoiled
    assert h2.institution_name and h2.spoilage_rate == pytest.approx(3 / 7)
    assert [s.serial for s in h2.spoiled_sheets] == ["BJ2026000010", "BJ2026000011", "BJ2026000120"]
    assert [(d.serial, d.source, d.witness) for d in h2.destroyed_sheets] == [
        ("BJ2026000005", "spoiled", "王五"),
        ("BJ2026000010", "spoiled", "王五"),
        ("BJ2026000149", "in_stock", "王五"),
        ("BJ2026000150", "in_stock", "王五"),
    ]
    assert h2.destroyed_sheets[0].spoiled_on == D("2026-05-05") and [r.count for r in h2.receipts] == [50]
    # a period that ends after all activity closes on what the ledger holds now
    year = reg.blanks.report(BJ, parse_period("2026"))
    assert year.closing_stock == reg.blanks.stock(BJ)["in_stock"] == 135
    assert year.closing_spoiled == reg.blanks.stock(BJ)["spoiled"] == 2
    assert (year.opening_stock, year.received, year.destroyed) == (0, 150, 6) and year.balances
    empty = reg.blanks.report(GD, parse_period("2026H2"))
    assert empty.opening_stock == empty.closing_stock == 0 and empty.balances
    assert [r.institution_code for r in reg.blanks.reports(parse_period("2026H2"))] == [BJ]
    with pytest.raises(NotFound):
        reg.blanks.report("S000011089999", parse_period("2026H2"))


def test_random_ledger_always_balances(reg: Registry) -> None:
    rng = random.Random(2026)
    ids = issued(reg, 60, on="2026-01-05")
    day, next_serial, left = D("2025-12-01"), 1, list(ids)
    for _ in range(160):
        day += timedelta(days=rng.randrange(0, 4))
        op = rng.random()
        stock = [s.serial for s in reg.blanks.sheets(BJ, state="in_stock") if s.received_on <= day]
        if op < 0.15 or not stock:
            n = rng.randrange(1, 15)
            receive(reg, f"T{next_serial:05d}", f"T{next_serial + n - 1:05d}", on=day.isoformat())
            next_serial += n
        elif op < 0.45 and left and day >= D("2026-01-05"):
            reg.blanks.draw(BJ, left.pop(0), on=day, actor="t")
        elif op < 0.7:
            reg.blanks.spoil(rng.choice(stock), on=day, reason="r", actor="t")
        else:
            spoiled = [s.serial for s in reg.blanks.sheets(BJ, state="spoiled")]
            pick = rng.sample(spoiled, min(len(spoiled), rng.randrange(0, 3))) + rng.sample(stock, min(len(stock), 1))
            reg.blanks.destroy(pick, on=day, reason="r", witness="w", actor="t")
    periods = [parse_period(p) for p in ("2025H2", "2026H1", "2026H2", "2026Q1", "2026Q2", "2025-12-10..2026-02-20")]
    for p in periods:
        r = reg.blanks.report(BJ, p)
        assert r.balances, (p, r)
    h1, h2 = reg.blanks.report(BJ, periods[1]), reg.blanks.report(BJ, periods[2])
    assert h1.closing_stock == h2.opening_stock and h1.closing_spoiled == h2.opening_spoiled
    whole = reg.blanks.report(BJ, parse_period("2025-01-01..2030-12-31"))
    now = reg.blanks.stock(BJ)
    assert (whole.closing_stock, whole.closing_spoiled, whole.printed) == (
        now["in_stock"],
        now["spoiled"],
        now["printed"],
    )
    assert whole.destroyed == now["destroyed"] and whole.received == sum(now.values())
    assert reg.audit.verify_chain() is None


def test_reconcile_flags_an_inconsistent_history() -> None:
    p = parse_period("2026H1")
    ok = reconcile(BJ, p, [SheetTimeline(serial="A1", received_on=D("2026-02-01"), printed_on=D("2026-03-01"))])
    assert ok.balances and (ok.received, ok.printed, ok.closing_stock) == (1, 1, 0)
    # a sheet that left the stock before it arrived (the store refuses to write this) shows as unbalanced
    bad = reconcile(BJ, p, [SheetTimeline(serial="A1", received_on=D("2026-03-01"), printed_on=D("2025-12-01"))])
    assert not bad.balances


def test_export_xlsx_and_csv(reg: Registry, tmp_path: Path) -> None:
    _activity(reg)
    report = reg.blanks.report(BJ, parse_period("2026H2"))
    out = export_blank_report([report], tmp_path / "r" / "blanks.xlsx")
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["盘点 Reconciliation", "明细 Lines", "作废 Spoiled", "销毁 Destroyed"]
    rows = list(wb["盘点 Reconciliation"].iter_rows(values_only=True))
    head, row = rows[0], rows[1]
    get = {str(h).split(" ", 1)[1]: v for h, v in zip(head, row, strict=True)}
    assert get["institution"] == BJ and get["period"] == "2026H2" and get["from"] == "2026-07-01"
    assert (get["opening stock"], get["received"], get["printed"], get["spoiled"]) == (94, 50, 4, 3)
    assert (get["destroyed from stock"], get["closing stock"], get["balances"]) == (2, 135, "是 yes")
    assert (
        get["closing stock"]
        == get["opening stock"] + get["received"] - get["printed"] - get["spoiled"] - get["destroyed from stock"]
    )
    assert "期末库存 = 期初库存" in str(rows[-1][0])
    destroyed = list(wb["销毁 Destroyed"].iter_rows(values_only=True))[1:]
    assert (destroyed[0][1], destroyed[0][3], destroyed[0][6]) == ("BJ2026000005", "作废 spoiled", "王五") and len(
        destroyed
    ) == 4
    assert [r[1] for r in list(wb["作废 Spoiled"].iter_rows(values_only=True))[1:]] == [
        "BJ2026000010",
        "BJ2026000011",
        "BJ2026000120",
    ]
    wb.close()
    path = export_blank_report([report], tmp_path / "blanks.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    count = {}
    for line in lines:
        item = line["项目 item"].split(" ")[1]
        count[item] = count.get(item, 0) + int(line["数量 count"])
    assert count == {
        "opening_stock": 94,
        "opening_spoiled": 1,
        "received": 50,
        "printed": 4,
        "spoiled": 3,
        "destroyed_spoiled": 2,
        "destroyed_from_stock": 2,
        "closing_stock": 135,
        "closing_spoiled": 2,
    }
    with pytest.raises(SkillcertError, match="csv or xlsx"):
        export_blank_report([report], tmp_path / "r.pdf")
    assert not list(tmp_path.rglob(".blanks-*"))  # written by rename: no temporary file is left


# -- the database refuses on its own -----------------------------------------------------------
def test_triggers_refuse_delete_and_going_back(reg: Registry) -> None:
    receive(reg, "BJ2026000001", "BJ2026000005")
    (cid,) = issued(reg, 1)
    reg.blanks.draw(BJ, cid, on=D("2026-03-02"), actor="t")  # 001 printed
    reg.blanks.spoil("BJ2026000002", on=D("2026-03-02"), reason="x", actor="t")
    reg.blanks.spoil("BJ2026000003", on=D("2026-03-02"), reason="x", actor="t")
    reg.blanks.destroy(["BJ2026000003"], on=D("2026-03-03"), reason="x", witness="w", actor="t")
    conn = Raw(reg)
    try:
        for sql in ("DELETE FROM blank_sheets WHERE serial = 'BJ2026000005'", "DELETE FROM blank_receipts"):
            with pytest.raises(conn.Error, match="never deleted"):
                conn.execute(sql)
        for serial, state in [
            ("BJ2026000001", "in_stock"),
            ("BJ2026000001", "spoiled"),
            ("BJ2026000002", "in_stock"),
            ("BJ2026000003", "spoiled"),
            ("BJ2026000003", "in_stock"),
        ]:
            with pytest.raises(conn.Error, match="only moves forward"):
                conn.execute("UPDATE blank_sheets SET state = ? WHERE serial = ?", (state, serial))
        with pytest.raises(conn.Error, match="only moves forward"):
            conn.execute("UPDATE blank_sheets SET certificate_id = NULL WHERE serial = 'BJ2026000001'")
        with pytest.raises(conn.Error):
            conn.execute("UPDATE blank_sheets SET state = 'lost' WHERE serial = 'BJ2026000004'")
    finally:
        conn.close()
    assert reg.blanks.stock(BJ) == {"in_stock": 2, "printed": 1, "spoiled": 1, "destroyed": 1}


def test_every_change_is_audited(reg: Registry) -> None:
    start = audit_len(reg)
    _activity(reg)
    actions: dict[str, int] = {}
    for e in reg.audit.entries():
        if e.seq > start and e.entity.startswith("blank_"):
            actions[e.action] = actions.get(e.action, 0) + 1
    assert actions == {"blank_receive": 2, "blank_print": 7, "blank_spoil": 5, "blank_destroy": 6}
    assert reg.audit.verify_chain() is None
    for s in reg.blanks.sheets(BJ):
        if s.state != "in_stock":
            assert reg.blanks.history(s.serial)[-1].after["state"] == s.state


# -- the CLI ---------------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKILLCERT_ACTOR", "tester")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        group = cli if args[0] != "blanks" or "blanks" in cli.commands else blanks
        return runner.invoke(group, list(args if group is cli else args[1:]), catch_exceptions=False)

    return invoke


def test_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init").exit_code == 0
    assert run("institution", "add", "--file", str(DEMO_DIR / "institution-beijing.toml")).exit_code == 0
    recv = ["blanks", "receive", "--institution", BJ, "--source", "北京联盟", "--on", "2026-03-02"]
    r = run(*recv, "--first", "BJ2026000001", "--last", "BJ2026000100", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["count"] == 100 and json.loads(r.stdout)["in_stock"] == 100
    r = run(*recv, "--first", "BJ2026000090", "--last", "BJ2026000120")
    assert r.exit_code == 4 and "重叠" in r.stderr and "overlaps" in r.stderr and "BJ2026000090" in r.stderr
    r = run(*recv, "--first", "BJ2026000101", "--last", "SH2026000120", "--json")
    assert r.exit_code == 4 and json.loads(r.stdout)["problems"][0]["en"].startswith("the prefixes differ")

    with Registry.open(tmp_path / "home" / "registry.sqlite") as reg:
        add_pending(reg, 2)
        ids = [cid for cid, _ in reg.certificates.issue(BJ, D("2026-03-02"), actor="t")]
        reg.blanks.draw_many(BJ, ids, on=D("2026-03-03"), actor="t")
    r = run("blanks", "spoil", "bj2026000003", "--reason", "卡纸", "--on", "2026-03-04", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["state"] == "spoiled"
    r = run("blanks", "spoil", "BJ2026000001", "--reason", "污损", "--on", "2026-03-04")
    assert r.exit_code == 4 and "only moves forward" in r.stderr
    assert run("blanks", "spoil", "BJ2026000999", "--reason", "x").exit_code == 5
    destroy = ["blanks", "destroy", "--reason", "销毁", "--witness", "李四", "--on", "2026-06-30"]
    r = run(*destroy, "BJ2026000003", "BJ2026000095..BJ2026000100", "--json")
    assert r.exit_code == 0, r.stderr
    assert (
        json.loads(r.stdout)["destroyed"]["BJ2026000003"] == "spoiled" and len(json.loads(r.stdout)["destroyed"]) == 7
    )
    assert run(*destroy, "BJ2026000002").exit_code == 4

    listed = json.loads(run("blanks", "list", "--institution", BJ, "--json").stdout)
    assert listed["counts"] == {"in_stock": 91, "printed": 2, "spoiled": 0, "destroyed": 7}
    assert len(listed["sheets"]) == 100 and listed["sheets"][0]["certificate_number"]
    text = run("blanks", "list", "--institution", BJ).stdout
    assert f"BJ2026000001  printed        1  2026-03-03  {listed['sheets'][0]['certificate_number']}" in text
    assert "BJ2026000004–BJ2026000094  in_stock      91" in text and "BJ2026000095–BJ2026000100  destroyed" in text
    only = json.loads(run("blanks", "list", "--institution", BJ, "--state", "printed", "--json").stdout)
    assert [s["serial"] for s in only["sheets"]] == ["BJ2026000001", "BJ2026000002"]
    assert run("blanks", "list", "--institution", "S000011089999").exit_code == 5

    out = tmp_path / "stock.xlsx"
    r = run("blanks", "report", "--institution", BJ, "--period", "2026H1", "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["opening_stock"], d["received"], d["printed"], d["spoiled"], d["closing_stock"]) == (0, 100, 2, 1, 91)
    assert d["balances"] and d["out"] == str(out)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert list(wb["盘点 Reconciliation"].iter_rows(values_only=True))[1][10] == 91
    wb.close()
    r = run("blanks", "report", "--period", "2026H2", "--out", str(tmp_path / "all.csv"))
    assert r.exit_code == 0 and "平衡 balances" in r.stdout and (tmp_path / "all.csv").is_file()
    assert run("blanks", "report", "--institution", BJ, "--period", "2026H3").exit_code == 2
