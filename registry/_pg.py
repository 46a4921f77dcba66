"""The registry on PostgreSQL (15+), through psycopg 3 and a psycopg-pool connection pool.

Chosen with ``[registry] url = "postgresql://…"`` or ``SKILLCERT_REGISTRY_URL``. The store's SQL
is shared with SQLite; :func:`pg_sql` translates the few differences. Every write transaction
first takes one transaction-scoped advisory lock, the PostgreSQL counterpart of SQLite's
``BEGIN IMMEDIATE``: writers on any number of machines queue for it, so the hash-chained audit
log is appended in one order and serials are allocated gap-free (the counters' rows are also
locked by their own UPDATE). Reads need no lock and run in autocommit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ._db import Clock, Database, Params, Rows, Tx, check_schema
from ._schema_pg import PG_MIGRATIONS, PG_PRELUDE
from .errors import RegistryError

__all__ = ["PostgresDatabase", "pg_sql"]

WRITE_LOCK = 0x736B696C6C  # "skill": the one advisory lock every registry write transaction takes

_GLOB_DIGITS = "NOT GLOB '*[^0-9]*'"


@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """The store's SQL (SQLite dialect, ``?`` placeholders) as PostgreSQL runs it through psycopg."""
    s = sql.replace("%", "%%").replace("?", "%s")
    s = s.replace("instr(", "strpos(").replace(_GLOB_DIGITS, "~ '^[0-9]*$'")
    return re.sub(r"\bPRAGMA\b", "-- PRAGMA", s)


class _Rows:
    """A read's rows, fetched whole (the pooled connection goes back before they are used)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        out, self._at = self._rows[self._at :], len(self._rows)
        return out

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row


class PostgresDatabase(Database):
    kind = "postgresql"
    epoch_sql = "extract(epoch from clock_timestamp())::float8"

    def __init__(self, pool: ConnectionPool[Any], url: str, clock: Clock | None) -> None:
        super().__init__(clock)
        self._pool = pool
        self.url = url

    @classmethod
    def connect(cls, url: str, clock: Clock | None = None, *, create: bool) -> PostgresDatabase:
        try:
            pool: ConnectionPool[Any] = ConnectionPool(
                url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True, timeout=30
            )
            pool.wait(timeout=30)
        except (psycopg.Error, Exception) as e:  # the pool says PoolTimeout; psycopg's own errors otherwise
            where = _public(url)
            raise RegistryError(
                f"无法连接 PostgreSQL 登记库 {where}：{e}", f"cannot connect to the PostgreSQL registry {where}: {e}"
            ) from e
        db = cls(pool, url, clock)
        if not create and db._stored_version() is None:
            db.close()
            raise RegistryError(
                f"登记库 {db.where} 尚未初始化，请先运行 skillcert init",
                f"no registry at {db.where}; run `skillcert init` first",
            )
        db._migrate()
        return db

    @property
    def where(self) -> str:
        return _public(self.url)

    def close(self) -> None:
        self._pool.close()

    def execute(self, sql: str, params: Params = ()) -> Rows:
        with self._pool.connection() as conn:
            cur = conn.execute(pg_sql(sql), tuple(params))
            rows = cur.fetchall() if cur.description else []
            return _Rows(rows, cur.rowcount)

    @contextmanager
    def write(self, actor: str = "") -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            with conn.cursor() as cur:
                tx = Tx(cur, self.now(), actor, sql=pg_sql, returning=True)
                yield tx
                tx.flush()

    @property
    def schema_version(self) -> int:
        return self._stored_version() or 0

    def _stored_version(self) -> int | None:
        row = self.one("SELECT to_regclass('skillcert_schema') IS NOT NULL")
        if not row or not row[0]:
            return None
        got = self.one("SELECT version FROM skillcert_schema")
        return int(got[0]) if got else 0

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            conn.execute(PG_PRELUDE)
            row = conn.execute("SELECT version FROM skillcert_schema").fetchone()
            if row is None:
                conn.execute("INSERT INTO skillcert_schema VALUES (0)")
            current = int(row[0]) if row else 0
            check_schema(current, len(PG_MIGRATIONS))
            for version in range(current + 1, len(PG_MIGRATIONS) + 1):
                conn.execute(PG_MIGRATIONS[version - 1])
                conn.execute("UPDATE skillcert_schema SET version = %s", (version,))


def _public(url: str) -> str:
    """The URL without its password (what messages and logs may show)."""
    try:
        d = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    user, host, port, name = (str(d.get(k) or "") for k in ("user", "host", "port", "dbname"))
    return f"postgresql://{user + '@' if user else ''}{host}{':' + port if port else ''}/{name}"
