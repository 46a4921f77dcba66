"""The masked record as the public JSON API serves it (``MaskedRecord`` in :mod:`verify.openapi`).

:func:`public_record` is the one way from what a snapshot stores (:class:`SnapshotRecord`) to what
a stranger is told: each public field is named here, so a field the snapshot gains for its own
use (``proof_sha256``, ``qr_version``, ``id_type_en``, …) never reaches the API by accident, and
a change of the snapshot's storage leaves the API's shape alone. The shape itself is the OpenAPI
schema's; ``tests/test_record_types.py`` holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from search_index import SnapshotRecord

__all__ = ["PublicRecord", "PublicVersion", "public_record"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicVersion:
    version: int
    how: str  # correct (更正) or reissue (补发)
    on: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicRecord:
    """What the API may say of a certificate: masked name and ID, what it says, its status."""

    name: str
    id: str
    id_type: str
    id_type_zh: str
    occupation: str
    job: str
    level: int
    level_zh: str
    level_en: str
    issue_date: str | None
    institution_code: str
    institution_zh: str
    institution_en: str
    style: str
    status: str
    status_date: str | None
    status_reason: str | None
    version: int
    pdf_sha256: tuple[str, ...]
    signer_fingerprints: tuple[str, ...]
    replaced_on: str | None
    replaced_how: str | None  # only on what an old paper's QR token gives after a reissue
    versions: tuple[PublicVersion, ...]

    def as_json(self) -> dict[str, object]:
        """The JSON object of the API (``replaced_how`` only where there is one, as the schema has it)."""
        out: dict[str, object] = {
            "name": self.name,
            "id": self.id,
            "id_type": self.id_type,
            "id_type_zh": self.id_type_zh,
            "occupation": self.occupation,
            "job": self.job,
            "level": self.level,
            "level_zh": self.level_zh,
            "level_en": self.level_en,
            "issue_date": self.issue_date,
            "institution_code": self.institution_code,
            "institution_zh": self.institution_zh,
            "institution_en": self.institution_en,
            "style": self.style,
            "status": self.status,
            "status_date": self.status_date,
            "status_reason": self.status_reason,
            "version": self.version,
            "pdf_sha256": list(self.pdf_sha256),
            "signer_fingerprints": list(self.signer_fingerprints),
            "replaced_on": self.replaced_on,
            "versions": [{"version": v.version, "how": v.how, "on": v.on} for v in self.versions],
        }
        if self.replaced_how is not None:
            out["replaced_how"] = self.replaced_how
        return out


def public_record(rec: SnapshotRecord) -> PublicRecord:
    """The public view of a snapshot's record: the one conversion, field by field."""
    return PublicRecord(
        name=rec.name,
        id=rec.id,
        id_type=rec.id_type,
        id_type_zh=rec.id_type_zh,
        occupation=rec.occupation,
        job=rec.job,
        level=rec.level,
        level_zh=rec.level_zh,
        level_en=rec.level_en,
        issue_date=rec.issue_date,
        institution_code=rec.institution_code,
        institution_zh=rec.institution_zh,
        institution_en=rec.institution_en,
        style=rec.style,
        status=rec.status,
        status_date=rec.status_date,
        status_reason=rec.status_reason,
        version=rec.version,
        pdf_sha256=rec.pdf_sha256,
        signer_fingerprints=rec.signer_fingerprints,
        replaced_on=rec.replaced_on,
        replaced_how=rec.replaced_how,
        versions=tuple(PublicVersion(version=v.version, how=v.how, on=v.on) for v in rec.versions),
    )
