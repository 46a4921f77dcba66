from __future__ import annotations

from contextlib import nullcontext
from datetime import date

import click

from ..renew import renew_delivered
from ..seals import seal_services
from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings


@click.command("renew")
@click.option(
    "--before",
    "before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="续期最新时间戳在此日期前失效的文件 / renew files whose newest timestamp runs out before this date",
)
@click.option(
    "--institution", "code", help="只续期该机构的证书（机构代码）/ only this institution's certificates (its code)"
)
@click.option("--dry-run", is_flag=True, help="只列出需要续期的文件 / only list the files due")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def renew_cmd(before: object, code: str | None, dry_run: bool, as_json: bool) -> None:
    """为已交付证书追加文档时间戳与验证数据（B-LTA 续期）/ add a fresh document timestamp and
    validation data to delivered certificates under $SKILLCERT_HOME/out before their newest timestamp runs out."""
    s = settings()
    on = before.date() if hasattr(before, "date") else date.fromisoformat(str(before))
    # the demo PKI's TSA/OCSP/CRL are started for the run, as `issue` does (not for a dry run)
    services = seal_services(s) if not dry_run else nullcontext()
    with errors_mapped(as_json), open_registry(s) as reg, services:
        r = renew_delivered(
            reg,
            s.home / "out",
            before=on,
            tsa_url=s.tsa_url,
            trust_roots=s.trust_roots,
            actor=s.actor,
            dry_run=dry_run,
            institution_code=code,
        )
    d = r.as_dict()
    lines = [f"到期于 {r.before} 前 due before {r.before}: {d['due']} 份 files · 已续期 renewed {d['renewed']}"]
    lines += [f"  {i.number}  {i.renew_by} → {i.new_renew_by or '-'}" for i in r.items]
    emit(d, as_json, "\n".join(lines))
