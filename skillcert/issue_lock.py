"""One issue run at a time per institution on SQLite: an ``flock`` on ``<home>/locks/issue-<code>.lock``.

(On a PostgreSQL registry there is no such lock: any number of runs share the batch through
leases, see :mod:`skillcert.share`.)

Two runs delivering the same certificates would each render and seal them and then fight over
the delivery record and the holder's files. The lock is taken before any number is allocated,
so a second run changes nothing and says who holds it since when (the holder writes its pid,
host and start time into the file). The kernel drops an ``flock`` when its process ends, even
under SIGKILL, so a killed run never leaves a stale lock: the next run takes it and resumes.

The lock is re-entrant within one process (the CLI takes it before starting the seal services,
``issue_batch`` takes it again), never across processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from registry import Registry
from registry._db import SqliteDatabase
from registry.errors import ExitCode, SkillcertError

__all__ = ["IssueLocked", "issue_lock", "lock_path"]

_HELD: dict[Path, int] = {}  # lock file -> depth, in this process


class IssueLocked(SkillcertError):
    """Another process is issuing for the institution."""

    exit_code = ExitCode.LOCKED

    def __init__(self, code: str, path: Path, holder: dict[str, object]) -> None:
        pid = holder.get("pid", "?")
        host = holder.get("host", "?")
        since = holder.get("since", "?")
        super().__init__(
            f"机构 {code} 正在签发：进程 {pid}（{host}）自 {since} 起持有签发锁 {path}，本次未做任何改动。"
            "请等它结束后再运行；若该进程已被终止，锁已自动释放，重新运行即可续完",
            f"institution {code} is already issuing: process {pid} on {host} has held the issue lock {path} "
            f"since {since}; nothing was changed. Wait for it to finish, then run again (a killed run "
            "releases the lock by itself; rerunning resumes its batch)",
        )
        self.holder = holder

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "holder": self.holder}


def lock_path(reg: Registry, code: str) -> Path:
    return reg.path.parent / "locks" / f"issue-{code}.lock"


def _holder(fd: int) -> dict[str, object]:
    """What the holder wrote; it may be a moment late after taking the lock, so wait a little."""
    for _ in range(40):
        raw = os.pread(fd, 4096, 0)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("pid"), int) and _alive(data):
            return data
        time.sleep(0.025)
    return {}


def _alive(holder: dict[str, object]) -> bool:
    """False for what a finished holder left behind (the new holder is about to overwrite it)."""
    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: cannot be checked from here
    try:
        os.kill(int(str(holder["pid"])), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def issue_lock(reg: Registry, code: str) -> Iterator[None]:
    """Hold the institution's issue lock for the block, or raise :class:`IssueLocked` at once."""
    reg.institutions.get(code)  # NotFound for an unknown code, before any file is named after it
    if not isinstance(reg.db, SqliteDatabase):  # a shared PostgreSQL registry: runs share the batch (share.py)
        yield
        return
    path = lock_path(reg, code).absolute()
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield
        finally:
            _HELD[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IssueLocked(code, path, _holder(fd)) from None
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds"),
            "institution": code,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        _HELD[path] = 1
        try:
            yield
        finally:
            del _HELD[path]
    finally:
        os.close(fd)  # closing the descriptor releases the lock (the kernel does it on any exit)
