"""The storage seam: one engine, its transactions, and the audit append built into them.

Every service of the registry (institutions, certificates, lifecycle, seals, returns, blanks,
audit) holds a :class:`Database` and nothing else of the engine. A change runs in
``with db.write(actor) as tx:`` — one transaction that holds the registry's write lock, whose
audit entries (:meth:`Tx.log`) are chained and written before the commit, so the log and the
data never disagree; an exception rolls both back. Reads go through :meth:`Database.execute`.

The services write SQL that SQLite and PostgreSQL both speak, with ``?`` placeholders;
:class:`SqliteDatabase` runs it as it is and :class:`registry._pg.PostgresDatabase` translates the
few differences (placeholders, ``instr``, ``GLOB``) in one place.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ._schema import MIGRATIONS
from .audit import AuditWriter
from .errors import RegistryError
from .events import Event
from .fieldcrypt import FieldCipher

__all__ = ["Database", "Rows", "SqliteDatabase", "Tx"]

Params = Sequence[Any]
Clock = Callable[[], datetime]


class Rows(Protocol):
    """What a statement returns: rows as tuples, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Params = ..., /) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Params], /) -> Any: ...

    def fetchone(self) -> Any: ...


class Tx:
    """One open write transaction: its statements and the audit entries it appends."""

    def __init__(self, cur: Cursor, at: str, actor: str, *, sql: Callable[[str], str], returning: bool) -> None:
        self._cur = cur
        self._sql = sql
        self._returning = returning  # the engine gives a new row's key with RETURNING (else lastrowid)
        self.at = at  # the transaction's time, ISO with microseconds (UTC)
        self.actor = actor
        self._audit: AuditWriter | None = None

    def execute(self, sql: str, params: Params = ()) -> Rows:
        self._cur.execute(self._sql(sql), params)
        return self._cur  # type: ignore[return-value]

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._cur.executemany(self._sql(sql), rows)

    def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table keyed by ``id``; the new row's ``id``."""
        if self._returning:
            return int(self.execute(sql + " RETURNING id", params).fetchone()[0])
        self.execute(sql, params)
        return int(getattr(self._cur, "lastrowid", 0) or 0)

    def log(self, key: str, event: Event) -> None:
        """Append ``event`` about ``key`` to the audit log (written with this transaction)."""
        if self._audit is None:
            self._audit = AuditWriter(self, self.at, self.actor)
        before, after = event.encode_json()
        self._audit.add_json(event.ACTION, event.ENTITY, key, before, after)

    def flush(self) -> None:
        """Write the audit entries appended so far (done for you before the commit)."""
        if self._audit is not None:
            self._audit.flush()


class Database(ABC):
    """One registry's engine: reads, write transactions, the schema and the clock."""

    kind: str  # "sqlite" · "postgresql"
    epoch_sql: str  # the database's clock, seconds since the epoch, as an SQL expression (for leases)

    def __init__(self, clock: Clock | None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.cipher: FieldCipher | None = None  # the data keys of the personal fields (None: in clear)

    def now(self) -> str:
        return self._clock().isoformat(timespec="microseconds")

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the registry is, for messages (a path, or a URL without its password)."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Rows:
        """A read outside any write transaction (rows are tuples)."""

    def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    @abstractmethod
    def write(self, actor: str = "") -> AbstractContextManager[Tx]:
        """One write transaction holding the registry's write lock; audit entries flushed before commit."""

    def write_bulk(self, actor: str = "") -> AbstractContextManager[Tx]:
        """:meth:`write` for a bulk insert whose caller checks, before the transaction ends, every
        reference its rows make (SQLite then skips its per-row foreign key look-ups; elsewhere this
        is :meth:`write`)."""
        return self.write(actor)

    @property
    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


class SqliteDatabase(Database):
    """The embedded default: one SQLite file in WAL mode; ``BEGIN IMMEDIATE`` is the write lock."""

    kind = "sqlite"
    epoch_sql = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock | None) -> None:
        super().__init__(clock)
        self._conn = conn
        self.path = path

    @classmethod
    def connect(cls, path: Path, clock: Clock | None = None) -> SqliteDatabase:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB page cache: big batches stay in one transaction
        db = cls(conn, path, clock)
        db._migrate()
        return db

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection itself, for the online backup API."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def execute(self, sql: str, params: Params = ()) -> Rows:
        return self._conn.execute(sql, params)

    @contextmanager
    def write(self, actor: str = "") -> Iterator[Tx]:
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise RegistryError(f"登记库被占用：{e}", f"the registry is busy: {e}") from e
        tx = Tx(cur, self.now(), actor, sql=_same, returning=False)
        try:
            yield tx
            tx.flush()
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    @contextmanager
    def write_bulk(self, actor: str = "") -> Iterator[Tx]:
        # a row's look-up of its photo reads the whole photo (a WITHOUT ROWID table compares whole
        # records): a third of an imported row's cost. The pragma is set outside the transaction
        # (it does nothing inside one) and put back whatever happens.
        self._conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.write(actor) as tx:
                yield tx
        finally:
            self._conn.execute("PRAGMA foreign_keys=ON")

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.write() as tx:
            current = int(tx.execute("PRAGMA user_version").fetchone()[0])
            check_schema(current, len(MIGRATIONS))
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in _split_sql(MIGRATIONS[version - 1]):
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {version}")


def check_schema(current: int, known: int) -> None:
    if current > known:
        raise RegistryError(
            f"登记库版本 {current} 比本程序新（{known}），请升级 skillcert",
            f"registry schema {current} is newer than this skillcert ({known}); upgrade",
        )


def _same(sql: str) -> str:
    return sql


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
