"""``skillcert backup`` and ``skillcert restore``: an encrypted, checksummed copy of the register
that restores only after it passes `audit verify` (see :mod:`skillcert.backups`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ..backups import backup_home, restore_home
from ._runtime import JSON_HELP, emit, errors_mapped, settings


@click.command("backup")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="备份文件（加密；建议带日期，如 skillcert-20261201.skcbak）"
    " / the backup file (encrypted; name it by date, e.g. skillcert-20261201.skcbak)",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="只保留同目录中同后缀的最新 N 份备份，删除更早的 / keep the newest N backups with the same suffix"
    " in that folder, delete older ones",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def backup_cmd(out: Path, keep: int | None, as_json: bool) -> None:
    """备份登记库（签发运行中也可：一致的在线副本，AES-256-GCM 加密并校验）/ back up the register (also
    while issue runs write: a consistent online copy, encrypted with AES-256-GCM and checksummed)."""
    s = settings()
    with errors_mapped(as_json):
        r = backup_home(s, out, now=datetime.now(UTC), keep=keep)
    h = r.header
    emit(
        r.as_dict(),
        as_json,
        "\n".join(
            [
                f"已备份 backed up: {r.out} ({r.out.stat().st_size:,} bytes, {', '.join(h.files)})",
                f"  审计日志 audit log: 至第 {h.audit_seq} 条 up to entry #{h.audit_seq}, head {h.audit_head[:16]}…",
                f"  SHA-256 {h.sha256[:16]}… · 密钥 key id {h.key_id}",
                *(f"  已删除旧备份 pruned: {p}" for p in r.pruned),
            ]
        ),
    )


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--force",
    is_flag=True,
    help="替换现有登记库（旧库保留为 registry.sqlite.replaced-<时间>，PostgreSQL 上为模式 replaced_<时间>）"
    " / replace the live register (the old one is kept as registry.sqlite.replaced-<time>; on PostgreSQL as the"
    " schema replaced_<time>)",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path, exists=True),
    help="对照此已发布清单（文件或快照目录；默认 $SKILLCERT_HOME/snapshots 中最新的）"
    " / compare with this published manifest (file or snapshot folder; default: the newest in $SKILLCERT_HOME/snapshots)",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def restore_cmd(file: Path, force: bool, manifest_path: Path | None, as_json: bool) -> None:
    """从备份恢复登记库：解密并校验，审计核验通过后才替换；报告与最新已发布清单相比丢失的条目
    / restore the register from a backup: decrypted and checked, switched only after `audit verify` passes;
    names the entries lost against the newest published manifest."""
    s = settings()
    with errors_mapped(as_json):
        r = restore_home(s, file, force=force, manifest=manifest_path, now=datetime.now(UTC))
    lines = [
        f"已恢复 restored: {r.where} ← {file} ({r.backup.created_at})",
        f"  审计日志 audit log: {r.entries} 条 entries, head {r.head[:16]}… · audit verify ✓ 一致 consistent",
    ]
    if r.replaced is not None:
        lines.append(f"  原登记库保留为 the replaced register is kept as {r.replaced}")
    if r.manifest is None:
        lines.append("  没有已发布清单可对照 no published manifest to compare with")
    elif r.lost is None:
        lines.append(
            f"  已发布清单 published manifest {r.manifest}: 第 {r.manifest_seq} 条 entry #{r.manifest_seq} — 无丢失 nothing lost"
        )
    else:
        lines.append(
            f"  ⚠ 丢失 LOST: 已发布清单 {r.manifest} 含至第 {r.manifest_seq} 条，备份之后的 {r.lost.count} 条"
            f"（第 {r.lost.first}-{r.lost.last} 条）不在恢复的登记库中"
            f" / the published manifest reaches entry #{r.manifest_seq}: {r.lost.count} entries "
            f"(#{r.lost.first}-#{r.lost.last}) made after the backup are not in the restored register"
        )
    for name, what in r.secrets.items():
        if what == "kept":
            lines.append(f"  {name}: 保留现有文件（与备份不同）kept the home's file (differs from the backup's)")
    emit(r.as_dict(), as_json, "\n".join(lines))
