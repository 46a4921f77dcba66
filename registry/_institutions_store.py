"""The part of the store about institutions: filings, re-filings, cancellation, mergers and
the retired-code list (废置库)."""

from __future__ import annotations

import json
from datetime import date

from ._db import Database
from .audit import _canonical
from .errors import NotFound, RuleViolation
from .events import Cancelled, Filed, Merged, Refiled
from .filings import institution_from_dict, institution_to_dict
from .models import Institution, InstitutionStatus

__all__ = ["Institutions"]


class Institutions:
    """Institutions and their filings (``reg.institutions``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, inst: Institution, *, actor: str) -> None:
        """File a new institution; refuses a code that exists or is retired (废置库)."""
        with self._db.write(actor) as tx:
            retired = tx.execute("SELECT retired_on, reason FROM retired_codes WHERE code = ?", (inst.code,)).fetchone()
            if retired:
                raise RuleViolation(
                    f"机构编码 {inst.code} 已于 {retired[0]} 列入废置库（{retired[1]}），不得再次赋予",
                    f"institution code {inst.code} was retired on {retired[0]} ({retired[1]}) and is never reassigned",
                )
            if tx.execute("SELECT 1 FROM institutions WHERE code = ?", (inst.code,)).fetchone():
                raise RuleViolation(
                    f"机构 {inst.code} 已备案；变更请用重新备案",
                    f"institution {inst.code} is already filed; use re-filing to change it",
                )
            now = tx.at
            filing = institution_to_dict(inst)
            tx.execute(
                "INSERT INTO institutions (code, name_zh, variant, status, filing, created_at) VALUES (?,?,?,?,?,?)",
                (inst.code, inst.name_zh, inst.variant.value, inst.status.value, _canonical(filing), now),
            )
            tx.execute("INSERT INTO filing_history VALUES (?,?,?,?)", (inst.code, 1, now, _canonical(filing)))
            tx.log(inst.code, Filed(filing=filing))

    def refile(self, inst: Institution, *, actor: str) -> int:
        """Record a changed filing (name, seal, style or scope); returns the new filing version."""
        with self._db.write(actor) as tx:
            row = tx.execute(
                "SELECT filing, filing_version, status FROM institutions WHERE code = ?", (inst.code,)
            ).fetchone()
            if row is None:
                raise NotFound(f"机构 {inst.code} 未备案", f"institution {inst.code} is not filed")
            if row[2] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {inst.code} 已{row[2]}，不能重新备案", f"institution {inst.code} is {row[2]}"
                )
            now, version = tx.at, row[1] + 1
            filing = institution_to_dict(inst)
            tx.execute(
                "UPDATE institutions SET name_zh = ?, filing = ?, filing_version = ? WHERE code = ?",
                (inst.name_zh, _canonical(filing), version, inst.code),
            )
            tx.execute("INSERT INTO filing_history VALUES (?,?,?,?)", (inst.code, version, now, _canonical(filing)))
            tx.log(inst.code, Refiled(previous=json.loads(row[0]), filing=filing))
            return int(version)

    def retire(self, code: str, *, on: date, reason: str, actor: str, merged_into: str | None = None) -> None:
        """Cancel an institution (or record its merger into another); its code is retired for good."""
        with self._db.write(actor) as tx:
            row = tx.execute("SELECT status FROM institutions WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise NotFound(f"机构 {code} 未备案", f"institution {code} is not filed")
            if row[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(f"机构 {code} 已是 {row[0]} 状态", f"institution {code} is already {row[0]}")
            if merged_into is not None:
                target = tx.execute("SELECT status FROM institutions WHERE code = ?", (merged_into,)).fetchone()
                if target is None or target[0] != InstitutionStatus.ACTIVE or merged_into == code:
                    raise RuleViolation(
                        f"并入机构 {merged_into} 不存在或不在有效状态",
                        f"institution {merged_into} to merge into is not filed or not active",
                    )
            status = InstitutionStatus.MERGED if merged_into else InstitutionStatus.CANCELLED
            tx.execute(
                "UPDATE institutions SET status = ?, status_date = ?, merged_into = ? WHERE code = ?",
                (status.value, on.isoformat(), merged_into, code),
            )
            tx.execute("INSERT INTO retired_codes VALUES (?,?,?)", (code, on.isoformat(), reason))
            kind = Merged if merged_into else Cancelled
            tx.log(code, kind(was_status=row[0], status=status.value, on=on, reason=reason, merged_into=merged_into))

    def get(self, code: str) -> Institution:
        row = self._db.execute(
            "SELECT filing, status, status_date, merged_into FROM institutions WHERE code = ?", (code,)
        ).fetchone()
        if row is None:
            raise NotFound(f"机构 {code} 未备案", f"institution {code} is not filed")
        d = json.loads(row[0])
        d.update(status=row[1], status_date=row[2], merged_into=row[3])
        return institution_from_dict(d)

    def all(self) -> list[Institution]:
        codes = [r[0] for r in self._db.execute("SELECT code FROM institutions ORDER BY code")]
        return [self.get(c) for c in codes]

    def retired_codes(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self._db.execute("SELECT code, retired_on, reason FROM retired_codes ORDER BY code")]
