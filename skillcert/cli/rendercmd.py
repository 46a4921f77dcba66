from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from registry.errors import SkillcertError
from registry.models import Style
from render import DocumentKind, Renderer
from render.fonts import SHIPPED_FANGSONG

from ..files import write_atomic
from ..preview import preview_record
from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings

_DATE = click.DateTime(["%Y-%m-%d"])


@click.command("render")
@click.argument("number", required=False)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="输出 PDF / output PDF")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in DocumentKind]),
    default="certificate",
    show_default=True,
    help="证书、补发证书或证明 / certificate, replacement or proof",
)
@click.option(
    "--style", type=click.Choice([s.value for s in Style]), help="默认用机构备案的样式 / default: the filed style"
)
@click.option("--preview", is_flag=True, help="用样例数据预览样式 / preview a style with sample data")
@click.option("--replacement-date", type=_DATE, help="补发日期（--kind replacement）")
@click.option("--proof-number", help="证明编号（--kind proof）")
@click.option("--proof-date", type=_DATE, help="证明日期（--kind proof）")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def render_cmd(
    number: str | None,
    out: Path,
    kind: str,
    style: str | None,
    preview: bool,
    replacement_date: datetime | None,
    proof_number: str | None,
    proof_date: datetime | None,
    as_json: bool,
) -> None:
    """生成证书 PDF（不签章）/ render a certificate PDF (unsealed) by number, or --preview a style."""
    s = settings()
    k = DocumentKind(kind)
    with errors_mapped(as_json):
        if preview:
            st = Style(style or "style1")
            record, inst, photo = preview_record(st)
        else:
            if not number:
                raise SkillcertError("请给出证书编号，或用 --preview", "give a certificate number, or use --preview")
            with open_registry(s) as reg:
                record = reg.certificates.get(number)
                inst = reg.institutions.get(record.institution_code)
                photo = reg.certificates.photo(record.photo_sha256)
            st = Style(style) if style else inst.style
        if k is DocumentKind.PROOF and not preview and not (proof_number and proof_date):
            raise SkillcertError(
                "证明需要 --proof-number 和 --proof-date", "a proof needs --proof-number and --proof-date"
            )
        with Renderer(s.render_settings()) as r:
            rendered = r.render(
                record,
                inst,
                photo=photo,
                kind=k,
                style=st,
                replacement_date=(replacement_date.date() if replacement_date else date.today()),
                proof_number=proof_number or ("ZM-PREVIEW" if preview else None),
                proof_date=(proof_date.date() if proof_date else (date.today() if preview else None)),
            )
            faces = r.fangsong_families
        write_atomic(out, rendered.pdf)
    boxes = [{"kind": b.kind, "page": b.page, "rect_pt": [round(v, 2) for v in b.rect_pt]} for b in rendered.seal_boxes]
    warn = [w.text() for w in rendered.warnings]
    fang = f"  仿宋 FangSong: {', '.join(faces)}"
    if faces == (SHIPPED_FANGSONG,):  # no licensed 仿宋 of the institution's: say where it would go
        fang += (
            "（随附的后备字体；机构已授权的仿宋字体放在 settings.toml 的 [render] font_dirs 中即优先使用）"
            " — the shipped fallback; put your licensed 仿宋 in [render] font_dirs to use it first"
        )
    emit(
        {
            "out": str(out),
            "number": record.number,
            "kind": k.value,
            "style": st.value,
            "bytes": len(rendered.pdf),
            "sha256": rendered.sha256,
            "seal_boxes": boxes,
            "fangsong": list(faces),
            "warnings": warn,
        },
        as_json,
        "\n".join(
            [
                f"已生成 rendered: {out} ({len(rendered.pdf) // 1024} KB, {st.value}, {k.value})",
                *([fang] if preview else []),
                *(f"  警告 warning: {w}" for w in warn),
            ]
        ),
    )
