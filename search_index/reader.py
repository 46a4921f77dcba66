"""Reading a published snapshot: exact two-of-three look-ups, QR look-ups, the directory.

There is no function that takes one key: every certificate look-up needs a pair (SPEC §5) or
the number with the QR token. A miss does the same work as a hit (a random real record is read
and parsed), so the time of an answer says nothing about whether a key exists. The reader follows
``snapshots/current``: a new full snapshot is picked up without restart, and incremental
updates of the open one are seen at the next query.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import SkillcertError

from .directory import open_directory, search
from .privacy import PairKind, pair_key, qr_key

__all__ = ["CertificateView", "Snapshot"]

_RECHECK_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class CertificateView:
    """The masked record a snapshot holds for one certificate."""

    doc: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.doc["status"])


class Snapshot:
    """An open snapshot. ``root`` is ``home/snapshots`` (following ``current``) or one snapshot folder."""

    def __init__(self, root: Path, secret: bytes) -> None:
        self._root = root
        self._secret = secret
        self._opened: Path | None = None
        self._checked = 0.0
        self._conn: sqlite3.Connection | None = None
        self._max_rid = 0  # the highest record id: misses read a random record up to it
        self._ix: Any = None
        self._searcher: Any = None
        self._institutions: dict[str, Any] = {}
        self._directory_name = ""
        self.manifest: dict[str, Any] = {}
        self._open()

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
        if not (target / "manifest.json").exists():
            raise SkillcertError(f"{target} 不是快照", f"{target} is not a snapshot")
        return target

    def _open(self) -> None:
        target = self._target()
        conn = sqlite3.connect(f"file:{target / 'certs.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("PRAGMA mmap_size=268435456")
        old = self._conn
        self._conn, self._opened = conn, target
        self._load_side(target)
        if old is not None:
            old.close()

    def _load_side(self, target: Path) -> None:
        self.manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        if self._conn is not None:  # incremental publishes add records: misses sample all of them
            self._max_rid = int(self._conn.execute("SELECT COALESCE(MAX(rid), 0) FROM records").fetchone()[0])
        name = (target / "directory.current").read_text().strip()
        if name != self._directory_name or self._opened != target:
            self._ix = open_directory(target / name)
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = self._ix.searcher()
            self._directory_name = name
            self._institutions = json.loads((target / "institutions.json").read_text(encoding="utf-8"))

    def _fresh(self) -> sqlite3.Connection:
        now = time.monotonic()
        if now - self._checked > _RECHECK_SECONDS:
            self._checked = now
            if self._target() != self._opened:
                self._open()
            elif self._opened is not None:
                self._load_side(self._opened)
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._conn is not None:
            self._conn.close()

    # -- certificates ----------------------------------------------------------------------
    def _lookup(self, key: bytes) -> CertificateView | None:
        found = self._lookup_rid(key)
        return found[1] if found else None

    def _lookup_rid(self, key: bytes) -> tuple[int, CertificateView] | None:
        # one key probe and one record read whether or not the key exists: a miss reads and parses
        # a random real record (a fixed decoy would stay hot in the cache and answer faster), so
        # the time of an answer says nothing about whether a key exists
        conn = self._fresh()
        decoy = secrets.randbelow(self._max_rid) + 1 if self._max_rid else 0
        row = conn.execute(
            "SELECT (SELECT rid FROM keys WHERE k = ?1), doc FROM records "
            "WHERE rid = COALESCE((SELECT rid FROM keys WHERE k = ?1), ?2)",
            (key, decoy),
        ).fetchone()
        if row is None:
            return None
        doc = json.loads(row[1])
        return (int(row[0]), CertificateView(doc)) if row[0] is not None else None

    def lookup_by_pair(self, kind: PairKind | str, a: str, b: str) -> CertificateView | None:
        """Two of three keys: (number, name), (number, ID number) or (name, ID number)."""
        kind = PairKind(kind)
        if not a.strip() or not b.strip():
            raise SkillcertError("查询需要两项信息", "a query needs two of the three keys")
        return self._lookup(pair_key(self._secret, kind, a, b))

    def lookup_by_qr(self, number: str, token: str) -> CertificateView | None:
        if not number.strip() or not token.strip():
            return None
        return self._lookup(qr_key(self._secret, number, token))

    def encrypted_download(self, number: str, id_number: str) -> tuple[CertificateView, bytes | None] | None:
        """The record and its encrypted PDF (``downloads.decrypt_pdf`` opens it with the holder's code).

        Found by the number + ID pair; ``None`` when the pair is unknown, a ``None`` blob when the
        certificate has no download (revoked, or issued without notices).
        """
        if not number.strip() or not id_number.strip():
            raise SkillcertError(
                "下载需要证书编号和证件号码", "a download needs the certificate number and the ID number"
            )
        found = self._lookup_rid(pair_key(self._secret, PairKind.NUMBER_ID, number, id_number))
        if found is None:
            return None
        rid, view = found
        assert self._opened is not None
        path = self._opened / "downloads.sqlite"
        if not path.exists():
            return view, None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT blob FROM blobs WHERE rid = ?", (rid,)).fetchone()
        finally:
            conn.close()
        return view, (bytes(row[0]) if row else None)

    # -- the audit log's signed checkpoint and proofs ------------------------------------------
    def checkpoint(self) -> dict[str, Any] | None:
        """The signed Merkle checkpoint of the registry's audit log this snapshot was published at."""
        self._fresh()
        cp = self.manifest.get("checkpoint")
        return dict(cp) if isinstance(cp, dict) else None

    def audit_inclusion(self, number: str, token: str) -> dict[str, Any] | None:
        """Inclusion proofs (RFC 6962) of the certificate's audit entries in the checkpoint's tree.

        Needs the QR pair (number + token), like the landing page. Only leaf hashes and proof
        hashes are given: the entries themselves stay with the registry.
        """
        from registry.merkle import FileNodes, inclusion_proof

        view = self.lookup_by_qr(number, token)
        cp = self.checkpoint()
        if view is None or cp is None or self._opened is None:
            return None
        size = int(cp["size"])
        entries = []
        with FileNodes(self._opened / "audit") as nodes:
            for seq in view.doc.get("audit_seqs", []):
                if 1 <= seq <= size:
                    proof = inclusion_proof(nodes, seq - 1, size)
                    entries.append(
                        {"seq": seq, "leaf": nodes.node(0, seq - 1).hex(), "proof": [h.hex() for h in proof]}
                    )
        return {"checkpoint": cp, "entries": entries}

    def audit_consistency(self, old_size: int) -> dict[str, Any] | None:
        """A consistency proof (RFC 6962) from an earlier tree size to this snapshot's checkpoint."""
        from registry.merkle import FileNodes, consistency_proof

        cp = self.checkpoint()
        if cp is None or self._opened is None or not 0 <= old_size <= int(cp["size"]):
            return None
        with FileNodes(self._opened / "audit") as nodes:
            proof = consistency_proof(nodes, old_size, int(cp["size"]))
        return {"old_size": old_size, "checkpoint": cp, "proof": [h.hex() for h in proof]}

    # -- institutions ----------------------------------------------------------------------
    def search_institutions(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        self._fresh()
        return [self._institutions[c] for c in search(self._ix, self._searcher, text, limit) if c in self._institutions]

    def institution(self, code: str) -> dict[str, Any] | None:
        self._fresh()
        found = self._institutions.get(code.strip().upper())
        return dict(found) if found is not None else None
