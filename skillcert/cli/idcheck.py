from __future__ import annotations

from datetime import date

import click

from registry import parse_id

from ._runtime import emit, errors_mapped


@click.group("id")
def id_group() -> None:
    """证件 / ID documents."""


@id_group.command("check")
@click.argument("id_type")
@click.argument("id_number")
@click.option("--json", "as_json", is_flag=True, help="机器可读输出 / machine-readable output")
def check(id_type: str, id_number: str, as_json: bool) -> None:
    """检查证件号码（类型代码如 201 或名称）/ check an ID number for its type (code like 201, or name)."""
    with errors_mapped(as_json):
        doc = parse_id(id_type, id_number, today=date.today())
    d = doc.describe()
    born = f", 出生 born {d['birth_date']}" if d["birth_date"] else ""
    emit({"valid": True, **d}, as_json, f"有效 valid: {d['type']} {d['type_zh']} / {d['type_en']} {d['number']}{born}")
