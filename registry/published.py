"""A published snapshot's signed manifest, read back to check the registry's log against it.

``search_index.publish`` writes ``manifest.json`` with the audit head it committed to
(``audit_seq``, ``audit_head``), the signed Merkle checkpoint, and an Ed25519 signature over
the canonical JSON of everything but ``signature`` and ``public_key``. Copies of it sit on every
verification node, out of reach of whoever holds the registry file: the registry's log must
still reach that head, with that hash, and keep that checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .audit import StoredCheckpoint, signature_ok
from .errors import SkillcertError
from .merkle import Checkpoint

__all__ = ["PublishedManifest", "checkpoint_key_problems", "manifest_problems", "public_key_from_pem"]

Problem = tuple[str, str]


def _verify_ed25519(public_key: str, signature: str, body: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(base64.b64decode(signature), body)
        return True
    except (InvalidSignature, ValueError):
        return False


def public_key_from_pem(pem: bytes) -> str:
    """The base64 raw Ed25519 public key of a publisher key file (``publisher.key``, PKCS#8 PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise SkillcertError("发布密钥文件无法读取", f"the publisher key file cannot be read: {e}") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SkillcertError("发布密钥不是 Ed25519 密钥", "the publisher key is not an Ed25519 key")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass(frozen=True, slots=True)
class PublishedManifest:
    """What a published manifest committed to, and whether its own signature holds."""

    source: str
    snapshot: str
    audit_seq: int
    audit_head: str
    checkpoint: StoredCheckpoint | None
    public_key: str
    signature_valid: bool

    @classmethod
    def load(cls, path: Path) -> PublishedManifest:
        """Read ``manifest.json`` (or a snapshot folder holding one)."""
        file = path / "manifest.json" if path.is_dir() else path
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise SkillcertError(
                f"无法读取已发布清单 {file}：{e}", f"cannot read the published manifest {file}: {e}"
            ) from e
        return cls.from_json(text, source=str(path))

    @classmethod
    def from_json(cls, text: str, *, source: str = "manifest.json") -> PublishedManifest:
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            cp = data.get("checkpoint")
            checkpoint = (
                StoredCheckpoint(
                    int(cp["size"]), str(cp["root"]), str(cp["at"]), str(cp["public_key"]), str(cp["signature"])
                )
                if isinstance(cp, dict)
                else None
            )
            seq, head = data["audit_seq"], data["audit_head"]
            if type(seq) is not int or not isinstance(head, str):
                raise TypeError("audit_seq / audit_head")
            public_key, signature = str(data["public_key"]), str(data["signature"])
        except (ValueError, KeyError, TypeError) as e:
            raise SkillcertError(
                f"{source} 不是已签名的快照清单", f"{source} is not a signed snapshot manifest: {e}"
            ) from e
        body = {k: v for k, v in data.items() if k not in ("signature", "public_key")}
        blob = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        return cls(
            source,
            str(data.get("id", "")),
            seq,
            head,
            checkpoint,
            public_key,
            _verify_ed25519(public_key, signature, blob),
        )


def checkpoint_key_problems(
    cps: Sequence[StoredCheckpoint], trusted_keys: Collection[str], log_size: int, root_at: Callable[[int], str]
) -> Iterator[Problem]:
    """Each checkpoint's signature and, when the publisher's key is known, its signer."""
    for cp in cps:
        if not signature_ok(cp, Checkpoint(cp.size, cp.root, cp.signed_at).body()):
            yield (f"检查点 {cp.size} 的签名无效", f"the signature of checkpoint {cp.size} is not valid")
        elif trusted_keys and cp.public_key not in trusted_keys:
            yield (
                f"检查点 {cp.size} 的签名密钥不是发布者的密钥：检查点被重新签名（或用另一个发布密钥发布）",
                f"checkpoint {cp.size} is signed by a key that is not the publisher's: it was re-signed "
                "(or published with another publisher key)",
            )
        if cp.size > log_size:
            yield (
                f"检查点记录了 {cp.size} 条，日志只剩 {log_size} 条：检查点之内的记录被删除",
                f"checkpoint of size {cp.size}, but the log has {log_size}: entries it covers were deleted",
            )
        elif root_at(cp.size) != cp.root:
            yield (
                f"前 {cp.size} 条记录的 Merkle 根与已签名检查点不符：历史被改写",
                f"the Merkle root of the first {cp.size} entries differs from the signed checkpoint: "
                "history was rewritten",
            )


def manifest_problems(
    m: PublishedManifest,
    *,
    stored: Sequence[StoredCheckpoint],
    trusted_keys: Collection[str],
    log_size: int,
    hash_at: Callable[[int], str | None],
) -> Iterator[Problem]:
    """The log against the head a published manifest committed to (``m.source`` names it)."""
    where_zh, where_en = f"已发布清单 {m.source}", f"the published manifest {m.source}"
    if not m.signature_valid:
        yield (f"{where_zh} 的签名无效：清单被改动", f"the signature of {where_en} is not valid: it was edited")
    elif trusted_keys and m.public_key not in trusted_keys:
        yield (
            f"{where_zh} 不是用发布者的密钥签名的",
            f"{where_en} is signed by a key that is not the publisher's",
        )
    if m.audit_seq > log_size:
        gone_zh, gone_en = (
            (f"第 {m.audit_seq} 条", f"entry #{m.audit_seq} was")
            if m.audit_seq == log_size + 1
            else (f"第 {log_size + 1}–{m.audit_seq} 条", f"entries #{log_size + 1}–#{m.audit_seq} were")
        )
        yield (
            f"审计日志只有 {log_size} 条，{where_zh} 承诺的日志头为第 {m.audit_seq} 条"
            f"（{m.audit_head[:16]}…）：{gone_zh}记录被删除",
            f"the log has {log_size} entries, but {where_en} committed to entry #{m.audit_seq} "
            f"({m.audit_head[:16]}…): {gone_en} deleted",
        )
    elif m.audit_seq > 0 and hash_at(m.audit_seq) != m.audit_head:
        yield (
            f"审计记录 #{m.audit_seq} 与 {where_zh} 承诺的日志头不符：历史被改写",
            f"entry #{m.audit_seq} differs from the head {where_en} committed to: history was rewritten",
        )
    cp = m.checkpoint
    if cp is not None and not any((s.size, s.root, s.signature) == (cp.size, cp.root, cp.signature) for s in stored):
        yield (
            f"{where_zh} 中的检查点 {cp.size} 不在登记库中（被删除或替换）",
            f"checkpoint {cp.size} of {where_en} is not in the registry (deleted or replaced)",
        )
