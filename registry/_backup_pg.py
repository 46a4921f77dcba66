"""A PostgreSQL register in a backup, and back into a database (see :mod:`registry.backup`).

**Out**: one ``REPEATABLE READ READ ONLY`` transaction — one snapshot of the whole database, the
same mechanism ``pg_dump`` uses — reads every table of the registry's schema (found in the
catalog, not from a list: a table added by a later migration is carried too) into a SQLite file
built by the same migrations (:mod:`registry._schema`, which :mod:`registry._schema_pg`
translates). So a PostgreSQL backup holds the very member a SQLite one does, ``registry.sqlite``,
sealed in the same package under the same header; values keep their types (``BIGINT`` ↔
``INTEGER``, ``BYTEA`` ↔ ``BLOB``, ``DOUBLE PRECISION`` ↔ ``REAL``, ``TEXT``), so the audit chain
hashes the same bytes.

**In**: the copy is loaded into a new scratch schema of the same database, made by the same
migrations up to the copy's version; foreign keys are dropped while the rows are copied in
(``COPY``) and added back, which checks every reference; identity sequences are moved past the
largest key. The caller then opens the scratch schema as a registry (which migrates it to the
current version) and runs the full `audit verify` there; only then :func:`switch_in` renames, in
one transaction, the live schema to ``replaced_<time>`` and the scratch schema to the live name.
Nothing is deleted: the append-only tables refuse DELETE and TRUNCATE, and the replaced schema
is kept whole.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ._db import _split_sql, check_schema
from ._pg import WRITE_LOCK, _public
from ._schema import MIGRATIONS
from ._schema_pg import PG_MIGRATIONS, PG_PRELUDE
from .audit import GENESIS
from .errors import ExitCode, SkillcertError

__all__ = ["copy_out", "drop_scratch", "has_register", "load_scratch", "scratch_url", "switch_in"]

VERSION_TABLE = "skillcert_schema"  # PostgreSQL's counterpart of SQLite's PRAGMA user_version
_BATCH = 2000


class InUse(SkillcertError):
    """Other sessions have the database open: the schemas are not switched under them."""

    exit_code = ExitCode.RESTORE_REFUSED


def _connect(url: str, **kw: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, **kw)
    except psycopg.Error as e:
        where = _public(url)
        raise SkillcertError(
            f"无法连接 PostgreSQL 登记库 {where}：{e}", f"cannot connect to the PostgreSQL registry {where}: {e}"
        ) from e


def _failed(what_zh: str, what_en: str, url: str, e: Exception) -> SkillcertError:
    return SkillcertError(f"{what_zh} {_public(url)} 失败：{e}", f"{what_en} {_public(url)} failed: {e}")


def _schema_of(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"  # a schema dropped by hand: where `init` would go


def _tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, table),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def has_register(url: str) -> bool:
    """Does the database's registry schema hold a register (its version table)?"""
    with _connect(url, autocommit=True) as conn:
        schema = _schema_of(conn)
        row = conn.execute("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, VERSION_TABLE))
        found = row.fetchone()
        return bool(found and found[0] is not None)


def _sqlite_schema(dst: Path, version: int) -> sqlite3.Connection:
    out = sqlite3.connect(dst, isolation_level=None)
    out.execute("BEGIN")
    for script in MIGRATIONS[:version]:
        for statement in _split_sql(script):
            out.execute(statement)
    out.execute(f"PRAGMA user_version = {int(version)}")
    return out


def copy_out(url: str, dst: Path) -> tuple[int, str, int]:
    """Copy every table of the register at ``url`` into the new SQLite file ``dst``, all as of one
    snapshot; ``(audit_seq, audit_head, schema)`` of the copy."""
    try:
        with _connect(url) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                schema = _schema_of(conn)
                row = conn.execute(sql.SQL("SELECT version FROM {}").format(sql.Identifier(schema, VERSION_TABLE)))
                got = row.fetchone()
                version = int(got[0]) if got else 0
                check_schema(version, len(MIGRATIONS))
                out = _sqlite_schema(dst, version)
                try:
                    for table in _tables(conn, schema):
                        if table != VERSION_TABLE:
                            _copy_table(conn, out, schema, table)
                    head = conn.execute(
                        sql.SQL("SELECT seq, hash FROM {} ORDER BY seq DESC LIMIT 1").format(
                            sql.Identifier(schema, "audit")
                        )
                    ).fetchone()
                    out.execute("COMMIT")
                finally:
                    out.close()
    except psycopg.Error as e:
        raise _failed("复制登记库", "copying the register", url, e) from e
    return (int(head[0]), str(head[1]), version) if head else (0, GENESIS, version)


def _copy_table(conn: psycopg.Connection[Any], out: sqlite3.Connection, schema: str, table: str) -> None:
    cols = [name for name, _ in _columns(conn, schema, table)]
    have = {str(r[1]) for r in out.execute("SELECT * FROM pragma_table_info(?)", (table,))}
    if set(cols) != have:
        raise SkillcertError(
            f"登记库的表 {table} 与本程序的结构不符，无法备份",
            f"the register's table {table} does not match this program's schema ({sorted(cols)} vs {sorted(have)}); "
            "cannot back it up",
        )
    quoted = ", ".join(f'"{c}"' for c in cols)  # names from the catalog, checked against the schema above
    insert = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
    select = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(schema, table)
    )
    with conn.cursor(name=f"backup_{secrets.token_hex(4)}") as cur:
        cur.itersize = _BATCH
        cur.execute(select)
        while rows := cur.fetchmany(_BATCH):
            out.executemany(insert, rows)


# --- restore ----------------------------------------------------------------------------------
def scratch_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` first on its search path: the registry code, unchanged, works there."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    params["options"] = f"{params.get('options', '')} -c search_path={schema}".strip()
    return "postgresql://?" + urlencode(params, quote_via=quote)


@contextmanager
def _scratch_conn(url: str, schema: str) -> Iterator[psycopg.Connection[Any]]:
    with _connect(scratch_url(url, schema)) as conn:
        yield conn


def load_scratch(url: str, copy: Path, now: datetime) -> str:
    """Make a new schema in the database at ``url`` holding the register in the SQLite file
    ``copy``; its name. Dropped again (:func:`drop_scratch`) if anything fails."""
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        version = int(src.execute("PRAGMA user_version").fetchone()[0])
        check_schema(version, len(PG_MIGRATIONS))
        schema = f"skillcert_restore_{now.strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(3)}"
        with _connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            with _scratch_conn(url, schema) as conn, conn.transaction():
                conn.execute(PG_PRELUDE)
                conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(VERSION_TABLE)), (version,))
                for script in PG_MIGRATIONS[:version]:
                    conn.execute(script)
                _load(conn, src, schema)
        except BaseException:
            drop_scratch(url, schema)
            raise
    except psycopg.Error as e:
        raise _failed("载入备份到", "loading the backup into", url, e) from e
    finally:
        src.close()
    return schema


def _load(conn: psycopg.Connection[Any], src: sqlite3.Connection, schema: str) -> None:
    """Copy every table of ``src`` into ``schema``: references checked once all rows are in."""
    fkeys = conn.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND k.contype = 'f' ORDER BY c.relname, k.conname",
        (schema,),
    ).fetchall()
    for table, name, _ in fkeys:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name)))
    pg_tables = set(_tables(conn, schema))
    names = [str(r[0]) for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in names:
        if table.startswith("sqlite_"):
            continue
        if table not in pg_tables:
            raise SkillcertError(
                f"备份中的表 {table} 在 PostgreSQL 结构中不存在", f"the backup's table {table} is not in the schema"
            )
        columns = _columns(conn, schema, table)
        cols = [c for c, _ in columns]
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in cols)
        )
        quoted = ", ".join(f'"{c}"' for c in cols)
        with conn.cursor() as cur, cur.copy(copy) as cp:
            cp.set_types([t for _, t in columns])
            for row in src.execute(f'SELECT {quoted} FROM "{table}"'):
                cp.write_row(row)
    for table, name, definition in fkeys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.Identifier(table), sql.Identifier(name))
            + sql.SQL(definition)  # from pg_get_constraintdef
        )
    identities = conn.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND a.attidentity <> ''",
        (schema,),
    ).fetchall()
    for table, col in identities:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), m) FROM (SELECT max({}) AS m FROM {}) t "
                "WHERE m IS NOT NULL"
            ).format(sql.Identifier(col), sql.Identifier(table)),
            (f"{schema}.{table}", col),
        )


def drop_scratch(url: str, schema: str) -> None:
    with _connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _free_name(conn: psycopg.Connection[Any], base: str) -> str:
    name, n = base, 1
    while conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone():
        n += 1
        name = f"{base}_{n}"
    return name


def _other_sessions(conn: psycopg.Connection[Any], *, grace: float = 3.0) -> tuple[int, str]:
    """How many other client sessions the database has, and who (their ``application_name`` or
    user). Asked again for a few seconds: connections just closed (the check's own pool) take a
    moment to leave the server's list."""
    deadline = time.monotonic() + grace
    while True:
        conn.execute("SELECT pg_stat_clear_snapshot()")  # statistics are cached per transaction
        row = conn.execute(
            "SELECT count(*), string_agg(DISTINCT coalesce(nullif(application_name, ''), usename::text), ', ') "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).fetchone()
        count, who = (int(row[0]), str(row[1] or "")) if row else (0, "")
        if not count or time.monotonic() >= deadline:
            return count, who
        time.sleep(0.1)


def switch_in(url: str, schema: str, now: datetime) -> str | None:
    """Rename, in one transaction, the live registry schema to ``replaced_<time>`` (kept whole) and
    ``schema`` to the live name; the replaced schema's name (``None``: there was none, or it was
    empty and is dropped). Refused while any other session is connected to the database: a running
    issue run or publish would go on writing into the replaced schema."""
    try:
        with _connect(url) as conn, conn.transaction():
            live = _schema_of(conn)
            if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (WRITE_LOCK,)).fetchone()[0]:  # type: ignore[index]
                raise InUse(
                    "登记库正在写入（签发、发布等），未替换：请先停止它们",
                    "the register is being written (an issue run, a publish…); not replaced: stop them first",
                )
            others = _other_sessions(conn)
            if others[0]:
                raise InUse(
                    f"另有 {others[0]} 个会话连接着数据库 {_public(url)}（{others[1]}），未替换：请先停止签发、发布等进程",
                    f"{others[0]} other sessions are connected to {_public(url)} ({others[1]}); not replaced: stop "
                    "the issue runs, publishes… using it first",
                )
            conn.execute("SET LOCAL lock_timeout = '10s'")
            replaced: str | None = None
            exists = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (live,)).fetchone()
            if exists is not None:
                used = conn.execute(
                    "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = %(o)s) + "
                    "(SELECT count(*) FROM pg_proc WHERE pronamespace = %(o)s)",
                    {"o": exists[0]},
                ).fetchone()
                if used and used[0]:
                    replaced = _free_name(conn, f"replaced_{now.strftime('%Y%m%d_%H%M%S')}")
                    conn.execute(
                        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(replaced))
                    )
                else:
                    conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(live)))
            conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(live)))
    except psycopg.Error as e:
        raise _failed("切换登记库", "switching the register of", url, e) from e
    return replaced
