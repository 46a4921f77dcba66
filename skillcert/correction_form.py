"""The correction application table for the authority (北京市职业技能等级证书信息更正申请表,
``000_…`` 附件4), filled from the registry's corrections, as XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from registry._lifecycle_store import Correction, CorrectionField
from registry.models import Certificate, Institution

from .files import write_atomic

__all__ = ["write_correction_form"]

_ITEM = {CorrectionField.NAME: "姓名", CorrectionField.ID_NUMBER: "身份证号", CorrectionField.PHOTO: "照片"}
_ATTACHMENT = {
    CorrectionField.NAME: "身份证正反面图片或复印件，并加盖印章。",
    CorrectionField.ID_NUMBER: "身份证正反面图片或复印件，并加盖印章。",
    CorrectionField.PHOTO: "证书复印件，并加盖印章；电子版照片另发。",
}


def write_correction_form(path: Path, inst: Institution, rows: Sequence[tuple[Certificate, Correction]]) -> None:
    """One row per correction: what the system shows (before), the item, the value after."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "信息更正申请表"
    ws.append(["北京市职业技能等级证书信息更正申请表"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["评价机构名称", inst.name_zh, "", "", "机构备案号", inst.filing_number])
    ws.append(["办公地址", "", "", "", "注册地辖区", ""])
    ws.append(["经办人", "", "", "", "联系电话", ""])
    ws.append(
        [
            "序号",
            "认定批次",
            "证书编号",
            "姓名",
            "身份证号",
            "更正项",
            "更正后信息",
            "附件",
            "更正原因",
            "批准人",
            "批准文号",
            "更正日期",
        ]
    )
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for i, (c, k) in enumerate(rows, 1):
        name = k.before if k.field is CorrectionField.NAME else c.name
        idn = k.before if k.field is CorrectionField.ID_NUMBER else c.id_number
        after = "（新照片）" if k.field is CorrectionField.PHOTO else k.after
        ws.append(
            [
                i,
                c.batch_id,
                c.number,
                name,
                idn,
                _ITEM[k.field],
                after,
                _ATTACHMENT[k.field],
                k.reason,
                k.approved_by,
                k.approval_ref,
                k.on,
            ]
        )
    ws.append([])
    ws.append(
        [
            "申请更正原因",
            "；".join(sorted({k.reason for _, k in rows})),
            "",
            "",
            "",
            "",
            "评价机构（盖章）",
            "",
            "年  月  日",
        ]
    )
    ws.append(
        [
            "备注",
            "证书数据更正仅限姓名、证件号码、照片，且姓名和证件号码只能更正其中一项（京职技鉴发〔2022〕10号 第十七条）。",
        ]
    )
    for col, width in zip("ABCDEFGHIJKL", (6, 10, 26, 12, 22, 10, 22, 30, 24, 10, 14, 12), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(path, buf.getvalue())
