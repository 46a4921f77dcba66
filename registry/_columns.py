"""The columns of a results file and where its header row is.

A header is recognised in Chinese, in English, bilingual (``姓名 Name``, as the template writes
it) or in a few common spellings. Clerks often put a title row (or two) above the headers
(``2026年第3批评价结果``): the header is the row among the first :data:`HEADER_SEARCH_ROWS`
that names the most known columns, and the rows above it are skipped and reported.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence

from .tabular import Cell

__all__ = [
    "COLUMNS",
    "HEADER_SEARCH_ROWS",
    "TEMPLATE_EXAMPLE_ID",
    "TEMPLATE_EXAMPLE_NAME",
    "cell_text",
    "column_of",
    "find_header",
    "is_template_example",
]

# field -> (Chinese header, English header, other accepted spellings, required)
COLUMNS: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "name": ("姓名", "Name", ("持证人姓名", "holder name"), True),
    "id_type": ("证件类型", "ID Type", ("id_type", "idtype"), True),
    "id_number": ("证件号码", "ID No.", ("id number", "id_number", "idno", "id no", "身份证号", "身份证号码"), True),
    "occupation": ("职业名称", "Occupation", ("职业",), True),
    "job": ("工种/职业方向", "Job", ("工种", "职业方向", "工种名称", "job/direction"), False),
    "level": ("职业技能等级", "Skill Level", ("等级", "level", "技能等级"), True),
    "photo": ("照片", "Photo", ("照片文件", "photo file"), True),
    "work_unit": ("所在单位", "Work Unit", ("单位", "工作单位", "employer", "work_unit"), False),
}
HEADER_SEARCH_ROWS = 10
# the example row of the Excel template (registry.template): skipped on import wherever it is left
TEMPLATE_EXAMPLE_NAME = "张三（示例）"
TEMPLATE_EXAMPLE_ID = "11010519491231002X"  # GB 11643's own example number


def _norm(h: str) -> str:
    return "".join(unicodedata.normalize("NFKC", h).split()).lower().replace("／", "/")


_INDEX: dict[str, str] = {}
for _f, (_zh, _en, _more, _req) in COLUMNS.items():
    for _h in (_zh, _en, _f, *_more, f"{_zh} {_en}", f"{_zh}/{_en}", f"{_zh}（{_en}）", f"{_zh}({_en})"):
        _INDEX[_norm(_h)] = _f


def cell_text(c: Cell) -> str:
    if c is None:
        return ""
    if isinstance(c, float) and c.is_integer():
        return str(int(c))
    return str(c)


def column_of(header: Cell) -> str | None:
    """The field a header cell names, if any."""
    return _INDEX.get(_norm(cell_text(header)))


def _known(cells: Sequence[Cell]) -> int:
    return len({f for c in cells if (f := column_of(c)) is not None})


def find_header(
    rows: Iterator[tuple[int, list[Cell]]],
) -> tuple[tuple[int, list[Cell]] | None, Iterator[tuple[int, list[Cell]]]]:
    """(the header row, the data rows after it): the first of the first rows that names the most
    known columns, or the first row when none names any."""
    head: list[tuple[int, list[Cell]]] = []
    for row in rows:
        head.append(row)
        if len(head) == HEADER_SEARCH_ROWS:
            break
    if not head:
        return None, iter(())
    counts = [_known(cells) for _, cells in head]
    at = counts.index(max(counts)) if max(counts) else 0

    def rest() -> Iterator[tuple[int, list[Cell]]]:
        yield from head[at + 1 :]
        yield from rows

    return head[at], rest()


def is_template_example(name: Cell, id_number: Cell) -> bool:
    """Is this the template's example row (its name and ID number, as the template wrote them)?"""
    return (
        cell_text(name).strip() == TEMPLATE_EXAMPLE_NAME and cell_text(id_number).strip().upper() == TEMPLATE_EXAMPLE_ID
    )
