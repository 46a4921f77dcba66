"""Rotating the data keys of the personal fields (``reg.keys``; ``skillcert keys rotate``).

A rotation makes a new key the one that seals (:class:`~registry.events.KeysRotated` in the
audit log, key ids only), then seals every certificate's name and ID number, and every photo,
again under it — a few hundred certificates per transaction, each with a
:class:`~registry.events.Resealed` entry carrying the new ciphertexts, so the replay of the log
stays exact. Interrupted at any point (even killed), it is resumed by running it again: what is
not yet under the current key is what is left. Superseded versions and the audit log are never
rewritten, so they stay under the key they were written with; that key stays in the keys folder,
retired for writing. A register in clear becomes encrypted by its first rotation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._db import Database
from ._personal import Personal, id_at, name_at, photo_at
from .errors import RegistryError
from .events import KeysRotated, Resealed
from .fieldcrypt import load_cipher, new_data_key, sealed_key_id

__all__ = ["KeyStatus", "Keys", "RotationResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyStatus:
    current: str | None  # the id of the key that seals (None: in clear)
    certificates: dict[str, int]  # key id ("clear") -> certificates whose name is sealed under it
    photos: dict[str, int]

    @property
    def pending(self) -> int:
        """Certificates and photos not yet under the current key."""
        return sum(n for k, n in self.certificates.items() if k != self.current) + sum(
            n for k, n in self.photos.items() if k != self.current
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RotationResult:
    previous: str | None
    key: str
    resumed: bool  # True: an interrupted rotation was finished, no new key was made
    certificates: int
    photos: int


class Keys:
    """The data keys of one registry and their rotation."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._personal = Personal(db)

    def status(self) -> KeyStatus:
        cur = self._db.cipher.current_id if self._db.cipher else None
        certs: dict[str, int] = {}
        for prefix, n in self._db.execute(
            "SELECT substr(name, 1, 14), COUNT(*) FROM certificates GROUP BY substr(name, 1, 14)"
        ):
            kid = sealed_key_id(str(prefix)) if str(prefix).startswith("enc1:") else None
            certs[kid or "clear"] = certs.get(kid or "clear", 0) + int(n)
        photos: dict[str, int] = {}
        for (data,) in self._db.execute("SELECT substr(data, 1, 12) FROM photos"):
            kid = sealed_key_id(bytes(data)) or "clear"
            photos[kid] = photos.get(kid, 0) + 1
        return KeyStatus(current=cur, certificates=certs, photos=photos)

    def rotate(
        self, folder: Path, *, actor: str, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> RotationResult:
        """Finish an interrupted rotation, or make a new key and seal everything again under it."""
        before = self.status()
        resumed = before.current is not None and before.pending > 0
        previous = before.current
        if not resumed:
            kid = new_data_key(folder)
            cipher = load_cipher(folder)
            if cipher is None or cipher.current_id != kid:
                raise RegistryError(
                    f"新数据密钥 {kid} 未能成为当前密钥（是否设置了 SKILLCERT_DATA_KEY？）",
                    f"the new data key {kid} did not become the current one (is SKILLCERT_DATA_KEY set?)",
                )
            self._db.cipher = cipher
            with self._db.write(actor) as tx:
                tx.log(kid, KeysRotated(previous=previous, key=kid))
        else:
            previous = next((k for k in before.certificates if k != before.current), None)
        cipher = self._db.cipher
        assert cipher is not None
        kid = cipher.current_id
        prefix = f"enc1:{kid}:"
        certs = photos = 0
        last = 0
        while True:
            with self._db.write(actor) as tx:
                rows = tx.execute(
                    "SELECT id, name, id_number FROM certificates WHERE id > ? AND "
                    "(substr(name, 1, 14) <> ? OR substr(id_number, 1, 14) <> ?) ORDER BY id LIMIT ?",
                    (last, prefix, prefix, batch),
                ).fetchall()
                for cid, name, idn in rows:
                    cid = int(cid)
                    clear_name = self._personal.open_text(str(name), name_at(cid))
                    clear_id = self._personal.open_text(str(idn), id_at(cid))
                    new_name, new_id = (
                        cipher.seal_text(clear_name, name_at(cid)),
                        cipher.seal_text(clear_id, id_at(cid)),
                    )
                    tx.execute(
                        "UPDATE certificates SET name = ?, id_number = ?, id_hash = ? WHERE id = ?",
                        (new_name, new_id, cipher.lookup(clear_id), cid),
                    )
                    tx.log(str(cid), Resealed(key=kid, name=new_name, id_number=new_id))
                    last = cid
            certs += len(rows)
            if progress and rows:
                progress(len(rows))
            if len(rows) < batch:
                break
        blob_prefix = b"SKE1" + kid.encode("ascii")
        while True:
            with self._db.write(actor) as tx:
                rows = tx.execute(
                    "SELECT sha256, data FROM photos WHERE substr(data, 1, 12) <> ? ORDER BY sha256 LIMIT ?",
                    (blob_prefix, batch),
                ).fetchall()
                for sha, data in rows:
                    clear = self._personal.open_photo(bytes(data), str(sha))
                    tx.execute(
                        "UPDATE photos SET data = ? WHERE sha256 = ?",
                        (cipher.seal_bytes(clear, photo_at(str(sha))), sha),
                    )
            photos += len(rows)
            if len(rows) < batch:
                break
        return RotationResult(previous=previous, key=kid, resumed=resumed, certificates=certs, photos=photos)
