from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from registry import export_report

from ._runtime import emit, errors_mapped, open_registry, settings

_DATE = click.DateTime(["%Y-%m-%d"])


def _d(v: datetime | None) -> date | None:
    return v.date() if v else None


@click.group()
def report() -> None:
    """证书数据上报 / the certificate data report."""


@report.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="输出 .csv 或 .xlsx")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="默认按文件扩展名 / default: by suffix")
@click.option("--institution", "code", help="只导出该机构 / one institution only")
@click.option("--from", "date_from", type=_DATE, help="发证日期起 / issued on or after (YYYY-MM-DD)")
@click.option("--to", "date_to", type=_DATE, help="发证日期止 / issued on or before (YYYY-MM-DD)")
@click.option("--as-of", type=_DATE, help="按此日计算期限（默认今天）/ judge deadlines as of this day")
@click.option("--mark-reported", is_flag=True, help="记录这些数据已上报（写入审计）/ record these as reported")
@click.option("--json", "as_json", is_flag=True)
def export(
    out: Path,
    fmt: str | None,
    code: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    as_of: datetime | None,
    mark_reported: bool,
    as_json: bool,
) -> None:
    """导出上报数据及逾期情况 / export the data report with deadlines and overdue records."""
    s = settings()
    day = _d(as_of) or date.today()
    with errors_mapped(as_json), open_registry(s) as reg:
        summary = export_report(
            reg,
            out,
            as_of=day,
            calendar=s.calendar(),
            institution_code=code,
            date_from=_d(date_from),
            date_to=_d(date_to),
            fmt=fmt,
        )
        marked = 0
        if mark_reported:
            ids = [
                c.id
                for c in reg.certificates(institution_code=code, issued_from=_d(date_from), issued_to=_d(date_to))
                if c.number and c.reported_on is None
            ]
            marked = reg.mark_reported(ids, on=day, actor=s.actor, target=out.name)
    by = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items())) or "—"
    lines = [f"已导出 exported: {summary.rows} 条 records → {out}", f"  上报状态 status: {by}"]
    if summary.overdue:
        lines.append(
            f"  已逾期 overdue (30 working days): {', '.join(summary.overdue[:10])}"
            + (" …" if len(summary.overdue) > 10 else "")
        )
    if summary.past_cutoff:
        lines.append(
            f"  超过受理期限 past the 5/6-month cut-off: {', '.join(summary.past_cutoff[:10])}"
            + (" …" if len(summary.past_cutoff) > 10 else "")
        )
    if mark_reported:
        lines.append(f"  已记录上报 marked reported: {marked}")
    emit({**summary.as_dict(), "as_of": day.isoformat(), "marked_reported": marked}, as_json, "\n".join(lines))
