"""One generation of a snapshot as a reader holds it: a frozen value, swapped by one assignment.

Everything an answer needs — the folder, the generation, its manifest, its directory (whoosh
index, searcher, institutions), the SQLite connection — sits in one :class:`State`, so an answer
built from one state is from one generation: nothing can switch between reading the manifest and
reading the directory. A new generation of the same folder reuses the connection, and the
directory too when the generation did not change it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import SkillcertError

from ._layout import CERTS, INDEX, INSTITUTIONS, read_meta
from .directory import open_directory

__all__ = ["OFFLINE_KEYS", "State", "close_unused", "connect", "load_state"]

OFFLINE_KEYS = frozenset({"keys_jws", "status_revocation", "status_suspension", "publisher_jwk"})


@dataclass(frozen=True, slots=True)
class State:
    folder: Path
    generation: int
    manifest: dict[str, Any]
    directory: str
    institutions: dict[str, dict[str, Any]]
    ix: Any
    searcher: Any
    max_rid: int  # the highest record id: a miss reads the record at a random id up to it
    conn: sqlite3.Connection
    offline: dict[str, str]  # the signed key list and status lists (``publish.offline_meta``); {} in older ones


def connect(folder: Path) -> sqlite3.Connection:
    """A read-only connection to ``folder/certs.sqlite`` (usable from the site's worker threads)."""
    path = folder / CERTS
    if not path.is_file():
        raise SkillcertError(f"{folder} 不是快照", f"{folder} is not a snapshot")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    return conn


# The whole file mapped (SQLite caps this at its build's maximum, 2 GB in Debian's and Python's):
# a look-up touches two random leaf pages (the key's, the record's), and a page beyond the mapping
# costs a read() into SQLite's small page cache — at 1,000,000 certificates (1.4 GB) the keys
# table lay past the old 256 MB mapping, ≈ 4 µs a look-up. The mapped pages are the OS page cache,
# shared by every worker and reclaimable; a worker's RSS counts the ones it touched.
_MMAP_BYTES = 2**40


def load_state(folder: Path, conn: sqlite3.Connection, previous: State | None = None, *, tries: int = 3) -> State:
    """The generation ``conn`` sees now. ``previous`` (an earlier state of the same folder) lends
    its directory when the name is unchanged. Retries when a publisher removed the directory of
    a generation that two newer ones replaced while this one was loading."""
    for attempt in range(tries):
        meta = read_meta(conn, folder)
        name = meta["directory"]
        same = previous is not None and previous.folder == folder and previous.directory == name
        try:
            if same:
                assert previous is not None
                ix, searcher, insts = previous.ix, previous.searcher, previous.institutions
            else:
                insts = json.loads((folder / name / INSTITUTIONS).read_text(encoding="utf-8"))
                ix = open_directory(folder / name / INDEX)
                searcher = ix.searcher()
        except (OSError, ValueError) as e:
            if attempt + 1 < tries:
                continue
            raise SkillcertError(
                f"快照目录 {folder / name} 不完整：{e}", f"the snapshot folder {folder / name} is incomplete: {e}"
            ) from e
        max_rid = int(conn.execute("SELECT COALESCE(MAX(rid), 0) FROM records").fetchone()[0])
        return State(
            folder=folder,
            generation=int(meta["generation"]),
            manifest=json.loads(meta["manifest"]),
            directory=name,
            institutions=insts,
            ix=ix,
            searcher=searcher,
            max_rid=max_rid,
            conn=conn,
            offline={k: v for k, v in meta.items() if k in OFFLINE_KEYS},
        )
    raise AssertionError("unreachable")


def close_unused(old: State | None, *keep: State | None) -> None:
    """Close what ``old`` holds that none of ``keep`` shares (its searcher, its connection)."""
    if old is None:
        return
    kept = [k for k in keep if k is not None]
    if all(k.searcher is not old.searcher for k in kept):
        old.searcher.close()
    if all(k.conn is not old.conn for k in kept):
        old.conn.close()
