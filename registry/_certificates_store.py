"""Certificate records: import of result rows, number allocation, reading (``reg.certificates``).

Numbers are allocated inside the write transaction: sequential per institution, year and level,
never reused, never burnt by a failed batch (two processes queue for the lock and never share,
skip or reuse a serial).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from ._coverage import qr_token_digest
from ._db import Database, Tx
from ._personal import Personal, id_at, name_at
from .audit import _CHUNK
from .errors import NotFound, RegistryError, RuleViolation
from .events import BatchImported, Imported, Issued, Reported
from .filings import institution_from_dict
from .models import Certificate, CertStatus, InstitutionStatus, ResultRow
from .numbers import format_number

__all__ = ["Certificates", "cert_data"]

_CERT_COLS = (
    "id, institution_code, batch_id, row_no, name, id_type, id_number, occupation, job, level, "
    "photo_sha256, work_unit, status, version, number, issue_date, qr_token, reported_on"
)


def _cert(r: tuple[Any, ...], p: Personal) -> Certificate:
    return Certificate(
        id=r[0],
        institution_code=r[1],
        batch_id=r[2],
        row=r[3],
        name=p.open_text(r[4], name_at(r[0])),
        id_type=r[5],
        id_number=p.open_text(r[6], id_at(r[0])),
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


def _check_photos(tx: Tx, hashes: set[str]) -> None:
    """Refuse the transaction unless each of these photos is in the registry (what the photo's
    foreign key would have checked row by row)."""
    todo = sorted(hashes)
    for i in range(0, len(todo), 500):
        chunk = todo[i : i + 500]
        q = ",".join("?" * len(chunk))
        found = {str(r[0]) for r in tx.execute(f"SELECT sha256 FROM photos WHERE sha256 IN ({q})", chunk)}
        if len(found) != len(chunk):
            missing = next(h for h in chunk if h not in found)
            raise RegistryError(
                f"照片 {missing[:12]} 不在登记库中，本批未导入",
                f"photo {missing[:12]} is not in the registry: nothing imported",
            )


class Certificates:
    """Certificate records and their numbers (``reg.certificates``)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.personal = Personal(db)

    # -- import --------------------------------------------------------------------------
    def holder_exists(self, institution_code: str, id_number: str, occupation: str, job: str, level: int) -> bool:
        """Does this holder already have a live record for this occupation, job and level? (By the
        ID number's keyed hash under each data key, and by the clear value for rows from before
        encryption.)"""
        keys = self.personal.id_keys(id_number)
        marks = ",".join("?" * len(keys))
        by_key = f"id_hash IN ({marks}) OR " if keys else ""
        return (
            self._db.execute(
                f"SELECT 1 FROM certificates WHERE institution_code = ? AND ({by_key}id_number = ?) "
                "AND occupation = ? AND job = ? AND level = ? AND status != 'revoked' LIMIT 1",
                (institution_code, *keys, id_number, occupation, job, level),
            ).fetchone()
            is not None
        )

    def has_records(self, institution_code: str) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM certificates WHERE institution_code = ? LIMIT 1", (institution_code,)
            ).fetchone()
            is not None
        )

    def batch_for_source(self, institution_code: str, source_sha256: str) -> int | None:
        row = self._db.execute(
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
        # the references of every row are checked here instead of row by row (write_bulk): the
        # institution (found and active below), the batch (made below) and each photo (stored in
        # this transaction, or found before it ends)
        with self._db.write_bulk(actor) as tx:
            status = tx.execute("SELECT status FROM institutions WHERE code = ?", (institution_code,)).fetchone()
            if status is None:
                raise NotFound(f"机构 {institution_code} 未备案", f"institution {institution_code} is not filed")
            if status[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {institution_code} 已{status[0]}，不能导入", f"institution {institution_code} is {status[0]}"
                )
            dup = tx.execute(
                "SELECT id FROM batches WHERE institution_code = ? AND source_sha256 = ?",
                (institution_code, source_sha256),
            ).fetchone()
            if dup:
                raise RuleViolation(
                    f"同一文件已作为第 {dup[0]} 批导入", f"this same file was already imported as batch {dup[0]}"
                )
            now = tx.at
            batch_id = tx.insert(
                "INSERT INTO batches (institution_code, source_name, source_sha256, rows, imported_at, actor) "
                "VALUES (?,?,?,0,?,?)",
                (institution_code, source_name, source_sha256, now, actor),
            )
            next_id = int(tx.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates").fetchone()[0])
            tx.log(
                str(batch_id),
                BatchImported(institution_code=institution_code, source=source_name, sha256=source_sha256),
            )
            certs: list[tuple[Any, ...]] = []
            stored: set[str] = set()  # photos stored by this transaction
            elsewhere: set[str] = set()  # photos the rows take from earlier batches
            cid = next_id - 1

            def flush() -> None:
                tx.executemany(
                    "INSERT INTO certificates (id, institution_code, batch_id, row_no, name, id_type, id_number, "
                    "occupation, job, level, photo_sha256, work_unit, created_at, updated_at, id_hash) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    certs,
                )
                certs.clear()

            p = self.personal
            sealing = p.cipher is not None
            log = tx.log
            for r, photo in rows:
                if photo is not None:
                    tx.execute(
                        "INSERT INTO photos VALUES (?, ?) ON CONFLICT DO NOTHING",
                        (r.photo_sha256, p.photo(photo, r.photo_sha256)),
                    )
                    stored.add(r.photo_sha256)
                elif r.photo_sha256 not in stored:
                    elsewhere.add(r.photo_sha256)
                cid += 1
                if sealing or cid == next_id:  # in clear, the first row's check holds for all (Personal.text)
                    name, id_number = p.text(r.name, name_at(cid)), p.text(r.id_number, id_at(cid))
                else:
                    name, id_number = r.name, r.id_number  # as stored and logged
                certs.append(
                    (
                        cid,
                        institution_code,
                        batch_id,
                        r.row,
                        name,
                        r.id_type,
                        id_number,
                        r.occupation,
                        r.job,
                        r.level,
                        r.photo_sha256,
                        r.work_unit,
                        now,
                        now,
                        p.id_key(r.id_number) if sealing else None,
                    )
                )
                log(
                    str(cid),
                    Imported(
                        batch=batch_id,
                        row=r.row,
                        name=name,
                        id_type=r.id_type,
                        id_number=id_number,
                        occupation=r.occupation,
                        job=r.job,
                        level=r.level,
                        photo_sha256=r.photo_sha256,
                        work_unit=r.work_unit,
                    ),
                )
                if len(certs) >= _CHUNK:
                    flush()
            flush()
            _check_photos(tx, elsewhere - stored)
            count = cid - next_id + 1
            tx.execute("UPDATE batches SET rows = ? WHERE id = ?", (count, batch_id))
            return batch_id, count

    # -- numbers -------------------------------------------------------------------------
    def issue(
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
        with self._db.write(actor) as tx:
            inst_row = tx.execute(
                "SELECT status, filing FROM institutions WHERE code = ?", (institution_code,)
            ).fetchone()
            if inst_row is None:
                raise NotFound(f"机构 {institution_code} 未备案", f"institution {institution_code} is not filed")
            if inst_row[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {institution_code} 已{inst_row[0]}，不能发证",
                    f"institution {institution_code} is {inst_row[0]} and cannot issue",
                )
            refusal = institution_from_dict(json.loads(inst_row[1])).issue_date_refusal(issue_date)
            if refusal is not None:
                raise RuleViolation(*refusal)
            if ids is None:
                sql = "SELECT id, level FROM certificates WHERE institution_code = ? AND status = 'pending' ORDER BY id"
                params: tuple[Any, ...] = (institution_code,)
                if limit is not None:
                    sql += " LIMIT ?"
                    params += (limit,)
                todo = [(int(r[0]), int(r[1])) for r in tx.execute(sql, params)]
            else:
                todo = []
                for i in range(0, len(ids), 500):
                    chunk = list(ids[i : i + 500])
                    q = ",".join("?" * len(chunk))
                    found = {
                        int(r[0]): (int(r[1]), r[2], r[3])
                        for r in tx.execute(
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
            now = tx.at
            out: list[tuple[int, str]] = []
            tokens: list[tuple[str, int]] = []  # (QR token, certificate id)
            numbers: list[tuple[str, int, str]] = []
            day = issue_date.isoformat()
            for lv, cids in sorted(by_level.items()):
                row = tx.execute(
                    "SELECT last_serial FROM number_counters WHERE institution_code = ? AND year = ? AND level = ?",
                    (institution_code, year, lv),
                ).fetchone()
                last = int(row[0]) if row else 0
                if last + len(cids) > 999_999:
                    raise RuleViolation(
                        f"{year} 年 {lv} 级证书序列码将超过 999999", f"level {lv} serials for {year} would pass 999999"
                    )
                tx.execute(
                    "INSERT INTO number_counters VALUES (?,?,?,?) ON CONFLICT (institution_code, year, level) "
                    "DO UPDATE SET last_serial = excluded.last_serial",
                    (institution_code, year, lv, last + len(cids)),
                )
                prefix = format_number(institution_code, year, lv, last + 1)[:16]  # checks the code once
                for k, cid in enumerate(cids, 1):
                    number = f"{prefix}{last + k:06d}"
                    token = secrets.token_urlsafe(16)
                    numbers.append((number, cid, day))
                    tokens.append((token, cid))
                    out.append((cid, number))
                    tx.log(
                        str(cid),
                        Issued(
                            number=number, issue_date=issue_date, status="valid", qr_token_sha256=qr_token_digest(token)
                        ),
                    )
            tx.executemany("INSERT INTO issued_numbers VALUES (?,?,?)", numbers)
            if self._db.kind == "sqlite":  # the tokens into a scratch table, then one UPDATE over it: a third cheaper
                tx.execute("CREATE TEMP TABLE issue_tokens (id INTEGER PRIMARY KEY, token TEXT NOT NULL)")
                tx.executemany("INSERT INTO issue_tokens (token, id) VALUES (?,?)", tokens)
                tx.execute(
                    "UPDATE certificates SET qr_token = t.token, status = 'valid', updated_at = ? FROM issue_tokens t "
                    "WHERE certificates.id = t.id AND certificates.status = 'pending'",
                    (now,),
                )
                tx.execute("DROP TABLE temp.issue_tokens")
            else:
                tx.executemany(
                    "UPDATE certificates SET qr_token = ?, status = 'valid', updated_at = ? "
                    "WHERE id = ? AND status = 'pending'",
                    [(token, now, cid) for token, cid in tokens],
                )
            return out

    # -- reading -------------------------------------------------------------------------
    def get(self, number: str) -> Certificate:
        row = self._db.execute(f"SELECT {_CERT_COLS} FROM certificate_view WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise NotFound(f"证书 {number} 不在登记库中", f"certificate {number} is not in the registry")
        return _cert(row, self.personal)

    def by_id(self, cid: int) -> Certificate:
        row = self._db.execute(f"SELECT {_CERT_COLS} FROM certificate_view WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"记录 {cid} 不存在", f"record {cid} does not exist")
        return _cert(row, self.personal)

    def select(
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
        if status:
            where.append("status = ?")
            params.append(status.value)
        if issued_from:
            where.append("issue_date >= ?")
            params.append(issued_from.isoformat())
        if issued_to:
            where.append("issue_date <= ?")
            params.append(issued_to.isoformat())
        rows = self._db.execute(
            f"SELECT {_CERT_COLS} FROM certificate_view WHERE {' AND '.join(where)} ORDER BY issue_date, number, id",
            params,
        )
        for row in rows:
            c = _cert(row, self.personal)
            if name_contains and name_contains not in c.name:  # a substring, also of a sealed name: opened here
                continue
            yield c

    def photo(self, sha256: str) -> bytes:
        row = self._db.execute("SELECT data FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise NotFound(f"照片 {sha256[:12]} 不存在", f"photo {sha256[:12]} is missing")
        return self.personal.open_photo(bytes(row[0]), sha256)

    def status_indexes(self) -> tuple[list[int], list[int], int]:
        """The serials of revoked and of suspended certificates, and the highest serial: what the
        credentials' status lists publish (``search_index.status_list``)."""
        revoked: list[int] = []
        suspended: list[int] = []
        for cid, status in self._db.execute(
            "SELECT id, status FROM certificates WHERE status IN ('revoked', 'suspended') ORDER BY id"
        ):
            (revoked if status == CertStatus.REVOKED.value else suspended).append(int(cid))
        highest = int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM certificates").fetchone()[0])
        return revoked, suspended, highest

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in CertStatus}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM certificates GROUP BY status"):
            out[status] = n
        return out

    def mark_reported(self, ids: Sequence[int], *, on: date, actor: str, target: str) -> int:
        """Record that these certificates' data was reported (transmitted) on ``on``."""
        with self._db.write(actor) as tx:
            n = 0
            for cid in ids:
                changed = tx.execute(
                    "UPDATE certificates SET reported_on = ? WHERE id = ? AND reported_on IS NULL "
                    "AND status != 'pending'",
                    (on.isoformat(), cid),
                ).rowcount
                if changed:
                    n += 1
                    tx.log(str(cid), Reported(reported_on=on, to=target))
            return n
