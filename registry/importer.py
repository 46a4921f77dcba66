"""Importing a results batch: validate every row against the rules and the filed scope.

A real import is all-or-nothing: rows stream into one transaction, and any bad row rolls
the whole batch back, so a failed import writes nothing and burns no number. ``dry_run``
reports every bad row without touching the registry. A competition committee's results
(``003_…`` 四) are accepted only within the competition's calendar year.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ._columns import COLUMNS, cell_text, column_of, find_header, is_template_example
from .errors import ImportRejected, Problem, RuleViolation, SkillcertError
from .fields import FIELD_LINE_UNITS, clean_value, is_no_job, wrap_units
from .ids import check_id
from .models import Institution, ResultRow
from .photo_rule import photo_problem
from .store import Registry
from .tables import LEVELS, level_from_text
from .tabular import Cell, open_table

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


class _PhotoCache:
    """Reads, checks and fingerprints photo files, once per path."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.seen: dict[str, str | Problem] = {}  # photo reference -> sha256 (bytes are not kept)
        self.stored: set[str] = set()

    def get(self, ref: str, row: int) -> tuple[str, bytes | None] | Problem:
        """(sha256, bytes the first time this photo is seen, else None) or the problem."""
        hit = self.seen.get(ref)
        if hit is None:
            loaded = self._load(self.base / ref, ref)
            if isinstance(loaded, Problem):
                self.seen[ref] = loaded
            else:
                self.seen[ref] = loaded[0]
                if loaded[0] not in self.stored:
                    self.stored.add(loaded[0])
                    return loaded
                return loaded[0], None
            hit = loaded
        if isinstance(hit, Problem):
            return Problem(zh=hit.zh, en=hit.en, field=hit.field, row=row)
        return hit, None

    @staticmethod
    def _load(path: Path, ref: str) -> tuple[str, bytes] | Problem:
        f = "照片 photo"
        try:
            data = path.read_bytes()
        except OSError:
            return Problem(
                zh=f"照片文件 {ref} 不存在或无法读取", en=f"photo file {ref} is missing or unreadable", field=f
            )
        problem = photo_problem(data, ref)
        if problem is not None:
            return problem
        return hashlib.sha256(data).hexdigest(), data


_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")


def _stored_as_number(raw: Cell, text: str, row: int) -> Problem | None:
    """Excel's own accident, said as it is (instead of the check-character error it causes): an ID
    number kept as a number loses every digit past the 15th (``1.10108E+17`` in a CSV)."""
    if isinstance(raw, (int, float)) and len(text) >= 16:
        lost = ("丢失了 15 位以后的数字", "lost every digit past the 15th")
    elif _SCIENTIFIC.fullmatch(text.strip()):
        lost = (f"写成了科学计数法 {text.strip()}", f"wrote it in scientific notation ({text.strip()})")
    else:
        return None
    return Problem(
        zh=f"Excel 把证件号码存成了数字，{lost[0]}：请把该列设为“文本”后重新填写号码",
        en=f"Excel stored the ID number as a number and {lost[1]}: format the column as text and enter "
        "the numbers again",
        field="证件号码 ID number",
        row=row,
    )


class _Validator:
    def __init__(self, reg: Registry, inst: Institution, photos: _PhotoCache, today: date) -> None:
        self.reg, self.inst, self.photos, self.today = reg, inst, photos, today
        self.has_records = reg.certificates.has_records(inst.code)  # a first batch has nobody to collide with
        self.keys: dict[tuple[str, str, str, int], int] = {}
        self.problems: list[Problem] = []
        self.by_level: dict[int, int] = {}

    def row(self, n: int, raw: dict[str, Cell]) -> tuple[ResultRow, bytes | None] | None:
        probs: list[Problem] = []

        def text(fld: str, label: str, required: bool = True) -> str:
            v, p = clean_value(cell_text(raw.get(fld)), label, required=required, row=n)
            probs.extend(p)
            return v

        name = text("name", "姓名 name")
        if len(name) * 2 > FIELD_LINE_UNITS["name"] and wrap_units(name, FIELD_LINE_UNITS["name"]) is None:
            probs.append(
                Problem(
                    zh="姓名过长，证书上两行也印不下",
                    en="the name is too long to print even on two lines",
                    field="姓名 name",
                    row=n,
                )
            )
        id_type_raw = text("id_type", "证件类型 ID type")
        id_raw = raw.get("id_number")
        id_number = text("id_number", "证件号码 ID number")
        id_type = ""
        if id_type_raw and id_number:
            doc, p = check_id(id_type_raw, id_number, today=self.today)
            if doc is None:
                stored = _stored_as_number(id_raw, id_number, n)
                probs.extend([stored] if stored else [Problem(zh=x.zh, en=x.en, field=x.field, row=n) for x in p])
            else:
                id_type, id_number = doc.type.code, doc.number
        occupation = text("occupation", "职业名称 occupation")
        job_raw = text("job", "工种/职业方向 job", required=False)
        job = "" if is_no_job(job_raw) else job_raw
        level_raw = text("level", "职业技能等级 level")
        level = level_from_text(level_raw) if level_raw else None
        if level_raw and level is None:
            probs.append(
                Problem(
                    zh=f"等级 {level_raw!r} 无法识别（应为 1-5 或“五级/初级工”）",
                    en=f"level {level_raw!r} is not recognised (use 1-5 or e.g. 五级/初级工)",
                    field="职业技能等级 level",
                    row=n,
                )
            )
        if occupation and level is not None:
            probs.extend(self._scope(n, occupation, job, level))
        photo_ref = text("photo", "照片 photo")
        photo: tuple[str, bytes | None] | Problem | None = self.photos.get(photo_ref, n) if photo_ref else None
        if isinstance(photo, Problem):
            probs.append(photo)
        work_unit = text("work_unit", "所在单位 work unit", required=False)
        if not probs and level is not None and id_type:
            key = (id_number, occupation, job, level)
            if key in self.keys:
                probs.append(
                    Problem(
                        zh=f"与第 {self.keys[key]} 行重复（同一证件号码、职业、工种、等级）",
                        en=f"duplicates row {self.keys[key]} (same ID number, occupation, job and level)",
                        field="证件号码 ID number",
                        row=n,
                    )
                )
            elif self.has_records and self.reg.certificates.holder_exists(
                self.inst.code, id_number, occupation, job, level
            ):
                probs.append(
                    Problem(
                        zh="登记库中已有此人同一职业、工种、等级的记录",
                        en="the registry already has this holder for the same occupation, job and level",
                        field="证件号码 ID number",
                        row=n,
                    )
                )
            self.keys.setdefault(key, n)
        if probs or level is None or not isinstance(photo, tuple):
            self.problems.extend(probs)
            return None
        self.by_level[level] = self.by_level.get(level, 0) + 1
        return ResultRow(
            row=n,
            name=name,
            id_type=id_type,
            id_number=id_number,
            occupation=occupation,
            job=job,
            level=level,
            photo_sha256=photo[0],
            work_unit=work_unit,
        ), photo[1]

    def _scope(self, n: int, occupation: str, job: str, level: int) -> list[Problem]:
        inst = self.inst
        if occupation not in inst.occupations():
            return [
                Problem(
                    zh=f"职业“{occupation}”不在机构备案的评价范围内",
                    en=f"occupation {occupation!r} is outside the institution's filed scope",
                    field="职业名称 occupation",
                    row=n,
                )
            ]
        levels = inst.levels_for(occupation, job)
        if not levels:
            filed = "、".join(j or "（无）" for j in inst.jobs_for(occupation))
            return [
                Problem(
                    zh=f"“{occupation}”的工种/职业方向“{job or '（无）'}”未备案（已备案：{filed}）",
                    en=f"job {job or '(none)'!r} of {occupation!r} is not filed (filed: {filed})",
                    field="工种/职业方向 job",
                    row=n,
                )
            ]
        if level not in levels:
            filed = "、".join(LEVELS[x].zh_short for x in sorted(levels))
            return [
                Problem(
                    zh=f"“{occupation}”未备案 {LEVELS[level].zh}（已备案：{filed}）",
                    en=f"{occupation!r} is not filed for level {level} (filed levels: "
                    f"{', '.join(map(str, sorted(levels)))})",
                    field="职业技能等级 level",
                    row=n,
                )
            ]
        return []


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
    validator = _Validator(reg, inst, _PhotoCache(photos_dir or path.parent), today)
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
