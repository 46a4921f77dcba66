"""A direct connection to a registry's engine, around the store: what someone with database
access (and no skillcert) can do. The tests use it to edit rows behind the store's back and to
show what the database itself refuses, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from typing import Any

from registry import Registry

__all__ = ["Raw"]


class Raw:
    def __init__(self, reg: Registry) -> None:
        self.kind = reg.db.kind
        if self.kind == "sqlite":
            self._conn: Any = sqlite3.connect(reg.path, isolation_level=None)
            self.Refused: type[Exception] = sqlite3.IntegrityError  # what RAISE(ABORT) in a trigger gives
            self.Error: type[Exception] = sqlite3.DatabaseError  # any refusal (a CHECK constraint too)
            self._sql = lambda s: s
        else:
            import psycopg

            from registry._pg import pg_sql

            self._conn = psycopg.connect(reg.db.url, autocommit=True)  # type: ignore[attr-defined]
            self.Refused = psycopg.errors.RestrictViolation
            self.Error = psycopg.Error
            self._sql = pg_sql

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(self._sql(sql), params)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def drop_trigger(self, name: str, table: str) -> None:
        if self.kind == "sqlite":
            self._conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            self._conn.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            self._conn.execute(f"DROP TRIGGER IF EXISTS {name}_truncate ON {table}")

    def commit(self) -> None:
        """Nothing to do: every statement commits by itself (autocommit)."""

    def close(self) -> None:
        self._conn.close()
