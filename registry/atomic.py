"""Replacing a file whole: the toolkit's one atomic write (temp file in the same folder, fsync,
rename, fsync the folder).

A reader sees the old file or the whole new one, never half, and once the call returns the new
file survives a power cut. The temporary file is ``.<name>.<random>.part`` beside the target
(sweepers of killed runs match that pattern); it is removed if writing fails.

``private=True`` creates the file readable by its owner only (certificates, notices, reports:
personal data); otherwise the process umask applies (snapshot files a site may read as another
user).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["fsync_dir", "replacing", "write_atomic"]

PART = ".part"


def fsync_dir(folder: Path) -> None:
    """Make the names in ``folder`` (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_part(path: Path, mode: int) -> Path:
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PART}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        except FileExistsError:
            continue
        return tmp


@contextmanager
def replacing(path: Path, *, private: bool = False, sync_dir: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write (by any means: a library's ``save(tmp)``);
    when the block ends, fsync it, rename it over ``path`` and fsync the folder. On an error the
    temporary file is removed and ``path`` is untouched.

    ``sync_dir=False`` leaves the folder's fsync to the caller (one for many files).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_part(path, 0o600 if private else 0o666)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes | bytearray, *, private: bool = False, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never half."""
    with replacing(path, private=private, sync_dir=sync_dir) as tmp, tmp.open("wb") as f:
        f.write(data)
