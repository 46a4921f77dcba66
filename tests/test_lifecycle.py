"""The life of a certificate after issue: corrections, suspension, revocation, reissue, proofs."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from starlette.testclient import TestClient

from registry import Registry
from registry._lifecycle_store import CorrectionField
from registry.errors import RuleViolation
from render import read_record
from sign.credential import verify_credential
from sign.qr_key import public_key_of_pem
from sign.qr_payload import verify_payload
from skillcert.cli import cli
from verify import RateLimit, SiteSettings, create_app

from .conftest import DEMO_CODES, TODAY, DemoHome, add_pending
from .factory import id_number, photo_bytes
from .raw_sql import Raw

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]
ON = date(2026, 3, 10)


def _issued(reg: Registry, code: str = BJ, n: int = 3) -> list[str]:
    add_pending(reg, n, code=code)
    return [num for _, num in reg.certificates.issue(code, TODAY, actor="t")]


def test_correct_name_keeps_the_original_readable(reg: Registry) -> None:
    number = _issued(reg)[0]
    before = reg.certificates.get(number)
    after = reg.lifecycle.correct(
        number,
        field=CorrectionField.NAME,
        value="王 小明",
        reason="录入错误",
        approved_by="市鉴定中心",
        on=ON,
        actor="t",
    )
    assert after.name == "王 小明" and after.version == 2 and after.number == number == before.number
    history = reg.lifecycle.version_history(after.id)
    assert history[0]["version"] == 1 and history[0]["name"] == before.name
    (k,) = reg.lifecycle.corrections(after.id)
    assert (k.field, k.before, k.after, k.approved_by) == (CorrectionField.NAME, before.name, "王 小明", "市鉴定中心")
    assert reg.audit.verify_chain() is None


def test_only_one_of_name_and_id_ever(reg: Registry) -> None:
    number = _issued(reg)[0]
    c = reg.certificates.get(number)
    import random

    new_id = id_number(random.Random(99))
    reg.lifecycle.correct(
        number, field=CorrectionField.ID_NUMBER, value=new_id.lower(), reason="r", approved_by="a", on=ON, actor="t"
    )
    assert reg.certificates.get(number).id_number == new_id
    with pytest.raises(RuleViolation) as e:
        reg.lifecycle.correct(
            number, field=CorrectionField.NAME, value="李四", reason="r", approved_by="a", on=ON, actor="t"
        )
    assert "只能更正其中一项" in e.value.diagnostics() and "only one of name and ID number" in e.value.diagnostics()
    # the photo may still be corrected; the ID may be corrected again
    reg.lifecycle.correct(
        number, field=CorrectionField.PHOTO, photo=photo_bytes(5), reason="r", approved_by="a", on=ON, actor="t"
    )
    assert reg.certificates.get(number).version == 3 and reg.certificates.get(number).name == c.name


def test_correction_refusals(reg: Registry) -> None:
    a, b, _ = _issued(reg)
    kw: dict[str, Any] = {"reason": "r", "approved_by": "a", "on": ON, "actor": "t"}
    with pytest.raises(RuleViolation):  # a bad ID number (check character)
        reg.lifecycle.correct(a, field=CorrectionField.ID_NUMBER, value="110105194912310021", **kw)
    with pytest.raises(RuleViolation):  # a tiny photo
        reg.lifecycle.correct(a, field=CorrectionField.PHOTO, photo=photo_bytes(1, size=(100, 120)), **kw)
    with pytest.raises(RuleViolation):  # no reason
        reg.lifecycle.correct(
            a, field=CorrectionField.NAME, value="李四", reason=" ", approved_by="a", on=ON, actor="t"
        )
    with pytest.raises(RuleViolation):  # unchanged
        reg.lifecycle.correct(a, field=CorrectionField.NAME, value=reg.certificates.get(a).name, **kw)
    reg.lifecycle.revoke(b, reason="虚假", on=ON, benefits_cancelled=True, commitment_sha256=None, actor="t")
    with pytest.raises(RuleViolation) as e:
        reg.lifecycle.correct(b, field=CorrectionField.NAME, value="李四", **kw)
    assert "已撤销" in e.value.diagnostics()
    assert reg.certificates.get(a).version == 1  # nothing was written by the refusals


def test_guangdong_one_modification_request(reg: Registry) -> None:
    assert reg.institutions.get(GD).one_modification_only
    number = _issued(reg, GD, 1)[0]
    kw: dict[str, Any] = {"reason": "r", "approved_by": "a", "on": ON, "actor": "t"}
    reg.lifecycle.correct(number, field=CorrectionField.PHOTO, photo=photo_bytes(3), **kw)
    with pytest.raises(RuleViolation) as e:
        reg.lifecycle.correct(number, field=CorrectionField.NAME, value="李四", **kw)
    assert "只能申请一次修改" in e.value.diagnostics()


def test_revocation_is_logical_and_needs_confirmation(reg: Registry, tmp_path: Path) -> None:
    number, other, _ = _issued(reg)
    reg.lifecycle.reissue(
        other, applied_on=ON, on=ON, service_due=ON, damaged_returned=False, actor="t"
    )  # a superseded version
    reg.lifecycle.add_proof(other, applied_on=ON, on=ON, service_due=ON, actor="t")
    with pytest.raises(RuleViolation):
        reg.lifecycle.revoke(number, reason="r", on=ON, benefits_cancelled=False, commitment_sha256=None, actor="t")
    reg.lifecycle.revoke(
        number, reason="以虚假材料取得", on=ON, benefits_cancelled=True, commitment_sha256="ab" * 32, actor="t"
    )
    assert reg.certificates.get(number).status.value == "revoked"
    assert reg.lifecycle.status_event(reg.certificates.get(number).id) == ("2026-03-10", "")  # the reason is internal
    reg.lifecycle.suspend(other, reason="内部线索", public_reason="数据核查中", on=ON, actor="t")
    assert reg.lifecycle.status_event(reg.certificates.get(other).id) == ("2026-03-10", "数据核查中")
    raw = Raw(reg)
    for sql in (
        "DELETE FROM certificates",
        "DELETE FROM issued_numbers",
        "DELETE FROM certificate_versions",
        "DELETE FROM audit",
        "DELETE FROM proofs",
    ):
        with pytest.raises(raw.Refused):
            raw.execute(sql)
    assert raw.one("SELECT COUNT(*) FROM certificates")[0] == 3
    raw.close()


def test_suspend_and_unsuspend(reg: Registry) -> None:
    number = _issued(reg)[0]
    reg.lifecycle.suspend(number, reason="数据可疑", on=ON, actor="t")
    assert reg.certificates.get(number).status.value == "suspended"
    with pytest.raises(RuleViolation):
        reg.lifecycle.correct(
            number, field=CorrectionField.NAME, value="李四", reason="r", approved_by="a", on=ON, actor="t"
        )
    reg.lifecycle.unsuspend(number, reason="核实无误", on=ON, actor="t")
    assert reg.certificates.get(number).status.value == "valid"
    with pytest.raises(RuleViolation):
        reg.lifecycle.unsuspend(number, reason="again", on=ON, actor="t")


def test_reissue_and_proof_registers(reg: Registry) -> None:
    a, b, _ = _issued(reg)
    c = reg.lifecycle.reissue(
        a, applied_on=date(2026, 3, 5), on=ON, service_due=date(2026, 3, 12), damaged_returned=True, actor="t"
    )
    assert c.version == 2 and c.number == a and reg.lifecycle.replacement_date(c.id) == ON
    p1 = reg.lifecycle.add_proof(b, applied_on=ON, on=ON, service_due=date(2026, 3, 17), actor="t")
    p2 = reg.lifecycle.add_proof(b, applied_on=ON, on=ON, service_due=date(2026, 3, 17), actor="t")
    assert p1.proof_number == f"{BJ}ZM26000001" and p2.proof_number == f"{BJ}ZM26000002"
    reg.lifecycle.record_proof_pdf(p1.proof_number, pdf_sha256="1" * 64, file_name="x.pdf", actor="t")
    with pytest.raises(RuleViolation):
        reg.lifecycle.record_proof_pdf(p1.proof_number, pdf_sha256="2" * 64, file_name="y.pdf", actor="t")
    assert [p.proof_number for p in reg.lifecycle.proofs(reg.certificates.get(b).id)] == [
        p1.proof_number,
        p2.proof_number,
    ]
    after = next(e.after for e in reg.audit.entries(entity="certificate", key=str(c.id)) if e.action == "reissue")
    assert after["damaged_original_returned"] is True and after["within_service_time"] is True


def _site(home: Path) -> TestClient:
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    big = RateLimit(per_minute=100_000, burst=100_000)
    from dataclasses import replace

    return TestClient(create_app(replace(base, lookup_limit=big, qr_limit=big, upload_limit=big)))


def _check(client: TestClient, pdf: bytes) -> dict[str, Any]:
    r = client.post("/api/v1/check", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.slow
def test_end_to_end_lifecycle(demo_home: DemoHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue → correct → old superseded, new valid; revoke → QR page and upload say revoked; proof; reissue."""
    home = tmp_path / "home"
    shutil.copytree(demo_home.home, home, symlinks=True)
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    monkeypatch.setenv("SKILLCERT_ACTOR", "clerk")
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    pdfs = sorted((home / "out").glob("S0000110*.pdf"))
    a, b, c = (read_record(p.read_bytes()) for p in pdfs[:3])
    assert a and b and c
    old_a = pdfs[0].read_bytes()
    # a name correction, with the application table for the authority
    form = tmp_path / "application.xlsx"
    r = run(
        "correct",
        a["number"],
        "--name",
        "周琳芬",
        "--reason",
        "录入错误",
        "--approved-by",
        "市鉴定中心",
        "--approval-ref",
        "京鉴〔2026〕1号",
        "--application",
        str(form),
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["version"] == 2 and json.loads(r.stdout)["delivered"] == 1
    # the clerk is told the old PDF was replaced, a new download code issued, which notice counts
    said = json.loads(r.stdout)
    assert said["old_pdf_replaced"] and said["download_code_renewed"] and not said["qr_code_renewed"]
    notice = Path(said["notice"])
    assert notice == home / "out" / "notices" / f"{a['number']}.txt" and "第 2 版" in notice.read_text("utf-8")
    rows = list(load_workbook(form).active.iter_rows(values_only=True))
    assert any(row[2] == a["number"] and row[5] == "姓名" and row[6] == "周琳芬" for row in rows)
    new_a = pdfs[0].read_bytes()
    assert new_a != old_a and read_record(new_a)["name"] == "周琳芬" and read_record(new_a)["version"] == 2
    # a second correction of the other key is refused with exit 4
    assert (
        run(
            "correct", a["number"], "--id-number", "11010519491231002X", "--reason", "r", "--approved-by", "x"
        ).exit_code
        == 4
    )
    # revoke b (the benefits confirmation is required), reissue c, proof for c
    assert run("revoke", b["number"], "--reason", "虚假材料").exit_code == 4
    assert (
        run(
            "revoke", b["number"], "--reason", "以虚假材料取得", "--benefits-cancelled-confirmed", "--on", "2026-11-25"
        ).exit_code
        == 0
    )
    old_c = pdfs[2].read_bytes()
    r = run("reissue", c["number"], "--applied-on", "2026-11-23", "--on", "2026-11-24", "--damaged-returned")
    assert r.exit_code == 0, r.output
    assert "旧 PDF 已被替换" in r.output and "the old PDF was replaced" in r.output
    assert "新的下载码" in r.output and "new download code" in r.output
    assert f"notices/{c['number']}.txt" in r.output and "二维码" in r.output and "new QR code" in r.output
    assert "✓" in r.output  # within the service time
    new_c = read_record(pdfs[2].read_bytes())
    assert new_c and new_c["version"] == 2 and new_c["qr_url"] != c["qr_url"]  # a new token on the new paper
    r = run("proof", c["number"], "--applied-on", "2026-11-23", "--on", "2026-11-24", "--json")
    assert r.exit_code == 0, r.output
    proof = Path(json.loads(r.stdout)["pdf"])
    # the signed QR payloads and the credentials follow: the corrected version, the replacement, the proof
    with Registry.open(home / "registry.sqlite") as reg:
        keys = [public_key_of_pem(reg.seals.identity(f"{BJ}-qr").cert_pem, institution_code=BJ)]
    cred = verify_credential((home / "out" / "credentials" / f"{a['number']}.vc.jwt").read_text("ascii"), keys)
    assert cred.authentic and cred.claims.version == 2 and cred.claims.name == "周琳芬"
    qr_c = verify_payload(new_c["qr_url"].partition("#")[2], keys)
    assert qr_c.authentic and (qr_c.claims.kind, qr_c.claims.version) == ("replacement", 2)
    proof_rec = read_record(proof.read_bytes()) or {}
    qr_p = verify_payload(str(proof_rec.get("qr_url", "")).partition("#")[2], keys)
    assert qr_p.authentic and (qr_p.claims.kind, qr_p.claims.proof_number) == ("proof", proof.stem)
    assert run("publish", "--incremental").exit_code == 0
    with _site(home) as client:
        assert _check(client, old_a)["bottom_line"] == "replaced"
        assert _check(client, new_a)["bottom_line"] == "valid"
        page = client.get("/" + b["qr_url"].split("/", 3)[3]).text
        assert "已撤销" in page and "2026-11-25" in page
        assert _check(client, pdfs[1].read_bytes())["bottom_line"] == "revoked"
        replaced = _check(client, old_c)
        assert replaced["bottom_line"] == "replaced" and "2026-11-24" in json.dumps(replaced, ensure_ascii=False)
        assert replaced["replaced"] == {"on": "2026-11-24", "how": "reissue"}
        assert _check(client, old_a)["replaced"]["how"] == "correct"
        # the old paper's QR code says replaced (补发) on the date; the new paper's says valid
        old_page = client.get("/" + c["qr_url"].split("/", 3)[3]).text
        assert "verdict-replaced" in old_page and "2026-11-24" in old_page and "补发" in old_page
        new_page = client.get("/" + new_c["qr_url"].split("/", 3)[3]).text
        assert "verdict-valid" in new_page and 'class="photo"' in new_page
        upload = client.post("/check", files={"file": ("c.pdf", old_c, "application/pdf")}).text
        assert "2026-11-24" in upload and "补发" in upload
        assert _check(client, pdfs[2].read_bytes())["bottom_line"] == "valid"
        body = _check(client, proof.read_bytes())
        assert (
            body["bottom_line"] == "valid"
            and {x["check"]: x["outcome"] for x in body["checks"]}["delivered_copy"] == "pass"
        )
        # the masked record follows the correction: the new name finds it, the old pair does not
        assert client.post("/api/v1/query", json={"number": a["number"], "name": "周琳芬"}).json()["found"]
        assert not client.post("/api/v1/query", json={"number": a["number"], "name": a["name"]}).json()["found"]
    with Registry.open(home / "registry.sqlite") as reg:
        assert reg.audit.verify().ok, reg.audit.verify().problems
        cid = reg.certificates.get(c["number"]).id
    raw = sqlite3.connect(home / "registry.sqlite")
    raw.execute("UPDATE certificates SET name = '张冒名' WHERE id = ?", (cid,))
    raw.commit()
    r = run("audit", "verify", "--json")
    assert r.exit_code == 14 and f"certificates[{c['number']}].name" in json.loads(r.stdout)["problems"][0]["en"]
