"""``skillcert template``: the Excel file a clerk fills with a batch of results."""

from __future__ import annotations

from pathlib import Path

import click

from registry.template import write_template

from ._runtime import INSTITUTION_HELP, JSON_HELP, emit, errors_mapped, next_step, open_registry, settings


@click.command("template")
@click.option("--institution", "code", required=True, help=INSTITUTION_HELP)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="模板文件（.xlsx）/ the template file to write (.xlsx)",
)
@click.option("--force", is_flag=True, help="覆盖已有文件 / overwrite an existing file")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def template_cmd(code: str, out: Path, force: bool, as_json: bool) -> None:
    """写出评价结果 Excel 模板（表头、下拉列表、示例行、填写说明）/ write the results Excel template
    (headers, drop-down lists of the filed scope, an example row, instructions)."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        info = write_template(reg.institutions.get(code), out, overwrite=force)
    emit(
        info.as_dict(),
        as_json,
        "\n".join(
            [
                f"已写出模板 template written: {out}  ({len(info.occupations)} 个职业 occupations, "
                f"等级 levels {', '.join(map(str, info.levels))})",
                "  填写后先检查 fill it in, then check it:",
                next_step(
                    f"skillcert import {out} --institution {code} --dry-run", "检查每一行，不写入", "check every row"
                ),
            ]
        ),
    )
