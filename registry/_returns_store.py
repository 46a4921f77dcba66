"""The registry's part for certificate data returned by the authority for correction (SPEC §4).

A return (退回) is recorded against a certificate whose data was reported; it stays open until
the corrected data is resubmitted (重新上报). Rows are never deleted (a trigger refuses it), so
every return and its resubmission stay readable, and each change writes an audit entry in the
same transaction. The resubmission deadline is not stored: it depends on the working-day
calendar and is computed by :mod:`registry.deadlines`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ._db import Database, Tx
from .errors import NotFound, RuleViolation
from .events import ReportResubmitted, ReportReturned

__all__ = ["ReportReturn", "Returns"]

_RETURN_COLS = (
    "r.certificate_id, n.number, c.institution_code, r.returned_on, r.reason, r.resubmitted_on "
    "FROM report_returns r JOIN certificates c ON c.id = r.certificate_id "
    "JOIN issued_numbers n ON n.certificate_id = r.certificate_id"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReturn:
    """One return of a certificate's reported data for correction, and its resubmission."""

    certificate_id: int
    number: str
    institution_code: str
    returned_on: date
    reason: str
    resubmitted_on: date | None = None

    @property
    def is_open(self) -> bool:
        """Still awaiting the corrected data."""
        return self.resubmitted_on is None


def _return(r: tuple[Any, ...]) -> ReportReturn:
    return ReportReturn(
        certificate_id=int(r[0]),
        number=str(r[1]),
        institution_code=str(r[2]),
        returned_on=date.fromisoformat(r[3]),
        reason=str(r[4]),
        resubmitted_on=date.fromisoformat(r[5]) if r[5] else None,
    )


def _unique(numbers: Iterable[str]) -> list[str]:
    out: list[str] = []
    for n in numbers:
        n = n.strip().upper()
        if n and n not in out:
            out.append(n)
    if not out:
        raise RuleViolation("没有给出证书编号", "no certificate number given")
    return out


class Returns:
    """Report returns and resubmissions (``reg.returns``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _reported_row(tx: Tx, number: str) -> tuple[int, str, str | None, str]:
        """(id, status, reported_on, institution) of the certificate with this number; NotFound if none."""
        row = tx.execute(
            "SELECT c.id, c.status, c.reported_on, c.institution_code FROM issued_numbers n JOIN certificates c "
            "ON c.id = n.certificate_id WHERE n.number = ?",
            (number,),
        ).fetchone()
        if row is None:
            raise NotFound(f"证书 {number} 不在登记库中", f"certificate {number} is not in the registry")
        return int(row[0]), str(row[1]), row[2], str(row[3])

    @staticmethod
    def _open_return(tx: Tx, cid: int) -> tuple[str, str] | None:
        row = tx.execute(
            "SELECT returned_on, reason FROM report_returns WHERE certificate_id = ? AND resubmitted_on IS NULL "
            "ORDER BY returned_on DESC LIMIT 1",
            (cid,),
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def mark_returned(self, numbers: Iterable[str], *, on: date, reason: str, actor: str) -> list[ReportReturn]:
        """Record that the authority returned these certificates' reported data for correction on ``on``.

        All or nothing: an unknown number, a certificate that was never reported (or is still
        pending), one reported after ``on`` or one already awaiting resubmission refuses the
        whole call and nothing is written.
        """
        reason = reason.strip()
        if not reason:
            raise RuleViolation("必须写明退回原因", "the reason for the return is required")
        todo = _unique(numbers)
        day = on.isoformat()
        with self._db.write(actor) as tx:
            out: list[ReportReturn] = []
            for number in todo:
                cid, status, reported_on, code = self._reported_row(tx, number)
                if status == "pending":
                    raise RuleViolation(f"证书 {number} 尚未发证", f"certificate {number} is not issued yet")
                if reported_on is None:
                    raise RuleViolation(
                        f"证书 {number} 的数据尚未上报，不能记录退回",
                        f"certificate {number}'s data was never reported, so it cannot have been returned",
                    )
                if day < reported_on:
                    raise RuleViolation(
                        f"证书 {number} 的退回日期 {day} 早于上报日期 {reported_on}",
                        f"certificate {number}: returned on {day}, before it was reported on {reported_on}",
                    )
                open_ = self._open_return(tx, cid)
                if open_ is not None:
                    raise RuleViolation(
                        f"证书 {number} 已于 {open_[0]} 被退回，尚未重新上报",
                        f"certificate {number} was already returned on {open_[0]} and is awaiting resubmission",
                    )
                if tx.execute(
                    "SELECT 1 FROM report_returns WHERE certificate_id = ? AND returned_on = ?", (cid, day)
                ).fetchone():
                    raise RuleViolation(
                        f"证书 {number} 在 {day} 已有一条退回记录",
                        f"certificate {number} already has a return recorded on {day}",
                    )
                tx.execute(
                    "INSERT INTO report_returns (certificate_id, returned_on, reason) VALUES (?,?,?)",
                    (cid, day, reason),
                )
                tx.log(str(cid), ReportReturned(reported_on=reported_on, returned_on=on, reason=reason))
                out.append(
                    ReportReturn(
                        certificate_id=cid,
                        number=number,
                        institution_code=code,
                        returned_on=on,
                        reason=reason,
                    )
                )
            return out

    def mark_resubmitted(self, numbers: Iterable[str], *, on: date, actor: str) -> list[ReportReturn]:
        """Record that the corrected data of these returned certificates was resubmitted on ``on``.

        All or nothing: an unknown number, a certificate with no open return, or a date before
        the return refuses the whole call.
        """
        todo = _unique(numbers)
        day = on.isoformat()
        with self._db.write(actor) as tx:
            out: list[ReportReturn] = []
            for number in todo:
                cid, _status, _reported, code = self._reported_row(tx, number)
                open_ = self._open_return(tx, cid)
                if open_ is None:
                    raise RuleViolation(
                        f"证书 {number} 没有待重新上报的退回记录",
                        f"certificate {number} has no return awaiting resubmission",
                    )
                returned_on, reason = open_
                if day < returned_on:
                    raise RuleViolation(
                        f"证书 {number} 的重新上报日期 {day} 早于退回日期 {returned_on}",
                        f"certificate {number}: resubmitted on {day}, before it was returned on {returned_on}",
                    )
                tx.execute(
                    "UPDATE report_returns SET resubmitted_on = ? WHERE certificate_id = ? AND returned_on = ? "
                    "AND resubmitted_on IS NULL",
                    (day, cid, returned_on),
                )
                tx.log(str(cid), ReportResubmitted(returned_on=returned_on, resubmitted_on=on))
                out.append(
                    ReportReturn(
                        certificate_id=cid,
                        number=number,
                        institution_code=code,
                        returned_on=date.fromisoformat(returned_on),
                        reason=reason,
                        resubmitted_on=on,
                    )
                )
            return out

    def returns(self, certificate_id: int) -> list[ReportReturn]:
        """Every return of this certificate's data, oldest first (resubmitted ones included)."""
        rows = self._db.execute(
            f"SELECT {_RETURN_COLS} WHERE r.certificate_id = ? ORDER BY r.returned_on", (certificate_id,)
        )
        return [_return(r) for r in rows]

    def open_returns(self, institution_code: str) -> list[ReportReturn]:
        """This institution's returns still awaiting resubmission, oldest first."""
        rows = self._db.execute(
            f"SELECT {_RETURN_COLS} WHERE c.institution_code = ? AND r.resubmitted_on IS NULL "
            "ORDER BY r.returned_on, n.number",
            (institution_code,),
        )
        return [_return(r) for r in rows]
