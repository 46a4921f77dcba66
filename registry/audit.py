"""The audit log: every change of the registry is an entry with who, what, when, before and
after, hash-chained (``sha256(prev_hash ‖ canonical JSON)``) and append-only."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "AuditEntry", "AuditMixin"]

GENESIS = "0" * 64
_CHUNK = 2000


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
_canonical = _ENCODER.encode  # one encoder object: json.dumps with options builds a new one per call


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_key: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def body(self) -> str:
        return _canonical(
            [self.seq, self.at, self.actor, self.action, self.entity, self.entity_key, self.before, self.after]
        )


def _entry_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


class _AuditWriter:
    """Appends chained audit entries inside an open write transaction."""

    def __init__(self, cur: sqlite3.Cursor, at: str, actor: str) -> None:
        row = cur.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq: int = int(row[0]) if row else 0
        self.prev: str = str(row[1]) if row else GENESIS
        self.cur, self.at, self.actor = cur, at, actor
        self._head = f"{_canonical(at)},{_canonical(actor)}"
        self.pending: list[tuple[Any, ...]] = []

    def add(self, action: str, entity: str, key: str, before: Any, after: Any) -> None:
        self.seq += 1
        body = _canonical([self.seq, self.at, self.actor, action, entity, key, before, after])
        h = _entry_hash(self.prev, body)
        self.pending.append(
            (
                self.seq,
                self.at,
                self.actor,
                action,
                entity,
                key,
                None if before is None else _canonical(before),
                None if after is None else _canonical(after),
                self.prev,
                h,
            )
        )
        self.prev = h
        if len(self.pending) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.cur.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", self.pending)
            self.pending.clear()


class AuditMixin:
    _conn: sqlite3.Connection

    def audit_entries(self, *, entity: str | None = None, key: str | None = None) -> Iterator[AuditEntry]:
        sql, params = "SELECT * FROM audit", []
        if entity is not None:
            sql += " WHERE entity = ?" + (" AND entity_key = ?" if key is not None else "")
            params = [entity] + ([key] if key is not None else [])
        for r in self._conn.execute(sql + " ORDER BY seq", params):
            yield AuditEntry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                json.loads(r[6]) if r[6] else None,
                json.loads(r[7]) if r[7] else None,
                r[8],
                r[9],
            )

    def verify_audit_chain(self) -> int | None:
        """Recompute the hash chain; the ``seq`` of the first broken entry, or ``None`` if intact."""
        prev, expected_seq = GENESIS, 1
        for e in self.audit_entries():
            if e.seq != expected_seq or e.prev_hash != prev or _entry_hash(prev, e.body()) != e.hash:
                return e.seq
            prev, expected_seq = e.hash, expected_seq + 1
        return None

    def audit_head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last entry: what a published snapshot commits to."""
        row = self._conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def audit_entries_after(self, seq: int) -> Iterator[AuditEntry]:
        for e in self.audit_entries():
            if e.seq > seq:
                yield e

    def changed_certificate_ids(self, *, after_seq: int) -> set[int]:
        """Certificates with any audit entry after ``after_seq`` (what an incremental publish applies)."""
        rows = self._conn.execute(
            "SELECT DISTINCT entity_key FROM audit WHERE seq > ? AND entity = 'certificate'", (after_seq,)
        )
        return {int(r[0]) for r in rows}
