"""A backup of the register: a consistent online copy, packed, encrypted and checksummed in one file.

The copy is taken with SQLite's online backup API from a read connection, in one step: it is
the database as of one read transaction, whatever issue runs write meanwhile (WAL lets them go
on). It is switched to a rollback journal so that the one file holds everything. A PostgreSQL
register is read in one ``REPEATABLE READ`` snapshot into the same kind of SQLite file
(:mod:`registry._backup_pg`), so both engines' backups hold the same member. It is packed with the
small secrets the caller names (a tar), and sealed with AES-256-GCM::

    SKILLCERT-BACKUP\\n                 magic (17 bytes)
    u32 big-endian                     length of the header
    header                             canonical JSON, in clear, authenticated (GCM associated data):
                                       format, created_at, cipher, key_id, nonce, sha256 and size of
                                       the plaintext, audit_seq / audit_head, schema_version, files,
                                       engine (sqlite · postgresql: where it was taken)
    ciphertext ‖ 16-byte GCM tag       the tar

Nothing of the register is in clear; the header holds no personal data (times, hashes, the
audit head). A wrong key is named by the ``key_id`` (a hash of the key, not the key); a flipped
byte anywhere fails the tag. Decryption streams into a folder the caller owns and only hands
the files over once the tag and the SHA-256 hold.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import struct
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .atomic import replacing
from .audit import GENESIS
from .errors import ExitCode, SkillcertError
from .store import Registry, is_url

T = TypeVar("T")

__all__ = [
    "BACKUP_FORMAT",
    "MAGIC",
    "REGISTER",
    "BackupHeader",
    "BackupInvalid",
    "has_register",
    "is_backup",
    "key_id",
    "open_backup",
    "read_header",
    "restore_postgres",
    "shown",
    "write_backup",
]

MAGIC = b"SKILLCERT-BACKUP\n"
BACKUP_FORMAT = 1
REGISTER = "registry.sqlite"  # the member every backup holds
_TAG = 16
_CHUNK = 1 << 20
_MAX_HEADER = 1 << 16


class BackupInvalid(SkillcertError):
    """A backup that cannot be opened: not a backup, wrong key, altered or damaged."""

    exit_code = ExitCode.BACKUP_INVALID


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupHeader:
    """What a backup says about itself, in clear (and authenticated)."""

    format: int
    created_at: str
    cipher: str
    key_id: str
    nonce: str  # hex, 12 bytes
    sha256: str  # of the plaintext (the tar)
    size: int  # bytes of plaintext
    audit_seq: int  # the last audit entry the copy holds
    audit_head: str  # its chain hash (what `audit verify` reports as head, a manifest's audit_head)
    schema_version: int
    files: Mapping[str, str]  # member -> SHA-256
    engine: str = "sqlite"  # the register it was taken from: sqlite · postgresql (the member is SQLite either way)

    def to_bytes(self) -> bytes:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = dict(self.files)
        return d

    @classmethod
    def from_bytes(cls, blob: bytes, source: str) -> BackupHeader:
        try:
            d = json.loads(blob)
            h = cls(
                format=int(d["format"]),
                created_at=str(d["created_at"]),
                cipher=str(d["cipher"]),
                key_id=str(d["key_id"]),
                nonce=str(d["nonce"]),
                sha256=str(d["sha256"]),
                size=int(d["size"]),
                audit_seq=int(d["audit_seq"]),
                audit_head=str(d["audit_head"]),
                schema_version=int(d["schema_version"]),
                files={str(k): str(v) for k, v in dict(d["files"]).items()},
                engine=str(d.get("engine", "sqlite")),
            )
            bytes.fromhex(h.nonce)
        except (ValueError, KeyError, TypeError) as e:
            raise BackupInvalid(f"{source} 的备份头已损坏", f"the header of {source} is damaged: {e}") from e
        if h.format != BACKUP_FORMAT or h.cipher != "AES-256-GCM":
            raise BackupInvalid(
                f"{source} 是第 {h.format} 版备份（{h.cipher}），本程序只读第 {BACKUP_FORMAT} 版",
                f"{source} is a format {h.format} backup ({h.cipher}); this program reads format {BACKUP_FORMAT}",
            )
        return h


def key_id(key: bytes) -> str:
    """A short public name of a backup key (a hash of it): tells a wrong key from a damaged file."""
    return hashlib.sha256(b"skillcert-backup-key-id/1\x00" + key).hexdigest()[:16]


def _aes(key: bytes) -> Any:
    if len(key) != 32:
        raise BackupInvalid("备份密钥必须是 32 字节（AES-256）", f"a backup key is 32 bytes (AES-256), not {len(key)}")
    from cryptography.hazmat.primitives.ciphers import algorithms

    return algorithms.AES(key)


def _consistent_copy(db: Path, dst: Path) -> tuple[int, str, int]:
    """Copy ``db`` into ``dst`` as of one read transaction; ``(audit_seq, audit_head, schema)`` of the copy."""
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60.0)
    try:
        out = sqlite3.connect(dst)
        try:
            src.backup(out)  # pages=-1: the whole database in one step, one snapshot
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            row = out.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            schema = int(out.execute("PRAGMA user_version").fetchone()[0])
        finally:
            out.close()
    except sqlite3.Error as e:
        raise SkillcertError(f"无法复制登记库 {db}：{e}", f"cannot copy the register {db}: {e}") from e
    finally:
        src.close()
    return (int(row[0]), str(row[1]), schema) if row else (0, GENESIS, schema)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def write_backup(
    db: Path | str, out: Path, key: bytes, *, extras: Mapping[str, Path], now: datetime, work_dir: Path | None = None
) -> BackupHeader:
    """Back up the register ``db`` — a SQLite file or a ``postgresql://`` URL — (and the files
    ``extras`` name, member -> path) into ``out``, sealed under ``key``. ``out`` appears whole or
    not at all; the clear copy lives only in a private temporary folder in ``work_dir`` (default:
    beside the SQLite file) and is removed."""
    aes = _aes(key)
    postgres = is_url(db)
    folder = work_dir if work_dir is not None else Path(db).parent
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=folder))  # 0700, same disk as the register
    try:
        if postgres:
            from ._backup_pg import copy_out  # psycopg loads only for a PostgreSQL register

            seq, head, schema = copy_out(str(db), work / REGISTER)
        else:
            seq, head, schema = _consistent_copy(Path(db), work / REGISTER)
        members = {REGISTER: work / REGISTER, **extras}
        tar_path = work / "backup.tar"
        with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
            for name, path in members.items():
                info = tar.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o600
                with path.open("rb") as f:
                    tar.addfile(info, f)
        nonce = secrets.token_bytes(12)
        header = BackupHeader(
            format=BACKUP_FORMAT,
            created_at=now.isoformat(timespec="seconds"),
            cipher="AES-256-GCM",
            key_id=key_id(key),
            nonce=nonce.hex(),
            sha256=_sha256_file(tar_path),
            size=tar_path.stat().st_size,
            audit_seq=seq,
            audit_head=head,
            schema_version=schema,
            files={name: _sha256_file(path) for name, path in members.items()},
            engine="postgresql" if postgres else "sqlite",
        )
        blob = header.to_bytes()
        from cryptography.hazmat.primitives.ciphers import Cipher, modes

        enc = Cipher(aes, modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(MAGIC + blob)
        with replacing(out, private=True) as tmp, tmp.open("wb") as f, tar_path.open("rb") as plain:
            f.write(MAGIC + struct.pack(">I", len(blob)) + blob)
            while chunk := plain.read(_CHUNK):
                f.write(enc.update(chunk))
            f.write(enc.finalize() + enc.tag)
        return header
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read_header(f: BinaryIO, source: str) -> tuple[BackupHeader, bytes]:
    if f.read(len(MAGIC)) != MAGIC:
        raise BackupInvalid(f"{source} 不是 skillcert 备份文件", f"{source} is not a skillcert backup")
    raw = f.read(4)
    (n,) = struct.unpack(">I", raw) if len(raw) == 4 else (0,)
    if not 0 < n <= _MAX_HEADER:
        raise BackupInvalid(f"{source} 的备份头已损坏", f"the header of {source} is damaged")
    blob = f.read(n)
    return BackupHeader.from_bytes(blob, source), blob


def read_header(file: Path) -> BackupHeader:
    """The clear header of a backup (not yet authenticated: :func:`open_backup` checks it)."""
    try:
        with file.open("rb") as f:
            return _read_header(f, str(file))[0]
    except OSError as e:
        raise BackupInvalid(f"无法读取备份 {file}：{e}", f"cannot read the backup {file}: {e}") from e


def is_backup(file: Path) -> bool:
    try:
        with file.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def open_backup(file: Path, key: bytes, into: Path) -> BackupHeader:
    """Decrypt ``file`` under ``key`` and unpack its members into the (private, empty) folder
    ``into``, after the GCM tag, the plaintext SHA-256 and each member's SHA-256 hold. A wrong
    key, an altered or a damaged file raises :class:`BackupInvalid` with the reason."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    source = str(file)
    aes = _aes(key)
    plain_path = into / ".backup.tar"
    try:
        total = file.stat().st_size
        with file.open("rb") as f:
            header, blob = _read_header(f, source)
            if header.key_id != key_id(key):
                raise BackupInvalid(
                    f"密钥错误：{source} 用密钥 {header.key_id} 加密，当前密钥是 {key_id(key)}；未做任何改动",
                    f"wrong key: {source} was sealed with key {header.key_id}, the key given is {key_id(key)}; "
                    "nothing was changed",
                )
            start = f.tell()
            end = total - _TAG
            if end < start:
                raise BackupInvalid(f"{source} 被截断", f"{source} is truncated")
            f.seek(end)
            tag = f.read(_TAG)
            f.seek(start)
            dec = Cipher(aes, modes.GCM(bytes.fromhex(header.nonce), tag)).decryptor()
            dec.authenticate_additional_data(MAGIC + blob)
            digest = hashlib.sha256()
            left = end - start
            with plain_path.open("xb") as out:
                os.chmod(plain_path, 0o600)
                while left > 0:
                    data = f.read(min(_CHUNK, left))
                    if not data:
                        break
                    left -= len(data)
                    chunk = dec.update(data)
                    digest.update(chunk)
                    out.write(chunk)
                try:
                    dec.finalize()
                except InvalidTag:
                    raise BackupInvalid(
                        f"{source} 校验失败：文件被改动或已损坏（认证标签不符）；未做任何改动",
                        f"{source} fails its check: the file was altered or is damaged (the authentication tag "
                        "does not match); nothing was changed",
                    ) from None
        if digest.hexdigest() != header.sha256:
            raise BackupInvalid(
                f"{source} 的 SHA-256 与备份头不符", f"the SHA-256 of {source} does not match its header"
            )
        _unpack(plain_path, into, header, source)
    except OSError as e:
        raise BackupInvalid(f"无法读取备份 {file}：{e}", f"cannot read the backup {file}: {e}") from e
    finally:
        plain_path.unlink(missing_ok=True)
    return header


def _unpack(tar_path: Path, into: Path, header: BackupHeader, source: str) -> None:
    with tarfile.open(tar_path, "r:") as tar:
        for info in tar.getmembers():
            name = info.name
            if name not in header.files or "/" in name or not info.isfile():
                raise BackupInvalid(
                    f"{source} 含有意外的成员 {name!r}", f"{source} holds an unexpected member {name!r}"
                )
            src = tar.extractfile(info)
            assert src is not None
            fd = os.open(into / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
    for name, sha in header.files.items():
        path = into / name
        if not path.is_file() or _sha256_file(path) != sha:
            raise BackupInvalid(
                f"{source} 的成员 {name} 缺失或校验不符", f"{source}: member {name} is missing or fails its SHA-256"
            )


def has_register(where: Path | str) -> bool:
    """Is there a register at ``where`` (a SQLite file, or a PostgreSQL database's registry schema)?"""
    if not is_url(where):
        return Path(where).exists()
    from ._backup_pg import has_register as pg_has

    return pg_has(str(where))


def shown(where: Path | str) -> str:
    """Where a register is, for messages: the path, or the URL without its password."""
    if not is_url(where):
        return str(where)
    from ._pg import _public

    return _public(str(where))


def restore_postgres(
    url: str, copy: Path, check: Callable[[Registry], T], *, now: datetime, keys: Path | None = None
) -> tuple[T, str | None]:
    """Restore the unpacked register ``copy`` into the PostgreSQL database at ``url``: loaded into a
    scratch schema, opened there as a registry (migrated to this program's schema), ``check``ed —
    which raises to stop — and then switched in for the live schema, kept as ``replaced_<time>``
    (its name is returned). Anything failing drops the scratch schema and leaves the live one as it
    was. No issue run is alive on the restored register, so the leases it holds are void. ``keys``:
    the folder of the data keys that open the register's personal fields."""
    from ._backup_pg import drop_scratch, load_scratch, scratch_url, switch_in

    schema = load_scratch(url, copy, now)
    try:
        with Registry.open(scratch_url(url, schema), keys=keys) as reg:
            result = check(reg)
            for inst in reg.institutions.all():
                reg.claims.release_all(inst.code)
        replaced = switch_in(url, schema, now)
    except BaseException:
        drop_scratch(url, schema)
        raise
    return result, replaced
