"""The code points a font file has glyphs for, kept on disk between processes (private to :mod:`render`).

Reading the cmap tables of the shipped fonts with fontTools takes ≈ 0.6 s (fontTools names every
glyph on the way), and every issue worker process paid it before its first certificate. The
answer depends only on the file, so it is kept per file under the user's cache folder
(``$SKILLCERT_CACHE_DIR``, else ``$XDG_CACHE_HOME/skillcert``, else ``~/.cache/skillcert``),
keyed by the file's resolved path, size and modification time, and checked by a SHA-256 of its
content on every read. A cache that cannot be read or written is simply not used: the
answer is computed again, never guessed.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_dir", "cached_points"]

_MAGIC = b"skillcert-cmap-1\n"


def cache_dir() -> Path:
    env = os.environ.get("SKILLCERT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "skillcert"


def _key(path: Path) -> str | None:
    try:
        real = path.resolve()
        st = real.stat()
    except OSError:
        return None
    return hashlib.sha256(f"{real}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:32]


def _read(file: Path) -> frozenset[int] | None:
    try:
        blob = file.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if (
        not blob.startswith(_MAGIC)
        or len(blob) < head
        or hashlib.sha256(blob[head:]).digest() != blob[len(_MAGIC) : head]
    ):
        return None
    body = blob[head:]
    if len(body) % 4:
        return None
    points = array.array("I")
    points.frombytes(body)
    if sys.byteorder != "little":
        points.byteswap()
    return frozenset(points)


def _write(file: Path, points: frozenset[int]) -> None:
    arr = array.array("I", sorted(points))
    if sys.byteorder != "little":
        arr.byteswap()
    body = arr.tobytes()
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(_MAGIC + hashlib.sha256(body).digest() + body)
        os.replace(tmp, file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def cached_points(path: Path, compute: Callable[[Path], frozenset[int]]) -> frozenset[int]:
    """``compute(path)``, or what it gave for this very file (same path, size and mtime) before."""
    key = _key(path)
    if key is None:
        return compute(path)
    try:
        file = cache_dir() / "cmap" / f"{key}.u32"
    except (RuntimeError, KeyError):  # no home folder to find
        return compute(path)
    found = _read(file)
    if found is not None:
        return found
    points = compute(path)
    _write(file, points)
    return points
