"""Writing output files safely: a temp file in the same directory, fsync, then rename.

``write_atomic`` makes one file appear whole or not at all (the one implementation,
:mod:`registry.atomic`; here owner-only, as certificates and notices hold personal data). ``write_staged`` goes one step
further for files that must appear only together with a database record: it writes the whole
file under a hidden name tagged with what the record will say (``.<name>.<tag>.staged``), and
the caller renames it into place with ``publish_staged`` once the record is committed. A run
killed in between leaves the staged file; the next run publishes it if the record carries its
tag and discards it otherwise (``staged_files`` lists them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from registry import atomic

__all__ = ["publish_staged", "staged_files", "write_atomic", "write_staged"]

_STAGED = ".staged"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never half
    (readable by the owner only)."""
    atomic.write_atomic(path, data, private=True)


def _staged_path(path: Path, tag: str) -> Path:
    if not tag or "." in tag or "/" in tag:
        raise ValueError(f"a staging tag has no dots or slashes: {tag!r}")
    return path.with_name(f".{path.name}.{tag}{_STAGED}")


def write_staged(path: Path, data: bytes, tag: str) -> Path:
    """Write all of ``data`` (fsynced) beside ``path`` under a hidden name tagged ``tag``; return that name.

    Nothing is visible under ``path`` yet: :func:`publish_staged` renames it there.
    """
    staged = _staged_path(path, tag)
    write_atomic(staged, data)
    return staged


def publish_staged(staged: Path, path: Path) -> None:
    """Rename a staged file to its real name (atomic: readers see the old file or the new one).

    A staged file already gone while its real name exists was published by another issue run's
    :meth:`~skillcert.delivery.Deliverer.settle` (it publishes only what the record names)."""
    try:
        os.replace(staged, path)
    except FileNotFoundError:
        if not path.is_file():
            raise


def staged_files(folder: Path, prefix: str = "") -> Iterator[tuple[Path, Path, str]]:
    """``(staged file, the path it is for, its tag)`` for each staged file in ``folder`` whose real
    name starts with ``prefix``."""
    if not folder.is_dir():
        return
    for staged in sorted(folder.glob(f".{prefix}*{_STAGED}")):
        name, _, tag = staged.name[1 : -len(_STAGED)].rpartition(".")
        if name and tag:
            yield staged, staged.with_name(name), tag
