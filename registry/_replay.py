"""Replaying the audit log: the registry's tables must be exactly what the log says.

The log is hash-chained and its Merkle root is signed at each publish, so it cannot be changed
unseen; replaying it rebuilds every certificate, delivery, proof, institution filing and signing
identity and compares them with the tables. A row edited, inserted or deleted with plain SQL —
bypassing the store — shows up as the first difference, named by table, key and field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Database

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._coverage import qr_token_digest, short_digest
from .errors import RegistryError
from .events import (
    BatchImported,
    Cancelled,
    Corrected,
    Delivered,
    Event,
    Filed,
    IdentityFiled,
    Imported,
    Issued,
    Merged,
    ProofAdded,
    ProofDelivered,
    Refiled,
    Reissued,
    Renewed,
    Reported,
    Resealed,
    StatusChange,
    decode,
)

__all__ = ["Inconsistency", "replay_differences"]

_CERT_FIELDS = (
    "institution_code",
    "name",
    "id_type",
    "id_number",
    "occupation",
    "job",
    "level",
    "photo_sha256",
    "work_unit",
    "status",
    "version",
    "number",
    "issue_date",
    "reported_on",
)
_IMPORTED = ("name", "id_type", "id_number", "occupation", "job", "level", "photo_sha256", "work_unit")


@dataclass(frozen=True, slots=True)
class Inconsistency:
    table: str
    key: str
    field: str
    stored: Any
    logged: Any
    last_seq: int | None  # the last audit entry about this row

    def describe(self) -> tuple[str, str]:
        where = f"{self.table}[{self.key}].{self.field}"
        seq = f"（最后一条相关审计记录 #{self.last_seq}）" if self.last_seq else "（审计日志中没有记录）"
        seq_en = f" (last audit entry about it: #{self.last_seq})" if self.last_seq else " (not in the audit log)"
        return (
            f"{where}：登记库中为 {self.stored!r}，审计日志为 {self.logged!r}{seq}",
            f"{where}: the store has {self.stored!r}, the audit log says {self.logged!r}{seq_en}",
        )


def _events(conn: Database) -> Iterator[tuple[int, str, str, Event | None]]:
    for seq, action, entity, key, before, after in conn.execute(
        "SELECT seq, action, entity, entity_key, before, after FROM audit ORDER BY seq"
    ):
        try:
            ev = decode(entity, action, json.loads(before) if before else None, json.loads(after or "null"))
        except (RegistryError, ValueError, TypeError, KeyError):
            ev = None  # a payload that is not its event's shape: only an edit makes one (the chain says where)
        yield seq, entity, key, ev


def replay_differences(conn: Database) -> Iterator[Inconsistency]:
    """Every difference between the tables and the replayed log, certificates first."""
    batches: dict[str, str] = {}
    certs: dict[int, dict[str, Any]] = {}
    last: dict[tuple[str, str], int] = {}
    deliveries: dict[tuple[int, int], str] = {}
    renewals: set[tuple[int, int, str, str]] = set()  # (certificate, version, new file, the file it extended)
    proofs: dict[str, tuple[int, str | None]] = {}
    filings: dict[str, dict[str, Any]] = {}
    inst_status: dict[str, tuple[str, Any, Any]] = {}
    identities: dict[str, str] = {}
    for seq, entity, key, ev in _events(conn):
        last[(entity, key)] = seq
        match ev:
            case BatchImported():
                batches[key] = ev.institution_code
            case Filed() | Refiled():
                filings[key] = ev.filing
            case Cancelled() | Merged():
                inst_status[key] = (ev.status, ev.on.isoformat(), ev.merged_into)
            case IdentityFiled():
                identities[ev.identity] = ev.fingerprint
            case Imported():
                certs[int(key)] = {
                    **{f: getattr(ev, f) for f in _IMPORTED},
                    "institution_code": batches.get(str(ev.batch)),
                    "status": "pending",
                    "version": 1,
                    "number": None,
                    "issue_date": None,
                    "reported_on": None,
                }
        c = certs.get(int(key)) if entity == "certificate" else None
        if c is None:
            continue  # not a certificate, or one the log does not know (reported below)
        cid = int(key)
        match ev:
            case Issued():
                c.update(number=ev.number, issue_date=ev.issue_date.isoformat(), status=ev.status)
                if ev.qr_token_sha256 is not None:  # issue events before 2026-12 did not record it
                    c["qr_token_sha256"] = ev.qr_token_sha256
            case Delivered():
                deliveries[(cid, ev.version)] = ev.pdf_sha256
            case Renewed():
                renewals.add((cid, ev.version, ev.pdf_sha256, ev.previous_sha256))
            case Corrected():
                c[ev.field] = ev.new
                c["version"] = ev.version
            case Resealed():
                c.update(name=ev.name, id_number=ev.id_number)
            case Reissued():
                c["version"] = ev.version
                if ev.qr_token_sha256 is not None:  # a reissue gives the new paper a new QR token
                    c["qr_token_sha256"] = ev.qr_token_sha256
            case StatusChange():
                c["status"] = ev.status
            case Reported():
                c["reported_on"] = ev.reported_on.isoformat()
            case ProofAdded():
                proofs[ev.proof_number] = (cid, None)
            case ProofDelivered():
                proofs[ev.proof_number] = (cid, ev.pdf_sha256)
    cols = ", ".join(_CERT_FIELDS)
    seen: set[int] = set()
    for row in conn.execute(f"SELECT id, {cols}, qr_token FROM certificate_view ORDER BY id"):
        cid, stored = int(row[0]), dict(zip(_CERT_FIELDS, row[1:-1], strict=True))
        seen.add(cid)
        logged = certs.get(cid)
        ref = last.get(("certificate", str(cid)))
        if logged is None:
            yield Inconsistency("certificates", str(cid), "(row)", "present", "absent", None)
            continue
        for f in _CERT_FIELDS:
            if stored[f] != logged[f]:
                yield Inconsistency("certificates", stored["number"] or str(cid), f, stored[f], logged[f], ref)
        token_digest = None if row[-1] is None else qr_token_digest(str(row[-1]))
        if "qr_token_sha256" in logged and token_digest != logged["qr_token_sha256"]:
            yield Inconsistency(  # digests only: the token is a credential
                "certificates",
                stored["number"] or str(cid),
                "qr_token",
                short_digest(token_digest),
                short_digest(logged["qr_token_sha256"]),
                ref,
            )
    for cid in sorted(set(certs) - seen):
        yield Inconsistency("certificates", str(cid), "(row)", "absent", "present", last.get(("certificate", str(cid))))
    logged_numbers = {c["number"]: cid for cid, c in certs.items() if c["number"] is not None}
    for number, cid in conn.execute("SELECT number, certificate_id FROM issued_numbers ORDER BY number"):
        if logged_numbers.get(number) != cid:
            yield Inconsistency("issued_numbers", str(number), "certificate_id", cid, logged_numbers.get(number), None)
    stored_deliveries = {
        (int(a), int(b)): c for a, b, c in conn.execute("SELECT certificate_id, version, pdf_sha256 FROM deliveries")
    }
    for k in sorted(set(stored_deliveries) | set(deliveries)):
        if stored_deliveries.get(k) != deliveries.get(k):
            yield Inconsistency(
                "deliveries",
                f"{k[0]}/v{k[1]}",
                "pdf_sha256",
                stored_deliveries.get(k),
                deliveries.get(k),
                last.get(("certificate", str(k[0]))),
            )
    stored_renewals = {
        (int(rc), int(rv), str(rn), str(ro))
        for rc, rv, rn, ro in conn.execute("SELECT certificate_id, version, pdf_sha256, previous_sha256 FROM renewals")
    }
    for row in sorted(stored_renewals ^ renewals):
        yield Inconsistency(
            "renewals",
            f"{row[0]}/v{row[1]}",
            "pdf_sha256",
            row[2] if row in stored_renewals else None,
            row[2] if row in renewals else None,
            last.get(("certificate", str(row[0]))),
        )
    stored_proofs = {
        p: (int(c), s) for p, c, s in conn.execute("SELECT proof_number, certificate_id, pdf_sha256 FROM proofs")
    }
    for p in sorted(set(stored_proofs) | set(proofs)):
        if stored_proofs.get(p) != proofs.get(p):
            yield Inconsistency("proofs", p, "certificate_id/pdf_sha256", stored_proofs.get(p), proofs.get(p), None)
    for code, filing, status, status_date, merged in conn.execute(
        "SELECT code, filing, status, status_date, merged_into FROM institutions ORDER BY code"
    ):
        ref = last.get(("institution", code))
        if code not in filings:
            yield Inconsistency("institutions", code, "(row)", "present", "absent", None)
            continue
        if json.loads(filing) != filings[code]:
            yield Inconsistency("institutions", code, "filing", "(edited)", "(as filed)", ref)
        want = inst_status.get(code, ("active", None, None))
        if (status, status_date, merged) != want:
            yield Inconsistency("institutions", code, "status", (status, status_date, merged), want, ref)
    for name, fp in conn.execute("SELECT name, fingerprint FROM identities ORDER BY name"):
        if identities.get(name) != fp:
            yield Inconsistency("identities", name, "fingerprint", fp, identities.get(name), None)
