"""Leases of issue runs on undelivered certificates: several runs share one institution's batch.

A run claims a few undelivered certificates at a time (``claim``), produces them, and records
each delivery only while it still holds that certificate's claim (``Seals.mark_delivered`` asks
``holds``). A claim lasts ``lease_seconds`` on the database's clock and is renewed while the run
works; a run that dies — even under SIGKILL — simply stops renewing, and once its leases run out
another run claims those certificates and finishes them.

Why a lease table and not ``SELECT … FOR UPDATE SKIP LOCKED`` or a job queue (procrastinate):
every write to the register already runs in one serialised transaction (``BEGIN IMMEDIATE`` on
SQLite, one advisory lock on PostgreSQL) because the audit chain is appended in one order. A
claim is one more small write of that kind, so it is atomic as it is; a row lock would last only
as long as a transaction, not as long as rendering and sealing; and a separate queue would be a
second list of "what is left to deliver" that could drift from the register's own (the
certificates without a delivery of their current version), which is what ``claim`` reads.

Claims are working state, not a record: rows come and go, nothing is audited, nothing in them
is personal.
"""

from __future__ import annotations

from ._db import Database, Tx

__all__ = ["Claims"]

_UNDELIVERED = (
    "c.institution_code = ? AND c.status = 'valid' AND NOT EXISTS "
    "(SELECT 1 FROM deliveries d WHERE d.certificate_id = c.id AND d.version = c.version)"
)


class Claims:
    """``reg.claims``: which run is producing which undelivered certificate, until when."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._now = db.epoch_sql

    def claim(
        self, institution_code: str, holder: str, *, limit: int, lease_seconds: float, after: int = 0
    ) -> list[int]:
        """Up to ``limit`` undelivered certificates nobody holds, oldest first, now held by
        ``holder``: first those whose lease ran out (a dead run's), then unclaimed ones with an id
        above ``after`` (the caller's last claim, so a long batch is not read again from its start
        at every claim). The leases ``holder`` already has are renewed with them."""
        with self._db.write() as tx:
            self._renew(tx, holder, lease_seconds)
            lapsed = tx.execute(
                f"SELECT c.id FROM issue_claims k JOIN certificates c ON c.id = k.certificate_id "
                f"WHERE {_UNDELIVERED} AND k.expires_at < {self._now} ORDER BY c.id LIMIT ?",
                (institution_code, limit),
            ).fetchall()
            ids = [int(r[0]) for r in lapsed]
            if len(ids) < limit:
                fresh = tx.execute(
                    f"SELECT c.id FROM certificates c WHERE {_UNDELIVERED} AND c.id > ? AND NOT EXISTS "
                    "(SELECT 1 FROM issue_claims k WHERE k.certificate_id = c.id) ORDER BY c.id LIMIT ?",
                    (institution_code, after, limit - len(ids)),
                ).fetchall()
                ids += [int(r[0]) for r in fresh]
            tx.executemany(
                f"INSERT INTO issue_claims (certificate_id, holder, expires_at, claimed_at) "
                f"VALUES (?, ?, {self._now} + ?, ?) ON CONFLICT (certificate_id) DO UPDATE SET "
                "holder = excluded.holder, expires_at = excluded.expires_at, claimed_at = excluded.claimed_at",
                [(cid, holder, lease_seconds, tx.at) for cid in ids],
            )
        return ids

    def renew(self, holder: str, lease_seconds: float) -> None:
        """Extend every lease ``holder`` has to ``lease_seconds`` from now."""
        with self._db.write() as tx:
            self._renew(tx, holder, lease_seconds)

    def _renew(self, tx: Tx, holder: str, lease_seconds: float) -> None:
        tx.execute(f"UPDATE issue_claims SET expires_at = {self._now} + ? WHERE holder = ?", (lease_seconds, holder))

    def release(self, holder: str) -> None:
        """Give up every claim of ``holder`` (a run ending; what it did not deliver is free again)."""
        with self._db.write() as tx:
            tx.execute("DELETE FROM issue_claims WHERE holder = ?", (holder,))

    def release_all(self, institution_code: str) -> None:
        """Free every claim on the institution's certificates: only for a caller that knows no other
        run is alive (the SQLite issue lock), so a killed run's leases need not be waited out."""
        with self._db.write() as tx:
            tx.execute(
                "DELETE FROM issue_claims WHERE certificate_id IN "
                "(SELECT id FROM certificates WHERE institution_code = ?)",
                (institution_code,),
            )

    def others_live(self, institution_code: str, holder: str) -> frozenset[int]:
        """The institution's certificates another run holds a live lease on: their staged files
        are that run's work in progress, not leftovers."""
        rows = self._db.execute(
            f"SELECT k.certificate_id FROM issue_claims k JOIN certificates c ON c.id = k.certificate_id "
            f"WHERE c.institution_code = ? AND k.holder <> ? AND k.expires_at >= {self._now}",
            (institution_code, holder),
        )
        return frozenset(int(r[0]) for r in rows)

    def pending_elsewhere(self, institution_code: str, holder: str) -> int:
        """Undelivered certificates another run holds a live lease on (this run waits for them to
        be delivered, or for their leases to run out, before it calls the batch done)."""
        row = self._db.one(
            f"SELECT COUNT(*) FROM certificates c JOIN issue_claims k ON k.certificate_id = c.id "
            f"WHERE {_UNDELIVERED} AND k.holder <> ? AND k.expires_at >= {self._now}",
            (institution_code, holder),
        )
        return int(row[0]) if row else 0

    @staticmethod
    def holds(tx: Tx, certificate_id: int, holder: str) -> bool:
        """Inside a write: does ``holder`` still hold the certificate's claim (nobody took it over)?"""
        return (
            tx.one("SELECT 1 FROM issue_claims WHERE certificate_id = ? AND holder = ?", (certificate_id, holder))
            is not None
        )
