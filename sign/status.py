"""What validating a sealed PDF finds, as data: each check with its outcome and bilingual reason,
each signature's report, and the bottom line (DESIGN house style 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from registry.errors import ExitCode, SkillcertError

__all__ = ["BottomLine", "Check", "Outcome", "SealStatus", "SignatureReport", "Trust", "UnreadablePdf"]


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


class BottomLine(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class UnreadablePdf(SkillcertError):
    exit_code = ExitCode.UNREADABLE_PDF


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    outcome: Outcome
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "outcome": self.outcome.value, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class SignatureReport:
    field: str
    signer: str
    fingerprint: str
    signing_time: str | None
    timestamp_time: str | None
    ades: str
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class SealStatus:
    bottom_line: BottomLine
    checks: tuple[Check, ...]
    signatures: tuple[SignatureReport, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "bottom_line": self.bottom_line.value,
            "checks": [c.as_dict() for c in self.checks],
            "signatures": [
                {
                    "field": s.field,
                    "signer": s.signer,
                    "fingerprint": s.fingerprint,
                    "signing_time": s.signing_time,
                    "timestamp_time": s.timestamp_time,
                    "ades": s.ades,
                    "checks": [c.as_dict() for c in s.checks],
                }
                for s in self.signatures
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trust:
    roots: tuple[Path, ...]
    filed_fingerprints: frozenset[str] | None = None  # the institution's filed seal keys, if known
    online: bool = False  # fetch OCSP/CRL for signatures that carry none (B-B, B-T)
