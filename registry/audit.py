"""The audit log: every change of the registry is an entry with who, what, when, before and
after, hash-chained (``sha256(prev_hash ‖ canonical JSON)``) and append-only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from ._event_base import canonical

if TYPE_CHECKING:
    from ._db import Database
    from .events import Event
    from .merkle import MerkleTree
    from .published import PublishedManifest

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "AuditReport",
    "AuditWriter",
    "StoredCheckpoint",
    "certificate_event_seqs",
    "signature_ok",
]

GENESIS = "0" * 64
_CHUNK = 2000


# one encoder object (json.dumps with options builds a new one per call), shared with the events'
# own writer of canonical JSON (``Event.encode_json``)
_canonical = canonical


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

    @classmethod
    def from_row(cls, r: tuple[Any, ...]) -> AuditEntry:
        """An entry from a row of the ``audit`` table (its JSON columns parsed)."""
        return cls(
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

    def event(self) -> Event | None:
        """The declared event this entry records (``None`` for an action this version does not know)."""
        from .events import decode

        return decode(self.entity, self.action, self.before, self.after)

    def body(self) -> str:
        return _canonical(
            [self.seq, self.at, self.actor, self.action, self.entity, self.entity_key, self.before, self.after]
        )


def _entry_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


class AuditWriter:
    """Appends chained audit entries inside an open write transaction (``registry._db.Tx``)."""

    def __init__(self, tx: Any, at: str, actor: str) -> None:
        row = tx.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq: int = int(row[0]) if row else 0
        self.prev: str = str(row[1]) if row else GENESIS
        self.tx, self.at, self.actor = tx, at, actor
        self._head = f"{_canonical(at)},{_canonical(actor)}"  # the same for every entry of the transaction
        self.pending: list[tuple[Any, ...]] = []

    def add(self, action: str, entity: str, key: str, before: Any, after: Any) -> None:
        self.add_json(
            action,
            entity,
            key,
            None if before is None else _canonical(before),
            None if after is None else _canonical(after),
        )

    def add_json(self, action: str, entity: str, key: str, b: str | None, a: str | None) -> None:
        """Append an entry whose payloads are already canonical JSON (``Event.encode_json``)."""
        self.seq += 1
        # the canonical JSON of [seq, at, actor, action, entity, key, before, after] (AuditEntry.body),
        # put together from parts already encoded: each payload is encoded once, not twice (a str
        # encodes as encode_basestring gives it, whatever the encoder's other options)
        body = (
            f"[{self.seq},{self._head},{encode_basestring(action)},{encode_basestring(entity)},"
            f"{encode_basestring(key)},{'null' if b is None else b},{'null' if a is None else a}]"
        )
        h = hashlib.sha256((self.prev + body).encode()).hexdigest()  # = _entry_hash(self.prev, body)
        self.pending.append((self.seq, self.at, self.actor, action, entity, key, b, a, self.prev, h))
        self.prev = h
        if len(self.pending) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.tx.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", self.pending)
            self.pending.clear()


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: str
    signed_at: str
    public_key: str  # Ed25519, base64
    signature: str  # over merkle.Checkpoint(size, root, signed_at).body(), base64


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What ``skillcert audit verify`` found: ``ok``, the entries and root, and each problem."""

    entries: int
    root: str
    checkpoints: int
    problems: tuple[tuple[str, str], ...]
    head: str = GENESIS  # the chain hash of the last entry
    manifest: str | None = None  # the published manifest the log was compared with
    trusted_key: bool = False  # whether the checkpoints' signer was checked against the publisher's key

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root": self.root,
            "head": self.head,
            "checkpoints": self.checkpoints,
            "manifest": self.manifest,
            "trusted_key": self.trusted_key,
            "problems": [{"zh": zh, "en": en} for zh, en in self.problems],
        }


class AuditLog:
    """The hash-chained log, its Merkle tree, signed checkpoints and the full check (``reg.audit``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, key: str, event: Event, *, actor: str) -> None:
        """An entry for an action outside the registry's own tables (a snapshot publish)."""
        with self._db.write(actor) as tx:
            tx.log(key, event)

    def entries(self, *, entity: str | None = None, key: str | None = None, after_seq: int = 0) -> Iterator[AuditEntry]:
        """Entries in order; only those of ``entity`` (and ``key``), only those after ``after_seq``
        (read from the primary key, not by scanning the log)."""
        where, params = ["seq > ?"], list[object]([after_seq])
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
            if key is not None:
                where.append("entity_key = ?")
                params.append(key)
        for r in self._db.execute(f"SELECT * FROM audit WHERE {' AND '.join(where)} ORDER BY seq", params):
            yield AuditEntry.from_row(r)

    def verify_chain(self) -> int | None:
        """Recompute the hash chain; the ``seq`` of the first broken entry, or ``None`` if intact."""
        prev, expected_seq = GENESIS, 1
        for e in self.entries():
            if e.seq != expected_seq or e.prev_hash != prev or _entry_hash(prev, e.body()) != e.hash:
                return e.seq
            prev, expected_seq = e.hash, expected_seq + 1
        return None

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last entry: what a published snapshot commits to."""
        row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def changed_certificate_ids(self, *, after_seq: int) -> set[int]:
        """Certificates with any audit entry after ``after_seq`` (what an incremental publish applies)."""
        rows = self._db.execute(
            "SELECT DISTINCT entity_key FROM audit WHERE seq > ? AND entity = 'certificate'", (after_seq,)
        )
        return {int(r[0]) for r in rows}

    # -- the Merkle tree and its signed checkpoints ------------------------------------------
    def tree(self, size: int | None = None) -> MerkleTree:
        """The RFC 6962 tree of the first ``size`` entries (all by default): a ``merkle.MerkleTree``."""
        from .merkle import MerkleTree

        return MerkleTree.from_audit_hashes(self.hashes(upto=size))

    def hashes(self, *, after: int = 0, upto: int | None = None) -> Iterator[str]:
        """The chain hashes of entries ``after < seq <= upto``, in order (the Merkle leaves' data)."""
        rows = self._db.execute(
            "SELECT hash FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq",
            (after, upto if upto is not None else 2**62),
        )
        for r in rows:
            yield str(r[0])

    def add_checkpoint(self, cp: StoredCheckpoint) -> None:
        with self._db.write() as tx:
            tx.execute(
                "INSERT INTO checkpoints VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                (cp.size, cp.root, cp.signed_at, cp.public_key, cp.signature),
            )

    def event_seqs(self, certificate_id: int | None = None) -> dict[int, list[int]]:
        return certificate_event_seqs(self._db, certificate_id)

    def checkpoints(self) -> list[StoredCheckpoint]:
        return [StoredCheckpoint(*r) for r in self._db.execute("SELECT * FROM checkpoints ORDER BY size")]

    def checkpoint(self, size: int) -> StoredCheckpoint:
        from .errors import NotFound

        row = self._db.execute("SELECT * FROM checkpoints WHERE size = ?", (size,)).fetchone()
        if row is None:
            raise NotFound(f"没有大小为 {size} 的检查点", f"no checkpoint of size {size}")
        return StoredCheckpoint(*row)

    def verify(self, *, manifest: PublishedManifest | None = None, trusted_keys: Collection[str] = ()) -> AuditReport:
        """Recompute everything from the store: the hash chain; the Merkle root at every signed
        checkpoint, each signature (by the publisher's key, when ``trusted_keys`` names it) and the
        publish entry that follows it; the log's length and head against a published ``manifest``;
        the tables replayed from the log (QR token digests included); the photo bytes against
        their hashes; the serial counters against the registers of issued numbers and proofs."""
        from ._coverage import counter_problems, photo_problems, publish_entry_problems
        from ._replay import replay_differences
        from .published import checkpoint_key_problems, manifest_problems

        problems: list[tuple[str, str]] = []
        broken = self.verify_chain()
        if broken is not None:
            problems.append(
                (
                    f"审计日志第 {broken} 条记录被改动（哈希链断开）",
                    f"audit entry #{broken} was altered (the hash chain breaks there)",
                )
            )
        tree = self.tree()
        cps = self.checkpoints()
        checked = list(cps)
        if manifest is not None:
            problems.extend(
                manifest_problems(
                    manifest, stored=cps, trusted_keys=trusted_keys, log_size=tree.size, hash_at=self._hash_at
                )
            )
            m_cp = manifest.checkpoint
            if m_cp is not None and all(
                (c.size, c.root, c.signature) != (m_cp.size, m_cp.root, m_cp.signature) for c in cps
            ):
                checked.append(m_cp)  # gone from the registry or replaced there: check it against the log too
        problems.extend(checkpoint_key_problems(checked, trusted_keys, tree.size, lambda n: tree.root(n).hex()))
        sizes = [c.size for c in checked] + ([manifest.audit_seq] if manifest is not None else [])
        conn = self._db
        problems.extend(publish_entry_problems(conn, sizes, tree.size))
        for diff in replay_differences(conn):
            problems.append(diff.describe())
            break  # the first inconsistency is what to look at; the rest usually follows from it
        problems.extend(photo_problems(conn))
        problems.extend(counter_problems(conn))
        return AuditReport(
            tree.size,
            tree.root().hex(),
            len(cps),
            tuple(dict.fromkeys(problems)),
            head=self._hash_at(tree.size) or GENESIS,
            manifest=manifest.source if manifest is not None else None,
            trusted_key=bool(trusted_keys),
        )

    def _hash_at(self, seq: int) -> str | None:
        row = self._db.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
        return str(row[0]) if row else None


def signature_ok(cp: StoredCheckpoint, body: bytes) -> bool:
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(cp.public_key)).verify(base64.b64decode(cp.signature), body)
        return True
    except (InvalidSignature, ValueError):
        return False


def certificate_event_seqs(conn: Database, certificate_id: int | None = None) -> dict[int, list[int]]:
    """Audit sequence numbers per certificate (one scan, or one certificate's)."""
    sql = "SELECT entity_key, seq FROM audit WHERE entity = 'certificate'"
    out: dict[int, list[int]] = {}
    if certificate_id is not None:
        rows = conn.execute(sql + " AND entity_key = ? ORDER BY seq", (str(certificate_id),))
    else:
        rows = conn.execute(sql + " ORDER BY seq")
    for key, seq in rows:
        out.setdefault(int(key), []).append(int(seq))
    return out
