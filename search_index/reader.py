"""Reading a published snapshot: exact two-of-three look-ups, QR look-ups, the directory.

There is no function that takes one key: every certificate look-up needs a pair (SPEC §5) or
the number with the QR token. A miss does the same work as a hit (one statement reads the
record at a random id and parses it), so the time of an answer says nothing about whether a
key exists.

One consistent snapshot at a time: the reader holds one :class:`~search_index._state.State`
(manifest, directory, filed keys, connection of one generation) and swaps it whole. It follows
``snapshots/current`` (a full publish, seen within half a second), and each look-up reads the
record and the generation it belongs to in one statement, so the first answer from a new
incremental generation comes with that generation's manifest and directory; directory and
manifest reads check the generation first. :meth:`Snapshot.pinned` holds one generation for
several reads (a check that reads the directory, then the record, then the directory again).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from registry.errors import SkillcertError
from registry.qr_keys import EcPublicKey, key_from_dict

from ._layout import AUDIT, CERTS, DOWNLOADS, SeqSealer
from ._state import State, close_unused, connect, load_state
from .directory import search
from .photos import OpenedPhotos
from .privacy import Keyer, PairKind
from .record import SnapshotRecord, decode_record

__all__ = ["CertificateView", "Snapshot", "SnapshotView"]

_RECHECK_SECONDS = 0.5  # how often the reader looks where ``current`` points
_TRIES = 3
_GENERATION = "SELECT v FROM meta WHERE k = 'generation'"
# hit and miss alike: one key probe, then the first record at or after the found id (a miss: a
# random id), with the generation — all in one statement, so in one read transaction
_FIND = (
    "SELECT (SELECT rid FROM keys WHERE k = ?1), r.rid, r.doc, (SELECT v FROM meta WHERE k = 'generation'){} "
    "FROM records r WHERE r.rid >= COALESCE((SELECT rid FROM keys WHERE k = ?1), ?2) ORDER BY r.rid LIMIT 1"
)
_FIND_RECORD = _FIND.format("")
_FIND_SEALED = _FIND.format(", (SELECT sealed FROM proofs WHERE rid = r.rid)")
_FIND_PHOTO = _FIND.format(", (SELECT sealed FROM photos WHERE rid = r.rid)")
# every record a key names (a name + ID pair: each of the person's certificates), or on a miss the
# record at a random id, read the same way; the generation with each row
_FIND_ALL = (
    "SELECT k.rid, r.rid, r.doc, (SELECT v FROM meta WHERE k = 'generation') "
    "FROM keys k JOIN records r ON r.rid = k.rid WHERE k.k = ?1 "
    "UNION ALL SELECT * FROM (SELECT NULL, r.rid, r.doc, (SELECT v FROM meta WHERE k = 'generation') "
    "FROM records r WHERE NOT EXISTS (SELECT 1 FROM keys WHERE k = ?1) AND r.rid >= ?2 ORDER BY r.rid LIMIT 1)"
)
_MAX_ALL = 50  # more certificates than one person ever holds


_BLOB_AT_OR_AFTER = "SELECT rid, blob FROM blobs WHERE rid >= ? ORDER BY rid LIMIT 1"


# what a certificate look-up gives: the masked record, typed (its stored form stays in this package)
CertificateView = SnapshotRecord


class Landing(NamedTuple):
    """The QR landing page's reads (:meth:`Snapshot.landing_by_qr`)."""

    record: CertificateView | None
    photo: bytes | None  # JPEG, for a valid certificate that has one
    institution: dict[str, Any] | None
    manifest: dict[str, Any]


class _Found(NamedTuple):  # a tuple: made on every look-up, hit or miss
    state: State  # the generation the record belongs to
    rid: int | None  # None: no such key
    record: SnapshotRecord
    sealed: bytes | None


class _Randoms:
    """128-bit numbers from the OS generator, read 4 KiB (256 numbers) at a time: one system call
    for 256 look-ups, where ``secrets.randbits`` makes one a look-up. ``next`` on the unpacking
    iterator is one C call (threads each get their own numbers); a forked child reads afresh."""

    def __init__(self) -> None:
        self._next: Callable[[], tuple[int, int]] = iter(()).__next__

    def reset(self) -> None:
        self._next = iter(()).__next__

    def below(self, n: int) -> int:
        try:
            hi, lo = self._next()
        except StopIteration:
            self._next = struct.iter_unpack(">QQ", os.urandom(4096)).__next__
            hi, lo = self._next()
        return ((hi << 64) | lo) % n


_RANDOMS = _Randoms()
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_RANDOMS.reset)


def _decoy(state: State) -> int:
    """A uniformly random id in ``[0, max_rid]``: 128 random bits of the OS generator reduced
    modulo the range, a bias under 2**-64."""
    return _RANDOMS.below(state.max_rid + 1)


def _query(state: State, key: bytes, sealed: bool | str) -> tuple[Any, ...]:
    decoy = _decoy(state)
    sql = _FIND_PHOTO if sealed == "photo" else _FIND_SEALED if sealed else _FIND_RECORD
    row: tuple[Any, ...] | None = state.conn.execute(sql, (key, decoy)).fetchone()
    if row is None:
        raise SkillcertError(f"快照 {state.folder} 没有记录", f"the snapshot {state.folder} holds no records")
    return row


def _query_all(state: State, key: bytes) -> list[tuple[Any, ...]]:
    decoy = _decoy(state)
    rows = state.conn.execute(_FIND_ALL, (key, decoy)).fetchmany(_MAX_ALL)
    if not rows:
        raise SkillcertError(f"快照 {state.folder} 没有记录", f"the snapshot {state.folder} holds no records")
    return rows


def _views(rows: list[tuple[Any, ...]]) -> list[CertificateView]:
    """The hits, newest issue first (a miss parses its decoy too: the same work either way)."""
    docs = [(row[0] is not None and row[0] == row[1], decode_record(row[2])) for row in rows]
    found = [rec for hit, rec in docs if hit]
    return sorted(found, key=lambda v: (v.issue_date or "", v.occupation), reverse=True)


def _found(state: State, row: tuple[Any, ...]) -> _Found:
    rec = decode_record(row[2])  # decoded on a miss too: the same work either way
    hit = row[0] is not None and row[0] == row[1]
    return _Found(state, row[1] if hit else None, rec, row[4] if len(row) > 4 else None)  # rid: an INTEGER


class _Reads:
    """Every read, over the state a subclass gives: ``_side()`` for the manifest and directory,
    ``_find()`` for a certificate key (the record with the state of its generation)."""

    _secret: bytes
    _keys: Keyer
    _sealer: SeqSealer
    _photos: OpenedPhotos

    def _side(self) -> State:
        raise NotImplementedError

    def _find(self, key: bytes, *, sealed: bool | str = False) -> _Found:
        raise NotImplementedError

    def _find_all(self, key: bytes) -> list[CertificateView]:
        raise NotImplementedError

    @property
    def manifest(self) -> dict[str, Any]:
        """The signed manifest of the generation being served."""
        return dict(self._side().manifest)

    @property
    def generation(self) -> int:
        return self._side().generation

    # -- certificates ----------------------------------------------------------------------
    def _lookup(self, key: bytes) -> CertificateView | None:
        found = self._find(key)
        return found.record if found.rid is not None else None

    def lookup_by_pair(self, kind: PairKind | str, a: str, b: str) -> CertificateView | None:
        """Two of three keys: (number, name), (number, ID number) or (name, ID number)."""
        if type(kind) is not PairKind:  # a member already: no Enum call
            kind = PairKind(kind)
        if not a.strip() or not b.strip():
            raise SkillcertError("查询需要两项信息", "a query needs two of the three keys")
        return self._lookup(self._keys.pair(kind, a, b))

    def lookup_all_by_pair(self, kind: PairKind | str, a: str, b: str) -> list[CertificateView]:
        """Every certificate a pair names, newest first: a name + ID number gives all of a person's
        certificates (two occupations, two levels); a pair with the number gives at most one."""
        kind = PairKind(kind)
        if not a.strip() or not b.strip():
            raise SkillcertError("查询需要两项信息", "a query needs two of the three keys")
        return self._find_all(self._keys.pair(kind, a, b))

    def lookup_by_qr(self, number: str, token: str) -> CertificateView | None:
        if not number.strip() or not token.strip():
            return None
        return self._lookup(self._keys.qr(number, token))

    def photo_by_qr(self, number: str, token: str) -> bytes | None:
        """The holder's photo (JPEG), opened with the QR token; ``None`` without the right token."""
        from .photos import open_photo

        if not number.strip() or not token.strip():
            return None
        try:
            found = self._find(self._keys.qr(number, token), sealed="photo")
        except sqlite3.OperationalError:  # a snapshot of an older layout has no photos
            return None
        if found.rid is None or not found.sealed:
            return None
        return open_photo(bytes(found.sealed), number=number, token=token)

    def landing_by_qr(self, number: str, token: str) -> Landing:
        """What the QR landing page shows, from one look-up of one generation (hit or miss alike):
        the record (:meth:`lookup_by_qr`), the photo for a valid certificate (:meth:`photo_by_qr`;
        kept a while per generation and QR key, :class:`~search_index.photos.OpenedPhotos`),
        the institution and the manifest — those two of the record's own generation."""
        if not number.strip() or not token.strip():
            return Landing(None, None, None, dict(self._side().manifest))
        key = self._keys.qr(number, token)
        try:
            found = self._find(key, sealed="photo")
        except sqlite3.OperationalError:  # a snapshot of an older layout has no photos
            found = self._find(key)
        manifest = dict(found.state.manifest)
        if found.rid is None:
            return Landing(None, None, None, manifest)
        rec = found.record
        inst = found.state.institutions.get(rec.institution_code.strip().upper())
        photo = None
        if rec.status == "valid" and found.sealed:
            where = (found.state.folder, found.state.generation, key)  # this generation, this QR key
            photo = self._photos.open(where, bytes(found.sealed), number=number, token=token)
        return Landing(rec, photo, dict(inst) if inst is not None else None, manifest)

    def encrypted_download(self, number: str, id_number: str) -> tuple[CertificateView | None, bytes | None]:
        """The record and its encrypted PDF (``downloads.decrypt_pdf`` opens it with the holder's code).

        Found by the number + ID pair. An unknown pair gives ``(None, blob)`` where ``blob`` is a
        random real download read by the same statement — so a miss does the same work as a hit
        (the caller tries the code on it, bound to no number, which always fails). A ``None`` blob
        with a record: the certificate has no download (revoked, or issued without notices).
        """
        if not number.strip() or not id_number.strip():
            raise SkillcertError(
                "下载需要证书编号和证件号码", "a download needs the certificate number and the ID number"
            )
        found = self._find(self._keys.pair(PairKind.NUMBER_ID, number, id_number))
        view = found.record if found.rid is not None else None
        path = found.state.folder / DOWNLOADS
        if not path.exists():
            return view, None
        wanted = found.rid if found.rid is not None else secrets.randbits(63)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = (
                conn.execute(_BLOB_AT_OR_AFTER, (wanted,)).fetchone()
                or conn.execute(_BLOB_AT_OR_AFTER, (0,)).fetchone()
            )
        finally:
            conn.close()
        blob = bytes(row[1]) if row else None
        if view is None:
            return None, blob
        return view, (blob if row is not None and row[0] == found.rid else None)

    # -- the audit log's signed checkpoint and proofs ------------------------------------------
    def checkpoint(self) -> dict[str, Any] | None:
        """The signed Merkle checkpoint of the registry's audit log this snapshot was published at."""
        cp = self._side().manifest.get("checkpoint")
        return dict(cp) if isinstance(cp, dict) else None

    def audit_inclusion(self, number: str, token: str) -> dict[str, Any] | None:
        """Inclusion proofs (RFC 6962) of the certificate's audit entries in the checkpoint's tree.

        Needs the QR pair (number + token), like the landing page: only here are the entries'
        sequence numbers unsealed. Only leaf hashes and proof hashes are given: the entries
        themselves stay with the registry.
        """
        from registry.merkle import FileNodes, inclusion_proof

        if not number.strip() or not token.strip():
            return None
        found = self._find(self._keys.qr(number, token), sealed=True)
        cp = found.state.manifest.get("checkpoint")
        if found.rid is None or not isinstance(cp, dict):
            return None
        size = int(cp["size"])
        entries = []
        with FileNodes(found.state.folder / AUDIT) as nodes:
            for seq in self._sealer.open(found.rid, found.sealed or b""):
                if 1 <= seq <= size:
                    proof = inclusion_proof(nodes, seq - 1, size)
                    entries.append(
                        {"seq": seq, "leaf": nodes.node(0, seq - 1).hex(), "proof": [h.hex() for h in proof]}
                    )
        return {"checkpoint": dict(cp), "entries": entries}

    def audit_consistency(self, old_size: int) -> dict[str, Any] | None:
        """A consistency proof (RFC 6962) from an earlier tree size to this snapshot's checkpoint."""
        from registry.merkle import FileNodes, consistency_proof

        state = self._side()
        cp = state.manifest.get("checkpoint")
        if not isinstance(cp, dict) or not 0 <= old_size <= int(cp["size"]):
            return None
        with FileNodes(state.folder / AUDIT) as nodes:
            proof = consistency_proof(nodes, old_size, int(cp["size"]))
        return {"old_size": old_size, "checkpoint": dict(cp), "proof": [h.hex() for h in proof]}

    # -- institutions ----------------------------------------------------------------------
    def search_institutions(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        state = self._side()
        found = search(state.ix, state.searcher, text, limit)
        return [state.institutions[c] for c in found if c in state.institutions]

    def institution(self, code: str) -> dict[str, Any] | None:
        found = self._side().institutions.get(code.strip().upper())
        return dict(found) if found is not None else None

    # -- offline checks (QR payloads, credentials) ----------------------------------------
    def key_list(self) -> str | None:
        """The signed key list (a compact JWS) of this generation; None in an older snapshot."""
        return self._side().offline.get("keys_jws")

    def status_list(self, purpose: str) -> str | None:
        """The signed ``BitstringStatusListCredential`` (JWT) for ``revocation`` or ``suspension``."""
        return self._side().offline.get(f"status_{purpose}")

    def publisher_jwk(self) -> dict[str, str] | None:
        raw = self._side().offline.get("publisher_jwk")
        return {str(k): str(v) for k, v in json.loads(raw).items()} if raw else None

    def qr_keys(self) -> list[EcPublicKey]:
        """Every filed QR key of every institution, from the directory of this generation."""
        return [key_from_dict(k) for inst in self._side().institutions.values() for k in inst.get("qr_keys", [])]

    def institution_by_signer(self, fingerprint: str) -> dict[str, Any] | None:
        """The institution that filed this seal key (SHA-256 certificate fingerprint), if any."""
        fp = fingerprint.strip().lower()
        for inst in self._side().institutions.values():
            if any(str(s.get("fingerprint", "")).lower() == fp for s in inst.get("signers", [])):
                return dict(inst)
        return None


class SnapshotView(_Reads):
    """One generation, held for several reads (see :meth:`Snapshot.pinned`)."""

    def __init__(self, state: State, secret: bytes, sealer: SeqSealer, keys: Keyer | None = None) -> None:
        self._state, self._secret, self._sealer = state, secret, sealer
        self._keys = keys if keys is not None else Keyer(secret)
        self._photos = OpenedPhotos(max_entries=0)  # a view lives for one check: nothing to keep

    def _side(self) -> State:
        return self._state

    def _find(self, key: bytes, *, sealed: bool | str = False) -> _Found:
        return _found(self._state, _query(self._state, key, sealed))

    def _find_all(self, key: bytes) -> list[CertificateView]:
        return _views(_query_all(self._state, key))


class Snapshot(_Reads):
    """An open snapshot. ``root`` is ``home/snapshots`` (following ``current``) or one snapshot folder."""

    def __init__(self, root: Path, secret: bytes) -> None:
        self._root = root
        self._secret = secret
        self._keys = Keyer(secret)
        self._sealer = SeqSealer(secret)
        self._photos = OpenedPhotos()
        self._lock = threading.Lock()
        folder = self._target()
        conn = connect(folder)
        try:
            self._state = load_state(folder, conn)
        except BaseException:
            conn.close()
            raise
        self._retired: State | None = None  # kept open one swap longer, for reads still running
        self._checked = time.monotonic()

    @classmethod
    def open(cls, home: Path) -> Snapshot:
        """The current snapshot under ``home`` (``$SKILLCERT_HOME``), with the secret kept there."""
        secret_file = home / "index.secret"
        if not secret_file.exists():
            raise SkillcertError("没有索引密钥，请先发布快照", "no index secret: publish a snapshot first")
        return cls(home / "snapshots", secret_file.read_bytes())

    def _target(self) -> Path:
        cur = self._root / "current"
        target = cur.resolve() if cur.exists() else self._root
        if not (target / CERTS).exists():
            raise SkillcertError(f"{target} 不是快照", f"{target} is not a snapshot")
        return target

    def _swap(self, old: State, new: State) -> State:
        close_unused(self._retired, old, new)
        self._retired, self._state = old, new
        return new

    def _follow(self) -> State:
        """The state, after looking (at most twice a second) whether ``current`` moved."""
        state = self._state
        now = time.monotonic()
        if now - self._checked <= _RECHECK_SECONDS:
            return state
        with self._lock:
            if self._state is not state:
                return self._state
            self._checked = now
            try:
                folder = self._target()
                if folder == state.folder:
                    return state
                conn = connect(folder)
                try:
                    new = load_state(folder, conn)
                except BaseException:
                    conn.close()
                    raise
            except (SkillcertError, sqlite3.Error, OSError):  # not (yet) a whole snapshot there: keep this one
                return state
            return self._swap(state, new)

    def _reload(self, seen: State) -> State:
        """The newest generation of the folder ``seen`` belongs to."""
        with self._lock:
            cur = self._state
            if cur is not seen and (cur.folder != seen.folder or cur.generation > seen.generation):
                return cur  # another thread moved on already
            new = load_state(cur.folder, cur.conn, cur)
            return cur if new.generation == cur.generation else self._swap(cur, new)

    def _side(self) -> State:
        state = self._follow()
        if int(state.conn.execute(_GENERATION).fetchone()[0]) != state.generation:
            state = self._reload(state)
        return state

    def _find(self, key: bytes, *, sealed: bool | str = False) -> _Found:
        state = self._follow()
        row = _query(state, key, sealed)
        for _ in range(_TRIES):
            if int(row[3]) == state.generation:
                break
            state = self._reload(state)  # the record is from a newer generation: answer with all of it
            row = _query(state, key, sealed)
        return _found(state, row)

    def _find_all(self, key: bytes) -> list[CertificateView]:
        state = self._follow()
        rows = _query_all(state, key)
        for _ in range(_TRIES):
            if all(int(r[3]) == state.generation for r in rows):
                break
            state = self._reload(state)
            rows = _query_all(state, key)
        return _views(rows)

    @contextmanager
    def pinned(self) -> Iterator[SnapshotView]:
        """One generation for every read inside the block, whatever is published meanwhile.

        Its own connection holds one read transaction (SQLite WAL keeps that view while a
        publisher commits), and the state of the same generation goes with it.
        """
        state = self._follow()
        conn = connect(state.folder)
        view_state: State | None = None
        try:
            conn.execute("BEGIN")
            if int(conn.execute(_GENERATION).fetchone()[0]) == state.generation:
                view_state = replace(state, conn=conn)
            else:
                view_state = load_state(state.folder, conn, state)
            yield SnapshotView(view_state, self._secret, self._sealer, self._keys)
        finally:
            conn.close()
            if view_state is not None and all(view_state.searcher is not s.searcher for s in (state, self._state)):
                view_state.searcher.close()  # a directory the view opened for itself

    def close(self) -> None:
        with self._lock:
            close_unused(self._retired, self._state)
            close_unused(self._state)
            self._retired = None
