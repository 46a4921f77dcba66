"""Backing up and restoring a home's register (``skillcert backup`` / ``skillcert restore``).

**What a backup holds**: the register (``registry.sqlite``, a consistent online copy — of a
PostgreSQL register too, read in one snapshot into the same SQLite file), and the
two small secrets without which the restored register cannot be used as before — ``publisher.key``
(the Ed25519 key that signed the register's checkpoints: a new one would make `audit verify`
fail them) and ``index.secret`` (the snapshot index's HMAC key: the published QR tokens and
look-up keys depend on it) — plus ``settings.toml``. Not the signing keys in ``pki/`` (they belong
to the institution's key custody: HSM or its own PKCS#12 copies), not ``out/`` (delivered files:
the holders have them, the register has their SHA-256), not ``snapshots/`` (re-made by `publish`).

**The key**: ``SKILLCERT_BACKUP_KEY`` (32 bytes, hex or base64) if set, else
``$SKILLCERT_HOME/backup.key`` (base64), made with mode 0600 by the first backup. The file is the
default so that a cron job needs no secret in its environment; the variable is for restoring on a
new machine and for keys kept in a secrets store. The key never goes into a backup: keep a copy
of it away from the home (a backup with its key beside it protects nothing; a home that is lost
with its only key leaves backups nobody can open).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from registry import Registry
from registry.atomic import fsync_dir, write_atomic
from registry.backup import (
    REGISTER,
    BackupHeader,
    BackupInvalid,
    has_register,
    is_backup,
    key_id,
    open_backup,
    read_header,
    restore_postgres,
    shown,
    write_backup,
)
from registry.errors import ExitCode, SkillcertError
from registry.merkle import FileNodes, tree_root
from registry.published import PublishedManifest, public_key_from_pem

from .settings import Settings

__all__ = [
    "BackupAuditFailed",
    "BackupResult",
    "Lost",
    "RestoreRefused",
    "RestoreReport",
    "backup_home",
    "backup_key",
    "key_id",
    "restore_home",
]

KEY_ENV = "SKILLCERT_BACKUP_KEY"
KEY_FILE = "backup.key"
SECRETS = ("publisher.key", "index.secret")
EXTRAS = (*SECRETS, "settings.toml")
KEYS_MEMBER = "keys~"  # the data keys travel as keys~data-<id>.key, keys~current (members have no folders)


class RestoreRefused(SkillcertError):
    """A live register is in the way (without ``--force``), or something still has it open."""

    exit_code = ExitCode.RESTORE_REFUSED


class BackupAuditFailed(SkillcertError):
    """The restored copy fails `audit verify`: nothing was switched."""

    exit_code = ExitCode.AUDIT_FAILED


def _parse_key(text: str, source: str) -> bytes:
    text = text.strip()
    raw: bytes | None = None
    if len(text) == 64:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise BackupInvalid(
            f"{source} 不是 32 字节的密钥（64 位十六进制或 base64）",
            f"{source} is not a 32-byte key (64 hex digits or base64)",
        )
    return raw


def backup_key(home: Path, env: Mapping[str, str], *, create: bool) -> bytes:
    """The backup key: ``SKILLCERT_BACKUP_KEY``, else ``home/backup.key`` (made, 0600, when ``create``)."""
    if env.get(KEY_ENV):
        return _parse_key(env[KEY_ENV], KEY_ENV)
    path = home / KEY_FILE
    if not path.exists() and create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another backup made it a moment ago
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(home)
    if not path.is_file():
        raise BackupInvalid(
            f"没有备份密钥：请设置 {KEY_ENV} 或放回 {path}；未做任何改动",
            f"no backup key: set {KEY_ENV} or put the key file back at {path}; nothing was changed",
        )
    return _parse_key(path.read_text(encoding="ascii", errors="replace"), str(path))


@dataclass(frozen=True, slots=True)
class BackupResult:
    out: Path
    header: BackupHeader
    pruned: tuple[Path, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), **self.header.as_dict(), "pruned": [str(p) for p in self.pruned]}


def backup_home(
    s: Settings, out: Path, *, now: datetime, keep: int | None = None, env: Mapping[str, str] | None = None
) -> BackupResult:
    """Back up the home's register (and its secrets) into ``out``; with ``keep``, delete all but the
    newest ``keep`` backups in ``out``'s folder (files with its suffix that are backups)."""
    env = os.environ if env is None else env
    if s.registry_url is not None or not s.registry_path.is_file():
        Registry.open(s.registry_location).close()  # the one "no registry: run init" error
    s.home.mkdir(parents=True, exist_ok=True)
    _sweep(s.home)
    key = backup_key(s.home, env, create=True)
    extras = {name: s.home / name for name in EXTRAS if (s.home / name).is_file()}
    extras |= {f"{KEYS_MEMBER}{p.name}": p for p in _key_files(s.keys_dir)}
    out = out.absolute()
    header = write_backup(s.registry_location, out, key, extras=extras, now=now, work_dir=s.home)
    pruned = _prune(out, keep) if keep is not None else ()
    return BackupResult(out, header, pruned)


def _sweep(home: Path, *, older_than: float = 86400.0) -> None:
    """Remove the private working folders of backups and restores killed over a day ago (a clear
    copy of the register would otherwise stay in them)."""
    cutoff = time.time() - older_than
    for d in (*home.glob(".backup-*"), *home.glob(".restore-*")):
        try:
            if d.is_dir() and d.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _prune(out: Path, keep: int) -> tuple[Path, ...]:
    """The retention rule: in ``out``'s folder, backups named ``*<suffix of out>``, newest first by
    the time in their header; all after the first ``keep`` are deleted (``out`` itself never)."""
    found: list[tuple[str, Path]] = []
    for p in out.parent.glob(f"*{out.suffix}" if out.suffix else "*"):
        if p.is_file() and not p.name.startswith(".") and is_backup(p):
            try:
                found.append((read_header(p).created_at, p))
            except BackupInvalid:
                continue
    found.sort(key=lambda t: (t[0], t[1].name), reverse=True)
    doomed = [p for _, p in found[max(keep, 1) :] if p != out]
    for p in doomed:
        p.unlink(missing_ok=True)
    return tuple(doomed)


@dataclass(frozen=True, slots=True)
class Lost:
    """Audit entries a published manifest committed to that the restored register does not hold."""

    count: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class RestoreReport:
    backup: BackupHeader
    entries: int  # audit entries restored (== backup.audit_seq)
    head: str
    manifest: str | None  # the newest published manifest compared with
    manifest_seq: int | None
    lost: Lost | None
    prefix: bool | None  # restored log is a prefix of the published tree (None: no tree to compare)
    replaced: Path | str | None  # the register that was live, kept under this name (PostgreSQL: a schema)
    secrets: Mapping[str, str]  # member -> restored | same | kept (the home's differs)
    where: str = ""  # the register restored: its SQLite file or PostgreSQL URL (without the password)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backup": self.backup.as_dict(),
            "audit_seq": self.entries,
            "audit_head": self.head,
            "audit_verify": "ok",
            "manifest": self.manifest,
            "manifest_audit_seq": self.manifest_seq,
            "lost": None
            if self.lost is None
            else {"count": self.lost.count, "first_seq": self.lost.first, "last_seq": self.lost.last},
            "published_prefix": self.prefix,
            "replaced": str(self.replaced) if self.replaced else None,
            "registry": self.where,
            "files": dict(self.secrets),
        }


def _newest_manifest(home: Path, given: Path | None) -> tuple[PublishedManifest, Path] | None:
    """The given manifest, else the published snapshot in the home with the longest log."""
    if given is not None:
        folder = given if given.is_dir() else given.parent
        return PublishedManifest.load(given), folder
    best: tuple[PublishedManifest, Path] | None = None
    seen: set[Path] = set()
    for m in sorted((home / "snapshots").glob("*/manifest.json")):
        folder = m.parent.resolve()
        if folder in seen:
            continue
        seen.add(folder)
        try:
            pm = PublishedManifest.load(m)
        except SkillcertError:
            continue
        if best is None or pm.audit_seq > best[0].audit_seq:
            best = (pm, m.parent)
    return best


def _keys(*files: Path) -> tuple[str, ...]:
    return tuple(sorted({public_key_from_pem(p.read_bytes()) for p in files if p.is_file()}))


def restore_home(
    s: Settings,
    file: Path,
    *,
    force: bool = False,
    manifest: Path | None = None,
    now: datetime,
    env: Mapping[str, str] | None = None,
) -> RestoreReport:
    """Restore the register from ``file`` into the home: refused over a live register without
    ``force``; decrypted and checked, then `audit verify` on the copy, then switched in by rename
    (the replaced register kept beside it). Entries a published manifest has and the backup lacks
    are reported in :attr:`RestoreReport.lost`."""
    env = os.environ if env is None else env
    url = s.registry_url
    header = read_header(file)
    _same_engine(header, url)
    where = shown(s.registry_location)
    if has_register(s.registry_location) and not force:
        raise RestoreRefused(
            f"{where} 已有登记库，未覆盖（备份含审计日志至第 {header.audit_seq} 条）；确认要替换请加 --force",
            f"a live register is at {where}; not overwritten (the backup holds the audit log up to entry "
            f"#{header.audit_seq}); add --force to replace it",
        )
    key = backup_key(s.home, env, create=False)
    s.home.mkdir(parents=True, exist_ok=True)
    _sweep(s.home)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=s.home))
    try:
        header = open_backup(file, key, work)
        _same_engine(header, url)  # now authenticated
        found = _newest_manifest(s.home, manifest)
        pm, folder = found if found is not None else (None, None)
        keys = _keys(s.home / "publisher.key", work / "publisher.key")
        data_keys = _merged_data_keys(work, s.keys_dir)  # the home's, and the backup's it lacks
        replaced: Path | str | None
        if url is None:
            with Registry.open(work / REGISTER, keys=data_keys) as reg:
                seq, head, prefix = _check_copy(reg, pm, folder, keys)
            replaced = _switch(work / REGISTER, s.registry_path, now)
        else:  # into a scratch schema, verified there, then switched in
            (seq, head, prefix), replaced = restore_postgres(
                url, work / REGISTER, lambda reg: _check_copy(reg, pm, folder, keys), now=now, keys=data_keys
            )
        files = {name: _restore_extra(work / name, s.home / name) for name in EXTRAS if (work / name).is_file()}
        files |= _restore_data_keys(work, s.keys_dir)
        fsync_dir(s.home)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lost = Lost(pm.audit_seq - seq, seq + 1, pm.audit_seq) if pm is not None and pm.audit_seq > seq else None
    return RestoreReport(
        header, seq, head, pm.source if pm else None, pm.audit_seq if pm else None, lost, prefix, replaced, files, where
    )


def _same_engine(header: BackupHeader, url: str | None) -> None:
    """A backup goes back into the kind of register it was taken from (the settings say which)."""
    engine = "sqlite" if url is None else "postgresql"
    if header.engine != engine:
        raise RestoreRefused(
            f"这是 {header.engine} 登记库的备份，而设置中的登记库是 {engine}（[registry] url / SKILLCERT_REGISTRY_URL）",
            f"this is a backup of a {header.engine} register and the settings' register is {engine} "
            "([registry] url / SKILLCERT_REGISTRY_URL names the database to restore a PostgreSQL backup into)",
        )


def _check_copy(
    reg: Registry, pm: PublishedManifest | None, folder: Path | None, keys: tuple[str, ...]
) -> tuple[int, str, bool | None]:
    """The full `audit verify` of the restored copy (against the newest manifest when the copy
    reaches it; else the copy must be the beginning of the published tree); ``(seq, head, prefix)``."""
    seq, head = reg.audit.head()
    within = pm is not None and pm.audit_seq <= seq
    report = reg.audit.verify(manifest=pm if within else None, trusted_keys=keys)
    restored_root = reg.audit.tree().root().hex()
    problems = list(report.problems)
    prefix = _published_prefix(folder, seq, restored_root) if pm is not None and not within else None
    if prefix is False:
        problems.append(
            (
                f"备份的审计日志（{seq} 条）不是已发布日志的前缀：两者历史不同",
                f"the backup's audit log ({seq} entries) is not a prefix of the published log: the histories differ",
            )
        )
    if problems:
        raise BackupAuditFailed(
            f"恢复出的登记库未通过审计核验，未替换任何文件：{problems[0][0]}",
            f"the restored register fails `audit verify`; nothing was switched: {problems[0][1]}",
        )
    return seq, head, prefix


def _published_prefix(folder: Path | None, size: int, root: str) -> bool | None:
    """Whether the published Merkle tree (the snapshot's ``audit/`` levels) over its first ``size``
    leaves has ``root``: the restored log is the beginning of what was published."""
    levels = folder / "audit" if folder is not None else None
    if levels is None or not (levels / "L00.bin").is_file():
        return None
    try:
        with FileNodes(levels) as nodes:
            if nodes.count(0) < size:
                return None
            return size == 0 or tree_root(nodes, size).hex() == root
    except (SkillcertError, OSError, ValueError):
        return None


def _switch(new: Path, live: Path, now: datetime) -> Path | None:
    """Rename ``new`` over ``live`` (atomic). A live register is first taken out of WAL mode — which
    SQLite allows only when no other connection has it open — so its ``-wal``/``-shm`` are folded in
    and gone, and kept under a hard link ``registry.sqlite.replaced-<time>``."""
    for suffix in ("-wal", "-shm"):
        if Path(f"{new}{suffix}").exists():
            raise BackupAuditFailed("恢复副本留下了日志文件", f"the restored copy left {new}{suffix} behind")
    replaced: Path | None = None
    if live.exists():
        try:
            conn = sqlite3.connect(live, timeout=2.0, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                mode = str(conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error as e:
            mode = str(e)
        if mode.lower() != "delete":
            raise RestoreRefused(
                f"{live} 正被其他进程使用（签发、网站发布等），未替换：请先停止它们（{mode}）",
                f"{live} is in use by another process (an issue run, a publish…); not replaced: stop them first ({mode})",
            )
        replaced = live.with_name(f"{live.name}.replaced-{now.strftime('%Y%m%dT%H%M%S')}")
        if replaced.exists():
            replaced.unlink()
        os.link(live, replaced)
    for suffix in ("-wal", "-shm"):  # none after the switch out of WAL; an orphan of a lost register otherwise
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(new, live)
    return replaced


def _key_files(folder: Path) -> list[Path]:
    """The data keys of the register (``registry.fieldcrypt``) and the name of the current one."""
    if not folder.is_dir():
        return []
    return [*sorted(folder.glob("data-*.key")), *([folder / "current"] if (folder / "current").is_file() else [])]


def _merged_data_keys(work: Path, home_keys: Path) -> Path:
    """A private folder with the home's data keys and those of the backup the home lacks (its
    ``current`` wins when the home names none): what opens the restored copy for ``audit verify``."""
    merged = work / "keys"
    merged.mkdir(mode=0o700)
    for p in _key_files(home_keys):
        write_atomic(merged / p.name, p.read_bytes(), private=True, sync_dir=False)
    for member in sorted(work.glob(f"{KEYS_MEMBER}*")):
        dst = merged / member.name[len(KEYS_MEMBER) :]
        if not dst.exists():
            write_atomic(dst, member.read_bytes(), private=True, sync_dir=False)
    return merged


def _restore_data_keys(work: Path, home_keys: Path) -> dict[str, str]:
    """Put the backup's data keys the home lacks into ``keys/`` (0700, files 0600); differing
    ones are kept, as for the other secrets."""
    out: dict[str, str] = {}
    members = sorted(work.glob(f"{KEYS_MEMBER}*"))
    if members:
        home_keys.mkdir(mode=0o700, exist_ok=True)
    for member in members:
        name = member.name[len(KEYS_MEMBER) :]
        dst = home_keys / name
        data = member.read_bytes()
        if not dst.exists():
            write_atomic(dst, data, private=True, sync_dir=False)
            out[f"keys/{name}"] = "restored"
        else:
            out[f"keys/{name}"] = "same" if dst.read_bytes() == data else "kept"
    return out


def _restore_extra(src: Path, dst: Path) -> str:
    data = src.read_bytes()
    if not dst.exists():
        write_atomic(dst, data, private=dst.name in SECRETS, sync_dir=False)
        return "restored"
    return "same" if dst.read_bytes() == data else "kept"
