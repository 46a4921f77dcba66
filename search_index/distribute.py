"""Snapshots for many verification nodes: a copy of the current snapshot with a signed file list.

``skillcert publish --to DIR`` publishes as always and then :func:`export_snapshot` writes
``DIR/<id>-g<generation>/`` — the snapshot folder as the site reads it (``certs.sqlite`` and
``downloads.sqlite`` copied through SQLite's backup API, so a generation committed meanwhile
cannot tear them; the directory of that generation; the audit tree; ``manifest.json``) — and
``distribution.json``::

    {"format": "skillcert/distribution/1", "snapshot": ID, "generation": G, "audit_seq": N,
     "manifest": {the snapshot's signed manifest}, "exported_at": TIME,
     "files": [{"path": "certs.sqlite", "size": BYTES, "sha256": HEX}, ...],
     "public_key": BASE64, "signature": BASE64}

signed (Ed25519, the canonical JSON of everything but ``public_key`` and ``signature``) with the
publisher's key, the one that signed the manifest. ``DIR/latest`` points at the newest export.
Copy the folder to the nodes by any means (rsync, a package, a USB disk): a node takes it with
:func:`search_index.adopt.adopt_snapshot`, which trusts none of it before the signature checks
against the key the node pinned.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.errors import ExitCode, SkillcertError

from ._layout import AUDIT, CERTS, DOWNLOADS, MANIFEST_COPY, read_meta

__all__ = [
    "DISTRIBUTION",
    "FORMAT",
    "NAME",
    "Exported",
    "SnapshotNotNewer",
    "SnapshotRefused",
    "canonical",
    "export_snapshot",
    "load_public_key",
    "public_key_pem",
    "snapshots_lock",
]

FORMAT = "skillcert/distribution/1"
DISTRIBUTION = "distribution.json"
LATEST = "latest"
_FOLDER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]*-g[0-9]+$")  # <snapshot id>-g<generation>
NAME = re.compile(r"^[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}$")  # each part of a listed path: nothing hidden


class SnapshotRefused(SkillcertError):
    """A snapshot a node will not take: not signed by the pinned key, altered, or malformed."""

    exit_code = ExitCode.SNAPSHOT_REFUSED


class SnapshotNotNewer(SkillcertError):
    """A snapshot older than (or as old as, but other than) the one the node serves: a replay."""

    exit_code = ExitCode.SNAPSHOT_REFUSED


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    manifest: dict[str, Any]
    files: int
    size: int  # bytes


def canonical(body: dict[str, Any]) -> bytes:
    """What a signature covers: the JSON of ``body`` without ``signature`` and ``public_key``."""
    rest = {k: v for k, v in body.items() if k not in ("signature", "public_key")}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def load_public_key(data: bytes, source: str = "key") -> str:
    """The base64 raw Ed25519 public key in ``data``: a PEM public key (``skillcert snapshot key``),
    the base64 key itself (as manifests carry it), or the publisher's private key file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = data.strip()
    key: Any = None
    try:
        if b"PRIVATE KEY" in text:
            key = serialization.load_pem_private_key(text, password=None).public_key()
        elif b"PUBLIC KEY" in text:
            key = serialization.load_pem_public_key(text)
        elif len(raw := base64.b64decode(text, validate=True)) == 32:
            key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as e:
        raise SnapshotRefused(
            f"发布者公钥 {source} 无法读取（应为 PEM 或 base64 的 Ed25519 公钥）：{e}",
            f"the publisher key {source} cannot be read (an Ed25519 public key, PEM or base64, is expected): {e}",
        ) from e
    if not isinstance(key, Ed25519PublicKey):
        raise SnapshotRefused(f"{source} 不是 Ed25519 发布者公钥", f"{source} is not an Ed25519 publisher key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_pem(home: Path) -> bytes:
    """The publisher's public key (PEM) from ``home/publisher.key``: what the nodes pin."""
    from cryptography.hazmat.primitives import serialization

    path = home / "publisher.key"
    if not path.is_file():
        raise SkillcertError(
            f"{path} 不存在：请先发布快照（skillcert publish）",
            f"{path} is missing: publish a snapshot first (skillcert publish)",
        )
    key: Any = serialization.load_pem_private_key(path.read_bytes(), password=None)
    pem: bytes = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _sign(body: dict[str, Any], key: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        **body,
        "public_key": base64.b64encode(pub).decode(),
        "signature": base64.b64encode(key.sign(canonical(body))).decode(),
    }


@contextmanager
def snapshots_lock(snapshots: Path) -> Iterator[None]:
    """The lock a publisher holds on ``snapshots/.publish.lock``: nothing changes the folder meanwhile."""
    snapshots.mkdir(parents=True, exist_ok=True)
    fd = os.open(snapshots / ".publish.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _copy_db(src: Path, dst: Path) -> None:
    """One consistent copy of a snapshot database, as one file (rollback journal, no WAL beside it)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


def _copy_tree(src: Path, dst: Path) -> None:
    """Regular files and folders only: a link, or a hidden or temporary name (``.x.part``), is not
    copied on to the nodes (which would refuse it)."""
    dst.mkdir()
    for entry in sorted(src.iterdir()):
        if entry.is_symlink() or not NAME.match(entry.name):
            continue
        if entry.is_dir():
            _copy_tree(entry, dst / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry, dst / entry.name)


def _file_list(folder: Path) -> list[dict[str, Any]]:
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        rel = path.relative_to(folder).as_posix()
        files.append({"path": rel, "size": path.stat().st_size, "sha256": digest.hexdigest()})
    return files


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def switch_link(folder: Path, name: str, target: str) -> None:
    """``folder/name`` → ``target`` (a name in ``folder``), atomically: the old link or the new one."""
    tmp = folder / f".{name}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.symlink_to(target)
    os.replace(tmp, folder / name)


def export_snapshot(home: Path, to: Path, *, now: datetime | None = None) -> Exported:
    """Copy ``home``'s current snapshot to ``to/<id>-g<generation>/`` with a signed file list."""
    from cryptography.hazmat.primitives import serialization

    snapshots = home / "snapshots"
    current = snapshots / "current"
    if not (current / CERTS).is_file():
        raise SkillcertError("还没有已发布的快照", "no published snapshot yet: run skillcert publish first")
    key: Any = serialization.load_pem_private_key((home / "publisher.key").read_bytes(), password=None)
    to.mkdir(parents=True, exist_ok=True)
    building = to / f".exporting-{os.getpid()}-{secrets.token_hex(4)}"
    building.mkdir()
    try:
        with snapshots_lock(snapshots):  # no publish changes the folder while it is copied
            source = current.resolve()
            _copy_db(source / CERTS, building / CERTS)
            conn = sqlite3.connect(f"file:{building / CERTS}?mode=ro", uri=True)
            try:
                meta = read_meta(conn, building)
            finally:
                conn.close()
            if (source / DOWNLOADS).is_file():
                _copy_db(source / DOWNLOADS, building / DOWNLOADS)
            _copy_tree(source / meta["directory"], building / meta["directory"])
            if (source / AUDIT).is_dir():
                _copy_tree(source / AUDIT, building / AUDIT)
        manifest = json.loads(meta["manifest"])
        (building / MANIFEST_COPY).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        files = _file_list(building)
        body = {
            "format": FORMAT,
            "snapshot": str(manifest["id"]),
            "generation": int(manifest["generation"]),
            "audit_seq": int(manifest["audit_seq"]),
            "manifest": manifest,
            "exported_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "files": files,
        }
        (building / DISTRIBUTION).write_text(
            json.dumps(_sign(body, key), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        _fsync_tree(building)
        name = f"{manifest['id']}-g{manifest['generation']}"
        target = to / name
        if target.exists():  # this generation was exported before: the same content, keep that one
            shutil.rmtree(building)
        else:
            os.replace(building, target)
        switch_link(to, LATEST, name)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return Exported(target, manifest, len(files), sum(int(f["size"]) for f in files))


def is_export_name(name: str) -> bool:
    return bool(_FOLDER.match(name))
