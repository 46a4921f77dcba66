"""The manifest of a ``skillcert sign`` batch: one CSV row per file, appended as each file is done.

Columns: input, output, sha256 (of the output), sealed_at, signer (SHA-256 fingerprint of the
seal certificate), level, status (``signed`` · ``skipped`` · ``failed``), reason. The parent
process is the only writer; each row is flushed as it is written (and fsynced at least once a
second), so a batch killed at any moment (SIGKILL included) leaves whole rows and at most one
torn last line, which :func:`read_manifest` drops. A rerun of the same command reads the manifest and skips every
file already sealed whose output is still there with the recorded hash;
``skillcert verify --manifest`` checks the rows later.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from registry.errors import SkillcertError

__all__ = ["MANIFEST_NAME", "ManifestRow", "ManifestWriter", "read_manifest"]

MANIFEST_NAME = "manifest.csv"
SYNC_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ManifestRow:
    input: str
    output: str
    sha256: str
    sealed_at: str
    signer: str
    level: str
    status: str  # "signed" · "skipped" · "failed"
    reason: str = ""


COLUMNS = tuple(f.name for f in fields(ManifestRow))


def read_manifest(path: Path) -> list[ManifestRow]:
    """The whole rows of a manifest (a torn last line from a killed run is left out)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):  # the last row was being written when the run was killed
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    if tuple(header) != COLUMNS:
        raise SkillcertError(
            f"{path} 不是签章清单（表头不符）", f"{path} is not a signing manifest (unexpected header {header})"
        )
    return [ManifestRow(*row) for row in reader if len(row) == len(COLUMNS)]


class ManifestWriter:
    """Appends rows durably. Opening an existing manifest first cuts a torn last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                with path.open("r+b") as f:
                    f.truncate(data.rfind(b"\n") + 1)
        self._synced = 0.0
        fresh = not path.exists() or path.stat().st_size == 0
        self._f = path.open("a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._f, lineterminator="\n")
        if fresh:
            self._csv.writerow(COLUMNS)
            self._sync()

    def _sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._synced = time.monotonic()

    def append(self, rows: Iterable[ManifestRow]) -> None:
        """Each row reaches the kernel at once (a killed process loses nothing); it is fsynced at
        least every :data:`SYNC_SECONDS` (a power cut may lose the last rows: the rerun then finds
        those outputs and recognises them as sealed copies of their inputs)."""
        for row in rows:
            self._csv.writerow(astuple(row))
        self._f.flush()
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            self._sync()

    def close(self) -> None:
        self._sync()
        self._f.close()

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
