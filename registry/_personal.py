"""The registry's personal fields — a holder's name, ID number and photo — as the store keeps them.

With data keys (:mod:`registry.fieldcrypt`) every such value is sealed before it reaches a table
or the audit log, and opened as it is read into a :class:`~registry.models.Certificate`; look-ups
by ID number go through a keyed hash. Without keys the register is in clear, as registers made
before encryption are — but a register that holds sealed values refuses to take clear ones from
a machine that lacks the keys (a register half in clear would be worse than either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import RegistryError
from .fieldcrypt import FieldCipher, is_sealed

if TYPE_CHECKING:
    from ._db import Database

__all__ = ["Personal"]


def name_at(cid: int) -> str:
    return f"certificates.name#{cid}"


def id_at(cid: int) -> str:
    return f"certificates.id_number#{cid}"


def photo_at(sha256: str) -> str:
    return f"photos#{sha256}"


class Personal:
    """Seal and open the personal fields of one registry (``db.cipher``: its data keys, or None)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sealed_register: bool | None = None

    @property
    def cipher(self) -> FieldCipher | None:
        return self._db.cipher

    def _need_keys(self, where: str) -> RegistryError:
        return RegistryError(
            f"{where}：登记库中的个人信息已加密，但本机没有数据密钥（$SKILLCERT_HOME/keys 或 SKILLCERT_DATA_KEY）",
            f"{where}: the register's personal data is encrypted and this machine has no data key "
            "($SKILLCERT_HOME/keys or SKILLCERT_DATA_KEY)",
        )

    def _clear_allowed(self, where: str) -> None:
        if self._sealed_register is None:
            row = self._db.one("SELECT 1 FROM certificates WHERE substr(name, 1, 5) = 'enc1:' LIMIT 1")
            self._sealed_register = row is not None
        if self._sealed_register:
            raise self._need_keys(where)

    # -- sealing, for a write --------------------------------------------------------------
    def text(self, value: str, where: str) -> str:
        if self.cipher is None:
            self._clear_allowed(where)
            return value
        return self.cipher.seal_text(value, where)

    def photo(self, data: bytes, sha256: str) -> bytes:
        if self.cipher is None:
            self._clear_allowed(photo_at(sha256))
            return data
        return self.cipher.seal_bytes(data, photo_at(sha256))

    def id_key(self, id_number: str) -> str | None:
        """The keyed hash an ID number is found by (None: a register in clear)."""
        return None if self.cipher is None else self.cipher.lookup(id_number)

    def id_keys(self, id_number: str) -> list[str]:
        return [] if self.cipher is None else self.cipher.lookups(id_number)

    # -- opening, for a read ---------------------------------------------------------------
    def open_text(self, stored: str, where: str) -> str:
        if self.cipher is None:
            if is_sealed(stored):
                raise self._need_keys(where)
            return stored
        return self.cipher.open_text(stored, where)

    def open_photo(self, stored: bytes, sha256: str) -> bytes:
        if self.cipher is None:
            if is_sealed(stored):
                raise self._need_keys(photo_at(sha256))
            return bytes(stored)
        return self.cipher.open_bytes(stored, photo_at(sha256))
