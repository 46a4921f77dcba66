"""A certificate check's result as data: the bottom line, each check, and what the snapshot says.

:class:`CheckReport` is what :mod:`verify.check` judges and what the site, the JSON API and
``skillcert verify`` show. It holds the snapshot's masked record (the pages show all of it); its
JSON (:meth:`CheckReport.as_dict`) carries the public record only (:mod:`verify.public_record`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from search_index import SnapshotRecord
from sign import Check, SealStatus

from .public_record import public_record

__all__ = ["VERDICT_TEXT", "CheckReport", "Replaced", "Verdict", "replaced_by"]


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    REPLACED = "replaced"
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"


VERDICT_TEXT: dict[Verdict, tuple[str, str]] = {
    Verdict.VALID: ("有效", "Valid"),
    Verdict.INVALID: ("无效", "Invalid"),
    Verdict.REVOKED: ("已撤销", "Revoked"),
    Verdict.REPLACED: ("已被补发或更正的新版本取代", "Replaced by a newer version"),
    Verdict.SUSPENDED: ("暂停查询", "Suspended"),
    Verdict.UNKNOWN: ("无法确认", "Unknown"),
}


@dataclass(frozen=True, slots=True)
class CheckReport:
    bottom_line: Verdict
    checks: tuple[Check, ...]
    seal: SealStatus | None = None
    record: SnapshotRecord | None = None  # the masked record from the snapshot, when found
    institution_code: str | None = None
    notes: tuple[tuple[str, str], ...] = field(default=())
    replaced: Replaced | None = None  # what superseded this file's version, when it is an old one
    kind: str | None = None  # "credential": the verdict on a credential (.vc.jwt), not on a PDF

    def as_dict(self) -> dict[str, Any]:
        zh, en = VERDICT_TEXT[self.bottom_line]
        return {
            "bottom_line": self.bottom_line.value,
            "zh": zh,
            "en": en,
            "checks": [c.as_dict() for c in self.checks],
            "record": public_record(self.record).as_json() if self.record is not None else None,
            "institution_code": self.institution_code,
            "signatures": self.seal.as_dict()["signatures"] if self.seal else [],
            "replaced": {"on": self.replaced.on, "how": self.replaced.how} if self.replaced else None,
            **({"kind": self.kind} if self.kind else {}),
        }


@dataclass(frozen=True, slots=True)
class Replaced:
    """A newer version superseded the file's: on which date, by a ``reissue`` (补发) or a ``correct``ion."""

    on: str
    how: str

    @property
    def zh_how(self) -> str:
        return "补发" if self.how == "reissue" else "更正"

    @property
    def en_how(self) -> str:
        return "a reissue (补发)" if self.how == "reissue" else "a correction (更正)"


def replaced_by(rec: SnapshotRecord, version: int) -> Replaced | None:
    """What ended ``version`` of the certificate, from the masked record's ``versions``."""
    for v in rec.versions:
        if v.version == version + 1:
            return Replaced(v.on, v.how)
    when = rec.replaced_on  # a snapshot from before the record listed its versions
    return Replaced(when, "") if when else None
