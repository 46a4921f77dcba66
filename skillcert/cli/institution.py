from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from registry.errors import SkillcertError
from registry.filings import institution_from_toml, institution_to_dict

from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings


@click.group()
def institution() -> None:
    """评价机构备案 / institution filings."""


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SkillcertError(f"无法读取 {file}：{e}", f"cannot read {file}: {e}") from e


@institution.command("add")
@click.option("--file", "file", type=click.Path(path_type=Path), required=True, help="备案 TOML 文件 / filing TOML")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def add(file: Path, as_json: bool) -> None:
    """备案新机构 / file a new institution from a TOML file."""
    s = settings()
    with errors_mapped(as_json):
        inst = institution_from_toml(_read(file), source=file.name)
        with open_registry(s) as reg:
            reg.institutions.add(inst, actor=s.actor)
    emit(institution_to_dict(inst), as_json, f"已备案 filed: {inst.code} {inst.name_zh} ({inst.style.value})")


@institution.command("refile")
@click.option(
    "--file", "file", type=click.Path(path_type=Path), required=True, help="新的备案文件（TOML）/ the new filing (TOML)"
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def refile(file: Path, as_json: bool) -> None:
    """重新备案（名称、印章、样式或范围变更）/ re-file a changed institution."""
    s = settings()
    with errors_mapped(as_json):
        inst = institution_from_toml(_read(file), source=file.name)
        with open_registry(s) as reg:
            version = reg.institutions.refile(inst, actor=s.actor)
    emit({"code": inst.code, "filing_version": version}, as_json, f"已重新备案 re-filed: {inst.code} v{version}")


@institution.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def list_(as_json: bool) -> None:
    """列出已备案机构和废置库 / list filed institutions and retired codes."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        insts, retired = reg.institutions.all(), reg.institutions.retired_codes()
    lines = [f"{i.code}  {i.status.value:9}  {i.style.value:9}  {i.name_zh}" for i in insts] or ["（无 none）"]
    if retired:
        lines += ["废置库 retired codes:"] + [f"  {c}  {on}  {why}" for c, on, why in retired]
    emit(
        {
            "institutions": [institution_to_dict(i) for i in insts],
            "retired_codes": [{"code": c, "retired_on": on, "reason": why} for c, on, why in retired],
        },
        as_json,
        "\n".join(lines),
    )


@institution.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def show(code: str, as_json: bool) -> None:
    """显示一个机构的备案 / show one institution's filing."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        d = institution_to_dict(reg.institutions.get(code))
    scope = [f"  {x['occupation']} / {x['job'] or '—'}: {', '.join(map(str, x['levels']))}" for x in d["scope"]]  # type: ignore[attr-defined]
    emit(
        d,
        as_json,
        "\n".join(
            [
                f"{d['code']} {d['name_zh']} / {d['name_en']}",
                f"备案号 filing {d['filing_number']} ({d['filing_date']}), {d['status']}",
                "评价范围 scope:",
                *scope,
            ]
        ),
    )


@institution.command("cancel")
@click.argument("code")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="注销日期 / cancellation date")
@click.option("--reason", required=True, help="注销原因 / the reason")
@click.option("--merged-into", help="并入的机构编码 / absorbing institution's code")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def cancel(code: str, on: object, reason: str, merged_into: str | None, as_json: bool) -> None:
    """取消机构或记录合并，编码列入废置库 / cancel (or merge) an institution; its code is retired."""
    s = settings()
    day = on.date() if hasattr(on, "date") else date.today()
    with errors_mapped(as_json), open_registry(s) as reg:
        reg.institutions.retire(code, on=day, reason=reason, actor=s.actor, merged_into=merged_into)
    emit(
        {"code": code, "retired_on": day.isoformat(), "merged_into": merged_into},
        as_json,
        f"已列入废置库 retired: {code} ({day})",
    )
