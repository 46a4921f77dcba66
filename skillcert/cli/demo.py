from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..demo_job import run_demo
from ..pipeline import default_workers
from ..serving import serve
from ._runtime import JSON_HELP, emit, errors_mapped, settings

# the registry's counts as a clerk reads them (the JSON output keeps the keys)
_STATES = (
    ("valid", "有效", "valid"),
    ("pending", "待签发", "pending"),
    ("revoked", "已撤销", "revoked"),
    ("suspended", "已暂停", "suspended"),
)


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="PDF 输出目录（默认 $SKILLCERT_HOME/out）/ where the PDFs go (default $SKILLCERT_HOME/out)",
)
@click.option("--workers", type=int, help="并行进程数（默认每核一个）/ processes (default: one per core)")
@click.option("--no-issue", is_flag=True, help="只建库和导入 / registry and import only")
@click.option("--no-serve", is_flag=True, help="做完全部但不启动网站 / everything but serving the site")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def demo(out: Path | None, workers: int, no_issue: bool, no_serve: bool, as_json: bool) -> None:
    """演示：建库、备案、导入、演示 PKI、签发签章、发布快照并启动查验网站 / the demo: registry, filings,
    import, demo PKI, issue and seal, publish the snapshot, serve the verification site."""
    s = settings()
    with errors_mapped(as_json):
        r = run_demo(s, today=date.today(), out_dir=out, workers=workers or default_workers(), issue=not no_issue)
    lines = [
        f"演示数据目录 demo home: {r.home}",
        *(f"  已导入 imported {code}: {n} 行 rows" for code, n in r.imported.items()),
        *(f"  已存在 already there: {x}" for x in r.already),
        *(f"  已签发 issued {code}: {n} 份 PDF ({s.seal_level})" for code, n in r.issued.items()),
        "  登记库 registry: " + " · ".join(f"{zh} {en} {r.counts.get(k, 0)}" for k, zh, en in _STATES),
        *(
            [
                f"  证书 PDF 目录 certificates: {r.out_dir}",
                f"  持证人下载通知 holder notices: {r.out_dir / 'notices'}",
                f"  验证 verify: skillcert verify {r.example}",
                f"  查询快照 snapshot: {r.snapshot}",
            ]
            if r.example and r.out_dir
            else []
        ),
    ]
    serving = not no_serve and not no_issue and r.example_url is not None
    if serving:
        lines += [
            f"查验网站 verification site: {s.site_url}/",
            f"  一张证书的二维码页面 one certificate's QR page: {r.example_url}",
            "  Ctrl-C 停止 to stop",
        ]
    else:
        lines.append(
            "下一步 next: skillcert serve · skillcert institution list · skillcert report export --out report.xlsx"
        )
    emit(r.as_dict(), as_json, "\n".join(lines))
    if serving:
        host, _, port = s.site_url.split("//", 1)[-1].split("/", 1)[0].partition(":")
        with errors_mapped():
            serve(s, host="127.0.0.1", port=int(port or 80) if host in ("127.0.0.1", "localhost") else 8000, workers=1)
