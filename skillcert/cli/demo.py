from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..demo_job import run_demo
from ..pipeline import default_workers
from ._runtime import emit, errors_mapped, settings


@click.command()
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="PDF 输出目录（默认 $SKILLCERT_HOME/out）"
)
@click.option("--workers", type=int, help="并行进程数（默认每核一个）/ processes (default: one per core)")
@click.option("--no-issue", is_flag=True, help="只建库和导入 / registry and import only")
@click.option("--json", "as_json", is_flag=True)
def demo(out: Path | None, workers: int, no_issue: bool, as_json: bool) -> None:
    """演示：建库、备案、导入、演示 PKI、签发并签章 / the demo: registry, filings, import, demo PKI, issue and seal."""
    s = settings()
    with errors_mapped(as_json):
        r = run_demo(s, today=date.today(), out_dir=out, workers=workers or default_workers(), issue=not no_issue)
    lines = [
        f"演示数据目录 demo home: {r.home}",
        *(f"  已导入 imported {code}: {n} 行 rows" for code, n in r.imported.items()),
        *(f"  已存在 already there: {x}" for x in r.already),
        *(f"  已签发 issued {code}: {n} 份 PDF (B-LT)" for code, n in r.issued.items()),
        f"  登记库 registry: {r.counts}",
        *(
            [f"  证书 PDF 目录 certificates: {r.out_dir}", f"  验证 verify: skillcert verify {r.example}"]
            if r.example
            else []
        ),
        "下一步 next: skillcert institution list · skillcert report export --out report.xlsx",
    ]
    emit(r.as_dict(), as_json, "\n".join(lines))
