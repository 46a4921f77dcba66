"""A verification node takes a distributed snapshot: checked whole against the pinned publisher
key, copied, then switched to atomically (a running site follows ``snapshots/current``).

:func:`adopt_snapshot` trusts nothing in the source before the signature checks:

1. ``distribution.json`` must be signed by the **pinned** key (the key it names is compared, then
   the signature verified with the pinned one), and so must the snapshot manifest inside it;
2. every listed path must be a plain relative name the snapshot layout has (``certs.sqlite``,
   ``downloads.sqlite``, ``manifest.json``, ``directory-<g>/…``, ``audit/…``): no ``..``, no
   absolute path, no hidden name; each file is opened without following links (``O_NOFOLLOW``
   at every step) and hashed as it is copied — the copy, not the source, is what was checked;
   files the list does not name are not copied;
3. the copied ``certs.sqlite`` must hold the very manifest that was signed;
4. it must be newer than what the node serves and than anything it took before
   (``snapshots/.adopted.json``): a higher ``audit_seq`` — the registry's audit sequence, which
   every publish raises — so an older snapshot replayed is refused even after ``current`` was
   changed by hand. The same snapshot again is no change;
5. its signed audit checkpoint must extend the served one's (a Merkle consistency proof from
   its own audit tree): a register rewritten and published again is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.atomic import write_atomic
from registry.errors import SkillcertError

from ._layout import AUDIT, CERTS, MANIFEST_COPY, SCHEMA_ID, read_meta
from .distribute import (
    DISTRIBUTION,
    FORMAT,
    NAME,
    SnapshotNotNewer,
    SnapshotRefused,
    canonical,
    is_export_name,
    snapshots_lock,
    switch_link,
)

__all__ = ["Adopted", "adopt_snapshot"]

MARK = ".adopted.json"
MAX_LIST_BYTES = 64 * 1024 * 1024
MAX_FILES = 100_000
_TOP_FILES = {CERTS, "downloads.sqlite", MANIFEST_COPY}
_TOP_DIRS = re.compile(r"^(audit|directory-[0-9]{1,9})$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Adopted:
    path: Path  # the folder ``current`` points at now
    manifest: dict[str, Any]
    previous: dict[str, Any] | None  # the manifest served before
    changed: bool  # False: that snapshot was served already


def _refuse(zh: str, en: str) -> SnapshotRefused:
    return SnapshotRefused(f"快照被拒绝：{zh}", f"snapshot refused: {en}")


def _verify(public_key: str, signature: Any, body: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(base64.b64decode(str(signature)), body)
        return True
    except (InvalidSignature, ValueError):
        return False


def _fingerprint(public_key: object) -> str:
    return hashlib.sha256(str(public_key).encode()).hexdigest()[:16]


def _signed(doc: Any, pinned: str, what_zh: str, what_en: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _refuse(f"{what_zh}格式不正确", f"the {what_en} is malformed")
    if doc.get("public_key") != pinned:
        raise _refuse(
            f"{what_zh}不是用固定的发布者密钥签名的（签名密钥 {_fingerprint(doc.get('public_key'))}，"
            f"固定密钥 {_fingerprint(pinned)}）",
            f"the {what_en} is signed by another key ({_fingerprint(doc.get('public_key'))}), "
            f"not the pinned publisher key ({_fingerprint(pinned)})",
        )
    if not _verify(pinned, doc.get("signature", ""), canonical(doc)):
        raise _refuse(
            f"{what_zh}的签名无效：内容被改动", f"the signature of the {what_en} is not valid: it was altered"
        )
    return doc


def _read_list(src_fd: int, pinned: str) -> dict[str, Any]:
    try:
        fd = os.open(DISTRIBUTION, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=src_fd)
    except OSError as e:
        raise _refuse(f"没有 {DISTRIBUTION}（{e.strerror}）", f"no {DISTRIBUTION} ({e.strerror})") from e
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise _refuse(f"{DISTRIBUTION} 不是普通文件", f"{DISTRIBUTION} is not a regular file")
        data = f.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise _refuse(f"{DISTRIBUTION} 过大", f"{DISTRIBUTION} is too large")
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _refuse(f"{DISTRIBUTION} 不是 JSON", f"{DISTRIBUTION} is not JSON") from e
    dist = _signed(doc, pinned, "文件清单", "file list")
    manifest = _signed(dist.get("manifest"), pinned, "快照清单", "snapshot manifest")
    if dist.get("format") != FORMAT or manifest.get("schema") != SCHEMA_ID:
        raise _refuse(
            f"格式不受支持（{dist.get('format')} / {manifest.get('schema')}）",
            f"unsupported format ({dist.get('format')} / {manifest.get('schema')})",
        )
    for k, m in (("snapshot", "id"), ("generation", "generation"), ("audit_seq", "audit_seq")):
        if dist.get(k) != manifest.get(m) or type(manifest.get(m)) is not (str if k == "snapshot" else int):
            raise _refuse(f"文件清单与快照清单不一致（{k}）", f"the file list and the manifest disagree ({k})")
    if not NAME.match(f"{manifest['id']}-g{manifest['generation']}"):
        raise _refuse("快照编号不正确", "the snapshot id is malformed")
    return dist


def _entries(files: Any) -> list[tuple[str, int, str]]:
    """The listed files, each a plain path of the layout (else the whole snapshot is refused)."""
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise _refuse("文件清单格式不正确", "the file list is malformed")
    out: list[tuple[str, int, str]] = []
    for f in files:
        path, size, digest = (f.get("path"), f.get("size"), f.get("sha256")) if isinstance(f, dict) else (None,) * 3
        parts = path.split("/") if isinstance(path, str) else []
        allowed = bool(parts) and all(NAME.match(p) for p in parts)
        if allowed:
            allowed = (len(parts) == 1 and parts[0] in _TOP_FILES) or (
                len(parts) > 1 and bool(_TOP_DIRS.match(parts[0]))
            )
        if not allowed:
            raise _refuse(
                f"文件清单中有不允许的路径 {path!r}", f"the file list names a path that is not allowed: {path!r}"
            )
        if type(size) is not int or size < 0 or not isinstance(digest, str) or not _HEX.match(digest):
            raise _refuse(f"文件清单中 {path} 的大小或哈希不正确", f"the size or hash of {path} is malformed")
        out.append((str(path), size, digest))
    names = [p for p, _, _ in out]
    if len(set(names)) != len(names) or not {CERTS, MANIFEST_COPY} <= set(names):
        raise _refuse("文件清单重复或缺少必需文件", "the file list repeats a path or lacks a required file")
    return out


def _open_below(src_fd: int, path: str) -> int:
    """``path`` below the source folder, following no link at any step."""
    parts = path.split("/")
    fds: list[int] = []
    try:
        at = src_fd
        for part in parts[:-1]:
            at = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=at)
            fds.append(at)
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=at)
    finally:
        for fd in fds:
            os.close(fd)


def _copy(src_fd: int, building: Path, entries: list[tuple[str, int, str]]) -> None:
    for path, size, digest in entries:
        try:
            fd = _open_below(src_fd, path)
        except OSError as e:
            raise _refuse(
                f"{path} 无法读取或是链接（{e.strerror}）", f"{path} cannot be read or is a link ({e.strerror})"
            ) from e
        target = building / path
        h, n = hashlib.sha256(), 0
        with os.fdopen(fd, "rb") as src:
            if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
                raise _refuse(f"{path} 不是普通文件", f"{path} is not a regular file")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                out = target.open("xb")
            except OSError as e:  # a path listed both as a file and as a folder
                raise _refuse(f"文件清单中 {path} 与其他路径冲突", f"{path} clashes with another listed path") from e
            with out:
                while n <= size and (chunk := src.read(min(1 << 20, size + 1 - n))):
                    h.update(chunk)
                    out.write(chunk)
                    n += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        if n != size or h.hexdigest() != digest:
            raise _refuse(
                f"{path} 与签名的文件清单不符：文件被改动", f"{path} differs from the signed file list: altered"
            )


def _check_copy(building: Path, manifest: dict[str, Any], entries: list[tuple[str, int, str]]) -> None:
    conn = sqlite3.connect(f"file:{building / CERTS}?mode=ro", uri=True)
    try:
        meta = read_meta(conn, building)
    except (sqlite3.Error, SkillcertError) as e:
        raise _refuse(f"{CERTS} 无法读取", f"{CERTS} cannot be read: {e}") from e
    finally:
        conn.close()
    tops = {p.split("/")[0] for p, _, _ in entries}
    copy = json.loads((building / MANIFEST_COPY).read_text(encoding="utf-8"))
    if json.loads(meta["manifest"]) != manifest or copy != manifest or meta["directory"] not in tops:
        raise _refuse(f"{CERTS} 中的清单与签名的清单不同", f"the manifest in {CERTS} is not the signed one")


def _check_history(building: Path, new: dict[str, Any], served: dict[str, Any] | None) -> None:
    """The new snapshot's signed audit checkpoint must extend the served one's: a consistency proof
    (RFC 9162) from the new snapshot's own tree. A register whose history was rewritten and then
    published again is refused, whatever its sequence number."""
    from registry.errors import RegistryError
    from registry.merkle import FileNodes, consistency_proof, tree_root, verify_consistency

    old_cp, new_cp = (served or {}).get("checkpoint"), new.get("checkpoint")
    if not isinstance(old_cp, dict) or not isinstance(new_cp, dict) or not int(old_cp.get("size", 0)):
        return
    old_size, new_size = int(old_cp["size"]), int(new_cp["size"])
    try:
        with FileNodes(building / AUDIT) as nodes:
            ok = old_size <= new_size and tree_root(nodes, new_size).hex() == new_cp["root"]
            proof = consistency_proof(nodes, old_size, new_size) if ok else []
    except (RegistryError, ValueError):
        ok = False
    if not ok or not verify_consistency(
        old_size, new_size, bytes.fromhex(str(old_cp["root"])), bytes.fromhex(str(new_cp["root"])), proof
    ):
        raise _refuse(
            f"新快照的审计日志不是当前快照审计日志（{old_size} 条）的延续：历史被改写",
            f"the new snapshot's audit log does not extend the served one's ({old_size} entries): "
            "history was rewritten",
        )


def _served(snapshots: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(the manifest ``current`` serves, the newest ever taken, the name ``current`` points at)."""
    current, served, name = snapshots / "current", None, None
    if (current / CERTS).is_file():
        name = current.resolve().name
        conn = sqlite3.connect(f"file:{current / CERTS}?mode=ro", uri=True)
        try:
            served = json.loads(read_meta(conn, current)["manifest"])
        except (sqlite3.Error, SkillcertError, ValueError):
            served = None  # a broken snapshot: any good one replaces it
        finally:
            conn.close()
    mark = None
    if (snapshots / MARK).is_file():
        mark = json.loads((snapshots / MARK).read_text(encoding="utf-8"))
    return served, mark, name


def _newer(new: dict[str, Any], served: dict[str, Any] | None, mark: dict[str, Any] | None) -> bool:
    """True: take it; False: it is what the node serves; raises when it is older (a replay)."""
    same = False
    for ref in (served, mark):
        if not ref:
            continue
        seq, ident = int(ref.get("audit_seq", -1)), (ref.get("id"), ref.get("generation"))
        if (new["id"], new["generation"]) == ident and new["audit_seq"] == seq:
            same = same or ref is served
            continue
        if new["audit_seq"] <= seq:
            raise SnapshotNotNewer(
                f"快照 {new['id']} 第 {new['generation']} 代（审计序号 {new['audit_seq']}）不比已采用的 "
                f"{ident[0]} 第 {ident[1]} 代（审计序号 {seq}）新：拒绝旧快照",
                f"snapshot {new['id']} generation {new['generation']} (audit seq {new['audit_seq']}) is not newer "
                f"than {ident[0]} generation {ident[1]} (audit seq {seq}) already taken: an older snapshot is refused",
            )
    return not same


def adopt_snapshot(src: Path, site_home: Path, publisher_key: str) -> Adopted:
    """Check the exported snapshot in ``src`` against ``publisher_key`` (base64 Ed25519) and switch
    ``site_home/snapshots/current`` to a checked copy of it."""
    if not (site_home / "index.secret").is_file():
        raise SkillcertError(
            f"{site_home / 'index.secret'} 不存在：请从发布端复制一次 index.secret（勿放入快照）",
            f"{site_home / 'index.secret'} is missing: copy index.secret from the publisher once (never in a snapshot)",
        )
    try:
        src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise _refuse(f"{src} 无法打开（{e.strerror}）", f"{src} cannot be opened ({e.strerror})") from e
    try:
        dist = _read_list(src_fd, publisher_key)
        manifest: dict[str, Any] = dist["manifest"]
        entries = _entries(dist.get("files"))
        snapshots = site_home / "snapshots"
        with snapshots_lock(snapshots):
            served, mark, previous = _served(snapshots)
            if not _newer(manifest, served, mark):
                return Adopted((snapshots / "current").resolve(), manifest, served, False)
            for stale in snapshots.glob(".adopting-*"):  # a killed adopter's (we hold the lock)
                shutil.rmtree(stale, ignore_errors=True)
            building = snapshots / f".adopting-{os.getpid()}-{secrets.token_hex(4)}"
            building.mkdir()
            try:
                _copy(src_fd, building, entries)
                _check_copy(building, manifest, entries)
                _check_history(building, manifest, served)
                write_atomic(building / DISTRIBUTION, json.dumps(dist, ensure_ascii=False, indent=1).encode())
                name = f"{manifest['id']}-g{manifest['generation']}"
                shutil.rmtree(snapshots / name, ignore_errors=True)  # a copy never switched to
                os.replace(building, snapshots / name)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            switch_link(snapshots, "current", name)
            mark_doc = {k: manifest[k] for k in ("id", "generation", "audit_seq")}
            write_atomic(snapshots / MARK, json.dumps(mark_doc).encode())
            _prune(snapshots, {name, previous or ""})
    finally:
        os.close(src_fd)
    return Adopted(snapshots / name, manifest, served, True)


def _prune(snapshots: Path, keep: set[str]) -> None:
    """Remove snapshots taken before the previous one (a reader still on that one keeps it)."""
    for p in snapshots.iterdir():
        if p.name in keep or p.is_symlink() or not p.is_dir() or not is_export_name(p.name):
            continue
        if (p / DISTRIBUTION).is_file():
            shutil.rmtree(p, ignore_errors=True)
