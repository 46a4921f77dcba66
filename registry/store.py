"""The registry: one SQLite file with institutions, certificates and the audit log.

:class:`Registry` composes one service per concern over one :class:`~registry._db.Database`
(the storage seam: a connection, its transactions and the audit append built into them):

- ``reg.institutions`` — filings, re-filings, cancellation and mergers, the retired codes;
- ``reg.certificates`` — import of result rows, number allocation, reading;
- ``reg.lifecycle`` — corrections, revocation and suspension, reissue, proofs;
- ``reg.seals`` — signing identities and delivered files;
- ``reg.returns`` — report returns and resubmissions;
- ``reg.blanks`` — the blank-sheet ledger;
- ``reg.claims`` — the leases by which several issue runs share one batch;
- ``reg.keys`` — the data keys sealing holders' names, ID numbers and photos, and their rotation;
- ``reg.audit`` — the hash-chained log, its Merkle tree, checkpoints and the full check.

Every change runs in one ``BEGIN IMMEDIATE`` transaction together with its audit entries, so
the log and the data never disagree and concurrent processes queue for the write lock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ._blanks_store import Blanks
from ._certificates_store import Certificates, cert_data
from ._claims_store import Claims
from ._db import Database, SqliteDatabase
from ._institutions_store import Institutions
from ._keys_store import Keys
from ._lifecycle_store import Lifecycle
from ._returns_store import Returns
from ._seals_store import Seals
from .audit import AuditEntry, AuditLog
from .errors import RegistryError
from .fieldcrypt import FieldCipher, load_cipher

__all__ = ["AuditEntry", "Registry", "cert_data", "is_url"]


def is_url(where: Path | str) -> bool:
    return isinstance(where, str) and where.startswith(("postgresql://", "postgres://"))


KEYS_FOLDER = "keys"


def _cipher(folder: Path | None) -> FieldCipher | None:
    return load_cipher(folder)


def _postgres(url: str, clock: Callable[[], datetime] | None, *, create: bool) -> Database:
    from ._pg import PostgresDatabase  # psycopg loads only for a PostgreSQL registry

    return PostgresDatabase.connect(url, clock, create=create)


class Registry:
    """The registry database. Open with :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, db: Database, cipher: FieldCipher | None = None) -> None:
        self.db = db
        db.cipher = cipher
        self.audit = AuditLog(db)
        self.institutions = Institutions(db)
        self.certificates = Certificates(db)
        self.lifecycle = Lifecycle(db, self.certificates, self.institutions)
        self.seals = Seals(db)
        self.returns = Returns(db)
        self.blanks = Blanks(db)
        self.claims = Claims(db)
        self.keys = Keys(db)

    @classmethod
    def create(
        cls, where: Path | str, *, clock: Callable[[], datetime] | None = None, keys: Path | None = None
    ) -> Registry:
        """Create (or upgrade) the registry at ``where``: a file path, or a ``postgresql://`` URL.

        ``keys``: the folder of the data keys that seal the personal fields (default: ``keys/``
        beside an SQLite file; a PostgreSQL registry has no "beside", so pass it). No key there,
        and no ``SKILLCERT_DATA_KEY``: the register is kept in clear."""
        if is_url(where):
            return cls(_postgres(str(where), clock, create=True), _cipher(keys))
        path = Path(where)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(SqliteDatabase.connect(path, clock), _cipher(keys or path.parent / KEYS_FOLDER))

    @classmethod
    def open(
        cls, where: Path | str, *, clock: Callable[[], datetime] | None = None, keys: Path | None = None
    ) -> Registry:
        """Open an existing registry (migrating it to the current schema if older)."""
        if is_url(where):
            return cls(_postgres(str(where), clock, create=False), _cipher(keys))
        path = Path(where)
        if not path.exists():
            raise RegistryError(
                f"登记库 {path} 不存在，请先运行 skillcert init", f"no registry at {path}; run `skillcert init` first"
            )
        return cls(SqliteDatabase.connect(path, clock), _cipher(keys or path.parent / KEYS_FOLDER))

    @property
    def path(self) -> Path:
        """The SQLite file (a PostgreSQL registry has none: see ``where``)."""
        if not isinstance(self.db, SqliteDatabase):
            raise RegistryError(
                "此操作只适用于 SQLite 登记库", f"this needs the registry's SQLite file; the registry is {self.where}"
            )
        return self.db.path

    @property
    def where(self) -> str:
        return self.db.where

    @property
    def schema_version(self) -> int:
        return self.db.schema_version

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
