from __future__ import annotations

from datetime import date

import click

from registry import parse_number

from ._runtime import emit, errors_mapped


@click.group()
def number() -> None:
    """证书编号 / certificate numbers."""


@number.command("check")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="机器可读输出 / machine-readable output")
def check(text: str, as_json: bool) -> None:
    """按编码规则检查并拆解证书编号 / check a number against the coding rule and show its parts."""
    with errors_mapped(as_json):
        parts = parse_number(text, today=date.today()).describe()
    emit(
        {"valid": True, **parts},
        as_json,
        "\n".join(
            [
                f"有效 valid: {parts['number']}",
                f"  机构类别 category      {parts['category']} {parts['category_zh']} / {parts['category_en']}",
                f"  机构代码 authority     {parts['authority_code']} ({parts['filed_with_zh']} / {parts['filed_with_en']})",
                f"  地区 region            {parts['region']} {parts.get('district') or parts.get('city') or parts.get('province') or ''}",
                f"  机构序列码 serial      {parts['institution_serial']} {parts.get('unit_category_zh') or ''}",
                f"  核发年份 year          {parts['year']}",
                f"  等级 level             {parts['level']} {parts['level_zh']} / {parts['level_en']}",
                f"  证书序列码 serial      {parts['serial']:06d}",
            ]
        ),
    )
