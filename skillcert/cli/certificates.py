"""``skillcert certificates list/search``: what the registry holds, filtered, for people or scripts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice

import click

from registry import Registry
from registry.ids import normalise_id_number
from registry.models import Certificate, CertStatus

from ._runtime import INSTITUTION_HELP, JSON_HELP, emit, errors_mapped, next_step, open_registry, settings

_DATE = click.DateTime(["%Y-%m-%d"])


def _filters(f: click.decorators.FC) -> click.decorators.FC:
    for opt in reversed(
        [
            click.option("--institution", "code", help=INSTITUTION_HELP),
            click.option("--batch", "batch", type=int, help="导入批次号 / import batch number"),
            click.option(
                "--status",
                type=click.Choice([s.value for s in CertStatus]),
                help="状态 / status (pending: imported, not numbered yet)",
            ),
            click.option("--from", "issued_from", type=_DATE, help="发证日期起（含）/ issued on or after"),
            click.option("--to", "issued_to", type=_DATE, help="发证日期止（含）/ issued on or before"),
            click.option("--name", help="姓名包含 / the name contains"),
            click.option(
                "--limit",
                type=int,
                default=50,
                show_default=True,
                help="最多显示几条（0 不限）/ at most this many (0: all)",
            ),
            click.option("--json", "as_json", is_flag=True, help=JSON_HELP),
        ]
    ):
        f = opt(f)
    return f


def _row(c: Certificate) -> dict[str, object]:
    return {
        "number": c.number,
        "status": c.status.value,
        "issue_date": c.issue_date.isoformat() if c.issue_date else None,
        "name": c.name,
        "id_type": c.id_type,
        "id_number": c.id_number,
        "occupation": c.occupation,
        "job": c.job,
        "level": c.level,
        "institution": c.institution_code,
        "batch": c.batch_id,
        "row": c.row,
        "version": c.version,
    }


def _show(found: Iterator[Certificate], limit: int, as_json: bool, hint: bool) -> None:
    rows = [_row(c) for c in (islice(found, limit + 1) if limit > 0 else found)]
    more = limit > 0 and len(rows) > limit
    rows = rows[:limit] if more else rows
    lines = [
        f"{r['number'] or '（未编号 not numbered）':<24} {r['status']:<9} {r['issue_date'] or '-':<10} "
        f"{r['name']}  {r['occupation']}{'/' + str(r['job']) if r['job'] else ''} {r['level']}级  "
        f"批次 batch {r['batch']} 行 row {r['row']}"
        for r in rows
    ]
    lines.append(
        f"共 {len(rows)} 条 {len(rows)} found"
        + ("（还有更多，用 --limit 0 全部显示）/ more: --limit 0" if more else "")
    )
    pending = sorted({str(r["institution"]) for r in rows if r["status"] == "pending"})
    if hint and pending:
        lines.append(
            next_step(f"skillcert issue --institution {pending[0]} --out out", "编号并签章", "number and seal")
        )
    emit({"certificates": rows, "more": more}, as_json, "\n".join(lines))


def _filtered(
    reg: Registry,
    code: str | None,
    batch: int | None,
    status: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    name: str | None,
) -> Iterator[Certificate]:
    """The registry's certificates under the shared filters of ``list`` and ``search``."""
    return reg.certificates.select(
        institution_code=code,
        status=CertStatus(status) if status else None,
        issued_from=issued_from.date() if issued_from else None,
        issued_to=issued_to.date() if issued_to else None,
        batch_id=batch,
        name_contains=name,
    )


@click.group("certificates")
def certificates() -> None:
    """列出、查找登记库中的证书 / list and search the registry's certificates."""


@certificates.command("list")
@_filters
def list_cmd(
    code: str | None,
    batch: int | None,
    status: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    name: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """按机构、批次、状态、发证日期、姓名筛选 / filter by institution, batch, status, issue date, name."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        found = _filtered(reg, code, batch, status, issued_from, issued_to, name)
        _show(found, limit, as_json, hint=True)


@certificates.command("search")
@click.argument("text")
@_filters
def search_cmd(
    text: str,
    code: str | None,
    batch: int | None,
    status: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    name: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """按证书编号（或其开头）、证件号码或姓名查找 / find by certificate number (or its beginning), ID number or name."""
    s = settings()
    wanted = normalise_id_number(text)
    with errors_mapped(as_json), open_registry(s) as reg:
        found = _filtered(reg, code, batch, status, issued_from, issued_to, name)
        matches = (
            c for c in found if (c.number or "").startswith(wanted) or c.id_number == wanted or text.strip() in c.name
        )
        _show(matches, limit, as_json, hint=False)
