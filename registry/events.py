"""Every action the audit log records, as a typed event (the encoder and decoder are in
:mod:`registry._event_base`). The payload keys are those the log has always used, so entries
written before the events were declared decode as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from ._event_base import EVENTS, Event, Payload, decode, event

__all__ = [
    "EVENTS",
    "BatchImported",
    "BlankDestroyed",
    "BlankPrinted",
    "BlankSpoiled",
    "BlanksReceived",
    "Cancelled",
    "Corrected",
    "Delivered",
    "Event",
    "Filed",
    "IdentityFiled",
    "Imported",
    "Issued",
    "Merged",
    "ProofAdded",
    "ProofDelivered",
    "Refiled",
    "Reissued",
    "Renewed",
    "ReportResubmitted",
    "ReportReturned",
    "Reported",
    "Revoked",
    "SnapshotPublished",
    "StatusChange",
    "Suspended",
    "Unsuspended",
    "decode",
]


# -- batches and certificates ------------------------------------------------------------------
@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BatchImported(Event):
    ACTION: ClassVar[str] = "import"
    ENTITY: ClassVar[str] = "batch"
    institution_code: str
    source: str
    sha256: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Imported(Event):
    """A result row became a pending certificate record."""

    ACTION: ClassVar[str] = "import"
    ENTITY: ClassVar[str] = "certificate"
    batch: int
    row: int
    name: str
    id_type: str
    id_number: str
    occupation: str
    job: str
    level: int
    photo_sha256: str
    work_unit: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Issued(Event):
    ACTION: ClassVar[str] = "issue"
    ENTITY: ClassVar[str] = "certificate"
    BEFORE: ClassVar[dict[str, str]] = {"was_status": "status"}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"qr_token_sha256"})
    was_status: str = "pending"
    number: str
    issue_date: date
    status: str
    qr_token_sha256: str | None = None  # issue events before 2026-12 did not record it


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Corrected(Event):
    """A correction of one field (the payload is keyed by the field's own name)."""

    ACTION: ClassVar[str] = "correct"
    ENTITY: ClassVar[str] = "certificate"
    field: str
    old: str
    new: str
    was_version: int
    version: int
    reason: str
    approved_by: str
    approval_ref: str = ""
    on: date

    def encode(self) -> tuple[Payload | None, Payload]:
        return {self.field: self.old, "version": self.was_version}, {
            "field": self.field,
            self.field: self.new,
            "version": self.version,
            "reason": self.reason,
            "approved_by": self.approved_by,
            "approval_ref": self.approval_ref,
            "on": self.on,
        }

    @classmethod
    def decode(cls, before: Payload | None, after: Payload | None) -> Corrected:
        b, a = before or {}, after or {}
        f = str(a["field"])
        return cls(
            field=f,
            old=str(b[f]),
            new=str(a[f]),
            was_version=int(b.get("version", int(a["version"]) - 1)),
            version=int(a["version"]),
            reason=str(a["reason"]),
            approved_by=str(a["approved_by"]),
            approval_ref=str(a.get("approval_ref") or ""),
            on=date.fromisoformat(str(a["on"])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange(Event):
    """Revocation, suspension, lifting it: the internal reason and the one the site may show."""

    ENTITY: ClassVar[str] = "certificate"
    BEFORE: ClassVar[dict[str, str]] = {"was_status": "status"}
    VERSION: ClassVar[int] = 1
    was_status: str
    status: str
    on: date
    reason: str
    public_reason: str | None = None

    @classmethod
    def upgrade(cls, before: Payload, after: Payload) -> tuple[Payload, Payload]:
        # entries from before the two reasons were separated have one, which was public then
        if "public_reason" not in after:
            after = {**after, "public_reason": after.get("reason")}
        return before, after


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Revoked(StatusChange):
    ACTION: ClassVar[str] = "revoke"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    benefits_cancelled: bool | None = None
    commitment_sha256: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Suspended(StatusChange):
    ACTION: ClassVar[str] = "suspend"


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Unsuspended(StatusChange):
    ACTION: ClassVar[str] = "unsuspend"


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Reported(Event):
    ACTION: ClassVar[str] = "report"
    ENTITY: ClassVar[str] = "certificate"
    reported_on: date
    to: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Reissued(Event):
    """A replacement (补发): a new version with a new QR token (its digest only)."""

    ACTION: ClassVar[str] = "reissue"
    ENTITY: ClassVar[str] = "certificate"
    BEFORE: ClassVar[dict[str, str]] = {"was_version": "version"}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"qr_token_sha256"})
    was_version: int
    version: int
    on: date
    applied_on: date
    service_due: date
    within_service_time: bool
    damaged_original_returned: bool
    qr_token_sha256: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ProofAdded(Event):
    ACTION: ClassVar[str] = "proof"
    ENTITY: ClassVar[str] = "certificate"
    proof_number: str
    version: int
    on: date
    applied_on: date
    service_due: date
    within_service_time: bool


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ProofDelivered(Event):
    ACTION: ClassVar[str] = "deliver_proof"
    ENTITY: ClassVar[str] = "certificate"
    proof_number: str
    pdf_sha256: str
    file: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Resealed(Event):
    """A certificate's personal fields sealed again under another data key (``skillcert keys
    rotate``): the very values the table now holds, so the replay stays exact without any key."""

    ACTION: ClassVar[str] = "reseal"
    ENTITY: ClassVar[str] = "certificate"
    key: str  # the data key's id (a hash prefix, not the key)
    name: str
    id_number: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class KeysRotated(Event):
    """A new data key became the one that seals; ``previous`` is kept for what it sealed."""

    ACTION: ClassVar[str] = "rotate"
    ENTITY: ClassVar[str] = "data_key"
    previous: str | None  # None: the register was in clear
    key: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered(Event):
    ACTION: ClassVar[str] = "deliver"
    ENTITY: ClassVar[str] = "certificate"
    version: int
    pdf_sha256: str
    file: str
    level: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Renewed(Event):
    """A delivered file extended with a new archive timestamp (its predecessor's digest before)."""

    ACTION: ClassVar[str] = "renew"
    ENTITY: ClassVar[str] = "certificate"
    BEFORE: ClassVar[dict[str, str]] = {"previous_sha256": "pdf_sha256"}
    previous_sha256: str
    version: int
    pdf_sha256: str
    renew_by: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReturned(Event):
    ACTION: ClassVar[str] = "report_return"
    ENTITY: ClassVar[str] = "certificate"
    BEFORE: ClassVar[dict[str, str]] = {"reported_on": "reported_on"}
    reported_on: str | None
    returned_on: date
    reason: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResubmitted(Event):
    ACTION: ClassVar[str] = "report_resubmit"
    ENTITY: ClassVar[str] = "certificate"
    returned_on: str
    resubmitted_on: date

    def encode(self) -> tuple[Payload | None, Payload]:
        return {"returned_on": self.returned_on, "resubmitted_on": None}, {
            "returned_on": self.returned_on,
            "resubmitted_on": self.resubmitted_on,
        }


# -- institutions ---------------------------------------------------------------------------------
@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Filed(Event):
    """An institution's filing, as stored (``filings.institution_to_dict``)."""

    ACTION: ClassVar[str] = "file"
    ENTITY: ClassVar[str] = "institution"
    filing: dict[str, Any]

    def encode(self) -> tuple[Payload | None, Payload]:
        return None, dict(self.filing)

    @classmethod
    def decode(cls, before: Payload | None, after: Payload | None) -> Filed:
        return cls(filing=dict(after or {}))


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Refiled(Event):
    ACTION: ClassVar[str] = "refile"
    ENTITY: ClassVar[str] = "institution"
    previous: dict[str, Any]
    filing: dict[str, Any]

    def encode(self) -> tuple[Payload | None, Payload]:
        return dict(self.previous), dict(self.filing)

    @classmethod
    def decode(cls, before: Payload | None, after: Payload | None) -> Refiled:
        return cls(previous=dict(before or {}), filing=dict(after or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Retired(Event):
    ENTITY: ClassVar[str] = "institution"
    BEFORE: ClassVar[dict[str, str]] = {"was_status": "status"}
    was_status: str
    status: str
    on: date
    reason: str
    merged_into: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(_Retired):
    ACTION: ClassVar[str] = "cancel"


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Merged(_Retired):
    ACTION: ClassVar[str] = "merge"


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityFiled(Event):
    """A signing identity's certificate filed for the institution (its SHA-256 fingerprint)."""

    ACTION: ClassVar[str] = "identity"
    ENTITY: ClassVar[str] = "institution"
    identity: str
    seal_kind: str
    fingerprint: str
    not_after: str


# -- blank certificate sheets (空白证书台账) ------------------------------------------------------
@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BlanksReceived(Event):
    ACTION: ClassVar[str] = "blank_receive"
    ENTITY: ClassVar[str] = "blank_receipt"
    id: int
    institution_code: str
    received_on: date
    first_serial: str
    last_serial: str
    count: int
    source: str
    note: str = ""


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BlankPrinted(Event):
    ACTION: ClassVar[str] = "blank_print"
    ENTITY: ClassVar[str] = "blank_sheet"
    BEFORE: ClassVar[dict[str, str]] = {"was_state": "state"}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"replaces"})
    was_state: str = "in_stock"
    state: str = "printed"
    on: date
    certificate_id: int
    number: str
    replaces: list[str] | None = None  # the sheets printed before for the certificate (a replacement)


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BlankSpoiled(Event):
    ACTION: ClassVar[str] = "blank_spoil"
    ENTITY: ClassVar[str] = "blank_sheet"
    BEFORE: ClassVar[dict[str, str]] = {"was_state": "state"}
    was_state: str = "in_stock"
    state: str = "spoiled"
    on: date
    reason: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BlankDestroyed(Event):
    ACTION: ClassVar[str] = "blank_destroy"
    ENTITY: ClassVar[str] = "blank_sheet"
    BEFORE: ClassVar[dict[str, str]] = {"was_state": "state", "spoiled_on": "on", "spoil_reason": "reason"}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"spoiled_on", "spoil_reason"})
    was_state: str
    spoiled_on: date | None = None
    spoil_reason: str | None = None
    state: str = "destroyed"
    on: date
    reason: str
    witness: str


# -- snapshots ----------------------------------------------------------------------------------
@event
@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotPublished(Event):
    """A snapshot was published; it signed the checkpoint at ``audit_seq`` entries."""

    ACTION: ClassVar[str] = "publish"
    ENTITY: ClassVar[str] = "snapshot"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"applied"})
    incremental: bool
    audit_seq: int
    certificates: int
    applied: int | None = None  # an incremental publish: the certificates it rewrote
