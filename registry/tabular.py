"""Reading results files: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, streamed.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import replacing
from .errors import SkillcertError

__all__ = ["Cell", "TableSource", "open_table"]

Cell = str | int | float | None
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class TableSource:
    path: Path
    kind: str  # "csv" or "xlsx"
    encoding: str | None
    sha256: str

    def estimate_rows(self) -> int:
        """Data rows, cheaply: newlines for CSV, the sheet's dimension for XLSX (for progress bars)."""
        if self.kind == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(self.path, read_only=True)
            try:
                return max(0, (wb.worksheets[0].max_row or 1) - 1)
            finally:
                wb.close()
        with self.path.open("rb") as f:
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(_CHUNK), b"")) - 1)

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, cells) for every row including the header (row 1); blank rows skipped."""
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path)
            return
        assert self.encoding is not None
        with self.path.open(encoding=self.encoding, newline="") as f:
            sample = f.read(4096)
            f.seek(0)
            delimiter = ","
            first = sample.splitlines()[0] if sample else ""
            if first.count("\t") > first.count(","):
                delimiter = "\t"
            elif first.count(";") > first.count(","):
                delimiter = ";"
            for i, cells in enumerate(csv.reader(f, delimiter=delimiter), 1):
                if "".join(cells).strip():  # some cell is not blank
                    yield i, list(cells)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise SkillcertError(f"无法读取 Excel 文件 {path.name}：{e}", f"cannot read Excel file {path.name}: {e}") from e
    try:
        ws = wb.worksheets[0]
        for i, values in enumerate(ws.iter_rows(values_only=True), 1):
            cells: list[Cell] = [_xlsx_cell(v) for v in values]
            if any(c not in (None, "") and str(c).strip() for c in cells):
                yield i, cells
    finally:
        wb.close()


def _xlsx_cell(v: Any) -> Cell:
    if v is None or isinstance(v, (str, int, float)):
        return v
    if hasattr(v, "isoformat"):
        return str(v.isoformat())[:10]
    return str(v)


def _detect_encoding(path: Path) -> tuple[str, str]:
    """Return (encoding, sha256): UTF-8 (with or without BOM) if it decodes, else GB18030."""
    h = hashlib.sha256()
    dec_utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    dec_gb = codecs.getincrementaldecoder("gb18030")()
    utf8_ok = gb_ok = True
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            if utf8_ok:
                try:
                    dec_utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if gb_ok:
                try:
                    dec_gb.decode(chunk)
                except UnicodeDecodeError:
                    gb_ok = False
    try:
        dec_utf8.decode(b"", final=True)
    except UnicodeDecodeError:
        utf8_ok = False
    try:
        dec_gb.decode(b"", final=True)
    except UnicodeDecodeError:
        gb_ok = False
    if utf8_ok:
        return "utf-8-sig", h.hexdigest()
    if gb_ok:
        return "gb18030", h.hexdigest()
    raise SkillcertError(
        f"{path.name} 既不是 UTF-8 也不是 GB18030 编码的文本", f"{path.name} is neither UTF-8 nor GB18030 text"
    )


def open_table(path: Path) -> TableSource:
    """Identify a results file by its content (XLSX is a ZIP) and fingerprint it."""
    if not path.is_file():
        raise SkillcertError(f"找不到文件 {path}", f"file not found: {path}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"PK\x03\x04":
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        return TableSource(path, "xlsx", None, h.hexdigest())
    if path.suffix.lower() in (".xls",):
        raise SkillcertError(
            "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV", "old .xls files are not supported; save as .xlsx or CSV"
        )
    encoding, digest = _detect_encoding(path)
    return TableSource(path, "csv", encoding, digest)


def export_kind(out: Path, fmt: str | None) -> str:
    """``csv`` or ``xlsx``: the format asked for, or the file's suffix (default CSV)."""
    kind = (fmt or out.suffix.lstrip(".") or "csv").lower()
    if kind not in ("csv", "xlsx"):
        raise SkillcertError(f"报表格式应为 csv 或 xlsx，实为 {kind}", f"report format must be csv or xlsx, got {kind}")
    return kind


def write_tables(
    out: Path, kind: str, sheets: Sequence[tuple[str, Iterable[Sequence[Any]]]], *, csv_sheet: int = 0
) -> None:
    """Write named sheets of rows as XLSX, or one of them (``csv_sheet``) as CSV (UTF-8 with BOM,
    what Excel in China opens). Rows may stream; the file is written to a temp name and renamed
    (:func:`registry.atomic.replacing`), so ``out`` is the old file or the whole new one, never half."""
    with replacing(out, private=True) as tmp:
        if kind == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f).writerows(sheets[csv_sheet][1])
        else:
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            for title, rows in sheets:
                ws = wb.create_sheet(title)
                for row in rows:
                    ws.append(list(row))
            wb.save(tmp)
