"""The rules a results row must pass on import, one row at a time (:class:`RowValidator`).

Each row is checked against the field rules, the ID document rules, the institution's filed
scope, the photo rule, the batch's earlier rows and the registry's live records; every problem is
said in both languages with its row and field. Nearly every row is sound and written plainly, and
:meth:`RowValidator.row` first tries that common case with look-ups worked out once per batch,
handing anything else to the general path, which finds and says each problem.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from unicodedata import is_normalized

from ._columns import cell_text
from .errors import Problem
from .fields import FIELD_LINE_UNITS, clean_value, is_no_job, wrap_units
from .ids import IdCardCheck, check_id, id_type_from_text
from .models import Institution, ResultRow
from .photo_rule import photo_problem
from .store import Registry
from .tables import LEVELS, level_from_text
from .tabular import Cell

__all__ = ["PhotoCache", "RowValidator"]


class PhotoCache:
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


def _plain(v: Cell) -> str | None:
    """``v`` if :func:`clean_value` would keep it as it is (a non-empty, printable, NFC text without
    stray spaces: nearly every cell), else None."""
    if (
        type(v) is str
        and v
        and v.isprintable()
        and v[0] != " "
        and v[-1] != " "
        and "  " not in v
        and is_normalized("NFC", v)
    ):
        return v
    return None


class RowValidator:
    def __init__(self, reg: Registry, inst: Institution, photos: PhotoCache, today: date) -> None:
        self.reg, self.inst, self.photos, self.today = reg, inst, photos, today
        self.has_records = reg.certificates.has_records(inst.code)  # a first batch has nobody to collide with
        self.keys: dict[tuple[str, str, str, int], int] = {}
        self.problems: list[Problem] = []
        self.by_level: dict[int, int] = {}
        # what the common row needs, worked out once per distinct value (see _sound)
        self._id_card = IdCardCheck(today)
        self._id_types: dict[str, bool] = {}  # ID type text -> names 201 (居民身份证)
        self._levels: dict[str, int | None] = {}
        self._scope_levels: dict[tuple[str, str], frozenset[int]] = {}
        self._occupations = inst.occupations()

    def _sound(self, raw: dict[str, Cell]) -> tuple[str, str, str, str, int, str, str] | None:
        """(name, ID number, occupation, job, level, photo reference, work unit) of a row that
        :meth:`_checked` would find sound, with nothing to clean and a 居民身份证 — nearly every
        row, at a fraction of the cost; None for any other row (then :meth:`_checked` looks)."""
        name = _plain(raw.get("name"))
        if name is None or len(name) * 2 > FIELD_LINE_UNITS["name"]:
            return None
        id_type = _plain(raw.get("id_type"))
        if id_type is None:
            return None
        resident = self._id_types.get(id_type)
        if resident is None:
            it = id_type_from_text(id_type)
            resident = self._id_types[id_type] = it is not None and it.code == "201"
        id_number = _plain(raw.get("id_number"))
        if not resident or id_number is None or not self._id_card.sound(id_number):
            return None
        occupation = _plain(raw.get("occupation"))
        level_raw = _plain(raw.get("level"))
        photo_ref = _plain(raw.get("photo"))
        if occupation is None or level_raw is None or photo_ref is None or occupation not in self._occupations:
            return None
        job_cell, unit_cell = raw.get("job"), raw.get("work_unit")
        job = "" if job_cell is None or job_cell == "" else _plain(job_cell)
        work_unit = "" if unit_cell is None or unit_cell == "" else _plain(unit_cell)
        if job is None or work_unit is None:
            return None
        if is_no_job(job):
            job = ""
        level = self._levels.get(level_raw, 0)
        if level == 0:
            level = self._levels[level_raw] = level_from_text(level_raw)
        levels = self._scope_levels.get((occupation, job))
        if levels is None:
            levels = self._scope_levels[(occupation, job)] = self.inst.levels_for(occupation, job)
        if level is None or level not in levels:
            return None
        return name, id_number, occupation, job, level, photo_ref, work_unit

    def row(self, n: int, raw: dict[str, Cell]) -> tuple[ResultRow, bytes | None] | None:
        sound = self._sound(raw)
        if sound is None:
            return self._checked(n, raw)
        name, id_number, occupation, job, level, photo_ref, work_unit = sound
        photo = self.photos.get(photo_ref, n)
        if isinstance(photo, Problem):
            self.problems.append(photo)  # the row's one problem: _checked would find just this
            return None
        return self._unique(n, name, "201", id_number, occupation, job, level, photo, work_unit)

    def _unique(
        self,
        n: int,
        name: str,
        id_type: str,
        id_number: str,
        occupation: str,
        job: str,
        level: int,
        photo: tuple[str, bytes | None],
        work_unit: str,
    ) -> tuple[ResultRow, bytes | None] | None:
        """The row, unless it repeats an earlier row or a live record (an otherwise sound row)."""
        key = (id_number, occupation, job, level)
        problem: Problem | None = None
        if key in self.keys:
            problem = Problem(
                zh=f"与第 {self.keys[key]} 行重复（同一证件号码、职业、工种、等级）",
                en=f"duplicates row {self.keys[key]} (same ID number, occupation, job and level)",
                field="证件号码 ID number",
                row=n,
            )
        elif self.has_records and self.reg.certificates.holder_exists(
            self.inst.code, id_number, occupation, job, level
        ):
            problem = Problem(
                zh="登记库中已有此人同一职业、工种、等级的记录",
                en="the registry already has this holder for the same occupation, job and level",
                field="证件号码 ID number",
                row=n,
            )
        self.keys.setdefault(key, n)
        if problem is not None:
            self.problems.append(problem)
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

    def _checked(self, n: int, raw: dict[str, Cell]) -> tuple[ResultRow, bytes | None] | None:
        """Every rule on one row, each problem said (the general path)."""
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
        if probs or level is None or not id_type or not isinstance(photo, tuple):
            self.problems.extend(probs)
            return None
        return self._unique(n, name, id_type, id_number, occupation, job, level, photo, work_unit)

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
