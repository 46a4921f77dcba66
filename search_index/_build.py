"""Writing a snapshot's parts: masked records with their keys, holder downloads, the directory.

A full build writes every row into staging tables first and moves them into ``certs.sqlite``
sorted by record id (and the keys by key): the file's own page order then follows the keyed
ids, not the order of issue, and the inserts are appends rather than random B-tree writes.
In-place changes (:func:`replace_certs`, :func:`set_meta`) run inside the caller's transaction.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from registry import Registry
from registry.models import Certificate, Institution
from registry.tables import ID_TYPES, LEVELS

from ._layout import (
    DECOY_RID,
    INDEX,
    INDEXES,
    INSTITUTIONS,
    SCHEMA,
    SeqSealer,
    directory_name,
    record_id,
    retired_record_id,
)
from .directory import build_directory, dump
from .photos import seal_photo, small_jpeg
from .privacy import PairKind, mask_id, mask_name, pair_key, qr_key
from .record import DECOY_RECORD, SnapshotRecord, VersionNote, encode_record

__all__ = [
    "DECOY",
    "Row",
    "certificate_rows",
    "cleanup_directories",
    "finish_build",
    "masked_doc",
    "masked_record",
    "open_build",
    "replace_certs",
    "set_meta",
    "write_certs",
    "write_directory",
    "write_downloads",
]


class Row(NamedTuple):
    """One certificate as a snapshot holds it (or an old paper's QR token: ``counted=False``)."""

    rid: int  # record_id(secret, registry id)
    doc: str  # the masked record, JSON
    keys: list[bytes]  # the three pair keys and the QR key
    sealed: bytes  # its audit sequence numbers, sealed (SeqSealer)
    photo: bytes | None = None  # the holder's photo, sealed under the QR token (photos.seal_photo)
    counted: bool = True  # a certificate (not the record a retired QR token resolves to)


def masked_record(
    c: Certificate,
    inst: Institution,
    pdfs: list[str],
    signers: list[str],
    status: tuple[str, str] | None,
    replaced_on: str | None = None,
    proofs: list[str] | None = None,
    versions: list[VersionNote] | None = None,
    *,
    status_value: str | None = None,
    replaced_how: str | None = None,
    qr_version: int | None = None,
) -> SnapshotRecord:
    """The public record: masked name and ID, what the certificate says, its status, and what
    ended each earlier version (``versions``). ``status_value``, ``replaced_how`` and
    ``qr_version`` are for the record an old paper's QR token resolves to."""
    lv = LEVELS[c.level]
    return SnapshotRecord(
        name=mask_name(c.name),
        id=mask_id(c.id_number),
        id_type=c.id_type,
        id_type_zh=ID_TYPES[c.id_type].zh,
        id_type_en=ID_TYPES[c.id_type].en,
        occupation=c.occupation,
        job=c.job,
        level=c.level,
        level_zh=lv.zh,
        level_en=lv.en,
        issue_date=c.issue_date.isoformat() if c.issue_date else None,
        institution_code=inst.code,
        institution_zh=inst.name_zh,
        institution_en=inst.name_en,
        style=inst.style.value,
        status=status_value or c.status.value,
        status_date=status[0] if status else None,
        status_reason=status[1] if status else None,
        version=c.version,
        pdf_sha256=tuple(pdfs),
        proof_sha256=tuple(proofs or ()),
        replaced_on=replaced_on,
        versions=tuple(versions or ()),
        signer_fingerprints=tuple(signers),
        replaced_how=replaced_how,
        qr_version=qr_version,
    )


def masked_doc(
    c: Certificate,
    inst: Institution,
    pdfs: list[str],
    signers: list[str],
    status: tuple[str, str] | None,
    replaced_on: str | None = None,
    proofs: list[str] | None = None,
) -> str:
    """:func:`masked_record` in its stored form (the benchmarks build rows with it)."""
    return encode_record(masked_record(c, inst, pdfs, signers, status, replaced_on, proofs))


DECOY = encode_record(DECOY_RECORD)


def certificate_keys(secret: bytes, c: Certificate) -> list[bytes]:
    assert c.number is not None and c.qr_token is not None
    return [
        pair_key(secret, PairKind.NUMBER_NAME, c.number, c.name),
        pair_key(secret, PairKind.NUMBER_ID, c.number, c.id_number),
        pair_key(secret, PairKind.NAME_ID, c.name, c.id_number),
        qr_key(secret, c.number, c.qr_token),
    ]


def certificate_rows(
    reg: Registry, secret: bytes, certs: Iterable[Certificate], seqs: dict[int, list[int]] | None = None
) -> Iterator[Row]:
    """A row per numbered certificate; ``seqs`` (audit entries per certificate) saves a query each.

    The delivered files and proofs are read for 500 certificates at a time, and each distinct
    photo is opened and made small once (a batch shares few photos): on PostgreSQL a query per
    certificate is a round trip each."""
    photos: OrderedDict[str, bytes] = OrderedDict()  # photo sha -> small JPEG, the newest 256
    for chunk in _chunks(c for c in certs if c.number is not None and c.qr_token is not None):
        yield from _rows(reg, secret, chunk, seqs, photos)


def _chunks(certs: Iterable[Certificate], size: int = 500) -> Iterator[list[Certificate]]:
    chunk: list[Certificate] = []
    for c in certs:
        chunk.append(c)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _small_photo(reg: Registry, sha: str, cache: OrderedDict[str, bytes]) -> bytes:
    if sha in cache:
        cache.move_to_end(sha)
        return cache[sha]
    small = cache[sha] = small_jpeg(reg.certificates.photo(sha))
    if len(cache) > 256:
        cache.popitem(last=False)
    return small


def _rows(
    reg: Registry,
    secret: bytes,
    chunk: list[Certificate],
    seqs: dict[int, list[int]] | None,
    photos: OrderedDict[str, bytes],
) -> Iterator[Row]:
    sealer = SeqSealer(secret)
    insts: dict[str, tuple[Institution, list[str]]] = {}
    ids = [c.id for c in chunk]
    files, proof_files = reg.seals.delivered_files(ids), reg.lifecycle.proof_files(ids)
    for c in chunk:
        assert c.number is not None and c.qr_token is not None
        if c.institution_code not in insts:
            inst = reg.institutions.get(c.institution_code)
            insts[c.institution_code] = (inst, sorted(reg.seals.filed_fingerprints(inst.code)))
        inst, signers = insts[c.institution_code]
        pdfs = files[c.id]
        event = reg.lifecycle.status_event(c.id) if c.status.value != "valid" else None
        version_event = reg.lifecycle.version_event(c.id) if c.version > 1 else None
        proofs = proof_files[c.id]
        events = seqs.get(c.id, []) if seqs is not None else reg.audit.event_seqs(c.id).get(c.id, [])
        replaced_on = version_event[1] if version_event else None
        versions = (
            [VersionNote(version=e.version, how=e.action, on=e.on) for e in reg.lifecycle.version_events(c.id)]
            if c.version > 1
            else []
        )
        rid = record_id(secret, c.id)
        doc = encode_record(masked_record(c, inst, pdfs, signers, event, replaced_on, proofs, versions))
        photo = None
        if c.status.value != "revoked":  # a revoked certificate's landing shows no face
            photo = seal_photo(_small_photo(reg, c.photo_sha256, photos), number=c.number, token=c.qr_token)
        yield Row(rid, doc, certificate_keys(secret, c), sealer.seal(rid, events), photo)
        for old in reg.lifecycle.superseded_tokens(c.id) if c.version > 1 else ():
            # the old paper's QR code: "replaced (补发) on DATE", or the certificate's own status
            # when it was revoked or suspended since
            status = event if event is not None else (old.replaced_on, "")
            stub = encode_record(masked_record(
                c, inst, pdfs, signers, status, old.replaced_on, proofs, versions,
                status_value="replaced" if event is None else None, replaced_how="reissue", qr_version=old.version,
            ))  # fmt: skip
            srid = retired_record_id(secret, c.id, old.version)
            yield Row(srid, stub, [qr_key(secret, c.number, old.token)], sealer.seal(srid, []), None, False)


# -- certs.sqlite ------------------------------------------------------------------------------
_STAGE = """
CREATE TABLE stage.records (rid INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE stage.keys (k BLOB NOT NULL, rid INTEGER NOT NULL);
CREATE TABLE stage.proofs (rid INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE TABLE stage.photos (rid INTEGER NOT NULL, sealed BLOB NOT NULL);
"""


def open_build(path: Path) -> sqlite3.Connection:
    """A new certs.sqlite for a full build (in a folder that becomes visible only by atomic rename),
    with staging tables in a private temporary database; the build transaction is open."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.executescript(SCHEMA)
    conn.execute("ATTACH DATABASE '' AS stage")
    conn.execute("PRAGMA stage.journal_mode=OFF")
    conn.executescript(_STAGE)
    conn.execute("BEGIN")
    return conn


def _batches(rows: Iterable[Row], size: int = 5000) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_certs(conn: sqlite3.Connection, rows: Iterable[Row]) -> int:
    """Stage the rows of a full build (:func:`finish_build` moves them in order); returns the count."""
    n = 0
    for batch in _batches(rows):
        conn.executemany("INSERT INTO stage.records VALUES (?, ?)", [(r.rid, r.doc) for r in batch])
        conn.executemany("INSERT INTO stage.keys VALUES (?, ?)", [(k, r.rid) for r in batch for k in r.keys])
        conn.executemany("INSERT INTO stage.proofs VALUES (?, ?)", [(r.rid, r.sealed) for r in batch])
        conn.executemany("INSERT INTO stage.photos VALUES (?, ?)", [(r.rid, r.photo) for r in batch if r.photo])
        n += sum(1 for r in batch if r.counted)
    return n


def set_meta(
    conn: sqlite3.Connection,
    *,
    generation: int,
    manifest: dict[str, Any],
    directory: str,
    extra: dict[str, str] | None = None,
) -> None:
    """The meta rows of a generation: in the same transaction as its records (``extra``: the
    signed key list and status lists of the offline checks)."""
    conn.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [
            ("generation", str(generation)),
            ("manifest", json.dumps(manifest, ensure_ascii=False, sort_keys=True)),
            ("directory", directory),
            *sorted((extra or {}).items()),
        ],
    )


def finish_build(conn: sqlite3.Connection, path: Path) -> None:
    """Move the staged rows in (records by id; a key given twice keeps the later row), add the
    decoy, commit, index, switch to WAL (readers and incremental publishes), fsync."""
    conn.execute("INSERT INTO records SELECT rid, doc FROM stage.records ORDER BY rid")
    conn.execute("INSERT OR REPLACE INTO keys SELECT k, rid FROM stage.keys ORDER BY k, rowid")
    conn.execute("INSERT INTO proofs SELECT rid, sealed FROM stage.proofs ORDER BY rid")
    conn.execute("INSERT INTO photos SELECT rid, sealed FROM stage.photos ORDER BY rid")
    conn.execute("INSERT INTO records VALUES (?, ?)", (DECOY_RID, DECOY))
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE stage")
    conn.executescript(INDEXES)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def replace_certs(conn: sqlite3.Connection, rows: Iterable[Row]) -> tuple[int, int]:
    """Write changed rows in place (inside the caller's transaction): (certificates written, new)."""
    written = added = 0
    for batch in _batches(rows):
        rids = [r.rid for r in batch]
        marks = ",".join("?" * len(rids))
        known = {int(r[0]) for r in conn.execute(f"SELECT rid FROM records WHERE rid IN ({marks})", rids)}
        conn.executemany("DELETE FROM keys WHERE rid = ?", [(rid,) for rid in rids])
        conn.executemany("DELETE FROM photos WHERE rid = ?", [(rid,) for rid in rids])
        conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)", [(r.rid, r.doc) for r in batch])
        conn.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?)", [(k, r.rid) for r in batch for k in r.keys])
        conn.executemany("INSERT OR REPLACE INTO proofs VALUES (?, ?)", [(r.rid, r.sealed) for r in batch])
        conn.executemany("INSERT INTO photos VALUES (?, ?)", [(r.rid, r.photo) for r in batch if r.photo])
        written += sum(1 for r in batch if r.counted)
        added += sum(1 for r in batch if r.counted and r.rid not in known)
    return written, added


# -- downloads.sqlite ----------------------------------------------------------------------------
_DOWNLOADS_SCHEMA = "CREATE TABLE IF NOT EXISTS blobs (rid INTEGER PRIMARY KEY, blob BLOB NOT NULL)"


def write_downloads(path: Path, source: Path, secret: bytes, certs: Iterable[Certificate]) -> int:
    """Copy the encrypted holder downloads (``source/<number>.bin``, written at issue) of ``certs``.

    Written in record-id order, so the blobs' places in the file do not follow the order of issue;
    a revoked certificate's download is removed.
    """
    wanted = sorted(
        (record_id(secret, c.id), c.number, c.status.value == "revoked") for c in certs if c.number is not None
    )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_DOWNLOADS_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        n = 0
        for rid, number, revoked in wanted:
            blob = source / f"{number}.bin"
            if revoked or not blob.is_file():
                conn.execute("DELETE FROM blobs WHERE rid = ?", (rid,))  # a revoked certificate is not served
                continue
            conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (rid, blob.read_bytes()))
            n += 1
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n
    finally:
        conn.close()


# -- the directory -------------------------------------------------------------------------------
def write_directory(folder: Path, generation: int, institutions: list[dict[str, Any]]) -> str:
    """``folder/directory-<generation>/`` (whoosh index + institutions.json), made whole and then
    renamed into place; returns its name for the meta row."""
    name = directory_name(generation)
    tmp = folder / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    build_directory(tmp / INDEX, institutions)
    dump(institutions, tmp / INSTITUTIONS)
    shutil.rmtree(folder / name, ignore_errors=True)  # a failed earlier attempt: never committed
    os.replace(tmp, folder / name)
    return name


def cleanup_directories(folder: Path, keep: set[str]) -> None:
    """Remove the directory folders no kept generation names (and leftovers of failed builds)."""
    for p in folder.iterdir():
        stale = p.name.startswith("directory-") and p.name not in keep
        if p.is_dir() and (stale or (p.name.startswith(".directory-") and p.name.endswith(".tmp"))):
            shutil.rmtree(p, ignore_errors=True)
