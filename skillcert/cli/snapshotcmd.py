"""``skillcert snapshot``: the publisher's key for the nodes to pin, and a node taking a snapshot
that ``skillcert publish --to DIR`` exported (see :mod:`search_index.adopt`)."""

from __future__ import annotations

from pathlib import Path

import click

from search_index.adopt import adopt_snapshot
from search_index.distribute import load_public_key, public_key_pem

from ._runtime import JSON_HELP, emit, errors_mapped, settings


@click.group("snapshot")
def snapshot() -> None:
    """查询节点的快照：固定发布者公钥、采用新快照 / snapshots on the verification nodes: pin the
    publisher's key, take a new snapshot."""


@snapshot.command("key")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="写入此文件（默认输出到屏幕）/ write it to this file (default: print it)",
)
def key_cmd(out: Path | None) -> None:
    """发布者的公钥（PEM），各节点固定它以核验快照 / the publisher's public key (PEM) that each node
    pins to check snapshots."""
    s = settings()
    with errors_mapped():
        pem = public_key_pem(s.home)
    if out is None:
        click.echo(pem.decode().rstrip())
    else:
        out.write_bytes(pem)
        click.echo(f"发布者公钥 publisher key: {out}", err=True)


@snapshot.command("adopt")
@click.argument("src", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--into",
    "into",
    type=click.Path(path_type=Path, file_okay=False),
    help="节点的数据目录（含 index.secret；默认 $SKILLCERT_HOME）"
    " / the node's home holding index.secret (default: $SKILLCERT_HOME)",
)
@click.option(
    "--publisher-key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="固定的发布者公钥文件（skillcert snapshot key 的输出）"
    " / the pinned publisher key file (what skillcert snapshot key prints)",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def adopt_cmd(src: Path, into: Path | None, key_file: Path, as_json: bool) -> None:
    """核验签名后采用导出的快照（运行中的网站随即切换）；拒绝其他密钥签名、被改动或更旧的快照 /
    take an exported snapshot after checking its signature (a running site switches to it); refuse one
    signed by another key, altered, or older than the current one."""
    s = settings()
    with errors_mapped(as_json):
        pinned = load_public_key(key_file.read_bytes(), str(key_file))
        r = adopt_snapshot(src, (into or s.home).absolute(), pinned)
    m = r.manifest
    what = f"{m['id']} 第 {m['generation']} 代 generation {m['generation']} · 审计序号 audit seq {m['audit_seq']}"
    text = f"已采用 adopted: {r.path} ({what})" if r.changed else f"已是当前快照 already current: {r.path} ({what})"
    emit(
        {
            "path": str(r.path),
            "changed": r.changed,
            "snapshot": m["id"],
            "generation": m["generation"],
            "audit_seq": m["audit_seq"],
        },
        as_json,
        text,
    )
