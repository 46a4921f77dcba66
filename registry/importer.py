"""Importing a results batch: validate every row against the rules and the filed scope.

A real import is all-or-nothing: rows stream into one transaction, and any bad row rolls
the whole batch back, so a failed import writes nothing and burns no number. ``dry_run``
reports every bad row without touching the registry. A competition committee's results
(``003_…`` 四) are accepted only within the competition's calendar year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ._columns import COLUMNS, cell_text, column_of, find_header, is_template_example
from ._row_checks import PhotoCache, RowValidator
from .errors import ImportRejected, Problem, RuleViolation, SkillcertError
from .models import Institution, ResultRow
from .store import Registry
from .tabular import open_table

__all__ = ["COLUMNS", "ImportReport", "import_results"]


@dataclass(frozen=True, slots=True)
class ImportReport:
    source: str
    institution_code: str
    encoding: str
    rows: int
    problems: tuple[Problem, ...]
    ignored_columns: tuple[str, ...] = ()
    batch_id: int | None = None
    dry_run: bool = False
    by_level: dict[int, int] = field(default_factory=dict)
    header_row: int = 1  # > 1: title rows above the header were skipped
    example_row: int | None = None  # the template's example row, skipped

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "institution": self.institution_code,
            "encoding": self.encoding,
            "rows": self.rows,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "batch_id": self.batch_id,
            "by_level": {str(k): v for k, v in sorted(self.by_level.items())},
            "ignored_columns": list(self.ignored_columns),
            "header_row": self.header_row,
            "example_row": self.example_row,
            "problems": [p.as_dict() for p in self.problems],
        }


def _institution_problems(inst: Institution, today: date) -> list[Problem]:
    """What refuses the whole batch because of the institution itself, whatever its rows say."""
    comp = inst.competition
    if comp is not None and not comp.covers(today):
        # 003_… 四: the candidates' data is submitted within the competition's calendar year, 逾期不再办理
        return [
            Problem(
                zh=f"竞赛“{comp.name}”的取证人员信息须于竞赛所处自然年 {comp.year} 年内提交（今天是 {today}），"
                "逾期不再办理",
                en=f"results of the competition {comp.name!r} are accepted only within its calendar year "
                f"{comp.year} (today is {today})",
                field="竞赛年度 competition year",
            )
        ]
    return []


def import_results(
    reg: Registry,
    path: Path,
    institution_code: str,
    *,
    today: date,
    actor: str,
    dry_run: bool = False,
    photos_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a results file for an institution; raise :class:`ImportRejected` if any row is bad.

    With ``dry_run`` nothing is written and the report lists every problem instead.
    ``progress`` is called with the number of rows checked since its last call.
    """
    inst = reg.institutions.get(institution_code)
    table = open_table(path)
    if not dry_run and (batch := reg.certificates.batch_for_source(institution_code, table.sha256)) is not None:
        raise SkillcertError(
            f"同一文件已作为第 {batch} 批导入", f"this same file was already imported as batch {batch}"
        )
    validator = RowValidator(reg, inst, PhotoCache(photos_dir or path.parent), today)
    inst_problems = _institution_problems(inst, today)
    header_problems: list[Problem] = []
    ignored: list[str] = []
    counter = [0]
    header_row = [1]
    example_row: list[int | None] = [None]

    def rows() -> Iterator[tuple[ResultRow, bytes | None]]:
        first, it = find_header(table.rows())
        if first is None:
            header_problems.append(Problem(zh="文件是空的", en="the file is empty", row=1))
            return
        header_row[0] = first[0]
        columns: dict[int, str] = {}
        for i, h in enumerate(first[1]):
            f = column_of(h)
            if f is None:
                if cell_text(h).strip():
                    ignored.append(cell_text(h).strip())
            elif f in columns.values():
                header_problems.append(Problem(zh=f"列“{h}”重复", en=f"column {h!r} appears twice", row=first[0]))
            else:
                columns[i] = f
        missing = [f for f, spec in COLUMNS.items() if spec[3] and f not in columns.values()]
        for f in missing:
            zh, en = COLUMNS[f][0], COLUMNS[f][1]
            header_problems.append(Problem(zh=f"缺少“{zh}”列", en=f"column {en!r} ({zh}) is missing", row=first[0]))
        if header_problems:
            return
        for n, cells in it:
            raw = {f: cells[i] if i < len(cells) else None for i, f in columns.items()}
            if is_template_example(raw.get("name"), raw.get("id_number")):
                example_row[0] = n  # the template's example, left in place: not a holder
                continue
            counter[0] += 1
            if progress is not None and counter[0] % 1000 == 0:
                progress(1000)
            out = validator.row(n, raw)
            if out is not None and not dry_run:
                yield out
        if progress is not None:
            progress(counter[0] % 1000)

    def checked() -> Iterator[tuple[ResultRow, bytes | None]]:
        yield from rows()
        problems = header_problems + validator.problems
        if not problems and counter[0] == 0:
            problems.append(Problem(zh="文件中没有数据行", en="the file has no data rows"))
        if problems:
            raise ImportRejected(path.name, problems, rows=counter[0])

    encoding = table.encoding or "xlsx"
    if dry_run:
        for _ in rows():
            pass
        problems = tuple(inst_problems + header_problems + validator.problems)
        if not problems and counter[0] == 0:
            problems = (Problem(zh="文件中没有数据行", en="the file has no data rows"),)
        return ImportReport(
            path.name,
            institution_code,
            encoding,
            counter[0],
            problems,
            tuple(ignored),
            dry_run=True,
            by_level=validator.by_level,
            header_row=header_row[0],
            example_row=example_row[0],
        )
    if inst_problems:  # like a cancelled institution: the batch is refused before anything is written
        raise RuleViolation(
            f"机构 {institution_code} 现在不能导入结果",
            f"institution {institution_code} cannot import results now",
            problems=inst_problems,
        )
    batch_id, count = reg.certificates.add_batch(
        institution_code, source_name=path.name, source_sha256=table.sha256, rows=checked(), actor=actor
    )
    return ImportReport(
        path.name,
        institution_code,
        encoding,
        count,
        (),
        tuple(ignored),
        batch_id=batch_id,
        by_level=validator.by_level,
        header_row=header_row[0],
        example_row=example_row[0],
    )
