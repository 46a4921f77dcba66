from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from registry import Registry, import_results
from registry.errors import ImportRejected, SkillcertError
from registry.ids import id_check_char
from skillcert.demo import DEMO_DIR

from .conftest import DEMO_CODES, TODAY
from .factory import HEADER, beijing_rows, photo_bytes, write_results

BJ = DEMO_CODES["beijing"]


def _snapshot(reg: Registry) -> tuple[int, int]:
    return len(list(reg.certificates.select())), len(list(reg.audit.entries()))


def test_row_7_bad_check_digit_and_row_9_out_of_scope_reported_exactly(reg: Registry, photo_dir: Path) -> None:
    rows = beijing_rows(12)
    rows[5][2] = rows[5][2][:17] + ("0" if rows[5][2][17] != "0" else "1")  # file row 7 (header is row 1)
    rows[7][3] = "美容师"  # file row 9: occupation not filed
    path = write_results(photo_dir.parent / "results.csv", rows)
    before = _snapshot(reg)
    dry = import_results(reg, path, BJ, today=TODAY, actor="t", dry_run=True)
    assert sorted({p.row for p in dry.problems}) == [7, 9]
    assert {p.row: p.field for p in dry.problems} == {7: "证件号码 ID number", 9: "职业名称 occupation"}
    assert "check character" in dry.problems[0].en and "校验码" in dry.problems[0].zh
    with pytest.raises(ImportRejected) as e:
        import_results(reg, path, BJ, today=TODAY, actor="t")
    assert sorted({p.row for p in e.value.problems}) == [7, 9] and e.value.rows == 12
    assert _snapshot(reg) == before  # nothing written, not even the batch or audit rows
    assert reg.certificates.batch_for_source(BJ, "x") is None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings(reg: Registry, photo_dir: Path, encoding: str) -> None:
    path = write_results(photo_dir.parent / "r.csv", beijing_rows(5), encoding=encoding)
    rep = import_results(reg, path, BJ, today=TODAY, actor="t")
    assert rep.rows == 5 and rep.encoding == {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)
    names = {c.name for c in reg.certificates.select()}
    assert {r[0] for r in beijing_rows(5)} == names


def test_xlsx_with_english_headers_and_numeric_cells(reg: Registry, photo_dir: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "ID Type", "ID No.", "Occupation", "Job", "Skill Level", "Photo", "序号"])
    for i, r in enumerate(beijing_rows(3)):
        ws.append([r[0], 201, r[2], r[3], r[4], 5 if r[5] == "五级/初级工" else r[5], r[6], i + 1])
    ws.append(["王五", 201, 110108199001011234, "电工", None, 5, "photos/p.jpg", 4])  # ID saved as a number
    path = photo_dir.parent / "r.xlsx"
    wb.save(path)
    dry = import_results(reg, path, BJ, today=TODAY, actor="t", dry_run=True)
    assert dry.ignored_columns == ("序号",)
    assert [p.row for p in dry.problems] == [5] and "format the column as text" in dry.problems[0].en
    wb2 = openpyxl.load_workbook(path)
    wb2.active.delete_rows(5)  # type: ignore[union-attr]
    wb2.save(path)
    assert import_results(reg, path, BJ, today=TODAY, actor="t").rows == 3


def test_header_and_photo_problems(reg: Registry, photo_dir: Path) -> None:
    path = write_results(photo_dir.parent / "r.csv", beijing_rows(2), header=[*HEADER[:6], "备注", "所在单位"])
    dry = import_results(reg, path, BJ, today=TODAY, actor="t", dry_run=True)
    assert len(dry.problems) == 1 and "Photo" in dry.problems[0].en and dry.problems[0].row == 1
    (photo_dir / "tiny.png").write_bytes(photo_bytes(size=(120, 160), fmt="PNG"))
    (photo_dir / "bad.jpg").write_bytes(b"not an image")
    rows = beijing_rows(3)
    rows[0][6], rows[1][6], rows[2][6] = "photos/tiny.png", "photos/bad.jpg", "photos/none.jpg"
    dry = import_results(
        reg, write_results(photo_dir.parent / "r2.csv", rows), BJ, today=TODAY, actor="t", dry_run=True
    )
    assert [(p.row, p.en.split(" ")[-1]) for p in dry.problems] == [(2, "needed"), (3, "image"), (4, "unreadable")]


def test_scope_job_and_level_and_duplicates(reg: Registry, photo_dir: Path) -> None:
    rows = beijing_rows(4)
    rows[0][3:6] = ["焊工", "气焊工", "5"]  # job not filed
    rows[1][3:6] = ["电工", "", "1"]  # level not filed
    rows[2][3:6] = ["电工", "——", "六级"]  # unknown level
    rows.append(list(rows[3]))  # duplicate of row 5 as row 6
    dry = import_results(reg, write_results(photo_dir.parent / "r.csv", rows), BJ, today=TODAY, actor="t", dry_run=True)
    by_row = {p.row: p for p in dry.problems}
    assert sorted(by_row) == [2, 3, 4, 6]
    assert "气焊工" in by_row[2].en and "level 1" in by_row[3].en and "六级" in by_row[4].en
    assert "duplicates row 5" in by_row[6].en


def test_reimport_refused_and_existing_holder_detected(reg: Registry, photo_dir: Path) -> None:
    rows = beijing_rows(3)
    path = write_results(photo_dir.parent / "r.csv", rows)
    import_results(reg, path, BJ, today=TODAY, actor="t")
    with pytest.raises(SkillcertError) as e:
        import_results(reg, path, BJ, today=TODAY, actor="t")
    assert "already imported" in e.value.en
    again = write_results(photo_dir.parent / "r2.csv", [*rows[:1], *beijing_rows(1, seed=99)])
    dry = import_results(reg, again, BJ, today=TODAY, actor="t", dry_run=True)
    assert [p.row for p in dry.problems] == [2] and "already has this holder" in dry.problems[0].en


def test_demo_sample_batch_is_valid_and_varied(reg: Registry, tmp_path: Path) -> None:
    rep = import_results(reg, DEMO_DIR / "results.csv", BJ, today=date.today(), actor="t")
    assert rep.rows >= 50
    certs = list(reg.certificates.select(institution_code=BJ))
    names = [c.name for c in certs]
    assert any("䶮" in n for n in names) and any("\U000201d4" in n for n in names)
    assert any(len(n) > 10 for n in names) and {"208"} <= {c.id_type for c in certs}
    assert len({c.photo_sha256 for c in certs}) == len(certs)
    # the ID numbers of the sample are real-format fakes
    assert all(c.id_number[17] == id_check_char(c.id_number[:17]) for c in certs if c.id_type == "201")


def test_photos_dir_option(reg: Registry, photo_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = write_results(elsewhere / "r.csv", beijing_rows(2))
    assert not import_results(reg, path, BJ, today=TODAY, actor="t", dry_run=True).ok
    shutil.copytree(photo_dir, elsewhere / "pics" / "photos")
    assert import_results(reg, path, BJ, today=TODAY, actor="t", photos_dir=elsewhere / "pics").rows == 2
