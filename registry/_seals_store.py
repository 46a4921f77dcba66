"""The part of the store about seals: signing identities of institutions, and deliveries of
sealed PDFs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._claims_store import Claims
from ._db import Database
from .errors import DeliveryTaken, NotFound, RuleViolation
from .events import Delivered, IdentityFiled, Renewed
from .qr_keys import QR_SEAL_KIND

__all__ = ["Delivery", "IdentityRecord", "Seals"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityRecord:
    """A signing identity filed for one seal of an institution."""

    name: str
    institution_code: str
    seal_kind: str  # "institution" · "issuing" · "competition" · "qr" (the QR and credential key)
    kind: str  # "pkcs12" · "pkcs11"
    location: dict[str, str]
    cert_pem: str
    fingerprint: str
    not_after: str
    added_at: str
    retired_at: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    certificate_id: int
    version: int
    pdf_sha256: str
    file_name: str
    level: str
    delivered_at: str


class Seals:
    """Signing identities and delivered files (``reg.seals``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_identity(self, ident: IdentityRecord, *, actor: str) -> None:
        """File a seal key: its certificate fingerprint becomes part of the institution's filing."""
        with self._db.write(actor) as tx:
            inst = tx.execute(
                "SELECT filing, status FROM institutions WHERE code = ?", (ident.institution_code,)
            ).fetchone()
            if inst is None:
                raise NotFound(
                    f"机构 {ident.institution_code} 未备案", f"institution {ident.institution_code} is not filed"
                )
            if inst[1] != "active":
                raise RuleViolation(
                    f"机构 {ident.institution_code} 已{inst[1]}", f"institution {ident.institution_code} is {inst[1]}"
                )
            kinds = {s["kind"] for s in json.loads(inst[0])["seals"]} | {QR_SEAL_KIND}  # a key purpose, no seal
            if ident.seal_kind not in kinds:
                raise RuleViolation(
                    f"机构未备案“{ident.seal_kind}”印章", f"the institution has no filed {ident.seal_kind!r} seal"
                )
            if tx.execute("SELECT 1 FROM identities WHERE name = ?", (ident.name,)).fetchone():
                raise RuleViolation(f"签名身份 {ident.name} 已存在", f"signing identity {ident.name} exists already")
            tx.execute(
                "INSERT INTO identities VALUES (?,?,?,?,?,?,?,?,?,NULL)",
                (
                    ident.name,
                    ident.institution_code,
                    ident.seal_kind,
                    ident.kind,
                    json.dumps(ident.location),
                    ident.cert_pem,
                    ident.fingerprint,
                    ident.not_after,
                    ident.added_at,
                ),
            )
            tx.log(
                ident.institution_code,
                IdentityFiled(
                    identity=ident.name,
                    seal_kind=ident.seal_kind,
                    fingerprint=ident.fingerprint,
                    not_after=ident.not_after,
                ),
            )

    def identities(self, institution_code: str | None = None) -> list[IdentityRecord]:
        sql = (
            "SELECT * FROM identities" + (" WHERE institution_code = ?" if institution_code else "") + " ORDER BY name"
        )
        rows = self._db.execute(sql, (institution_code,) if institution_code else ()).fetchall()
        return [
            IdentityRecord(
                name=r[0],
                institution_code=r[1],
                seal_kind=r[2],
                kind=r[3],
                location=json.loads(r[4]),
                cert_pem=r[5],
                fingerprint=r[6],
                not_after=r[7],
                added_at=r[8],
                retired_at=r[9],
            )
            for r in rows
        ]

    def identity(self, name: str) -> IdentityRecord:
        for ident in self.identities():
            if ident.name == name:
                return ident
        raise NotFound(f"签名身份 {name} 不存在", f"no signing identity named {name}")

    def filed_fingerprints(self, institution_code: str) -> frozenset[str]:
        return frozenset(i.fingerprint for i in self.identities(institution_code))

    def mark_delivered(
        self,
        certificate_id: int,
        version: int,
        *,
        pdf_sha256: str,
        file_name: str,
        level: str,
        actor: str,
        claim: str | None = None,
    ) -> None:
        """Record the delivered file of a certificate's version — once: a second delivery of the same
        version, or one by an issue run (``claim``) that no longer holds the certificate's lease, is
        refused with :class:`DeliveryTaken` and nothing is written."""
        with self._db.write(actor) as tx:
            now = tx.at
            if tx.one("SELECT 1 FROM deliveries WHERE certificate_id = ? AND version = ?", (certificate_id, version)):
                raise DeliveryTaken(
                    f"证书 #{certificate_id} 第 {version} 版已由另一次签发交付，本次的文件不予记录",
                    f"certificate #{certificate_id} version {version} was delivered by another issue run; "
                    "this run's file is not recorded",
                )
            if claim is not None and not Claims.holds(tx, certificate_id, claim):
                raise DeliveryTaken(
                    f"证书 #{certificate_id} 的签发租约已过期并由另一次签发接手，本次的文件不予记录",
                    f"the lease on certificate #{certificate_id} ran out and another issue run took it over; "
                    "this run's file is not recorded",
                )
            tx.execute(
                "INSERT INTO deliveries VALUES (?,?,?,?,?,?)",
                (certificate_id, version, pdf_sha256, file_name, level, now),
            )
            tx.execute("DELETE FROM issue_claims WHERE certificate_id = ?", (certificate_id,))  # done: no lease
            tx.log(str(certificate_id), Delivered(version=version, pdf_sha256=pdf_sha256, file=file_name, level=level))

    def delivery(self, certificate_id: int) -> Delivery | None:
        """The newest delivered file of the newest version (a renewal's, once renewed)."""
        found = self.deliveries(certificate_id)
        return found[-1] if found else None

    def deliveries(self, certificate_id: int) -> list[Delivery]:
        """Every delivered file, oldest first: each version's delivery, then its renewals."""
        rows = self._db.execute(
            "SELECT certificate_id, version, pdf_sha256, file_name, level, delivered_at, 0 FROM deliveries "
            "WHERE certificate_id = ? UNION ALL "
            "SELECT r.certificate_id, r.version, r.pdf_sha256, d.file_name, 'B-LTA', r.renewed_at, 1 FROM renewals r "
            "JOIN deliveries d ON d.certificate_id = r.certificate_id AND d.version = r.version "
            "WHERE r.certificate_id = ? ORDER BY 2, 7, 6",
            (certificate_id, certificate_id),
        )
        return [
            Delivery(certificate_id=r[0], version=r[1], pdf_sha256=r[2], file_name=r[3], level=r[4], delivered_at=r[5])
            for r in rows
        ]

    def delivered_files(self, certificate_ids: Sequence[int]) -> dict[int, list[str]]:
        """The SHA-256 of every delivered file of each certificate, oldest first, as
        :meth:`deliveries` orders them — for many certificates in one query (a snapshot build)."""
        out: dict[int, list[str]] = {cid: [] for cid in certificate_ids}
        if not certificate_ids:
            return out
        q = ",".join("?" * len(certificate_ids))
        rows = self._db.execute(
            f"SELECT certificate_id, version, pdf_sha256, delivered_at, 0 FROM deliveries WHERE certificate_id IN ({q}) "
            "UNION ALL SELECT r.certificate_id, r.version, r.pdf_sha256, r.renewed_at, 1 FROM renewals r "
            "JOIN deliveries d ON d.certificate_id = r.certificate_id AND d.version = r.version "
            f"WHERE r.certificate_id IN ({q}) ORDER BY 1, 2, 5, 4",
            (*certificate_ids, *certificate_ids),
        )
        for cid, _v, sha, _at, _r in rows:
            out[int(cid)].append(str(sha))
        return out

    def record_renewal(
        self, certificate_id: int, version: int, *, pdf_sha256: str, previous_sha256: str, renew_by: str, actor: str
    ) -> None:
        """A delivered file extended by ``skillcert renew``; the previous file stays a delivered copy."""
        with self._db.write(actor) as tx:
            now = tx.at
            tx.execute(
                "INSERT INTO renewals VALUES (?,?,?,?,?,?)",
                (certificate_id, version, pdf_sha256, previous_sha256, renew_by, now),
            )
            tx.log(
                str(certificate_id),
                Renewed(previous_sha256=previous_sha256, version=version, pdf_sha256=pdf_sha256, renew_by=renew_by),
            )

    def undelivered_ids(self, institution_code: str) -> Iterator[int]:
        """Issued, valid certificates whose current version has no delivered PDF yet, oldest first."""
        rows = self._db.execute(
            "SELECT c.id FROM certificates c WHERE c.institution_code = ? AND c.status = 'valid' AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.certificate_id = c.id AND d.version = c.version) ORDER BY c.id",
            (institution_code,),
        )
        for (cid,) in rows.fetchall():
            yield int(cid)
