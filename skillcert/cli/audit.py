"""The tamper-evident trail: verify the whole store, prove a certificate's entries, check that
history was only appended between two signed checkpoints (RFC 6962 Merkle tree)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from registry.audit import StoredCheckpoint, signature_ok
from registry.errors import SkillcertError
from registry.merkle import Checkpoint, audit_leaf, verify_consistency, verify_inclusion
from registry.published import PublishedManifest, public_key_from_pem

from ._runtime import JSON_HELP, ExitCode, emit, errors_mapped, finish, open_registry, settings


@click.group("audit")
def audit() -> None:
    """审计日志（防篡改）/ the tamper-evident audit trail."""


@audit.command("verify")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path, exists=True),
    help="对照此已发布清单（文件或快照目录；默认 $SKILLCERT_HOME/snapshots/current）"
    " / compare with this published manifest (file or snapshot folder; default: the current snapshot)",
)
@click.option(
    "--publisher-key",
    "key_files",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help="另一个发布者密钥文件（另一数据目录的 publisher.key，或 snapshot key 导出的公钥）"
    " / another publisher key file (another home's publisher.key, or the public key `snapshot key` wrote)",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def verify_cmd(manifest_path: Path | None, key_files: tuple[Path, ...], as_json: bool) -> None:
    """从登记库重新计算全部：哈希链、各检查点的 Merkle 根与签名、已发布清单的日志头、各表与日志重放一致、
    照片哈希、序列码计数器 / recompute everything: the chain, each checkpoint's root and signature, the head
    the published manifest committed to, the tables replayed, photo hashes, serial counters."""
    s = settings()
    with errors_mapped(as_json):
        manifest_path = manifest_path or _default_manifest(s.home)
        manifest = PublishedManifest.load(manifest_path) if manifest_path is not None else None
        keys = _publisher_keys(s.home, manifest_path, key_files)
        with open_registry(s) as reg:
            report = reg.audit.verify(manifest=manifest, trusted_keys=keys)
    lines = [
        f"审计日志 audit log: {report.entries} 条 entries, Merkle 根 root {report.root[:16]}…, "
        f"{report.checkpoints} 个已签名检查点 signed checkpoints",
        f"对照已发布清单 compared with the published manifest: {report.manifest}"
        if report.manifest
        else "没有已发布清单可对照 no published manifest to compare with",
        "检查点签名者已对照发布者密钥 checkpoint signers checked against the publisher's key"
        if report.trusted_key
        else "未找到发布者密钥：检查点签名只按其自带公钥核验 no publisher key found: checkpoint signatures "
        "checked against their own public keys only",
        "✓ 一致 consistent" if report.ok else "✗ 不一致 INCONSISTENT",
        *(f"  - {zh}\n    {en}" for zh, en in report.problems),
    ]
    emit(report.as_dict(), as_json, "\n".join(lines))
    finish(ExitCode.OK if report.ok else ExitCode.AUDIT_FAILED)


def _default_manifest(home: Path) -> Path | None:
    current = home / "snapshots" / "current"
    return current if (current / "manifest.json").is_file() else None


def _publisher_keys(home: Path, manifest_path: Path | None, extra: tuple[Path, ...]) -> tuple[str, ...]:
    """The publishers' public keys: ``publisher.key`` in the home, in the folder the given snapshot
    was published to (``<to>/snapshots/<id>/`` beside ``<to>/publisher.key``), and any given."""
    candidates = [home / "publisher.key", *extra]
    if manifest_path is not None:
        snapshot = manifest_path.resolve()
        snapshot = snapshot if snapshot.is_dir() else snapshot.parent
        if snapshot.parent.name == "snapshots":
            candidates.append(snapshot.parent.parent / "publisher.key")
    keys = {public_key_from_pem(p.read_bytes()) for p in candidates if p.is_file()}
    return tuple(sorted(keys))


@audit.command("prove")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def prove_cmd(number: str, as_json: bool) -> None:
    """证书各条审计记录在最新签名检查点中的包含证明 / inclusion proofs of a certificate's entries
    in the latest signed checkpoint."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        cps = reg.audit.checkpoints()
        if not cps:
            raise SkillcertError("还没有签名检查点：请先发布快照", "no signed checkpoint yet: publish a snapshot first")
        cp = cps[-1]
        c = reg.certificates.get(number)
        tree = reg.audit.tree(cp.size)
        entries: list[dict[str, Any]] = []
        for e in reg.audit.entries(entity="certificate", key=str(c.id)):
            if e.seq > cp.size:
                continue
            leaf = audit_leaf(e.hash)
            proof = tree.inclusion_proof(e.seq - 1, cp.size)
            ok = verify_inclusion(leaf, e.seq - 1, cp.size, proof, bytes.fromhex(cp.root))
            entries.append(
                {
                    "seq": e.seq,
                    "action": e.action,
                    "leaf": leaf.hex(),
                    "proof": [h.hex() for h in proof],
                    "verified": ok,
                }
            )
        signed = signature_ok(cp, Checkpoint(cp.size, cp.root, cp.signed_at).body())
    good = signed and all(x["verified"] for x in entries)
    emit(
        {"number": number, "checkpoint": _cp_dict(cp), "signature_valid": signed, "entries": entries},
        as_json,
        "\n".join(
            [
                f"检查点 checkpoint: {cp.size} 条 entries, root {cp.root[:16]}…, {cp.signed_at}, "
                f"签名 signature {'✓' if signed else '✗'}",
                *(
                    f"  {'✓' if x['verified'] else '✗'} #{x['seq']:<8} {x['action']:14} {len(x['proof'])} 个哈希 hashes"
                    for x in entries
                ),
            ]
        ),
    )
    finish(ExitCode.OK if good else ExitCode.AUDIT_FAILED)


def _cp_dict(cp: StoredCheckpoint) -> dict[str, Any]:
    return {
        "size": cp.size,
        "root": cp.root,
        "at": cp.signed_at,
        "public_key": cp.public_key,
        "signature": cp.signature,
    }


def _load_checkpoint(reg: Any, ref: str) -> StoredCheckpoint:
    """A checkpoint by tree size (from the registry), or from a file: a snapshot's manifest.json or a checkpoint JSON."""
    if ref.isdigit():
        return reg.audit.checkpoint(int(ref))  # type: ignore[no-any-return]
    path = Path(ref)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SkillcertError(f"无法读取检查点 {ref}", f"cannot read the checkpoint {ref}: {e}") from e
    d = data.get("checkpoint", data)
    try:
        return StoredCheckpoint(int(d["size"]), str(d["root"]), str(d["at"]), str(d["public_key"]), str(d["signature"]))
    except (KeyError, TypeError, ValueError) as e:
        raise SkillcertError(f"{ref} 不是检查点", f"{ref} is not a checkpoint") from e


@audit.command("check-consistency")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check_consistency_cmd(old: str, new: str, as_json: bool) -> None:
    """证明 OLD 检查点的日志是 NEW 的前缀（只追加、未改写）/ prove the log at OLD is a prefix of NEW.

    OLD / NEW: a tree size of a checkpoint in the registry, a snapshot folder, or a checkpoint JSON file.
    """
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        a, b = _load_checkpoint(reg, old), _load_checkpoint(reg, new)
        if a.size > b.size:
            a, b = b, a
        signed = all(signature_ok(x, Checkpoint(x.size, x.root, x.signed_at).body()) for x in (a, b))
        tree = reg.audit.tree(b.size)
        proof = tree.consistency_proof(a.size, b.size) if tree.size >= b.size else []
        ok = tree.size >= b.size and verify_consistency(
            a.size, b.size, bytes.fromhex(a.root), bytes.fromhex(b.root), proof
        )
    good = ok and signed
    emit(
        {
            "old": _cp_dict(a),
            "new": _cp_dict(b),
            "signatures_valid": signed,
            "consistent": ok,
            "proof": [h.hex() for h in proof],
        },
        as_json,
        f"{a.size} → {b.size}: "
        + ("✓ 只追加 append-only" if ok else "✗ 不一致：历史被改写 NOT consistent: history was rewritten")
        + ("" if signed else "；检查点签名无效 / a checkpoint signature is not valid"),
    )
    finish(ExitCode.OK if good else ExitCode.AUDIT_FAILED)
