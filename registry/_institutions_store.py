"""The part of the store about institutions: filings, re-filings, cancellation, mergers and
the retired-code list (废置库). Mixed into :class:`registry.store.Registry`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from .audit import _canonical
from .errors import NotFound, RuleViolation
from .filings import institution_from_dict, institution_to_dict
from .models import Institution, InstitutionStatus

__all__ = ["InstitutionsMixin"]


class InstitutionsMixin:
    _conn: sqlite3.Connection
    _write: Callable[[], AbstractContextManager[sqlite3.Cursor]]
    _now: Callable[[], str]
    _audit: Callable[[sqlite3.Cursor, str, str], Any]

    def add_institution(self, inst: Institution, *, actor: str) -> None:
        """File a new institution; refuses a code that exists or is retired (废置库)."""
        with self._write() as cur:
            retired = cur.execute(
                "SELECT retired_on, reason FROM retired_codes WHERE code = ?", (inst.code,)
            ).fetchone()
            if retired:
                raise RuleViolation(
                    f"机构编码 {inst.code} 已于 {retired[0]} 列入废置库（{retired[1]}），不得再次赋予",
                    f"institution code {inst.code} was retired on {retired[0]} ({retired[1]}) and is never reassigned",
                )
            if cur.execute("SELECT 1 FROM institutions WHERE code = ?", (inst.code,)).fetchone():
                raise RuleViolation(
                    f"机构 {inst.code} 已备案；变更请用重新备案",
                    f"institution {inst.code} is already filed; use re-filing to change it",
                )
            now = self._now()
            filing = institution_to_dict(inst)
            cur.execute(
                "INSERT INTO institutions (code, name_zh, variant, status, filing, created_at) VALUES (?,?,?,?,?,?)",
                (inst.code, inst.name_zh, inst.variant.value, inst.status.value, _canonical(filing), now),
            )
            cur.execute("INSERT INTO filing_history VALUES (?,?,?,?)", (inst.code, 1, now, _canonical(filing)))
            audit = self._audit(cur, now, actor)
            audit.add("file", "institution", inst.code, None, filing)
            audit.flush()

    def refile_institution(self, inst: Institution, *, actor: str) -> int:
        """Record a changed filing (name, seal, style or scope); returns the new filing version."""
        with self._write() as cur:
            row = cur.execute(
                "SELECT filing, filing_version, status FROM institutions WHERE code = ?", (inst.code,)
            ).fetchone()
            if row is None:
                raise NotFound(f"机构 {inst.code} 未备案", f"institution {inst.code} is not filed")
            if row[2] != InstitutionStatus.ACTIVE:
                raise RuleViolation(
                    f"机构 {inst.code} 已{row[2]}，不能重新备案", f"institution {inst.code} is {row[2]}"
                )
            now, version = self._now(), row[1] + 1
            filing = institution_to_dict(inst)
            cur.execute(
                "UPDATE institutions SET name_zh = ?, filing = ?, filing_version = ? WHERE code = ?",
                (inst.name_zh, _canonical(filing), version, inst.code),
            )
            cur.execute("INSERT INTO filing_history VALUES (?,?,?,?)", (inst.code, version, now, _canonical(filing)))
            audit = self._audit(cur, now, actor)
            audit.add("refile", "institution", inst.code, json.loads(row[0]), filing)
            audit.flush()
            return int(version)

    def retire_institution(
        self, code: str, *, on: date, reason: str, actor: str, merged_into: str | None = None
    ) -> None:
        """Cancel an institution (or record its merger into another); its code is retired for good."""
        with self._write() as cur:
            row = cur.execute("SELECT status FROM institutions WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise NotFound(f"机构 {code} 未备案", f"institution {code} is not filed")
            if row[0] != InstitutionStatus.ACTIVE:
                raise RuleViolation(f"机构 {code} 已是 {row[0]} 状态", f"institution {code} is already {row[0]}")
            if merged_into is not None:
                target = cur.execute("SELECT status FROM institutions WHERE code = ?", (merged_into,)).fetchone()
                if target is None or target[0] != InstitutionStatus.ACTIVE or merged_into == code:
                    raise RuleViolation(
                        f"并入机构 {merged_into} 不存在或不在有效状态",
                        f"institution {merged_into} to merge into is not filed or not active",
                    )
            status = InstitutionStatus.MERGED if merged_into else InstitutionStatus.CANCELLED
            cur.execute(
                "UPDATE institutions SET status = ?, status_date = ?, merged_into = ? WHERE code = ?",
                (status.value, on.isoformat(), merged_into, code),
            )
            cur.execute("INSERT INTO retired_codes VALUES (?,?,?)", (code, on.isoformat(), reason))
            audit = self._audit(cur, self._now(), actor)
            audit.add(
                "merge" if merged_into else "cancel",
                "institution",
                code,
                {"status": row[0]},
                {"status": status.value, "on": on, "reason": reason, "merged_into": merged_into},
            )
            audit.flush()

    def institution(self, code: str) -> Institution:
        row = self._conn.execute(
            "SELECT filing, status, status_date, merged_into FROM institutions WHERE code = ?", (code,)
        ).fetchone()
        if row is None:
            raise NotFound(f"机构 {code} 未备案", f"institution {code} is not filed")
        d = json.loads(row[0])
        d.update(status=row[1], status_date=row[2], merged_into=row[3])
        return institution_from_dict(d)

    def institutions(self) -> list[Institution]:
        codes = [r[0] for r in self._conn.execute("SELECT code FROM institutions ORDER BY code")]
        return [self.institution(c) for c in codes]

    def retired_codes(self) -> list[tuple[str, str, str]]:
        return [
            tuple(r) for r in self._conn.execute("SELECT code, retired_on, reason FROM retired_codes ORDER BY code")
        ]
