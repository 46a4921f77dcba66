from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from registry import ReportStatus, export_report, report_status
from registry.deadlines import DUE_SOON_WORKDAYS, InstitutionReportStatus

from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings

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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
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
                for c in reg.certificates.select(
                    institution_code=code, issued_from=_d(date_from), issued_to=_d(date_to)
                )
                if c.number and c.reported_on is None
            ]
            marked = reg.certificates.mark_reported(ids, on=day, actor=s.actor, target=out.name)
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
    if summary.provisional:
        lines.append(
            f"  {PROVISIONAL}: {len(summary.provisional)} 条期限按法定节假日推算（该年安排尚未公布）"
            " / deadlines counted on a year with no official holiday schedule yet"
        )
    if mark_reported:
        lines.append(f"  已记录上报 marked reported: {marked}")
    emit({**summary.as_dict(), "as_of": day.isoformat(), "marked_reported": marked}, as_json, "\n".join(lines))


def _first(numbers: list[str], n: int = 10) -> str:
    return ", ".join(numbers[:n]) + (" …" if len(numbers) > n else "")


PROVISIONAL = "暂定 provisional"


def _when(day: date | None, provisional: bool) -> str:
    """A deadline as shown: provisional ones (counted on a year with no official schedule) say so."""
    if day is None:
        return "—"
    return f"{day.isoformat()} {PROVISIONAL}" if provisional else day.isoformat()


def _institution_text(st: InstitutionReportStatus) -> list[str]:
    c, first, prov = st.counts(), st.soonest(), st.soonest_provisional()
    marks = bool(st.provisional_years)  # a column for 暂定 only when some deadline is provisional

    def row(count: int, when: date | None, label: str, category: str = "") -> str:
        mark = (" 暂定" if when and prov.get(category, False) else " " * 5) if marks else ""
        return f"  {count:>6}  {when.isoformat() if when else '—':<10}{mark}  {label}"

    months = st.cutoff_months
    lines = [
        f"{st.code}  {st.name_zh}  [{st.variant.label_zh} {st.variant.value}]",
        f"  规则 rules: {st.report_rule_zh} / {st.report_rule_en}",
        f"              退回后{st.resubmit_workdays}个工作日内更正重报 / "
        f"resubmit returned data within {st.resubmit_workdays} working days",
        f"              发证起逾期{months}个月不予受理 / not accepted more than {months} months after issue",
        f"  {'数量':>4}  {'最早期限':<6}{' ' * 5 if marks else ''}  类别",
        f"  {'count':>6}  {'earliest':<10}{' ' * 5 if marks else ''}  category",
        row(c["due"], first["due"], "待上报 not reported yet, in time", "due"),
        row(
            c["due_soon"],
            first["due"] if c["due_soon"] else None,
            f"  其中{DUE_SOON_WORKDAYS}个工作日内到期 of which due within {DUE_SOON_WORKDAYS} working days",
            "due",
        ),
        row(c["overdue"], first["overdue"], "已逾期 overdue", "overdue"),
        row(c["past_cutoff"], first["past_cutoff"], f"超过受理期限 past the {months}-month cut-off (not accepted)"),
        row(c["reported"], None, "已上报 reported"),
        row(c["returned"], first["returned"], "退回待重报 returned for correction, awaiting resubmission", "returned"),
        row(
            c["returned_late"],
            first["returned_late"],
            "退回超期未重报 returned, resubmission window passed",
            "returned_late",
        ),
    ]
    for label, items in (
        (
            f"{DUE_SOON_WORKDAYS}个工作日内到期 due soon",
            [f"{i.number} ({_when(i.report_by, i.provisional)})" for i in st.due_soon],
        ),
        ("已逾期 overdue", [i.number for i in st.overdue]),
        ("超过受理期限 past cut-off", [i.number for i in st.past_cutoff]),
        ("退回待重报 returned", [f"{i.number} ({_when(i.resubmit_by, i.provisional)})" for i in st.returned]),
        (
            "退回超期 resubmission late",
            [f"{i.number} ({_when(i.resubmit_by, i.provisional)})" for i in st.returned_late],
        ),
    ):
        if items:
            lines.append(f"  {label}: {_first(items)}")
    if st.provisional_years:
        years = "、".join(str(y) for y in st.provisional_years)
        years_en = ", ".join(str(y) for y in st.provisional_years)
        lines.append(
            f"  {PROVISIONAL}: {years} 年的节假日安排尚未公布，期限按法定节假日推算（未含调休），公布后可能变动 / "
            f"no official holiday schedule for {years_en} yet: deadlines counted on the statutory holidays "
            "without makeup working days (调休) and may move once the State Council publishes them"
        )
    return lines


def status_text(status: ReportStatus) -> str:
    """The dashboard for people: one block per institution."""
    lines = [f"上报状态 reporting status — 截至 as of {status.as_of.isoformat()}"]
    if not status.institutions:
        lines.append("（无机构 no institutions）")
    for st in status.institutions:
        lines.append("")
        lines.extend(_institution_text(st))
    return "\n".join(lines)


@report.command("status")
@click.option("--institution", "code", help="只看该机构 / one institution only")
@click.option("--as-of", type=_DATE, help="按此日计算期限（默认今天）/ judge deadlines as of this day")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def status_cmd(code: str | None, as_of: datetime | None, as_json: bool) -> None:
    """上报状态：待上报、逾期、退回待重报 / reporting status: due, overdue, returned for correction."""
    s = settings()
    day = _d(as_of) or date.today()
    with errors_mapped(as_json), open_registry(s) as reg:
        status = report_status(reg, as_of=day, calendar=s.calendar(), institution_code=code)
    emit(status.as_dict(), as_json, status_text(status))


@report.command("returned")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--on", "on", type=_DATE, required=True, help="收到退回通知的日期 / day the return was notified")
@click.option("--reason", required=True, help="退回原因 / why the authority returned the data")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def returned_cmd(numbers: tuple[str, ...], on: datetime, reason: str, as_json: bool) -> None:
    """记录数据被退回更正 / record that reported data was returned for correction."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        done = reg.returns.mark_returned(numbers, on=on.date(), reason=reason, actor=s.actor)
    emit(
        {"returned": [r.number for r in done], "returned_on": on.date().isoformat(), "reason": reason},
        as_json,
        f"已记录退回 recorded as returned: {len(done)} 条 records, {on.date().isoformat()}（{reason}）\n"
        "  重报期限见 resubmission deadlines: skillcert report status",
    )


@report.command("resubmitted")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--on", "on", type=_DATE, required=True, help="重新上报的日期 / day the corrected data was resubmitted")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def resubmitted_cmd(numbers: tuple[str, ...], on: datetime, as_json: bool) -> None:
    """记录更正后已重新上报 / record that corrected data was resubmitted."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        done = reg.returns.mark_resubmitted(numbers, on=on.date(), actor=s.actor)
    emit(
        {
            "resubmitted": [
                {"number": r.number, "returned_on": r.returned_on.isoformat(), "reason": r.reason} for r in done
            ],
            "resubmitted_on": on.date().isoformat(),
        },
        as_json,
        f"已记录重新上报 recorded as resubmitted: {len(done)} 条 records, {on.date().isoformat()}",
    )
