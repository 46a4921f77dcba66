"""The institution clerk at the CLI (issue 13, items 7-13): refusals before anything is numbered,
the demo PKI growing with the filings, the public and internal revocation reasons, the Excel
template and the certificate list, and import messages for the common Excel accidents."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from registry import Registry, institution_from_toml
from skillcert.cli import cli
from skillcert.demo import DEMO_DIR
from skillcert.demo_job import run_demo
from skillcert.seals import setup_demo_pki
from skillcert.settings import Settings

from .conftest import DEMO_CODES, DemoHome, add_pending

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]
NEW = "S000011084013"  # filed after the demo PKI was made
Run = Callable[..., Result]


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "concurrent.futures" not in stderr, stderr
    assert "错误：" in stderr and "Error: " in stderr, stderr


def _new_filing(tmp_path: Path) -> Path:
    text = (DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")
    path = tmp_path / "new.toml"
    path.write_text(text.replace(BJ, NEW).replace("明德", "明理").replace("Mingde", "Mingli"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's institutions and imported batches, no keys, nothing issued (made once, copied per test)."""
    home = tmp_path_factory.mktemp("clerk") / "home"
    run_demo(
        Settings.from_env({"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"}),
        today=date(2026, 11, 20),
        issue=False,
    )
    return home


@pytest.fixture
def home(base_home: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base_home, tmp_path / "home"))


@pytest.fixture
def run(home: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("SKILLCERT_HOME", str(home))
    monkeypatch.setenv("SKILLCERT_ACTOR", "clerk")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def _subprocess(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCERT_")}
    return subprocess.run(
        [sys.executable, "-m", "skillcert", *args],
        env={**base, "SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "clerk", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- item 7: a key that cannot seal never becomes a traceback ------------------------------------
def test_sign_with_a_key_that_does_not_open_is_one_bilingual_error(demo_home: DemoHome, tmp_path: Path) -> None:
    """``skillcert sign`` on several files with workers: a key that does not open used to break the
    process pool (BrokenProcessPool traceback); now one bilingual error, exit 10, nothing written."""
    out = tmp_path / "sealed"
    files = [str(p) for p in demo_home.pdfs[:5]]
    r = _subprocess(
        demo_home.home,
        "sign",
        *files,
        "--identity",
        f"{BJ}-institution",
        "--out",
        str(out),
        "--seal-box",
        "1,10,10,80,80",
        "--force",
        "--level",
        "B-B",
        "--workers",
        "2",
        SKILLCERT_DEMO_P12_PASSWORD="not-the-password",
    )
    assert r.returncode == 10, r.stderr
    _no_traceback(r.stderr)
    assert f"{BJ}-institution.p12" in r.stderr
    assert not out.exists() or not list(out.glob("*.pdf"))


def test_a_worker_whose_key_does_not_open_reports_data(demo_home: DemoHome, tmp_path: Path) -> None:
    """Inside a worker the same failure comes back as a failed file with the reason (never an
    exception that would have to unpickle in the parent)."""
    from sign import SealBoxSpec, SealOptions
    from skillcert import signing_job
    from skillcert.seals import identity_spec

    with Registry.open(demo_home.settings.registry_path) as reg:
        spec = identity_spec(reg.seals.identity(f"{BJ}-institution"))
    job = signing_job.SignJob(
        identity=spec,
        box=SealBoxSpec("institution", 0, (10, 10, 80, 80)),
        options=SealOptions(),
        out_dir=tmp_path,
    )
    old = os.environ.get("SKILLCERT_DEMO_P12_PASSWORD")
    os.environ["SKILLCERT_DEMO_P12_PASSWORD"] = "not-the-password"
    try:
        signing_job._init_worker(job)
        result = signing_job._one(demo_home.pdfs[0])
    finally:
        signing_job._STATE.clear()
        os.environ["SKILLCERT_DEMO_P12_PASSWORD"] = old or ""
    assert result.outcome == "failed" and "p12" in result.reason_en and result.reason_zh
    assert not list(tmp_path.iterdir())


# --- item 8: `pki demo` keeps up with the filings -------------------------------------------------
def test_pki_demo_files_keys_for_institutions_filed_later(home: Path, run: Run, tmp_path: Path) -> None:
    from cryptography import x509

    s = Settings.from_env({"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"})
    with Registry.open(s.registry_path) as reg:
        setup_demo_pki(s, reg)
    pki = home / "pki"
    before = {p.relative_to(pki): p.read_bytes() for p in pki.rglob("*") if p.is_file() and p.suffix != ".yml"}
    assert run("institution", "add", "--file", str(_new_filing(tmp_path))).exit_code == 0
    r = run("pki", "demo", "--json")
    assert r.exit_code == 0, r.stderr
    names = [i["name"] for i in json.loads(r.stdout)["identities"]]
    assert f"{NEW}-institution" in names and len(names) == len(set(names))
    for rel, data in before.items():  # nothing made before changed: old seals still chain to the same root
        assert (pki / rel).read_bytes() == data, rel
    new_cert = x509.load_pem_x509_certificate((pki / "certs" / f"{NEW}-institution.pem").read_bytes())
    interm = x509.load_pem_x509_certificate((pki / "certs" / "interm.pem").read_bytes())
    new_cert.verify_directly_issued_by(interm)
    from asn1crypto import pem as asn1pem
    from certomancer.registry import CertLabel

    from sign import DemoPki

    arch = DemoPki.at(pki).architecture()  # what the demo services will sign OCSP/CRLs with: the same CA
    for label in ("root", "interm", f"{BJ}-institution"):
        _, _, der = asn1pem.unarmor((pki / "certs" / f"{label}.pem").read_bytes())
        assert arch.get_cert(CertLabel(label)).dump() == der, label
    assert "明理" in new_cert.subject.rfc4514_string()
    again = json.loads(run("pki", "demo", "--json").stdout)  # idempotent
    assert [i["name"] for i in again["identities"]] == names

    # and the new institution issues with it — into a folder that can be made (else nothing is numbered)
    with Registry.open(s.registry_path) as reg:
        add_pending(reg, 2, code=NEW)
    (tmp_path / "a-file").write_text("x")
    r = run("issue", "--institution", NEW, "--out", str(tmp_path / "a-file" / "out"), "--level", "B-B")
    assert r.exit_code == 1 and "no number was allocated" in r.stderr and "未分配任何编号" in r.stderr, r.stderr
    with Registry.open(s.registry_path) as reg:
        assert not [c for c in reg.certificates.select(institution_code=NEW) if c.number]
    r = run("issue", "--institution", NEW, "--out", str(tmp_path / "out"), "--level", "B-B", "--workers", "1")
    assert r.exit_code == 0, r.stderr
    assert len(list((tmp_path / "out").glob(f"{NEW}*.pdf"))) == 2  # a number begins with the institution code


# --- item 13: the two common Excel accidents -------------------------------------------------------
def _xlsx(path: Path, rows: list[list[object]], *, title: bool = False) -> Path:
    import openpyxl

    from .factory import HEADER

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    if title:
        ws.append(["2026 年第 3 批职业技能等级认定结果（北京市海淀区明德职业技能培训学校）"])
        ws.merge_cells("A1:H1")
        ws.append([None, None, None, None, None, None, None, "制表：张三"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_an_id_stored_as_a_number_gives_only_the_real_message(reg: Registry, photo_dir: Path) -> None:
    from registry import import_results

    from .conftest import TODAY
    from .factory import beijing_rows, write_results

    rows: list[list[object]] = [list(r) for r in beijing_rows(3)]
    rows[1][2] = float(str(rows[1][2]))  # what Excel keeps of an 18-digit number: 15 significant digits
    dry = import_results(reg, _xlsx(photo_dir.parent / "r.xlsx", rows), BJ, today=TODAY, actor="t", dry_run=True)
    assert [p.row for p in dry.problems] == [3], dry.problems
    (p,) = dry.problems
    assert "format the column as text" in p.en and "check" not in p.en and "校验" not in p.zh
    assert "15th" in p.en and "文本" in p.zh and p.field == "证件号码 ID number"

    csv_rows = beijing_rows(2)
    csv_rows[0][2] = "1.10108E+17"  # a CSV saved from Excel
    path = write_results(photo_dir.parent / "r.csv", csv_rows)
    dry = import_results(reg, path, BJ, today=TODAY, actor="t", dry_run=True)
    assert [(p.row, "scientific notation (1.10108E+17)" in p.en) for p in dry.problems] == [(2, True)]


def test_a_title_row_above_the_headers_is_found_and_said(home: Path, run: Run) -> None:
    from .factory import beijing_rows

    batch = home / "batch"
    (batch / "photos").mkdir(parents=True)
    shutil.copy(DEMO_DIR / "photos" / "001.jpg", batch / "photos" / "p.jpg")
    rows: list[list[object]] = [list(r) for r in beijing_rows(4, seed=31)]
    rows[2][5] = "六级"  # sheet row 6: title, note, header, then data from row 4
    path = _xlsx(batch / "r.xlsx", rows, title=True)
    r = run("import", str(path), "--institution", BJ, "--dry-run", "--json")
    assert r.exit_code == 7
    d = json.loads(r.stdout)
    assert d["header_row"] == 3 and [p["row"] for p in d["problems"]] == [6], d["problems"]
    rows[2][5] = "5"
    path = _xlsx(batch / "r.xlsx", rows, title=True)
    r = run("import", str(path), "--institution", BJ)
    assert r.exit_code == 0, r.stderr
    assert "header found on row 3" in r.stdout and "表头在第 3 行" in r.stdout and "missing" not in r.stdout
    assert f"skillcert issue --institution {BJ}" in r.stdout  # the next step


# --- item 10: the internal reason stays internal --------------------------------------------------
def test_revoke_separates_the_internal_reason_from_the_public_one(home: Path, run: Run) -> None:
    from search_index import PairKind, Snapshot

    with Registry.open(home / "registry.sqlite") as reg:
        (cid, number), (cid2, number2), *_ = reg.certificates.issue(GD, date(2026, 11, 20), actor="t")
        c, c2 = reg.certificates.by_id(cid), reg.certificates.by_id(cid2)
    internal = "举报人王某电话 13800000000 反映材料造假"
    public = "以欺骗手段取得 obtained by fraud"
    r = run(
        "revoke",
        number,
        "--reason",
        internal,
        "--public-reason",
        public,
        "--benefits-cancelled-confirmed",
        "--on",
        "2026-11-25",
    )
    assert r.exit_code == 0, r.stderr
    assert f"the public will see: 已撤销 revoked · 2026-11-25 · 原因 reason: {public}" in r.stdout
    assert "internal reason stays in the audit log" in r.stdout and "skillcert publish" in r.stdout
    r = run("revoke", number2, "--reason", internal, "--benefits-cancelled-confirmed", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["public"]["reason"] is None
    assert run("publish", "--json").exit_code == 0
    snap = Snapshot.open(home)
    try:
        view = snap.lookup_by_pair(PairKind.NAME_ID, c.name, c.id_number)
        view2 = snap.lookup_by_pair(PairKind.NAME_ID, c2.name, c2.id_number)
    finally:
        snap.close()
    assert view is not None and view.status == "revoked" and view.status_reason == public
    assert view2 is not None and view2.status == "revoked" and not view2.status_reason
    for f in (home / "snapshots").rglob("*"):  # the internal reason is nowhere in what is published
        assert not f.is_file() or internal.encode() not in f.read_bytes(), f
    with Registry.open(home / "registry.sqlite") as reg:  # but the audit log keeps it
        (entry,) = [e for e in reg.audit.entries(entity="certificate", key=str(cid)) if e.action == "revoke"]
        assert isinstance(entry.after, dict) and entry.after["reason"] == internal
        assert entry.after["public_reason"] == public


# --- item 9: real keys never seal a QR code pointing at this machine ------------------------------
def _own_key(path: Path, password: bytes) -> Path:
    """A PKCS#12 key of the institution's own CA (not the demo PKI's)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "广州市白云工商技师学院")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"seal", key, cert, None, BestAvailableEncryption(password)))
    return path


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost/", True),
        ("http://[::1]:8000", True),
        ("http://0.0.0.0:8000", True),
        ("", True),
        ("https://verify.example.org", False),
        ("http://10.1.2.3", False),
    ],
)
def test_local_site_urls(url: str, local: bool) -> None:
    from skillcert.site_url import is_local_site

    assert is_local_site(url) is local


def test_real_keys_refuse_a_loopback_site_before_numbering(
    home: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLCERT_P12_PASSWORD", "pw")
    key = _own_key(tmp_path / "own.p12", b"pw")
    r = run("identity", "add", "--name", "own", "--institution", GD, "--p12", str(key))
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "out"
    args = ["issue", "--institution", GD, "--out", str(out), "--level", "B-B", "--workers", "1"]
    r = run(*args)
    assert r.exit_code == 10, r.stderr
    _no_traceback(r.stderr)
    assert "http://127.0.0.1:8000" in r.stderr and "site_url" in r.stderr and "--allow-local-site" in r.stderr
    assert "no number was allocated" in r.stderr and "未分配任何编号" in r.stderr
    with Registry.open(home / "registry.sqlite") as reg:
        assert reg.certificates.counts()["valid"] == 0 and not [c for c in reg.certificates.select() if c.number]
    assert not out.exists() or not list(out.iterdir())

    r = run(*args, "--allow-local-site")  # the clerk says it is a test
    assert r.exit_code == 0, r.stderr
    assert "WARNING" in r.stderr and "警告" in r.stderr and len(list(out.glob("*.pdf"))) == 12
    assert "skillcert publish" in r.stdout  # the next step

    # a correction or a reissue is sealed again: refused before anything is recorded
    number = sorted(out.glob("*.pdf"))[0].stem
    r = run("correct", number, "--name", "李四", "--reason", "录入错误", "--approved-by", "中心", "--out", str(out))
    assert r.exit_code == 10 and "site_url" in r.stderr, r.stderr
    r = run("reissue", number, "--applied-on", "2026-11-20", "--on", "2026-11-21", "--out", str(out))
    assert r.exit_code == 10 and "site_url" in r.stderr, r.stderr
    with Registry.open(home / "registry.sqlite") as reg:
        c = reg.certificates.get(number)
        assert c.version == 1 and reg.lifecycle.corrections(c.id) == []


# --- item 11: a template to start from, and an overview of what was issued ------------------------
def test_template_fills_and_imports_back(home: Path, run: Run, tmp_path: Path) -> None:
    import openpyxl

    from registry.tables import LEVELS, level_from_text

    from .factory import beijing_rows

    batch = tmp_path / "batch"
    (batch / "photos").mkdir(parents=True)
    shutil.copy(DEMO_DIR / "photos" / "001.jpg", batch / "photos" / "p.jpg")
    path = batch / "results.xlsx"
    r = run("template", "--institution", BJ, "--out", str(path))
    assert r.exit_code == 0, r.stderr
    assert f"skillcert import {path} --institution {BJ} --dry-run" in r.stdout
    assert not [p.name for p in batch.iterdir() if p.name.startswith(".")]  # no temp file left
    r = run("template", "--institution", BJ, "--out", str(path))  # never over a file that may be filled in
    assert r.exit_code == 1 and "--force" in r.stderr and "错误" in r.stderr

    wb = openpyxl.load_workbook(path)
    data, instructions, lists = wb.worksheets
    assert data.title.startswith("评价结果") and instructions.title.startswith("填写说明")
    assert lists.sheet_state == "hidden" and data.sheet_state == "visible"
    headers = [c.value for c in data[1]]
    assert headers[:3] == ["姓名 Name", "证件类型 ID Type", "证件号码 ID No."]
    assert data.column_dimensions["C"].number_format == "@"
    example = [c.value for c in data[2]]
    assert example[0] == "张三（示例）" and example[1] == "201 居民身份证"
    rules = {str(dv.sqref): dv.formula1 for dv in data.data_validations.dataValidation}
    assert set(rules) == {"B2:B5000", "D2:D5000", "E2:E5000", "F2:F5000"}
    occupations = [c.value for c in lists["B"][1:] if c.value]
    inst = institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8"))
    assert sorted(occupations) == sorted(inst.occupations())
    assert [c.value for c in lists["D"][1:] if c.value] == [
        LEVELS[lv].zh for lv in sorted({lv for s in inst.scope for lv in s.levels}, reverse=True)
    ]
    text = "\n".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
    assert "电焊工" in text and "--dry-run" in text and "photos/001.jpg" in text

    # a clerk fills rows 3.. the way the drop-down lists write them, leaving the example in place
    rows = beijing_rows(6, seed=77)
    for i, (name, _, idn, occ, job, lv, photo, unit) in enumerate(rows, 3):
        level = LEVELS[level_from_text(lv) or 5].zh
        for col, value in enumerate([name, "201 居民身份证", idn, occ, job or "无", level, photo, unit], 1):
            data.cell(row=i, column=col, value=value)
        data.cell(row=i, column=3).number_format = "@"
    wb.save(path)
    r = run("import", str(path), "--institution", BJ, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["rows"] == 6 and d["example_row"] == 2 and d["problems"] == [] and d["ignored_columns"] == []

    # the overview: list by batch, search by name or ID, the next step named
    listed = json.loads(run("certificates", "list", "--batch", str(d["batch_id"]), "--json").stdout)
    assert sorted(c["name"] for c in listed["certificates"]) == sorted(r[0] for r in rows)
    assert {c["status"] for c in listed["certificates"]} == {"pending"}
    r = run("certificates", "list", "--institution", BJ, "--batch", str(d["batch_id"]))
    assert r.exit_code == 0 and "6 found" in r.stdout and f"skillcert issue --institution {BJ}" in r.stdout
    found = json.loads(run("certificates", "search", rows[2][2], "--json").stdout)["certificates"]
    assert [c["name"] for c in found] == [rows[2][0]]
    found = json.loads(run("certificates", "list", "--name", rows[4][0][1:], "--json").stdout)["certificates"]
    assert rows[4][0] in [c["name"] for c in found]
    assert json.loads(run("certificates", "list", "--status", "valid", "--json").stdout)["certificates"] == []
    limited = json.loads(run("certificates", "list", "--limit", "2", "--json").stdout)
    assert len(limited["certificates"]) == 2 and limited["more"] is True


def test_certificates_list_by_issue_date(home: Path, run: Run) -> None:
    with Registry.open(home / "registry.sqlite") as reg:
        issued = reg.certificates.issue(GD, date(2026, 11, 20), actor="t")
    r = run("certificates", "list", "--institution", GD, "--status", "valid", "--from", "2026-11-20", "--json")
    numbers = [c["number"] for c in json.loads(r.stdout)["certificates"]]
    assert sorted(numbers) == sorted(n for _, n in issued) and len(numbers) == 12
    r = run("certificates", "list", "--institution", GD, "--to", "2026-11-19", "--json")
    assert json.loads(r.stdout)["certificates"] == []
    r = run("certificates", "search", numbers[0][:18], "--json")
    assert numbers[0] in [c["number"] for c in json.loads(r.stdout)["certificates"]]


# --- a proof that cannot be sealed uses up no proof number ---------------------------------------
def test_a_proof_that_cannot_be_sealed_uses_up_no_proof_number(demo_home: DemoHome, tmp_path: Path) -> None:
    """``skillcert proof`` asks whether it can seal (keys that open, a TSA, the site) before it
    allocates the proof number: with a key that does not open (a wrong PKCS#12 password) it is
    refused (exit 10) with nothing recorded, and then the first proof still gets serial 000001."""
    import sqlite3

    from click.testing import CliRunner

    from skillcert.cli import cli
    from skillcert.seals import DEMO_PASSWORD_ENV

    home = Path(shutil.copytree(demo_home.home, tmp_path / "home", symlinks=True))
    number = sorted(p.stem for p in (home / "out").glob(f"{BJ}*.pdf"))[0]
    env = {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "clerk"}
    args = ["proof", number, "--applied-on", "2026-11-25", "--on", "2026-11-26", "--json"]
    r = CliRunner().invoke(cli, args, env=env | {DEMO_PASSWORD_ENV: "not-the-password"})
    assert r.exit_code == 10, r.output
    assert "no number was allocated" in r.output or "未分配" in r.output, r.output
    con = sqlite3.connect(home / "registry.sqlite")
    try:
        assert con.execute("SELECT COUNT(*) FROM proofs").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM proof_counters").fetchone()[0] == 0
    finally:
        con.close()
    r = CliRunner().invoke(cli, args, env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["proof_number"] == f"{BJ}ZM26000001"
