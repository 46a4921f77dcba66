"""What a snapshot folder holds, and the names both the publisher and the reader use.

::

    snapshots/<id>/
      certs.sqlite       keys (keyed hash -> rid; a name + ID pair may name several) ·
                         records (rid -> masked JSON) ·
                         proofs (rid -> sealed audit sequence numbers) ·
                         photos (rid -> the holder's photo sealed under the QR token) ·
                         meta (generation, signed manifest, directory folder)
      downloads.sqlite   blobs (rid -> the holder's encrypted PDF)
      directory-<g>/     index/ (whoosh) + institutions.json: written whole before generation g
                         is committed, never changed afterwards
      audit/             the audit log's Merkle tree levels, append-only: each manifest's
                         checkpoint names the size it proves against
      manifest.json      a copy of the newest manifest, for people and tools (the reader uses meta)

A **generation** is one state of the folder: a full publish makes generation 1 in a new folder;
an incremental publish writes its side files first (a new ``directory-<g>``, the tree's new
nodes) and then commits the changed records *and* the meta rows in one SQLite transaction, so
a reader that reads a record also learns, in the same statement, which generation it belongs to.

Record ids are keyed hashes of the registry id, so their order says nothing about the order of
issue (certificate numbers are serial: ordered records would give the numbers back); the audit
sequence numbers a proof needs are sealed (AES-GCM under a key derived from the index secret),
so a stolen snapshot does not give that order either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import struct
from pathlib import Path

from registry.errors import SkillcertError

__all__ = [
    "CERTS",
    "DOWNLOADS",
    "SCHEMA",
    "SCHEMA_ID",
    "SeqSealer",
    "directory_name",
    "read_meta",
    "record_id",
    "retired_record_id",
]

SCHEMA_ID = "skillcert/snapshot/3"  # 3: several certificates per name + ID pair, sealed photos
CERTS, DOWNLOADS, MANIFEST_COPY, AUDIT = "certs.sqlite", "downloads.sqlite", "manifest.json", "audit"
INDEX, INSTITUTIONS = "index", "institutions.json"  # inside a directory-<g> folder
DECOY_RID = 0  # the record a miss reads in an empty snapshot

SCHEMA = """
CREATE TABLE keys (k BLOB NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (k, rid)) WITHOUT ROWID;
CREATE TABLE records (rid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE proofs (rid INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE photos (rid INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
"""
INDEXES = "CREATE INDEX IF NOT EXISTS keys_rid ON keys (rid);"


def directory_name(generation: int) -> str:
    return f"directory-{generation}"


def record_id(secret: bytes, registry_id: int) -> int:
    """The snapshot's id for a registry record: 63 bits of keyed BLAKE2b (a PRF under the index
    secret), never 0 (the decoy's). Stable, so an incremental publish finds the row again."""
    key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()  # BLAKE2b takes 64 bytes of key
    d = hashlib.blake2b(b"%d" % registry_id, digest_size=8, key=key, person=b"skillcert-rid/1")
    return (int.from_bytes(d.digest(), "big") >> 1) or 1


def retired_record_id(secret: bytes, registry_id: int, version: int) -> int:
    """The id of the record an old paper's QR token resolves to (the token ``version`` carried)."""
    key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
    d = hashlib.blake2b(b"%d/%d" % (registry_id, version), digest_size=8, key=key, person=b"skillcert-qrv/1")
    return (int.from_bytes(d.digest(), "big") >> 1) or 1


class SeqSealer:
    """Seals a record's audit sequence numbers: AES-256-GCM, the rid as associated data.

    The plain text is the numbers as 8-byte integers, padded with zeros to a multiple of four,
    so the length tells only roughly how many entries there are, never which.
    """

    def __init__(self, secret: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(hmac.new(secret, b"skillcert-audit-seqs/1", hashlib.sha256).digest())

    def seal(self, rid: int, seqs: list[int]) -> bytes:
        padded = list(seqs) + [0] * (max(4, -(-len(seqs) // 4) * 4) - len(seqs))
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, struct.pack(f">{len(padded)}Q", *padded), struct.pack(">q", rid))

    def open(self, rid: int, sealed: bytes) -> list[int]:
        """The numbers, or ``[]`` when the blob is not one this secret sealed for ``rid``."""
        from cryptography.exceptions import InvalidTag

        try:
            plain = self._aead.decrypt(sealed[:12], sealed[12:], struct.pack(">q", rid))
        except (InvalidTag, ValueError):
            return []
        return [s for s in struct.unpack(f">{len(plain) // 8}Q", plain) if s]


def read_meta(conn: sqlite3.Connection, folder: Path) -> dict[str, str]:
    """The meta rows (``generation``, ``manifest``, ``directory``); a clear error for an old layout."""
    try:
        meta = {str(k): str(v) for k, v in conn.execute("SELECT k, v FROM meta")}
    except sqlite3.OperationalError:
        meta = {}
    if not {"generation", "manifest", "directory"} <= meta.keys():
        raise SkillcertError(
            f"{folder} 是旧版本的快照，请重新完整发布（skillcert publish）",
            f"{folder} is a snapshot of an older layout: publish a full one (skillcert publish)",
        )
    return meta
