"""What the institution's QR key signs for one document: the QR payload and the holder's credential.

The application joins the register and the signing code here (render knows neither): the claims
are what the paper shows — the holder's name as printed, the masked ID number, the job as
printed, the level, the dates — and the credential's status list index is the certificate's
serial in the register (``Certificate.id``). Without a filed ``qr`` key nothing is signed: the
QR code is the plain URL and no credential is written, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.fields import job_text
from registry.models import Certificate, Institution
from registry.tables import ID_TYPES, LEVELS
from render import DocumentKind
from search_index.privacy import mask_id
from sign.credential import CredentialLabels, make_credential
from sign.qr_key import EcSigner
from sign.qr_payload import QrClaims, sign_payload

__all__ = ["QrSigned", "QrSigning", "credential_labels", "qr_claims"]


def qr_claims(
    record: Certificate, inst: Institution, *, kind: DocumentKind, proof_number: str | None = None
) -> QrClaims:
    """The claims of the QR payload for one document of ``record`` (numbered already)."""
    if record.number is None or record.issue_date is None:
        raise ValueError(f"record {record.id} has no certificate number yet")
    return QrClaims(
        number=record.number,
        name=record.name,
        id_masked=mask_id(record.id_number),
        id_type=record.id_type,
        occupation=record.occupation,
        job=job_text(record.job, inst.variant),
        level=record.level,
        issue_date=record.issue_date,
        institution_code=inst.code,
        kind=kind.value,
        version=record.version,
        proof_number=proof_number,
    )


def credential_labels(record: Certificate, inst: Institution) -> CredentialLabels:
    """The credential's words in both languages, from the register's tables and the filing."""
    level, id_type = LEVELS[record.level], ID_TYPES[record.id_type]
    return CredentialLabels(
        institution_zh=inst.name_zh,
        institution_en=inst.name_en,
        level_zh=level.zh,
        level_en=level.en,
        id_type_zh=id_type.zh,
        id_type_en=id_type.en,
    )


@dataclass(frozen=True, slots=True)
class QrSigned:
    fragment: str  # the QR URL's fragment: a base64url COSE_Sign1
    credential: str | None  # the credential JWT (certificates and replacements; not proofs)


@dataclass(frozen=True, slots=True)
class QrSigning:
    """The institution's QR key and the verification site the credential names (one per process)."""

    signer: EcSigner
    site: str

    def sign(
        self, record: Certificate, inst: Institution, *, kind: DocumentKind, proof_number: str | None = None
    ) -> QrSigned:
        claims = qr_claims(record, inst, kind=kind, proof_number=proof_number)
        fragment = sign_payload(claims, self.signer)
        if kind is DocumentKind.PROOF:
            return QrSigned(fragment, None)
        credential = make_credential(
            claims, credential_labels(record, inst), self.signer, site=self.site, status_index=record.id
        )
        return QrSigned(fragment, credential)
