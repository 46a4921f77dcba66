"""Publishing a read-only snapshot of the registry for the verification sites.

``publish(registry, home)`` writes ``home/snapshots/<id>/`` — ``certs.sqlite`` (keyed hashes
and masked records), ``directory/`` (whoosh), ``institutions.json``, ``downloads.sqlite`` (each
delivered PDF encrypted under its holder's download code, see ``downloads``), ``manifest.json`` (counts,
build time, the registry's audit-chain head, an Ed25519 signature by the publisher's key) —
and switches ``home/snapshots/current`` to it atomically. ``incremental=True`` applies the
changes since the current snapshot in place: an open reader sees them at its next query.
No raw name, ID number or certificate number ever enters a snapshot.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry import Registry
from registry.errors import SkillcertError
from registry.filings import institution_to_dict
from registry.models import Certificate, Institution
from registry.numbers import parse_institution_code
from registry.tables import BEIJING_DISTRICTS, GUANGDONG_CITIES, ID_TYPES, LEVELS, PROVINCES, Variant

from .directory import build_directory, dump
from .privacy import PairKind, mask_id, mask_name, pair_key, qr_key

__all__ = ["Manifest", "load_or_create_keys", "publish"]

_SCHEMA = """
CREATE TABLE keys (k BLOB PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE records (rid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX keys_rid ON keys (rid);
"""


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
    d["signers"] = [
        {"seal_kind": i.seal_kind, "fingerprint": i.fingerprint, "not_after": i.not_after, "retired_at": i.retired_at}
        for i in reg.identities(inst.code)
    ]
    return d


def _doc(
    c: Certificate,
    inst: Institution,
    pdfs: list[str],
    signers: list[str],
    status: tuple[str, str] | None,
    replaced_on: str | None = None,
    proofs: list[str] | None = None,
    audit_seqs: list[int] | None = None,
) -> str:
    lv = LEVELS[c.level]
    return json.dumps(
        {
            "name": mask_name(c.name),
            "id": mask_id(c.id_number),
            "id_type": c.id_type,
            "id_type_zh": ID_TYPES[c.id_type].zh,
            "id_type_en": ID_TYPES[c.id_type].en,
            "occupation": c.occupation,
            "job": c.job,
            "level": c.level,
            "level_zh": lv.zh,
            "level_en": lv.en,
            "issue_date": c.issue_date.isoformat() if c.issue_date else None,
            "institution_code": inst.code,
            "institution_zh": inst.name_zh,
            "institution_en": inst.name_en,
            "style": inst.style.value,
            "status": c.status.value,
            "status_date": status[0] if status else None,
            "status_reason": status[1] if status else None,
            "version": c.version,
            "pdf_sha256": pdfs,
            "proof_sha256": proofs or [],
            "replaced_on": replaced_on,
            "signer_fingerprints": signers,
            "audit_seqs": audit_seqs or [],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _rows(
    reg: Registry, secret: bytes, certs: Iterable[Certificate], seqs: dict[int, list[int]] | None = None
) -> Iterator[tuple[int, str, list[bytes]]]:
    """Keys and masked record per certificate; ``seqs`` (audit entries per certificate) saves a query each."""
    insts: dict[str, tuple[Institution, list[str]]] = {}
    for c in certs:
        if c.number is None or c.qr_token is None:
            continue
        if c.institution_code not in insts:
            inst = reg.institution(c.institution_code)
            insts[c.institution_code] = (inst, sorted(reg.filed_fingerprints(inst.code)))
        inst, signers = insts[c.institution_code]
        pdfs = [d.pdf_sha256 for d in reg.deliveries(c.id)]
        keys = [
            pair_key(secret, PairKind.NUMBER_NAME, c.number, c.name),
            pair_key(secret, PairKind.NUMBER_ID, c.number, c.id_number),
            pair_key(secret, PairKind.NAME_ID, c.name, c.id_number),
            qr_key(secret, c.number, c.qr_token),
        ]
        event = reg.status_event(c.id) if c.status.value != "valid" else None
        version_event = reg.version_event(c.id) if c.version > 1 else None
        proofs = [p.pdf_sha256 for p in reg.proofs(c.id) if p.pdf_sha256]
        events = seqs.get(c.id, []) if seqs is not None else reg.event_seqs(c.id).get(c.id, [])
        replaced_on = version_event[1] if version_event else None
        yield c.id, _doc(c, inst, pdfs, signers, event, replaced_on, proofs, events), keys


def open_build(path: Path) -> sqlite3.Connection:
    """A new certs.sqlite for a full build, in a folder that becomes visible only by atomic rename:
    no journal while building, and a page cache big enough for the random-order key inserts (the
    2 MB default thrashes at a million certificates)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.executescript(_SCHEMA)
    return conn


def finish_build(conn: sqlite3.Connection, path: Path) -> None:
    """Add the decoy record, commit, switch to WAL (readers and incremental publishes), fsync."""
    conn.execute("INSERT INTO records VALUES (0, ?)", (_DECOY,))  # what a miss reads (see reader._lookup)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _write_certs(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, list[bytes]]], *, replace: bool) -> int:
    n = 0
    batch_r: list[tuple[int, str]] = []
    batch_k: list[tuple[bytes, int]] = []
    for rid, doc, keys in rows:
        if replace:
            conn.execute("DELETE FROM keys WHERE rid = ?", (rid,))
        batch_r.append((rid, doc))
        batch_k.extend((k, rid) for k in keys)
        n += 1
        if len(batch_r) >= 5000:
            conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)", batch_r)
            conn.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?)", batch_k)
            batch_r.clear()
            batch_k.clear()
    conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)", batch_r)
    conn.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?)", batch_k)
    return n


_DECOY = json.dumps(
    {
        "name": "*" * 3,
        "id": "*" * 18,
        "id_type": "000",
        "id_type_zh": "-",
        "id_type_en": "-" * 8,
        "occupation": "-" * 6,
        "job": "",
        "level": 0,
        "level_zh": "-",
        "level_en": "-",
        "issue_date": "0000-00-00",
        "institution_code": "-" * 13,
        "institution_zh": "-" * 16,
        "institution_en": "-" * 40,
        "style": "-",
        "status": "-",
        "status_date": None,
        "status_reason": None,
        "version": 0,
        "pdf_sha256": ["0" * 64],
        "proof_sha256": [],
        "replaced_on": None,
        "signer_fingerprints": ["0" * 64],
        "audit_seqs": [0, 0, 0],
    },
    sort_keys=True,
)


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


_DOWNLOADS_SCHEMA = "CREATE TABLE IF NOT EXISTS blobs (rid INTEGER PRIMARY KEY, blob BLOB NOT NULL)"


def _write_downloads(path: Path, source: Path, certs: Iterable[Certificate]) -> int:
    """Copy the encrypted holder downloads (``source/<number>.bin``, written at issue) of ``certs``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_DOWNLOADS_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        n = 0
        for c in certs:
            blob = source / f"{c.number}.bin"
            if c.number is None or c.status.value == "revoked" or not blob.is_file():
                conn.execute("DELETE FROM blobs WHERE rid = ?", (c.id,))  # a revoked certificate is not served
                continue
            conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (c.id, blob.read_bytes()))
            n += 1
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n
    finally:
        conn.close()


def _leaf_of(reg: Registry, seq: int) -> bytes:
    from registry.merkle import audit_leaf

    return next((audit_leaf(h) for h in reg.audit_hashes(after=seq - 1, upto=seq)), b"")


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
    tree.extend(audit_leaf(h) for h in reg.audit_hashes(after=tree.size, upto=size))
    write_levels(tree, folder)
    cp = Checkpoint.of(tree, at=now.isoformat(timespec="seconds"))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    stored = StoredCheckpoint(
        cp.size, cp.root, cp.at, base64.b64encode(pub).decode(), base64.b64encode(key.sign(cp.body())).decode()
    )
    reg.add_checkpoint(stored)
    return {
        "log": "skillcert-audit/1",
        "size": cp.size,
        "root": cp.root,
        "at": cp.at,
        "public_key": stored.public_key,
        "signature": stored.signature,
    }


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _switch(snapshots: Path, target: Path) -> None:
    link = snapshots / "current"
    tmp = snapshots / f".current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, link)  # atomic: a reader sees the old or the new snapshot, never neither


def publish(
    reg: Registry,
    home: Path,
    *,
    incremental: bool = False,
    now: datetime | None = None,
    actor: str = "publisher",
    downloads_dir: Path | None = None,
) -> Manifest:
    """Publish a new snapshot (or apply the changes since the current one, in place).

    ``downloads_dir`` holds the encrypted holder downloads written at issue (default ``home/downloads``).
    """
    started = time.perf_counter()
    downloads_dir = downloads_dir or home / "downloads"
    now = now or datetime.now(UTC)
    secret, key = load_or_create_keys(home)
    snapshots = home / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    head_seq, head_hash = reg.audit_head()
    institutions = [institution_public(reg, i) for i in reg.institutions()]
    current = snapshots / "current"
    if incremental:
        if not (current / "manifest.json").exists():
            raise SkillcertError(
                "还没有可增量更新的快照，请先完整发布", "no snapshot to update yet; publish a full one first"
            )
        target = current.resolve()
        old = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        changed = sorted(reg.changed_certificate_ids(after_seq=int(old["audit_seq"])))
        conn = sqlite3.connect(target / "certs.sqlite", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        n = _write_certs(conn, _rows(reg, secret, (reg.certificate_by_id(c) for c in changed)), replace=True)
        conn.execute("COMMIT")
        count = int(conn.execute("SELECT COUNT(*) FROM records WHERE rid != 0").fetchone()[0])
        conn.close()
        _write_downloads(target / "downloads.sqlite", downloads_dir, (reg.certificate_by_id(c) for c in changed))
        if any(e.entity == "institution" for e in reg.audit_entries_after(int(old["audit_seq"]))):
            tmp_dir = target / f"directory-{head_seq}"
            build_directory(tmp_dir, institutions)
            dump(institutions, target / "institutions.json.new")
            os.replace(target / "institutions.json.new", target / "institutions.json")
            (target / "directory.current").write_text(tmp_dir.name)
        checkpoint = _checkpoint(reg, key, target / "audit", head_seq, now)
        manifest = {
            **old,
            "checkpoint": checkpoint,
            "audit_seq": head_seq,
            "audit_head": head_hash,
            "certificates": count,
            "institutions": len(institutions),
            "updated_at": now.isoformat(),
            "incremental_updates": int(old.get("incremental_updates", 0)) + 1,
            "last_increment": n,
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        _write_json(target / "manifest.json", _sign(manifest, key))
        reg.record_event(
            "publish",
            "snapshot",
            target.name,
            {"incremental": True, "audit_seq": head_seq, "certificates": count, "applied": n},
            actor=actor,
        )
        return Manifest(target, manifest)

    snap_id = now.strftime("%Y%m%dT%H%M%S") + f"-{head_seq}"
    target = snapshots / snap_id
    building = snapshots / f".building-{snap_id}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    conn = open_build(building / "certs.sqlite")
    conn.execute("BEGIN")
    n = _write_certs(conn, _rows(reg, secret, reg.certificates(), reg.event_seqs()), replace=False)
    finish_build(conn, building / "certs.sqlite")
    downloads = _write_downloads(building / "downloads.sqlite", downloads_dir, reg.certificates())
    build_directory(building / "directory-0", institutions)
    (building / "directory.current").write_text("directory-0")
    dump(institutions, building / "institutions.json")
    manifest = {
        "id": snap_id,
        "schema": "skillcert/snapshot/1",
        "built_at": now.isoformat(),
        "certificates": n,
        "downloads": downloads,
        "institutions": len(institutions),
        "retired_codes": [c for c, _, _ in reg.retired_codes()],
        "audit_seq": head_seq,
        "audit_head": head_hash,
        "checkpoint": _checkpoint(reg, key, building / "audit", head_seq, now),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    _write_json(building / "manifest.json", _sign(manifest, key))
    os.replace(building, target)
    _switch(snapshots, target)
    reg.record_event(
        "publish", "snapshot", snap_id, {"incremental": False, "audit_seq": head_seq, "certificates": n}, actor=actor
    )
    return Manifest(target, manifest)
