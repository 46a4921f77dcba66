from __future__ import annotations

from datetime import date

import click

from ..demo_job import run_demo
from ._runtime import emit, errors_mapped, settings


@click.command()
@click.option("--json", "as_json", is_flag=True)
def demo(as_json: bool) -> None:
    """演示：建库、备案演示机构、导入样例批次 / the demo: registry, demo institutions, sample batches."""
    s = settings()
    with errors_mapped(as_json):
        r = run_demo(s, today=date.today())
    lines = [
        f"演示数据目录 demo home: {r.home}",
        *(f"  已导入 imported {code}: {n} 行 rows" for code, n in r.imported.items()),
        *(f"  已存在 already there: {x}" for x in r.already),
        f"  登记库 registry: {r.counts}",
        "下一步 next: skillcert institution list · skillcert report export --out report.xlsx",
    ]
    emit(r.as_dict(), as_json, "\n".join(lines))
