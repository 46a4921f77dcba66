"""The audit log's declared events: every action the store writes is a declared event whose
encoding is exactly what the log holds; older shapes still decode; a newer or broken one does not."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import date
from pathlib import Path

import pytest

from registry import Registry
from registry._lifecycle_store import CorrectionField
from registry._seals_store import IdentityRecord
from registry.errors import RegistryError
from registry.events import (
    EVENTS,
    Corrected,
    Issued,
    Revoked,
    SnapshotPublished,
    decode,
)
from registry.models import CertStatus

from .conftest import DEMO_CODES, add_pending
from .factory import photo_bytes

BJ = DEMO_CODES["beijing"]
DAY = date(2026, 3, 2)


def _busy(reg: Registry) -> None:
    """One registry that has done every kind of change the store knows."""
    add_pending(reg, 6)
    issued = reg.certificates.issue(BJ, DAY, actor="t")
    n = [number for _, number in issued]
    reg.lifecycle.correct(
        n[0], field=CorrectionField.NAME, value="李四", reason="录入错误", approved_by="王五", on=DAY, actor="t"
    )
    reg.lifecycle.correct(
        n[1],
        field=CorrectionField.PHOTO,
        photo=photo_bytes(99),
        reason="照片有误",
        approved_by="王五",
        on=DAY,
        actor="t",
    )
    reg.lifecycle.suspend(n[2], reason="核查中", on=DAY, actor="t", public_reason="核查中 under review")
    reg.lifecycle.unsuspend(n[2], reason="核查完毕", on=DAY, actor="t")
    reg.lifecycle.revoke(
        n[3], reason="以欺骗手段取得", on=DAY, benefits_cancelled=True, commitment_sha256="ab" * 32, actor="t"
    )
    reg.lifecycle.reissue(n[4], applied_on=DAY, on=DAY, service_due=date(2026, 3, 9), damaged_returned=True, actor="t")
    proof = reg.lifecycle.add_proof(n[5], applied_on=DAY, on=DAY, service_due=date(2026, 3, 9), actor="t")
    reg.lifecycle.record_proof_pdf(proof.proof_number, pdf_sha256="cd" * 32, file_name="p.pdf", actor="t")
    c = reg.certificates.get(n[5])
    reg.seals.mark_delivered(c.id, c.version, pdf_sha256="ef" * 32, file_name="c.pdf", level="B-LTA", actor="t")
    reg.seals.record_renewal(
        c.id, c.version, pdf_sha256="12" * 32, previous_sha256="ef" * 32, renew_by="2036-01-01", actor="t"
    )
    reg.certificates.mark_reported([c.id], on=DAY, actor="t", target="省平台")
    reg.returns.mark_returned([n[5]], on=DAY, reason="照片不清", actor="t")
    reg.returns.mark_resubmitted([n[5]], on=DAY, actor="t")
    reg.blanks.receive(BJ, first_serial="BJ2026000001", last_serial="BJ2026000005", on=DAY, source="印制厂", actor="t")
    reg.blanks.draw(BJ, c.id, on=DAY, actor="t")
    reg.blanks.spoil("BJ2026000002", on=DAY, reason="卡纸", actor="t")
    reg.blanks.destroy(["BJ2026000002", "BJ2026000003"], on=DAY, reason="作废销毁", witness="赵六", actor="t")
    reg.institutions.refile(dataclasses.replace(reg.institutions.get(BJ), name_en="Renamed Centre"), actor="t")
    reg.seals.add_identity(
        IdentityRecord(
            name="bj-seal",
            institution_code=BJ,
            seal_kind=reg.institutions.get(BJ).seals[0].kind,
            kind="pkcs12",
            location={"path": "seal.p12"},
            cert_pem="-----BEGIN CERTIFICATE-----",
            fingerprint="34" * 32,
            not_after="2030-01-01",
            added_at="2026-03-02T00:00:00+00:00",
        ),
        actor="t",
    )
    reg.institutions.retire(DEMO_CODES["guangdong"], on=DAY, reason="撤销", actor="t")
    reg.institutions.retire(DEMO_CODES["ministry"], on=DAY, reason="合并", merged_into=BJ, actor="t")
    reg.audit.record("s1", SnapshotPublished(incremental=False, audit_seq=1, certificates=6), actor="t")
    with tempfile.TemporaryDirectory() as keys:  # a register in clear, encrypted by its first rotation
        reg.keys.rotate(Path(keys), actor="t")


def test_every_entry_is_a_declared_event_encoded_exactly_as_logged(reg: Registry) -> None:
    _busy(reg)
    seen = set()
    raw = reg.db.execute("SELECT entity, action, before, after FROM audit ORDER BY seq")
    for entity, action, before, after in raw:
        ev = decode(entity, action, json.loads(before) if before else None, json.loads(after))
        assert ev is not None, f"{entity}/{action} is written but not declared"
        b, a = ev.encode()
        assert json.loads(json.dumps(a, default=str)) == json.loads(after), (entity, action)
        assert json.loads(json.dumps(b, default=str)) == (json.loads(before) if before else None), (entity, action)
        seen.add((entity, action))
    assert seen == set(EVENTS), f"declared but never exercised here: {set(EVENTS) - seen}"
    assert reg.audit.verify().ok


def test_older_shapes_decode_and_newer_ones_are_refused() -> None:
    old_issue = Issued.decode({"status": "pending"}, {"number": "X", "issue_date": "2026-03-02", "status": "valid"})
    assert old_issue.qr_token_sha256 is None and old_issue.issue_date == DAY
    # before the internal and the public reason were separated, the one reason was public
    old_revoke = Revoked.decode({"status": "valid"}, {"status": "revoked", "on": "2026-03-02", "reason": "公开的理由"})
    assert old_revoke.public_reason == "公开的理由"
    with pytest.raises(RegistryError, match="newer"):
        Issued.decode(None, {"number": "X", "issue_date": "2026-03-02", "status": "valid", "v": 2})
    with pytest.raises(RegistryError, match="lacks the field number"):
        Issued.decode(None, {"issue_date": "2026-03-02", "status": "valid"})
    assert decode("certificate", "something-new", None, {}) is None


def test_readers_use_the_declared_events(reg: Registry) -> None:
    _busy(reg)
    first = reg.certificates.select(institution_code=BJ).__next__()
    fixes = reg.lifecycle.corrections(first.id)
    assert [(f.field, f.after) for f in fixes] == [(CorrectionField.NAME, "李四")]
    e = next(x for x in reg.audit.entries(entity="certificate", key=str(first.id)) if x.action == "correct")
    assert isinstance(e.event(), Corrected)
    revoked = next(c for c in reg.certificates.select(status=CertStatus.REVOKED))
    assert reg.lifecycle.status_event(revoked.id) == ("2026-03-02", "")  # the internal reason is never public
