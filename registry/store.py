"""The registry store: one SQLite file with institutions, certificates and the audit log.

Every change runs in one ``BEGIN IMMEDIATE`` transaction together with its audit entries,
so the log and the data never disagree and concurrent processes queue for the write lock.
Numbers are allocated inside that transaction: sequential per institution, year and level,
never reused, never burnt by a failed batch.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ._blanks_store import BlanksMixin
from ._coverage import qr_token_digest
from ._institutions_store import InstitutionsMixin
from ._lifecycle_store import LifecycleMixin
from ._returns_store import ReturnsMixin
from ._schema import MIGRATIONS
from ._seals_store import SealsMixin
from .audit import _CHUNK, AuditEntry, AuditMixin, AuditTreeMixin, _AuditWriter
from .errors import NotFound, RegistryError, RuleViolation
from .models import Certificate, CertStatus, InstitutionStatus, ResultRow
from .numbers import format_number

__all__ = ["AuditEntry", "Registry"]

_CERT_COLS = (
    "id, institution_code, batch_id, row_no, name, id_type, id_number, occupation, job, level, "
    "photo_sha256, work_unit, status, version, number, issue_date, qr_token, reported_on"
)


def _cert(r: sqlite3.Row | tuple[Any, ...]) -> Certificate:
    return Certificate(
        id=r[0],
        institution_code=r[1],
        batch_id=r[2],
        row=r[3],
        name=r[4],
        id_type=r[5],
        id_number=r[6],
        occupation=r[7],
        job=r[8],
        level=r[9],
        photo_sha256=r[10],
        work_unit=r[11],
        status=CertStatus(r[12]),
        version=r[13],
        number=r[14],
        issue_date=date.fromisoformat(r[15]) if r[15] else None,
        qr_token=r[16],
        reported_on=date.fromisoformat(r[17]) if r[17] else None,
    )


def cert_data(c: Certificate) -> dict[str, Any]:
    """The certificate's data as the audit log and version history record it."""
    return {
        "institution_code": c.institution_code,
        "name": c.name,
        "id_type": c.id_type,
        "id_number": c.id_number,
        "occupation": c.occupation,
        "job": c.job,
        "level": c.level,
        "photo_sha256": c.photo_sha256,
        "work_unit": c.work_unit,
        "number": c.number,
        "issue_date": c.issue_date,
        "status": c.status.value,
        "version": c.version,
    }


class Registry(InstitutionsMixin, SealsMixin, AuditMixin, AuditTreeMixin, LifecycleMixin, ReturnsMixin, BlanksMixin):
    """The registry database. Open with :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Callable[[], datetime]) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, *, clock: Callable[[], datetime] | None = None) -> Registry:
        """Create (or upgrade) the registry at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls._connect(path, clock, create=True)

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], datetime] | None = None) -> Registry:
        """Open an existing registry (migrating it to the current schema if older)."""
        if not path.exists():
            raise RegistryError(
                f"登记库 {path} 不存在，请先运行 skillcert init", f"no registry at {path}; run `skillcert init` first"
            )
        return cls._connect(path, clock, create=False)

    @classmethod
    def _connect(cls, path: Path, clock: Callable[[], datetime] | None, *, create: bool) -> Registry:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB page cache: big batches stay in one transaction
        reg = cls(conn, path, clock or (lambda: datetime.now(UTC)))
        reg._migrate()
        return reg

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._write() as cur:
            current = int(cur.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise RegistryError(
                    f"登记库版本 {current} 比本程序新（{len(MIGRATIONS)}），请升级 skillcert",
                    f"registry schema {current} is newer than this skillcert ({len(MIGRATIONS)}); upgrade",
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in _split_sql(MIGRATIONS[version - 1]):
                    cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise RegistryError(f"登记库被占用：{e}", f"the registry is busy: {e}") from e
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    def _now(self) -> str:
        return self._clock().isoformat(timespec="microseconds")

    @staticmethod
    def _audit(cur: sqlite3.Cursor, at: str, actor: str) -> _AuditWriter:
        return _AuditWriter(cur, at, actor)

    # -- import --------------------------------------------------------------------------
    def holder_exists(self, institution_code: str, id_number: str, occupation: str, job: str, level: int) -> bool:
        """Does this holder already have a live record for this occupation, job and level?"""
        return (
            self._conn.execute(
                "SELECT 1 FROM certificates WHERE institution_code = ? AND id_number = ? AND occupation = ? AND job = ? "
                "AND level = ? AND status != 'revoked' LIMIT 1",
                (institution_code, id_number, occupation, job, level),
            ).fetchone()
            is not None
        )

    def has_records(self, institution_code: str) -> bool:
        return (
            self._conn.execute(
                "SELECT 1 FROM certificates WHERE institution_code = ? LIMIT 1", (institution_code,)
            ).fetchone()
            is not None
        )

    def batch_for_source(self, institution_code: str, source_sha256: str) -> int | None:
        row = self._conn.execute(
            "SELECT id FROM batches WHERE institution_code = ? AND source_sha256 = ?", (institution_code, source_sha256)
        ).fetchone()
        return int(row[0]) if row else None

    def add_batch(
        self,
        institution_code: str,
        *,
        source_name: str,
        source_sha256: str,
        rows: Iterable[tuple[ResultRow, bytes | None]],
        actor: str,
    ) -> tuple[int, int]:
        """Store a batch of validated rows in one transaction; returns (batch id, rows).

        ``rows`` is consumed lazily; if iterating it raises (e.g. the importer found bad rows),
        the whole batch is rolled back and nothing is written.
        """
        with self._write() as cur:
            status = cur.execute("SELECT status FROM institutions WHERE code = ?", (institution_code,)).fetchone()
            if status is None:
                raise NotFound(f"机构 {institution_code} 未备案", f"institution {institution_code} is not filed")
            if status[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {institution_code} 已{status[0]}，不能导入", f"institution {institution_code} is {status[0]}"
                )
            dup = cur.execute(
                "SELECT id FROM batches WHERE institution_code = ? AND source_sha256 = ?",
                (institution_code, source_sha256),
            ).fetchone()
            if dup:
                raise RuleViolation(
                    f"同一文件已作为第 {dup[0]} 批导入", f"this same file was already imported as batch {dup[0]}"
                )
            now = self._now()
            cur.execute(
                "INSERT INTO batches (institution_code, source_name, source_sha256, rows, imported_at, actor) "
                "VALUES (?,?,?,0,?,?)",
                (institution_code, source_name, source_sha256, now, actor),
            )
            batch_id = int(cur.lastrowid or 0)
            next_id = int(cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates").fetchone()[0])
            audit = _AuditWriter(cur, now, actor)
            audit.add(
                "import",
                "batch",
                str(batch_id),
                None,
                {"institution_code": institution_code, "source": source_name, "sha256": source_sha256},
            )
            certs: list[tuple[Any, ...]] = []
            count = 0

            def flush() -> None:
                cur.executemany(
                    "INSERT INTO certificates (id, institution_code, batch_id, row_no, name, id_type, id_number, "
                    "occupation, job, level, photo_sha256, work_unit, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    certs,
                )
                certs.clear()

            for r, photo in rows:
                if photo is not None:
                    cur.execute("INSERT OR IGNORE INTO photos VALUES (?, ?)", (r.photo_sha256, photo))
                cid = next_id + count
                count += 1
                certs.append(
                    (
                        cid,
                        institution_code,
                        batch_id,
                        r.row,
                        r.name,
                        r.id_type,
                        r.id_number,
                        r.occupation,
                        r.job,
                        r.level,
                        r.photo_sha256,
                        r.work_unit,
                        now,
                        now,
                    )
                )
                audit.add(
                    "import",
                    "certificate",
                    str(cid),
                    None,
                    {
                        "batch": batch_id,
                        "row": r.row,
                        "name": r.name,
                        "id_type": r.id_type,
                        "id_number": r.id_number,
                        "occupation": r.occupation,
                        "job": r.job,
                        "level": r.level,
                        "photo_sha256": r.photo_sha256,
                        "work_unit": r.work_unit,
                    },
                )
                if len(certs) >= _CHUNK:
                    flush()
            flush()
            audit.flush()
            cur.execute("UPDATE batches SET rows = ? WHERE id = ?", (count, batch_id))
            return batch_id, count

    # -- numbers -------------------------------------------------------------------------
    def issue_numbers(
        self,
        institution_code: str,
        issue_date: date,
        *,
        actor: str,
        ids: Sequence[int] | None = None,
        limit: int | None = None,
    ) -> list[tuple[int, str]]:
        """Give pending certificates their numbers, dated ``issue_date``; returns (id, number) pairs.

        Takes the given ``ids`` (all must be pending and of this institution) or the oldest
        pending ones (up to ``limit``). Serials continue per institution, year and level in
        one transaction: two processes issuing at once queue for the lock and never share,
        skip or reuse a serial. A competition committee (``003_…``) issues only within its
        competition's calendar year; a refused date writes nothing and burns no serial.
        """
        with self._write() as cur:
            inst_row = cur.execute(
                "SELECT status, filing FROM institutions WHERE code = ?", (institution_code,)
            ).fetchone()
            if inst_row is None:
                raise NotFound(f"机构 {institution_code} 未备案", f"institution {institution_code} is not filed")
            if inst_row[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {institution_code} 已{inst_row[0]}，不能发证",
                    f"institution {institution_code} is {inst_row[0]} and cannot issue",
                )
            filing = json.loads(inst_row[1])
            filing_date = date.fromisoformat(filing["filing_date"])
            if issue_date < filing_date:
                raise RuleViolation(
                    f"发证日期 {issue_date} 早于机构备案日期 {filing_date}",
                    f"issue date {issue_date} is before the institution's filing date {filing_date}",
                )
            competition = filing.get("competition") if filing.get("kind") == "competition" else None
            if competition:  # 003_… 四、七(二): only within the competition's calendar year, never after
                comp_year, receipt_date = int(competition["year"]), date.fromisoformat(competition["receipt_date"])
                if issue_date.year != comp_year:
                    raise RuleViolation(
                        f"发证日期 {issue_date} 不在竞赛“{competition['name']}”所处自然年 {comp_year} 年内："
                        "竞赛证书只在竞赛年度内核发，逾期不再办理",
                        f"issue date {issue_date} is outside the competition year {comp_year} of "
                        f"{competition['name']!r}: competition certificates are issued only within that calendar year",
                    )
                if issue_date < receipt_date:
                    raise RuleViolation(
                        f"发证日期 {issue_date} 早于竞赛备案回执日期 {receipt_date}",
                        f"issue date {issue_date} is before the competition filing receipt's date {receipt_date}",
                    )
            if ids is None:
                sql = "SELECT id, level FROM certificates WHERE institution_code = ? AND status = 'pending' ORDER BY id"
                params: tuple[Any, ...] = (institution_code,)
                if limit is not None:
                    sql += " LIMIT ?"
                    params += (limit,)
                todo = [(int(r[0]), int(r[1])) for r in cur.execute(sql, params)]
            else:
                todo = []
                for i in range(0, len(ids), 500):
                    chunk = list(ids[i : i + 500])
                    q = ",".join("?" * len(chunk))
                    found = {
                        int(r[0]): (int(r[1]), r[2], r[3])
                        for r in cur.execute(
                            f"SELECT id, level, status, institution_code FROM certificates WHERE id IN ({q})", chunk
                        )
                    }
                    for cid in chunk:
                        if cid not in found or found[cid][2] != institution_code:
                            raise NotFound(
                                f"机构 {institution_code} 没有记录 {cid}",
                                f"institution {institution_code} has no record {cid}",
                            )
                        if found[cid][1] != CertStatus.PENDING:
                            raise RuleViolation(f"记录 {cid} 已有证书编号", f"record {cid} already has a number")
                        todo.append((cid, found[cid][0]))
            if not todo:
                return []
            year = issue_date.year
            by_level: dict[int, list[int]] = {}
            for cid, lv in todo:
                by_level.setdefault(lv, []).append(cid)
            now = self._now()
            audit = _AuditWriter(cur, now, actor)
            out: list[tuple[int, str]] = []
            updates: list[tuple[Any, ...]] = []
            numbers: list[tuple[str, int, str]] = []
            day = issue_date.isoformat()
            for lv, cids in sorted(by_level.items()):
                row = cur.execute(
                    "SELECT last_serial FROM number_counters WHERE institution_code = ? AND year = ? AND level = ?",
                    (institution_code, year, lv),
                ).fetchone()
                last = int(row[0]) if row else 0
                if last + len(cids) > 999_999:
                    raise RuleViolation(
                        f"{year} 年 {lv} 级证书序列码将超过 999999", f"level {lv} serials for {year} would pass 999999"
                    )
                cur.execute(
                    "INSERT INTO number_counters VALUES (?,?,?,?) ON CONFLICT (institution_code, year, level) "
                    "DO UPDATE SET last_serial = excluded.last_serial",
                    (institution_code, year, lv, last + len(cids)),
                )
                prefix = format_number(institution_code, year, lv, last + 1)[:16]  # checks the code once
                for k, cid in enumerate(cids, 1):
                    number = f"{prefix}{last + k:06d}"
                    token = secrets.token_urlsafe(16)
                    numbers.append((number, cid, day))
                    updates.append((token, now, cid))
                    out.append((cid, number))
                    audit.add(
                        "issue",
                        "certificate",
                        str(cid),
                        {"status": "pending"},
                        {
                            "number": number,
                            "issue_date": issue_date,
                            "status": "valid",
                            "qr_token_sha256": qr_token_digest(token),
                        },
                    )
            cur.executemany("INSERT INTO issued_numbers VALUES (?,?,?)", numbers)
            cur.executemany(
                "UPDATE certificates SET qr_token = ?, status = 'valid', updated_at = ? WHERE id = ? AND status = 'pending'",
                updates,
            )
            audit.flush()
            return out

    # -- reading -------------------------------------------------------------------------
    def certificate(self, number: str) -> Certificate:
        row = self._conn.execute(f"SELECT {_CERT_COLS} FROM certificate_view WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise NotFound(f"证书 {number} 不在登记库中", f"certificate {number} is not in the registry")
        return _cert(row)

    def certificate_by_id(self, cid: int) -> Certificate:
        row = self._conn.execute(f"SELECT {_CERT_COLS} FROM certificate_view WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"记录 {cid} 不存在", f"record {cid} does not exist")
        return _cert(row)

    def certificates(
        self,
        *,
        institution_code: str | None = None,
        status: CertStatus | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        batch_id: int | None = None,
        name_contains: str | None = None,
    ) -> Iterator[Certificate]:
        """Stream certificates, oldest first, filtered by institution, status, issue date, batch and name."""
        where, params = ["1=1"], []
        if institution_code:
            where.append("institution_code = ?")
            params.append(institution_code)
        if batch_id is not None:
            where.append("batch_id = ?")
            params.append(str(batch_id))
        if name_contains:
            where.append("instr(name, ?) > 0")  # a substring, also of CJK names (no LIKE collation surprises)
            params.append(name_contains)
        if status:
            where.append("status = ?")
            params.append(status.value)
        if issued_from:
            where.append("issue_date >= ?")
            params.append(issued_from.isoformat())
        if issued_to:
            where.append("issue_date <= ?")
            params.append(issued_to.isoformat())
        cur = self._conn.execute(
            f"SELECT {_CERT_COLS} FROM certificate_view WHERE {' AND '.join(where)} ORDER BY issue_date, number, id",
            params,
        )
        for row in cur:
            yield _cert(row)

    def photo(self, sha256: str) -> bytes:
        row = self._conn.execute("SELECT data FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise NotFound(f"照片 {sha256[:12]} 不存在", f"photo {sha256[:12]} is missing")
        return bytes(row[0])

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in CertStatus}
        for status, n in self._conn.execute("SELECT status, COUNT(*) FROM certificates GROUP BY status"):
            out[status] = n
        return out

    def revoke(self, number: str, *, reason: str, on: date, actor: str, public_reason: str | None = None) -> None:
        """Logical revocation (SPEC §4): the row stays, its status becomes revoked, the reason is kept
        (internal: only ``public_reason`` is ever published)."""
        self._set_status(
            number, CertStatus.REVOKED, reason=reason, on=on, actor=actor, action="revoke", public_reason=public_reason
        )

    def _set_status(
        self,
        number: str,
        status: CertStatus,
        *,
        reason: str,
        on: date,
        actor: str,
        action: str,
        extra: dict[str, Any] | None = None,
        public_reason: str | None = None,
    ) -> None:
        if not reason.strip():
            raise RuleViolation("必须写明原因", "a reason is required")
        public = (public_reason or "").strip() or None
        with self._write() as cur:
            row = cur.execute(
                "SELECT c.id, c.status FROM certificates c JOIN issued_numbers n ON n.certificate_id = c.id "
                "WHERE n.number = ?",
                (number,),
            ).fetchone()
            if row is None:
                raise NotFound(f"证书 {number} 不在登记库中", f"certificate {number} is not in the registry")
            if row[1] == CertStatus.REVOKED:
                raise RuleViolation(f"证书 {number} 已被撤销", f"certificate {number} is already revoked")
            now = self._now()
            cur.execute("UPDATE certificates SET status = ?, updated_at = ? WHERE id = ?", (status.value, now, row[0]))
            audit = _AuditWriter(cur, now, actor)
            audit.add(
                action,
                "certificate",
                str(row[0]),
                {"status": row[1]},
                {"status": status.value, "on": on, "reason": reason, "public_reason": public, **(extra or {})},
            )
            audit.flush()

    def record_event(self, action: str, entity: str, key: str, after: dict[str, Any], *, actor: str) -> None:
        """An audit entry for an action outside the registry's own tables (e.g. a snapshot publish)."""
        with self._write() as cur:
            audit = _AuditWriter(cur, self._now(), actor)
            audit.add(action, entity, key, None, after)
            audit.flush()

    def status_event(self, certificate_id: int) -> tuple[str, str] | None:
        """(date, public reason or "") of the last status change (revocation, suspension), if any.

        The internal reason stays in the audit log; entries from before the two were separated
        have only one reason, which was public then and stays so."""
        for e in reversed(list(self.audit_entries(entity="certificate", key=str(certificate_id)))):
            if e.action in ("revoke", "suspend") and isinstance(e.after, dict):
                public = e.after["public_reason"] if "public_reason" in e.after else e.after.get("reason")
                return str(e.after.get("on")), str(public or "")
        return None

    def mark_reported(self, ids: Sequence[int], *, on: date, actor: str, target: str) -> int:
        """Record that these certificates' data was reported (transmitted) on ``on``."""
        with self._write() as cur:
            audit = _AuditWriter(cur, self._now(), actor)
            n = 0
            for cid in ids:
                changed = cur.execute(
                    "UPDATE certificates SET reported_on = ? WHERE id = ? AND reported_on IS NULL "
                    "AND status != 'pending'",
                    (on.isoformat(), cid),
                ).rowcount
                if changed:
                    n += 1
                    audit.add("report", "certificate", str(cid), None, {"reported_on": on, "to": target})
            audit.flush()
            return n


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
