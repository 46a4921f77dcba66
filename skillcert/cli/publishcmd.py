from __future__ import annotations

from pathlib import Path

import click

from search_index import publish
from search_index.distribute import export_snapshot

from ._runtime import JSON_HELP, emit, errors_mapped, next_step, open_registry, settings


@click.command("publish")
@click.option(
    "--to",
    "to",
    type=click.Path(path_type=Path, file_okay=False),
    help="另把快照连同签名的文件清单导出到此目录，供各查询节点采用（skillcert snapshot adopt）"
    " / also export the snapshot with a signed file list to this folder, for the verification nodes"
    " to take (skillcert snapshot adopt)",
)
@click.option(
    "--incremental", is_flag=True, help="只应用上次发布以来的变化 / apply only the changes since the last publish"
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def publish_cmd(to: Path | None, incremental: bool, as_json: bool) -> None:
    """发布供查询网站使用的只读快照 / publish the read-only snapshot the verification sites serve."""
    s = settings()
    with errors_mapped(as_json):
        with open_registry(s) as reg:
            m = publish(
                reg, s.home, incremental=incremental, actor=s.actor, downloads_dir=s.downloads_dir, site_url=s.site_url
            )
        exported = export_snapshot(s.home, to) if to is not None else None
    d = m.data
    lines = [
        f"已发布 published: {m.path} ({'增量 incremental' if incremental else '完整 full'})",
        f"  证书 certificates {d['certificates']} · 机构 institutions {d['institutions']} · "
        f"审计序号 audit seq {d['audit_seq']} · {d['build_seconds']} s",
    ]
    if exported is not None:
        lines.append(
            f"已导出 exported: {exported.path} ({exported.files} 个文件 files, {exported.size} bytes, 已签名 signed)"
        )
        lines.append(
            next_step(
                f"skillcert snapshot adopt {exported.path} --into SITE_HOME --publisher-key publisher.pub",
                "复制到各查询节点后在节点上采用",
                "copy it to each verification node and take it there",
            )
        )
    else:
        lines.append(next_step("skillcert serve", "运行查询网站", "serve the verification site"))
    extra = {"exported": str(exported.path)} if exported is not None else {}
    emit({**d, "path": str(m.path), **extra}, as_json, "\n".join(lines))
