from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from registry import import_results
from registry.tabular import open_table

from ._runtime import JSON_HELP, ExitCode, emit, errors_mapped, finish, next_step, open_registry, settings


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--institution", "code", required=True, help="机构编码（13 位）/ institution code (13 characters)")
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check every row, write nothing")
@click.option(
    "--photos",
    type=click.Path(path_type=Path, file_okay=False),
    help="照片目录（默认为文件所在目录）/ photo folder (default: the file's folder)",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def import_cmd(file: Path, code: str, dry_run: bool, photos: Path | None, as_json: bool) -> None:
    """导入评价结果（CSV/XLSX），全部成功或全部不写 / import a results batch, all or nothing."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        total = open_table(file).estimate_rows()
        label = "检查 checking" if dry_run else "导入 importing"
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True) as bar:
            rep = import_results(
                reg,
                file,
                code,
                today=date.today(),
                actor=s.actor,
                dry_run=dry_run,
                photos_dir=photos,
                progress=bar.update,
            )
    levels = ", ".join(f"{k}级×{v}" for k, v in sorted(rep.by_level.items()))
    if rep.dry_run:
        head = (
            f"检查通过 dry run OK: {rep.rows} 行 rows ({levels}), 未写入 nothing written"
            if rep.ok
            else f"检查发现问题 dry run found problems: {len({p.row for p in rep.problems})} / {rep.rows} 行 rows"
        )
    else:
        head = f"已导入 imported: 批次 batch {rep.batch_id}, {rep.rows} 行 rows ({levels}), 编码 {rep.encoding}"
    lines = [head]
    if rep.header_row > 1:
        lines.append(
            f"  表头在第 {rep.header_row} 行，上面 {rep.header_row - 1} 行（标题）已跳过"
            f" / header found on row {rep.header_row}; the {rep.header_row - 1} row(s) above it (a title) skipped"
        )
    lines += [f"  - {p.text()}" for p in rep.problems]
    if rep.ignored_columns:
        lines.append(f"  忽略的列 ignored columns: {', '.join(rep.ignored_columns)}")
    if rep.ok:
        step = (
            next_step(f"skillcert import {file} --institution {code}", "导入", "import")
            if rep.dry_run
            else next_step(f"skillcert issue --institution {code} --out out", "编号、签章", "number and seal them")
        )
        lines.append(step)
    emit(rep.as_dict(), as_json, "\n".join(lines))
    if not rep.ok:
        finish(ExitCode.IMPORT_REJECTED)
