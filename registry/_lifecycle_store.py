"""The registry's part for the life of a certificate after issue (SPEC §4): corrections,
suspension, reissue (补发) and lost-certificate proofs (证明).

Every change keeps the old data readable: the superseded version goes to
``certificate_versions`` and the audit entry records before and after, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ._certificates_store import Certificates, cert_data
from ._coverage import qr_token_digest
from ._db import Database, Tx
from ._institutions_store import Institutions
from ._personal import id_at, name_at
from .errors import NotFound, Problem, RuleViolation
from .events import (
    Corrected,
    ProofAdded,
    ProofDelivered,
    Reissued,
    Revoked,
    StatusChange,
    Suspended,
    Unsuspended,
    decode,
)
from .fields import FIELD_LINE_UNITS, clean_value, wrap_units
from .ids import check_id
from .models import Certificate, CertStatus
from .photo_rule import photo_problem

__all__ = ["Correction", "CorrectionField", "Lifecycle", "Proof", "SupersededToken", "VersionEvent", "check_photo"]


class CorrectionField(StrEnum):
    """What a correction may change (000_… 第十七条, 004_… 第十四条): nothing else."""

    NAME = "name"
    ID_NUMBER = "id_number"
    PHOTO = "photo_sha256"


_LABEL = {
    CorrectionField.NAME: ("姓名", "name"),
    CorrectionField.ID_NUMBER: ("证件号码", "ID number"),
    CorrectionField.PHOTO: ("照片", "photo"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    certificate_id: int
    number: str
    field: CorrectionField
    before: str
    after: str
    reason: str
    approved_by: str
    approval_ref: str
    on: str
    version: int  # the version the correction created


@dataclass(frozen=True, slots=True, kw_only=True)
class Proof:
    proof_number: str
    certificate_id: int
    version: int
    applied_on: date
    issued_on: date
    pdf_sha256: str | None
    file_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionEvent:
    """What ended a version of a certificate: a correction (更正) or a reissue (补发), and when."""

    version: int  # the version the event created (the previous one was superseded)
    action: str  # "correct" or "reissue"
    on: str  # the date of the correction or replacement, ISO


@dataclass(frozen=True, slots=True, kw_only=True)
class SupersededToken:
    """A QR token a reissue retired: the old paper still carries it (never printed or logged)."""

    version: int  # the last version that carried it
    token: str
    replaced_on: str  # the replacement date, ISO


def check_photo(data: bytes) -> tuple[Problem, ...]:
    """A replacement photo: the import's rule (:func:`registry.photo_rule.photo_problem`)."""
    problem = photo_problem(data)
    return () if problem is None else (problem,)


class Lifecycle:
    """After issue: corrections, status, reissue, proofs (``reg.lifecycle``)."""

    def __init__(self, db: Database, certificates: Certificates, institutions: Institutions) -> None:
        self._db = db
        self._certs = certificates
        self._institutions = institutions

    # -- reading ---------------------------------------------------------------------------
    def _events(self, certificate_id: int, *actions: str) -> Iterator[Any]:
        """The certificate's declared events of these actions, oldest first."""
        q = ",".join("?" * len(actions))
        rows = self._db.execute(
            "SELECT action, before, after FROM audit WHERE entity = 'certificate' AND entity_key = ? "
            f"AND action IN ({q}) ORDER BY seq",
            (str(certificate_id), *actions),
        )
        for action, before, after in rows:
            yield decode("certificate", action, json.loads(before) if before else None, json.loads(after or "null"))

    def corrections(self, certificate_id: int) -> list[Correction]:
        """Every correction of the certificate, oldest first (the original values stay readable)."""
        c = self._certs.by_id(certificate_id)
        return [
            Correction(
                certificate_id=certificate_id,
                number=str(c.number),
                field=CorrectionField(e.field),
                before=self._opened(certificate_id, e.field, e.old),
                after=self._opened(certificate_id, e.field, e.new),
                reason=e.reason,
                approved_by=e.approved_by,
                approval_ref=e.approval_ref,
                on=e.on.isoformat(),
                version=e.version,
            )
            for e in self._events(certificate_id, "correct")
        ]

    def _opened(self, cid: int, field: str, stored: str) -> str:
        """A logged or kept value of a personal field, opened (other fields are as they are)."""
        at = {"name": name_at, "id_number": id_at}.get(field)
        return stored if at is None else self._certs.personal.open_text(stored, at(cid))

    def status_event(self, certificate_id: int) -> tuple[str, str] | None:
        """(date, public reason or "") of the last revocation or suspension, if any.

        The internal reason stays in the audit log; entries from before the two were separated
        have only one reason, which was public then and stays so (:meth:`StatusChange.upgrade`)."""
        last: StatusChange | None = None
        for e in self._events(certificate_id, "revoke", "suspend"):
            last = e
        return None if last is None else (last.on.isoformat(), last.public_reason or "")

    def version_history(self, certificate_id: int) -> list[dict[str, Any]]:
        """The superseded versions' data, oldest first."""
        rows = self._db.execute(
            "SELECT version, data, superseded_at FROM certificate_versions WHERE certificate_id = ? ORDER BY version",
            (certificate_id,),
        )
        out = []
        for v, d, at in rows:
            data = json.loads(d)
            data.pop("qr_token", None)  # a retired QR token is a credential of the old paper: never shown
            for f in ("name", "id_number"):
                if isinstance(data.get(f), str):
                    data[f] = self._opened(certificate_id, f, data[f])
            out.append({"version": v, "superseded_at": at, **data})
        return out

    def version_events(self, certificate_id: int) -> list[VersionEvent]:
        """Every correction and reissue of the certificate, oldest first."""
        return [
            VersionEvent(version=e.version, action=e.ACTION, on=e.on.isoformat())
            for e in self._events(certificate_id, "correct", "reissue")
        ]

    def superseded_tokens(self, certificate_id: int) -> list[SupersededToken]:
        """The QR tokens reissues retired (a reissue gives the new paper a new token), oldest first."""
        dates = {e.version: e.on for e in self.version_events(certificate_id) if e.action == "reissue"}
        rows = self._db.execute(
            "SELECT version, data FROM certificate_versions WHERE certificate_id = ? ORDER BY version",
            (certificate_id,),
        )
        out = []
        for version, data in rows:
            token = json.loads(data).get("qr_token")
            if token and version + 1 in dates:
                out.append(SupersededToken(version=int(version), token=str(token), replaced_on=dates[version + 1]))
        return out

    def version_event(self, certificate_id: int) -> tuple[str, str] | None:
        """(action, date) that made the current version — a correction or a reissue — if any."""
        events = self.version_events(certificate_id)
        return (events[-1].action, events[-1].on) if events else None

    def replacement_date(self, certificate_id: int) -> date | None:
        """The replacement (补发) date, when the current version is a reissue."""
        ev = self.version_event(certificate_id)
        return date.fromisoformat(ev[1]) if ev and ev[0] == "reissue" else None

    def proofs(self, certificate_id: int) -> list[Proof]:
        rows = self._db.execute(
            "SELECT proof_number, certificate_id, version, applied_on, issued_on, pdf_sha256, file_name "
            "FROM proofs WHERE certificate_id = ? ORDER BY proof_number",
            (certificate_id,),
        )
        return [_proof(r) for r in rows]

    def proof_files(self, certificate_ids: Sequence[int]) -> dict[int, list[str]]:
        """The SHA-256 of each certificate's delivered proofs, by proof number — for many
        certificates in one query (a snapshot build)."""
        out: dict[int, list[str]] = {cid: [] for cid in certificate_ids}
        if not certificate_ids:
            return out
        q = ",".join("?" * len(certificate_ids))
        for cid, sha in self._db.execute(
            f"SELECT certificate_id, pdf_sha256 FROM proofs WHERE certificate_id IN ({q}) "
            "AND pdf_sha256 IS NOT NULL ORDER BY certificate_id, proof_number",
            tuple(certificate_ids),
        ):
            out[int(cid)].append(str(sha))
        return out

    def proof(self, proof_number: str) -> Proof:
        row = self._db.execute(
            "SELECT proof_number, certificate_id, version, applied_on, issued_on, pdf_sha256, file_name "
            "FROM proofs WHERE proof_number = ?",
            (proof_number,),
        ).fetchone()
        if row is None:
            raise NotFound(f"证明 {proof_number} 不在登记簿中", f"proof {proof_number} is not in the register")
        return _proof(row)

    # -- changes ---------------------------------------------------------------------------
    def _live(self, number: str, what: tuple[str, str]) -> Certificate:
        c = self._certs.get(number)
        if c.status is CertStatus.REVOKED:
            raise RuleViolation(
                f"证书 {number} 已撤销，不能{what[0]}", f"certificate {number} is revoked and cannot be {what[1]}"
            )
        if c.status is CertStatus.SUSPENDED:
            raise RuleViolation(
                f"证书 {number} 暂停中，请先解除暂停再{what[0]}",
                f"certificate {number} is suspended: lift the suspension before it can be {what[1]}",
            )
        if c.status is not CertStatus.VALID:
            raise RuleViolation(f"证书 {number} 尚未签发", f"certificate {number} has not been issued")
        return c

    @staticmethod
    def _new_version(tx: Tx, c: Certificate, now: str, *, retire_token: bool = False) -> int:
        """Keep the current version's data; ``retire_token``: with its QR token (a reissue replaces it)."""
        data = cert_data(c) | ({"qr_token": c.qr_token} if retire_token and c.qr_token else {})
        stored = tx.one("SELECT name, id_number FROM certificates WHERE id = ?", (c.id,))
        if stored is not None:  # the personal fields kept as the table holds them (sealed, with keys)
            data["name"], data["id_number"] = stored
        tx.execute(
            "INSERT INTO certificate_versions VALUES (?,?,?,?)",
            (c.id, c.version, json.dumps(data, ensure_ascii=False, sort_keys=True, default=str), now),
        )
        return c.version + 1

    def correct(
        self,
        number: str,
        *,
        field: CorrectionField,
        value: str | None = None,
        photo: bytes | None = None,
        reason: str,
        approved_by: str,
        approval_ref: str = "",
        on: date,
        actor: str,
    ) -> Certificate:
        """Correct the name, the ID number or the photo, as a new version of the same number.

        Refused: any other field; both the name and the ID number over the certificate's life
        (000_… 第十七条); a second correction where the institution allows one (Guangdong, 004_…
        三(一)); a revoked or suspended certificate; no reason or approver.
        """
        c = self._live(number, ("更正", "corrected"))
        if not reason.strip() or not approved_by.strip():
            raise RuleViolation(
                "更正须写明原因并经批准（原因、批准人）", "a correction needs a written reason and who approved it"
            )
        previous = self.corrections(c.id)
        inst = self._institutions.get(c.institution_code)
        if inst.one_modification_only and previous:
            raise RuleViolation(
                f"证书 {number} 已修改过一次，本机构每张证书只能申请一次修改",
                f"certificate {number} was already modified once; this institution allows one modification request",
            )
        done = {p.field for p in previous}
        other = {CorrectionField.NAME: CorrectionField.ID_NUMBER, CorrectionField.ID_NUMBER: CorrectionField.NAME}
        if field in other and other[field] in done:
            raise RuleViolation(
                f"证书 {number} 已更正过{_LABEL[other[field]][0]}，姓名和证件号码只能更正其中一项",
                f"certificate {number} already had its {_LABEL[other[field]][1]} corrected: only one of name "
                "and ID number may ever be corrected",
            )
        if field is CorrectionField.PHOTO:
            if not photo:
                raise RuleViolation("请提供新照片", "give the new photo")
            problems = check_photo(photo)
            if problems:
                raise RuleViolation("新照片不符合要求", "the new photo is not acceptable", problems=problems)
            new = hashlib.sha256(photo).hexdigest()
        elif field is CorrectionField.NAME:
            new, problems_l = clean_value(value or "", "姓名 name")
            if not problems_l and wrap_units(new, FIELD_LINE_UNITS["name"]) is None:
                problems_l.append(Problem(zh="姓名过长", en="the name is too long to print", field="姓名 name"))
            if problems_l:
                raise RuleViolation("新姓名不符合要求", "the new name is not acceptable", problems=problems_l)
        else:
            doc, problems_t = check_id(c.id_type, value or "", today=on)
            if doc is None:
                raise RuleViolation("新证件号码无效", "the new ID number is not valid", problems=problems_t)
            new = doc.number
        old = str(getattr(c, field.value))
        if new == old:
            raise RuleViolation(
                f"新{_LABEL[field][0]}与原来相同", f"the new {_LABEL[field][1]} is the same as the current one"
            )
        p = self._certs.personal
        with self._db.write(actor) as tx:
            now = tx.at
            version = self._new_version(tx, c, now)
            stored_old, stored_new = old, new  # what the table and the log hold: sealed personal fields
            extra, params = "", tuple[str | None, ...]()
            if photo is not None:
                tx.execute("INSERT INTO photos VALUES (?, ?) ON CONFLICT DO NOTHING", (new, p.photo(photo, new)))
            elif field is CorrectionField.NAME:
                row = tx.one("SELECT name FROM certificates WHERE id = ?", (c.id,))
                stored_old, stored_new = str(row[0]) if row else old, p.text(new, name_at(c.id))
            else:
                row = tx.one("SELECT id_number FROM certificates WHERE id = ?", (c.id,))
                stored_old, stored_new = str(row[0]) if row else old, p.text(new, id_at(c.id))
                extra, params = ", id_hash = ?", (p.id_key(new),)
            tx.execute(
                f"UPDATE certificates SET {field.value} = ?, version = ?, updated_at = ?{extra} WHERE id = ?",
                (stored_new, version, now, *params, c.id),
            )
            tx.log(
                str(c.id),
                Corrected(
                    field=field.value,
                    old=stored_old,
                    new=stored_new,
                    was_version=c.version,
                    version=version,
                    reason=reason,
                    approved_by=approved_by,
                    approval_ref=approval_ref,
                    on=on,
                ),
            )
        return self._certs.by_id(c.id)

    def revoke(
        self,
        number: str,
        *,
        reason: str,
        on: date,
        benefits_cancelled: bool,
        commitment_sha256: str | None,
        actor: str,
        public_reason: str | None = None,
    ) -> None:
        """Logical revocation (000_… 第十八条, 004_… 第十五条): only once the holder's
        certificate-linked benefits were cancelled (the commitment letter, 004_… 附件5-2).
        ``reason`` stays internal (the audit log); only ``public_reason`` is published."""
        if not benefits_cancelled:
            raise RuleViolation(
                "撤销前须确认持证人相关待遇已取消（--benefits-cancelled-confirmed）",
                "confirm first that the holder's certificate-linked benefits were cancelled "
                "(--benefits-cancelled-confirmed)",
            )
        self._set_status(
            number,
            Revoked,
            CertStatus.REVOKED,
            reason=reason,
            on=on,
            actor=actor,
            public_reason=public_reason,
            benefits_cancelled=True,
            commitment_sha256=commitment_sha256,
        )

    def suspend(self, number: str, *, reason: str, on: date, actor: str, public_reason: str | None = None) -> None:
        """Suspend suspicious data from query (004_… 第十七条)."""
        c = self._certs.get(number)
        if c.status is not CertStatus.VALID:
            raise RuleViolation(
                f"证书 {number} 状态为 {c.status.value}，不能暂停", f"certificate {number} is {c.status.value}"
            )
        self._set_status(
            number, Suspended, CertStatus.SUSPENDED, reason=reason, on=on, actor=actor, public_reason=public_reason
        )

    def unsuspend(self, number: str, *, reason: str, on: date, actor: str) -> None:
        c = self._certs.get(number)
        if c.status is not CertStatus.SUSPENDED:
            raise RuleViolation(f"证书 {number} 没有被暂停", f"certificate {number} is not suspended")
        self._set_status(number, Unsuspended, CertStatus.VALID, reason=reason, on=on, actor=actor)

    def _set_status(
        self,
        number: str,
        kind: type[StatusChange],
        status: CertStatus,
        *,
        reason: str,
        on: date,
        actor: str,
        public_reason: str | None = None,
        **extra: Any,
    ) -> None:
        """The one path every status change takes (the rules are in the public methods above)."""
        if not reason.strip():
            raise RuleViolation("必须写明原因", "a reason is required")
        public = (public_reason or "").strip() or None
        with self._db.write(actor) as tx:
            row = tx.one(
                "SELECT c.id, c.status FROM certificates c JOIN issued_numbers n ON n.certificate_id = c.id "
                "WHERE n.number = ?",
                (number,),
            )
            if row is None:
                raise NotFound(f"证书 {number} 不在登记库中", f"certificate {number} is not in the registry")
            if row[1] == CertStatus.REVOKED:
                raise RuleViolation(f"证书 {number} 已被撤销", f"certificate {number} is already revoked")
            tx.execute("UPDATE certificates SET status = ?, updated_at = ? WHERE id = ?", (status.value, tx.at, row[0]))
            tx.log(
                str(row[0]),
                kind(was_status=row[1], status=status.value, on=on, reason=reason, public_reason=public, **extra),
            )

    def reissue(
        self, number: str, *, applied_on: date, on: date, service_due: date, damaged_returned: bool, actor: str
    ) -> Certificate:
        """A replacement certificate (补发): the same number, a new version dated ``on``, a new QR token.

        The old paper keeps its token, which now resolves to "replaced on ``on``" (the retired
        token is kept with the superseded version; the audit entry records the new token's digest).
        ``service_due`` is 5 working days after the application (001_… 第十三条); a returned
        damaged original is logged.
        """
        c = self._live(number, ("补发", "reissued"))
        if on < applied_on:
            raise RuleViolation("补发日期早于申请日期", "the replacement date is before the application date")
        token = secrets.token_urlsafe(16)
        with self._db.write(actor) as tx:
            now = tx.at
            version = self._new_version(tx, c, now, retire_token=True)
            tx.execute(
                "UPDATE certificates SET version = ?, qr_token = ?, updated_at = ? WHERE id = ?",
                (version, token, now, c.id),
            )
            tx.log(
                str(c.id),
                Reissued(
                    was_version=c.version,
                    version=version,
                    on=on,
                    applied_on=applied_on,
                    service_due=service_due,
                    within_service_time=on <= service_due,
                    damaged_original_returned=damaged_returned,
                    qr_token_sha256=qr_token_digest(token),
                ),
            )
        return self._certs.by_id(c.id)

    def add_proof(self, number: str, *, applied_on: date, on: date, service_due: date, actor: str) -> Proof:
        """Register a lost-certificate proof (职业技能等级证书证明, 001_… 附件4) with its own number.

        Proof numbers run per institution and year: ``<institution code>ZM<yy><serial 6>``.
        """
        c = self._live(number, ("出具证明", "given a proof"))
        if on < applied_on:
            raise RuleViolation("出具日期早于申请日期", "the proof date is before the application date")
        with self._db.write(actor) as tx:
            now = tx.at
            row = tx.execute(
                "SELECT last_serial FROM proof_counters WHERE institution_code = ? AND year = ?",
                (c.institution_code, on.year),
            ).fetchone()
            serial = (int(row[0]) if row else 0) + 1
            if serial > 999_999:
                raise RuleViolation(f"{on.year} 年证明序号已用尽", f"proof serials for {on.year} are exhausted")
            tx.execute(
                "INSERT INTO proof_counters VALUES (?,?,?) ON CONFLICT (institution_code, year) "
                "DO UPDATE SET last_serial = excluded.last_serial",
                (c.institution_code, on.year, serial),
            )
            proof_number = f"{c.institution_code}ZM{on.year % 100:02d}{serial:06d}"
            tx.execute(
                "INSERT INTO proofs VALUES (?,?,?,?,?,NULL,NULL,?)",
                (proof_number, c.id, c.version, applied_on.isoformat(), on.isoformat(), now),
            )
            tx.log(
                str(c.id),
                ProofAdded(
                    proof_number=proof_number,
                    version=c.version,
                    on=on,
                    applied_on=applied_on,
                    service_due=service_due,
                    within_service_time=on <= service_due,
                ),
            )
        return self.proof(proof_number)

    def record_proof_pdf(self, proof_number: str, *, pdf_sha256: str, file_name: str, actor: str) -> None:
        """The sealed proof's SHA-256, once (what the site's upload check compares with)."""
        p = self.proof(proof_number)
        if p.pdf_sha256 is not None:
            if p.pdf_sha256 == pdf_sha256:
                return
            raise RuleViolation(f"证明 {proof_number} 已签章交付", f"proof {proof_number} was already sealed")
        with self._db.write(actor) as tx:
            tx.execute(
                "UPDATE proofs SET pdf_sha256 = ?, file_name = ? WHERE proof_number = ?",
                (pdf_sha256, file_name, proof_number),
            )
            tx.log(
                str(p.certificate_id), ProofDelivered(proof_number=proof_number, pdf_sha256=pdf_sha256, file=file_name)
            )


def _proof(r: tuple[Any, ...]) -> Proof:
    return Proof(
        proof_number=r[0],
        certificate_id=r[1],
        version=r[2],
        applied_on=date.fromisoformat(r[3]),
        issued_on=date.fromisoformat(r[4]),
        pdf_sha256=r[5],
        file_name=r[6],
    )
