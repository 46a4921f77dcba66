from __future__ import annotations

from pathlib import Path

import click

from search_index import publish

from ._runtime import JSON_HELP, emit, errors_mapped, next_step, open_registry, settings


@click.command("publish")
@click.option(
    "--to",
    "to",
    type=click.Path(path_type=Path, file_okay=False),
    help="发布到此目录（默认 $SKILLCERT_HOME）/ publish under this folder (default: $SKILLCERT_HOME)",
)
@click.option(
    "--incremental", is_flag=True, help="只应用上次发布以来的变化 / apply only the changes since the last publish"
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def publish_cmd(to: Path | None, incremental: bool, as_json: bool) -> None:
    """发布供查询网站使用的只读快照 / publish the read-only snapshot the verification sites serve."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        m = publish(reg, to or s.home, incremental=incremental, actor=s.actor, downloads_dir=s.home / "downloads")
    d = m.data
    emit(
        {**d, "path": str(m.path)},
        as_json,
        "\n".join(
            [
                f"已发布 published: {m.path} ({'增量 incremental' if incremental else '完整 full'})",
                f"  证书 certificates {d['certificates']} · 机构 institutions {d['institutions']} · "
                f"审计序号 audit seq {d['audit_seq']} · {d['build_seconds']} s",
                next_step(
                    "skillcert serve",
                    "运行查询网站（或把快照复制到各查询节点）",
                    "serve the verification site (or copy the snapshot to the site's nodes)",
                ),
            ]
        ),
    )
