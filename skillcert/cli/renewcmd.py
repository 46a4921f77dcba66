from __future__ import annotations

from datetime import date

import click

from ..renew import renew_delivered
from ._runtime import emit, errors_mapped, open_registry, settings


@click.command("renew")
@click.option(
    "--before",
    "before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="续期最新时间戳在此日期前失效的文件 / renew files whose newest timestamp runs out before this date",
)
@click.option("--dry-run", is_flag=True, help="只列出需要续期的文件 / only list the files due")
@click.option("--json", "as_json", is_flag=True)
def renew_cmd(before: object, dry_run: bool, as_json: bool) -> None:
    """为已交付证书追加文档时间戳与验证数据（B-LTA 续期）/ add a fresh document timestamp and
    validation data to delivered certificates under $SKILLCERT_HOME/out before their newest timestamp runs out."""
    s = settings()
    on = before.date() if hasattr(before, "date") else date.fromisoformat(str(before))
    with errors_mapped(as_json), open_registry(s) as reg:
        r = renew_delivered(
            reg,
            s.home / "out",
            before=on,
            tsa_url=s.tsa_url,
            trust_roots=s.trust_roots,
            actor=s.actor,
            dry_run=dry_run,
        )
    d = r.as_dict()
    lines = [f"到期于 {r.before} 前 due before {r.before}: {d['due']} 份 files · 已续期 renewed {d['renewed']}"]
    lines += [f"  {i.number}  {i.renew_by} → {i.new_renew_by or '-'}" for i in r.items]
    emit(d, as_json, "\n".join(lines))
