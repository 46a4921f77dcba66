"""The Excel template a clerk fills with a batch of results (``skillcert template``).

One sheet to fill, first (the importer reads the first sheet): the bilingual headers the importer
recognises, the ID-number column formatted as text (so Excel never turns an 18-digit number into
``1.10108E+17``), drop-down lists for the ID types and for the occupations, jobs and levels of the
institution's filed scope, and one example row (which the importer skips, so it may stay). Then
an instructions sheet with the rules and the filed scope, and a hidden sheet holding the lists.
Written to a temporary name and renamed: the file is whole or absent, and an existing file is
never overwritten unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._columns import COLUMNS, TEMPLATE_EXAMPLE_ID, TEMPLATE_EXAMPLE_NAME
from .atomic import replacing
from .errors import SkillcertError
from .models import Institution
from .tables import ID_TYPES, LEVELS

__all__ = ["TemplateInfo", "write_template"]

DATA_SHEET = "评价结果 Results"
HELP_SHEET = "填写说明 Instructions"
LISTS_SHEET = "lists"
FILL_ROWS = 5000  # rows the drop-down lists and the text format cover
NO_JOB = "无"


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    path: Path
    institution_code: str
    occupations: tuple[str, ...]
    jobs: tuple[str, ...]
    levels: tuple[int, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "institution": self.institution_code,
            "occupations": list(self.occupations),
            "jobs": list(self.jobs),
            "levels": list(self.levels),
        }


def _instructions(inst: Institution) -> list[list[str]]:
    return [
        [f"{inst.name_zh} · {inst.code}", inst.name_en or ""],
        ["评价结果导入模板", "Results import template"],
        [],
        ["填写", "How to fill it"],
        [
            "每位持证人一行，从“评价结果”表第 3 行起填写；第 2 行是示例，可以保留（导入时跳过）或删除。",
            "One holder per row, from row 3 of the Results sheet; row 2 is an example: keep it (the import skips it) or delete it.",
        ],
        [
            "证件号码列已设为“文本”：请直接输入或粘贴为“值”，不要改回数字格式，否则 Excel 会丢失 15 位以后的数字。",
            "The ID No. column is formatted as text: type or paste values; never make it a number (Excel drops digits past the 15th).",
        ],
        [
            "证件类型、职业名称、工种/职业方向、职业技能等级请从下拉列表中选择；没有工种时选“无”。",
            "Pick ID Type, Occupation, Job and Skill Level from the drop-down lists; choose 无 when there is no job.",
        ],
        [
            "照片列写照片文件相对于本文件所在文件夹的路径，如 photos/001.jpg（JPEG 或 PNG，至少 200 像素）。",
            "Photo: the photo file's path relative to this file's folder, e.g. photos/001.jpg (JPEG or PNG, at least 200 px).",
        ],
        ["所在单位可不填。请勿修改第 1 行表头。", "Work Unit is optional. Do not change the headers in row 1."],
        [],
        ["检查与导入", "Check and import"],
        [f"skillcert import 文件.xlsx --institution {inst.code} --dry-run", "checks every row and writes nothing"],
        [
            f"skillcert import 文件.xlsx --institution {inst.code}",
            "imports the whole batch, or nothing if any row is wrong",
        ],
        [],
        ["备案的评价范围", "Filed scope"],
        ["职业名称 Occupation", "工种/职业方向 Job", "职业技能等级 Skill Levels"],
        *(
            [s.occupation, s.job or NO_JOB, "、".join(LEVELS[lv].zh for lv in sorted(s.levels))]
            for s in sorted(inst.scope, key=lambda s: (s.occupation, s.job))
        ),
    ]


def write_template(inst: Institution, out: Path, *, overwrite: bool = False) -> TemplateInfo:
    """Write the results template for ``inst`` to ``out`` (an ``.xlsx`` file)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if out.suffix.lower() != ".xlsx":
        raise SkillcertError(f"模板文件名应以 .xlsx 结尾：{out}", f"the template file name must end in .xlsx: {out}")
    if out.exists() and not overwrite:
        raise SkillcertError(
            f"{out} 已存在，未覆盖（可能已填写）；换一个文件名，或加 --force 覆盖",
            f"{out} exists and was left as it is (it may be filled in already); choose another name or add --force",
        )
    occupations = tuple(sorted(inst.occupations()))
    jobs = tuple(sorted({s.job for s in inst.scope if s.job}))
    levels = tuple(sorted({lv for s in inst.scope for lv in s.levels}, reverse=True))
    if not occupations:
        raise SkillcertError(f"机构 {inst.code} 没有备案评价范围", f"institution {inst.code} has no filed scope")

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = DATA_SHEET
    fields = list(COLUMNS)
    ws.append([f"{zh} {en}" for zh, en, _, _ in COLUMNS.values()])
    for i, (_, _, _, required) in enumerate(COLUMNS.values(), 1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="9C0006" if required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(i)].width = 24 if fields[i - 1] in ("id_number", "work_unit") else 16
    ws.freeze_panes = "A2"
    first = occupations[0]
    first_job = next((s.job for s in inst.scope if s.occupation == first), "")
    first_level = max(lv for s in inst.scope if s.occupation == first and s.job == first_job for lv in s.levels)
    example = {
        "name": TEMPLATE_EXAMPLE_NAME,
        "id_type": f"201 {ID_TYPES['201'].zh}",
        "id_number": TEMPLATE_EXAMPLE_ID,
        "occupation": first,
        "job": first_job or NO_JOB,
        "level": LEVELS[first_level].zh,
        "photo": "photos/001.jpg",
        "work_unit": "（示例 example）",
    }
    ws.append([example[f] for f in fields])
    for i in range(1, len(fields) + 1):
        ws.cell(row=2, column=i).font = Font(italic=True, color="808080")
    id_col = get_column_letter(fields.index("id_number") + 1)
    ws.column_dimensions[id_col].number_format = "@"  # what Excel applies to every cell typed in the column
    ws[f"{id_col}2"].number_format = "@"

    lists = wb.create_sheet(LISTS_SHEET)
    columns = {
        "id_type": [f"{t.code} {t.zh}" for t in ID_TYPES.values()],
        "occupation": list(occupations),
        "job": [NO_JOB, *jobs],
        "level": [LEVELS[lv].zh for lv in levels],
    }
    for c, (fld, values) in enumerate(columns.items(), 1):
        letter = get_column_letter(c)
        lists.cell(row=1, column=c, value=COLUMNS[fld][0])
        for r, v in enumerate(values, 2):
            lists.cell(row=r, column=c, value=v)
        target = get_column_letter(fields.index(fld) + 1)
        dv = DataValidation(
            type="list",
            formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=fld == "job",
            showErrorMessage=True,
            errorTitle="不在列表中 / not in the list",
            error=f"请从下拉列表中选择{COLUMNS[fld][0]} / pick the {COLUMNS[fld][1]} from the list",
        )
        dv.add(f"{target}2:{target}{FILL_ROWS}")
        ws.add_data_validation(dv)
    lists.sheet_state = "hidden"

    helpsheet = wb.create_sheet(HELP_SHEET, 1)
    for row in _instructions(inst):
        helpsheet.append(row)
    for key in ("A", "B", "C"):
        helpsheet.column_dimensions[key].width = 60
    for r in (1, 4, 11, 15):
        helpsheet.cell(row=r, column=1).font = Font(bold=True)

    with replacing(out, private=True) as tmp:
        wb.save(tmp)
    return TemplateInfo(out, inst.code, occupations, jobs, levels)
