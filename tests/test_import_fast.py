"""The import's fast paths give exactly what the general ones give: the audit payloads' bytes, the
ID check, the rows found sound; and a failed big batch still writes nothing (issue 18)."""

from __future__ import annotations

import dataclasses
import random
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from registry import Registry, import_results
from registry._event_base import EVENTS, canonical
from registry._row_checks import PhotoCache, RowValidator
from registry.errors import ImportRejected
from registry.ids import IdCardCheck, check_id, id_check_char

from .conftest import DEMO_CODES, TODAY
from .factory import beijing_rows, photo_bytes, write_results

BJ = DEMO_CODES["beijing"]
_SAMPLES: dict[Any, list[Any]] = {
    str: ["", '名字"x\n\\ \u2028 é', "enc1:ab"],
    int: [0, -7, 10**20],
    bool: [True, False],
    date: [date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5)],
    float: [1.5],
}


def test_event_json_is_byte_for_byte_the_canonical_encoding() -> None:
    checked = 0
    for cls in set(EVENTS.values()):
        hints = typing.get_type_hints(cls)
        for k in range(3):
            kw: dict[str, Any] = {}
            for f in dataclasses.fields(cls):
                args = set(typing.get_args(hints[f.name])) - {type(None)}
                base = next(iter(args)) if len(args) == 1 else hints[f.name]
                opts = _SAMPLES.get(base, [{"b": [1, "x"], "a": None}])
                if type(None) in typing.get_args(hints[f.name]):
                    opts = [*opts, None]
                kw[f.name] = opts[k % len(opts)]
            ev = cls(**kw)
            try:
                before, after = ev.encode()
            except (TypeError, AttributeError):
                continue  # a class with its own encode() and values it does not take
            assert ev.encode_json() == (None if before is None else canonical(before), canonical(after))
            checked += 1
    assert checked > 50


def test_id_card_check_agrees_with_check_id() -> None:
    rng = random.Random(5)
    fast = IdCardCheck(TODAY)
    regions = ["110108", "710000", "810000", "990000", "440305", "12345a"]
    births = ["19900101", "20261123", "18991231", "20260230", "20000229", "19000101"]
    for _ in range(20_000):
        born = rng.choice([*births, f"{rng.randrange(1890, 2030)}{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}"])
        body = rng.choice(regions) + born + f"{rng.randrange(1000):03d}"
        good = id_check_char(body) if body.isdigit() and len(body) == 17 else "0"
        n = body + rng.choice([good, "X", "x", "1"])
        n = rng.choice([n, n, n, n[:-1], " " + n, n.lower()])
        doc, problems = check_id("201", n, today=TODAY)
        assert fast.sound(n) == (doc is not None and doc.number == n and not problems), n


def test_sound_rows_come_out_as_the_general_check_has_them(reg: Registry, photo_dir: Path) -> None:
    rows = beijing_rows(40)
    rows[3][4], rows[4][4], rows[5][7] = "——", "无", ""  # no job, written two ways; no work unit
    rows[6][0] = " " + rows[6][0]  # not plain: the general path
    fast = RowValidator(reg, reg.institutions.get(BJ), PhotoCache(photo_dir.parent), TODAY)
    slow = RowValidator(reg, reg.institutions.get(BJ), PhotoCache(photo_dir.parent), TODAY)
    cols = ["name", "id_type", "id_number", "occupation", "job", "level", "photo", "work_unit"]
    sound = 0
    for n, cells in enumerate(rows, 2):
        raw: dict[str, Any] = dict(zip(cols, cells, strict=True))
        sound += fast._sound(raw) is not None
        assert fast.row(n, raw) == slow._checked(n, raw)
    assert sound == len(rows) - 1 and fast.problems == slow.problems == []


@pytest.mark.sqlite_only
def test_failed_big_batch_is_refused_whole_and_checks_come_back(reg: Registry, photo_dir: Path) -> None:
    rows = beijing_rows(2_500)
    (photo_dir / "q.jpg").write_bytes(photo_bytes(seed=3))
    rows[1] = [*rows[0][:6], "photos/q.jpg", ""]  # a repeated row, the first to show q.jpg; a later good row too
    rows[100][6] = "photos/q.jpg"  # in the first chunk written: once an IntegrityError, not the row's problem
    path = write_results(photo_dir.parent / "r.csv", rows)
    with pytest.raises(ImportRejected) as e:
        import_results(reg, path, BJ, today=TODAY, actor="t")
    assert [p.row for p in e.value.problems] == [3]
    assert list(reg.certificates.select()) == [] and reg.audit.head()[0] == len(list(reg.audit.entries()))
    assert reg.db.one("SELECT COUNT(*) FROM batches") == (0,)
    assert reg.db.one("PRAGMA foreign_keys") == (1,)  # the bulk write puts the row-by-row checks back
    del rows[1]
    rep = import_results(reg, write_results(photo_dir.parent / "r2.csv", rows), BJ, today=TODAY, actor="t")
    assert rep.rows == len(rows) and reg.db.one("PRAGMA foreign_key_check") is None
    assert len(reg.certificates.issue(BJ, TODAY, actor="t")) == len(rows)
    assert reg.audit.verify_chain() is None and reg.audit.verify().ok
