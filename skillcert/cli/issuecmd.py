from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import click

from registry.models import CertStatus, Style
from sign import PadesLevel

from ..issue_lock import issue_lock
from ..lifecycle_job import issue_options
from ..pipeline import default_workers, issue_batch
from ..seals import seal_services
from ..site_url import local_site_warning
from ._runtime import (
    INSTITUTION_HELP,
    JSON_HELP,
    STYLE_HELP,
    emit,
    errors_mapped,
    open_registry,
    publish_next,
    settings,
)


@click.command("issue")
@click.option("--institution", "code", required=True, help=INSTITUTION_HELP)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="输出目录 / output folder")
@click.option("--style", type=click.Choice([s.value for s in Style]), help=STYLE_HELP)
@click.option(
    "--level", type=click.Choice([lv.value for lv in PadesLevel]), help="默认取设置（B-LTA）/ default: settings (B-LTA)"
)
@click.option("--workers", type=int, default=None, help="并行进程数（默认每核一个）/ processes (default: one per core)")
@click.option("--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), help="发证日期（默认今天）/ issue date")
@click.option("--no-notices", is_flag=True, help="不生成持证人下载码与通知 / no holder download codes and notices")
@click.option(
    "--paper", is_flag=True, help="从空白证书台账领用纸张并印其编号 / print on blank sheets drawn from the ledger"
)
@click.option(
    "--allow-local-site",
    is_flag=True,
    help="仅供测试：允许正式密钥签出指向本机的二维码 / tests only: let real keys seal QR codes pointing at this machine",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def issue_cmd(
    code: str,
    out: Path,
    style: str | None,
    level: str | None,
    workers: int | None,
    issue_date: datetime | None,
    no_notices: bool,
    paper: bool,
    allow_local_site: bool,
    as_json: bool,
) -> None:
    """编号、生成、签章、写出证书 PDF；中断后重跑即可续完 / number, render, seal, write; rerun to resume.

    同一机构同一时间只能有一个签发在运行 / one issue run per institution at a time (exit 12 otherwise).
    """
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        pending = sum(1 for _ in reg.certificates.select(institution_code=code, status=CertStatus.PENDING))
        pending += sum(1 for _ in reg.seals.undelivered_ids(code))
        opts = replace(
            issue_options(
                s,
                code,
                out,
                issue_date=issue_date.date() if issue_date else date.today(),
                workers=workers or default_workers(),
                level=level,
                notices=not no_notices,
            ),
            style=Style(style) if style else None,
            paper=paper,
            allow_local_site=allow_local_site or s.allow_local_site,
        )
        warning = local_site_warning(s.site_url)
        if warning and pending:
            click.secho(warning, err=True, fg="yellow", bold=True)
        with (
            issue_lock(reg, code),  # before the seal services: a second run is refused before it starts any
            click.progressbar(
                length=pending, label="签发 issuing", file=sys.stderr, show_pos=True, show_eta=True
            ) as bar,
            seal_services(s),
        ):
            summary = issue_batch(reg, opts, render_settings=s.render_settings(), actor=s.actor, progress=bar.update)
    d = summary.as_dict()
    emit(
        {**d, "out": str(out), "notices": None if no_notices else str(out / "notices")},
        as_json,
        "\n".join(
            [
                f"已签发 issued: 新编号 numbered {summary.numbered}, 交付 delivered {summary.delivered}"
                f" (+{summary.recovered} 续传 recovered) → {out}",
                f"  {d['per_second']} 张/秒 per second; 中位耗时 median ms: {d['median_ms']}",
                *([] if no_notices else [f"  持证人下载通知 holder notices: {out / 'notices'}"]),
                publish_next(s),
            ]
        ),
    )
