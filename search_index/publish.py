"""Publishing a read-only snapshot of the registry for the verification sites.

``publish(registry, home)`` writes a new folder ``home/snapshots/<id>/`` (laid out as
:mod:`search_index._layout` describes: ``certs.sqlite`` with keyed hashes, masked records and
the meta rows, ``downloads.sqlite``, ``directory-1/``, the audit tree, a signed manifest) and
switches ``home/snapshots/current`` to it atomically. ``incremental=True`` adds a generation to
the current folder instead: new side files first, then the changed records and the new
manifest in one SQLite transaction, so a reader sees all of a generation or none of it.
No raw name, ID number or certificate number ever enters a snapshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry import Registry
from registry.atomic import write_atomic
from registry.errors import SkillcertError
from registry.events import SnapshotPublished
from registry.filings import institution_to_dict
from registry.models import Institution
from registry.numbers import parse_institution_code
from registry.qr_keys import QR_SEAL_KIND, key_to_dict, public_key_of_pem
from registry.tables import BEIJING_DISTRICTS, GUANGDONG_CITIES, PROVINCES, Variant

from ._build import (
    Row,
    certificate_rows,
    cleanup_directories,
    finish_build,
    open_build,
    replace_certs,
    set_meta,
    write_certs,
    write_directory,
    write_downloads,
)
from ._layout import AUDIT, CERTS, DOWNLOADS, MANIFEST_COPY, SCHEMA_ID, read_meta
from .downloads import FOLDER as DOWNLOADS_FOLDER
from .offline_keys import key_list_jws
from .status_list import encode_bits, publisher_jwk, status_list_jwt

__all__ = ["Manifest", "commit_generation", "load_or_create_keys", "publish"]


@dataclass(frozen=True, slots=True)
class Manifest:
    path: Path
    data: dict[str, Any]

    @property
    def snapshot_id(self) -> str:
        return str(self.data["id"])


def load_or_create_keys(home: Path) -> tuple[bytes, Any]:
    """The index secret (HMAC) and the publisher's Ed25519 key, made once under ``home``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    home.mkdir(parents=True, exist_ok=True)
    secret_file, key_file = home / "index.secret", home / "publisher.key"
    if not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, secrets.token_bytes(32))
        os.close(fd)
    if not key_file.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, pem)
        os.close(fd)
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return secret_file.read_bytes(), key


def _region(code: str) -> tuple[str, str]:
    ic = parse_institution_code(code)
    province = PROVINCES.get(ic.region[:2], "")
    if ic.variant is Variant.BEIJING:
        return province + BEIJING_DISTRICTS.get(ic.region[2:], ""), "Beijing"
    if ic.variant is Variant.GUANGDONG:
        return province + GUANGDONG_CITIES.get(ic.region[2:], ""), "Guangdong"
    return province, ""


def institution_public(reg: Registry, inst: Institution) -> dict[str, Any]:
    d = institution_to_dict(inst)
    d.pop("one_modification_only", None)
    competition = d.get("competition")
    if isinstance(competition, dict):  # a competition receipt's contact person is not public
        d["competition"] = {k: v for k, v in competition.items() if k != "contact"}
    d["region_name"], d["region_name_en"] = _region(inst.code)
    identities = reg.seals.identities(inst.code)
    d["signers"] = [  # the seal keys: a sealed PDF's signer must be one of these
        {"seal_kind": i.seal_kind, "fingerprint": i.fingerprint, "not_after": i.not_after, "retired_at": i.retired_at}
        for i in identities
        if i.seal_kind != QR_SEAL_KIND
    ]
    d["qr_keys"] = [  # the QR and credential keys (P-256), for the offline checks
        key_to_dict(
            public_key_of_pem(i.cert_pem, institution_code=inst.code, not_after=i.not_after, retired_at=i.retired_at)
        )
        for i in identities
        if i.seal_kind == QR_SEAL_KIND
    ]
    return d


def offline_meta(
    reg: Registry,
    institutions: list[dict[str, Any]],
    key: Any,
    *,
    snapshot: str,
    generation: int,
    site: str,
    now: datetime,
) -> dict[str, str]:
    """The meta rows of the offline checks: the signed key list and the two status lists."""
    revoked, suspended, highest = reg.certificates.status_indexes()
    meta = {"keys_jws": key_list_jws(institutions, key, snapshot=snapshot, generation=generation, site=site, now=now)}
    for purpose, indexes in (("revocation", revoked), ("suspension", suspended)):
        meta[f"status_{purpose}"] = status_list_jwt(site, purpose, encode_bits(indexes, highest=highest), key, now=now)
    meta["publisher_jwk"] = json.dumps(publisher_jwk(key))
    return meta


def _sign(manifest: dict[str, Any], key: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    body = {k: v for k, v in manifest.items() if k not in ("signature", "public_key")}
    blob = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        **body,
        "public_key": base64.b64encode(pub).decode(),
        "signature": base64.b64encode(key.sign(blob)).decode(),
    }


def _leaf_of(reg: Registry, seq: int) -> bytes:
    from registry.merkle import audit_leaf

    return next((audit_leaf(h) for h in reg.audit.hashes(after=seq - 1, upto=seq)), b"")


def _checkpoint(reg: Registry, key: Any, folder: Path, size: int, now: datetime) -> dict[str, Any]:
    """Sign the audit log's Merkle root at ``size`` entries and store the tree's levels in ``folder``.

    An existing ``folder`` (the snapshot being updated) holds the tree of an earlier size: only
    the new entries are hashed in, since complete subtrees never change.
    """
    from cryptography.hazmat.primitives import serialization

    from registry.audit import StoredCheckpoint
    from registry.merkle import Checkpoint, FileNodes, MerkleTree, audit_leaf, write_levels

    tree = MerkleTree()
    if (folder / "L00.bin").exists():
        with FileNodes(folder) as old:
            tree = MerkleTree.from_levels(old.levels())
    if tree.size and (tree.size > size or tree.node(0, tree.size - 1) != _leaf_of(reg, tree.size)):
        tree = MerkleTree()  # not a prefix of this registry's log (a stale or foreign folder): rebuild
    tree.extend(audit_leaf(h) for h in reg.audit.hashes(after=tree.size, upto=size))
    write_levels(tree, folder)
    cp = Checkpoint.of(tree, at=now.isoformat(timespec="seconds"))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    stored = StoredCheckpoint(
        cp.size, cp.root, cp.at, base64.b64encode(pub).decode(), base64.b64encode(key.sign(cp.body())).decode()
    )
    reg.audit.add_checkpoint(stored)
    return {
        "log": "skillcert-audit/1",
        "size": cp.size,
        "root": cp.root,
        "at": cp.at,
        "public_key": stored.public_key,
        "signature": stored.signature,
    }


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _switch(snapshots: Path, target: Path) -> None:
    link = snapshots / "current"
    tmp = snapshots / f".current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, link)  # atomic: a reader sees the old or the new snapshot, never neither


@contextmanager
def _publish_lock(snapshots: Path) -> Iterator[None]:
    """One publisher at a time per ``snapshots`` folder (a second one waits for the first)."""
    fd = os.open(snapshots / ".publish.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def commit_generation(
    folder: Path,
    key: Any,
    rows: Iterable[Row],
    *,
    institutions: list[dict[str, Any]] | None = None,
    updates: dict[str, Any] | None = None,
    started: float | None = None,
    extra_meta: Callable[[int], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Add a generation to the snapshot in ``folder``: ``rows`` (changed or new certificates),
    a new directory when ``institutions`` is given, the manifest updated with ``updates``.

    The side files come first (a directory folder that no committed generation names yet), then
    the rows and the meta rows (generation, signed manifest, directory) in one transaction: a
    reader sees all of the generation or none of it. Directories of older generations than the
    last two are removed. Returns the signed manifest.
    """
    started = time.perf_counter() if started is None else started
    conn = sqlite3.connect(folder / CERTS, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA cache_size=-262144")  # taken as needed: many rows insert at random ids
        meta = read_meta(conn, folder)
        generation, old = int(meta["generation"]) + 1, json.loads(meta["manifest"])
        directory = write_directory(folder, generation, institutions) if institutions is not None else meta["directory"]
        conn.execute("BEGIN IMMEDIATE")
        try:
            written, added = replace_certs(conn, rows)
            manifest = {
                **old,
                **(updates or {}),
                "generation": generation,
                "certificates": int(old["certificates"]) + added,
                "incremental_updates": int(old.get("incremental_updates", 0)) + 1,
                "last_increment": written,
            }
            if institutions is not None:
                manifest["institutions"] = len(institutions)
            manifest["build_seconds"] = round(time.perf_counter() - started, 3)
            signed = _sign(manifest, key)
            set_meta(
                conn,
                generation=generation,
                manifest=signed,
                directory=directory,
                extra=extra_meta(generation) if extra_meta else None,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    _write_json(folder / MANIFEST_COPY, signed)
    cleanup_directories(folder, {directory, meta["directory"]})
    return signed


def _full(
    reg: Registry, home: Path, secret: bytes, key: Any, now: datetime, downloads_dir: Path, started: float, site: str
) -> Manifest:
    snapshots = home / "snapshots"
    head_seq, head_hash = reg.audit.head()
    institutions = [institution_public(reg, i) for i in reg.institutions.all()]
    snap_id = now.strftime("%Y%m%dT%H%M%S") + f"-{head_seq}"
    target = snapshots / snap_id
    building = snapshots / f".building-{snap_id}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    conn = open_build(building / CERTS)
    n = write_certs(conn, certificate_rows(reg, secret, reg.certificates.select(), reg.audit.event_seqs()))
    downloads = write_downloads(building / DOWNLOADS, downloads_dir, secret, reg.certificates.select())
    directory = write_directory(building, 1, institutions)
    manifest = {
        "id": snap_id,
        "schema": SCHEMA_ID,
        "generation": 1,
        "built_at": now.isoformat(),
        "certificates": n,
        "downloads": downloads,
        "institutions": len(institutions),
        "retired_codes": [c for c, _, _ in reg.institutions.retired_codes()],
        "audit_seq": head_seq,
        "audit_head": head_hash,
        "checkpoint": _checkpoint(reg, key, building / AUDIT, head_seq, now),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    signed = _sign(manifest, key)
    extra = offline_meta(reg, institutions, key, snapshot=snap_id, generation=1, site=site, now=now)
    set_meta(conn, generation=1, manifest=signed, directory=directory, extra=extra)
    finish_build(conn, building / CERTS)
    _write_json(building / MANIFEST_COPY, signed)
    os.replace(building, target)
    _switch(snapshots, target)
    return Manifest(target, manifest)


def _incremental(
    reg: Registry, home: Path, secret: bytes, key: Any, now: datetime, downloads_dir: Path, started: float, site: str
) -> Manifest:
    current = home / "snapshots" / "current"
    if not (current / CERTS).exists():
        raise SkillcertError(
            "还没有可增量更新的快照，请先完整发布", "no snapshot to update yet; publish a full one first"
        )
    target = current.resolve()
    conn = sqlite3.connect(f"file:{target / CERTS}?mode=ro", uri=True)
    try:
        old = json.loads(read_meta(conn, target)["manifest"])
    finally:
        conn.close()
    if old.get("schema") != SCHEMA_ID:
        raise SkillcertError(
            f"当前快照是旧版本格式（{old.get('schema')}），请先完整发布一次（skillcert publish）",
            f"the current snapshot has an older layout ({old.get('schema')}): publish a full one first",
        )
    after = int(old["audit_seq"])
    head_seq, head_hash = reg.audit.head()
    changed = {i: reg.certificates.by_id(i) for i in sorted(reg.audit.changed_certificate_ids(after_seq=after))}
    codes = sorted({e.entity_key for e in reg.audit.entries(entity="institution", after_seq=after)})
    rederive = dict(changed)  # a changed institution: its certificates' records carry its name and keys
    for code in codes:
        rederive.update((c.id, c) for c in reg.certificates.select(institution_code=code))
    # downloads first: a reader of the old generation may get the new file of a changed certificate,
    # never a revoked certificate's file once its record says revoked
    write_downloads(target / DOWNLOADS, downloads_dir, secret, changed.values())
    checkpoint = _checkpoint(reg, key, target / AUDIT, head_seq, now)  # appends: old checkpoints stay provable
    institutions = [institution_public(reg, i) for i in reg.institutions.all()] if codes else None
    every = institutions if institutions is not None else [institution_public(reg, i) for i in reg.institutions.all()]
    signed = commit_generation(
        target,
        key,
        certificate_rows(reg, secret, (rederive[i] for i in sorted(rederive))),
        institutions=institutions,
        updates={
            "checkpoint": checkpoint,
            "audit_seq": head_seq,
            "audit_head": head_hash,
            "retired_codes": [c for c, _, _ in reg.institutions.retired_codes()],
            "updated_at": now.isoformat(),
        },
        started=started,
        extra_meta=lambda g: offline_meta(reg, every, key, snapshot=target.name, generation=g, site=site, now=now),
    )
    return Manifest(target, {k: v for k, v in signed.items() if k not in ("signature", "public_key")})


def publish(
    reg: Registry,
    home: Path,
    *,
    incremental: bool = False,
    now: datetime | None = None,
    actor: str = "publisher",
    downloads_dir: Path | None = None,
    site_url: str = "http://127.0.0.1:8000",
) -> Manifest:
    """Publish a new snapshot (or add a generation with the changes since the current one).

    ``downloads_dir`` holds the encrypted holder downloads written at issue (default ``home/downloads``);
    ``site_url`` is the verification site's address, where the credentials' status lists are.
    """
    started = time.perf_counter()
    secret, key = load_or_create_keys(home)
    snapshots = home / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    with _publish_lock(snapshots):
        how = _incremental if incremental else _full
        m = how(
            reg,
            home,
            secret,
            key,
            now or datetime.now(UTC),
            downloads_dir or home / DOWNLOADS_FOLDER,
            started,
            site_url,
        )
    event = SnapshotPublished(
        incremental=incremental,
        audit_seq=int(m.data["audit_seq"]),
        certificates=int(m.data["certificates"]),
        applied=int(m.data["last_increment"]) if incremental else None,
    )
    reg.audit.record(m.path.name, event, actor=actor)
    return m
