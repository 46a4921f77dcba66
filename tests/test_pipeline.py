"""The issue pipeline end to end: real PKI on loopback, real processes, SIGKILL and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from registry import Registry, parse_number
from render import Renderer, read_record
from render.record import record_bytes
from sign import PadesLevel, PkiServer, Trust, validate_pdf
from skillcert.demo_job import run_demo
from skillcert.pipeline import IssueOptions, issue_batch
from skillcert.seals import setup_demo_pki
from skillcert.settings import Settings

BJ, Y1, GD = "S000011084012", "Y000111020001", "S000044012001"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Settings]:
    s = Settings.from_env({"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "test"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(s.registry_path) as reg:
        setup_demo_pki(s, reg)
    yield Settings.from_env({"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "test"})


def _pdfsig_all(pdfsig: str, certutil: str, root: Path, files: list[Path], nss: Path) -> None:
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{nss}", "-n", "demo-root", "-t", "CT,C,C", "-a", "-i", str(root)],
        check=True,
        capture_output=True,
    )
    for path in files:
        r = subprocess.run([pdfsig, "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, timeout=60)
        assert r.stdout.count("Signature is Valid") == 2, (path.name, r.stdout)  # both seals of style (二)


@pytest.mark.slow
@pytest.mark.system
def test_batch_bt_and_blt_then_offline(home: Settings, tmp_path: Path, require_program: Callable[[str], str]) -> None:
    from sign import DemoPki

    pki = DemoPki.at(home.home / "pki")
    out = tmp_path / "out"
    with Registry.open(home.registry_path) as reg, PkiServer(pki):
        blt = issue_batch(
            reg,
            IssueOptions(
                institution_code=Y1,
                out_dir=out / "blt",
                issue_date=date(2026, 11, 20),
                level=PadesLevel.B_LTA,
                workers=2,
                tsa_url=home.tsa_url,
                trust_roots=home.trust_roots,
            ),
            render_settings=home.render_settings(),
            actor="t",
        )
        bt = issue_batch(
            reg,
            IssueOptions(
                institution_code=GD,
                out_dir=out / "bt",
                issue_date=date(2026, 11, 20),
                level=PadesLevel.B_T,
                workers=1,
                tsa_url=home.tsa_url,
                trust_roots=home.trust_roots,
            ),
            render_settings=home.render_settings(),
            actor="t",
        )
        filed = {code: reg.seals.filed_fingerprints(code) for code in (Y1, GD)}
        deliveries = {
            c.number: reg.seals.delivery(c.id) for c in reg.certificates.select() if c.institution_code in (Y1, GD)
        }
    assert (blt.numbered, blt.delivered, bt.numbered, bt.delivered) == (20, 20, 12, 12)
    # the PKI server is stopped: B-LT carries its revocation data, B-T cannot be judged offline
    for path in sorted((out / "blt").glob("*.pdf")):
        data = path.read_bytes()
        st = validate_pdf(data, Trust(roots=home.trust_roots, filed_fingerprints=filed[Y1]))
        assert st.bottom_line.value == "valid", (path.name, st.as_dict())
        assert len(st.signatures) == 2
        d = deliveries[path.stem]
        assert d is not None and d.level == "B-LTA" and d.pdf_sha256 == __import__("hashlib").sha256(data).hexdigest()
    for path in sorted((out / "bt").glob("*.pdf")):
        st = validate_pdf(path.read_bytes(), Trust(roots=home.trust_roots, filed_fingerprints=filed[GD]))
        assert st.bottom_line.value == "unknown" and any(
            c.name == "timestamp" and c.outcome.value == "pass" for c in st.checks
        )
    assert not list(out.rglob("*.part"))
    # an independent checker: poppler's pdfsig (NSS) accepts every sealed file of the batch
    _pdfsig_all(
        require_program("pdfsig"),
        require_program("certutil"),
        home.trust_roots[0],
        sorted((out / "blt").glob("*.pdf")),
        tmp_path / "nss",
    )


@pytest.mark.slow
def test_sigkill_in_the_middle_then_resume(home: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "SKILLCERT_HOME": str(home.home), "SKILLCERT_ACTOR": "test"}
    cmd = [
        sys.executable,
        "-m",
        "skillcert",
        "issue",
        "--institution",
        BJ,
        "--out",
        str(out),
        "--level",
        "B-B",
        "--workers",
        "1",
        "--date",
        "2026-11-20",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.pdf"))) < 8:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.read_bytes() for p in out.glob("*.pdf")}
    assert 8 <= len(before) < 60, len(before)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.pdf"))
    assert len(files) == 60 and not list(out.glob(".*"))
    creds = out / "credentials"  # the holder's credential beside each PDF, nothing staged left over
    assert sorted(p.name for p in creds.glob("*.vc.jwt")) == [f"{p.stem}.vc.jwt" for p in files]
    assert not list(creds.glob(".*"))
    for name, data in before.items():  # what was delivered before the kill is untouched
        assert (out / name).read_bytes() == data
    with Registry.open(home.registry_path) as reg, Renderer(home.render_settings()) as renderer:
        certs = list(reg.certificates.select(institution_code=BJ))
        assert len(certs) == 60 and all(c.number for c in certs)
        by_level: dict[int, list[int]] = {}
        for c in certs:
            n = parse_number(c.number or "")
            by_level.setdefault(n.level, []).append(n.serial)
            data = (out / f"{c.number}.pdf").read_bytes()
            rec = read_record(data)
            assert rec is not None and rec["number"] == c.number and rec["name"] == c.name
            d = reg.seals.delivery(c.id)
            assert d is not None and d.pdf_sha256 == __import__("hashlib").sha256(data).hexdigest()
            # one content per certificate: the sealed file starts with exactly what the renderer makes now
            # (with the QR payload it was signed with: an ECDSA signature is new each time)
            payload = str(rec["qr_url"]).partition("#")[2] or None
            credential = record_bytes(data, "credential.vc.jwt")
            rendered = renderer.render(
                c,
                reg.institutions.get(BJ),
                photo=reg.certificates.photo(c.photo_sha256),
                qr_payload=payload,
                credential=credential.decode("ascii") if credential else None,
            )
            assert payload and data.startswith(rendered.pdf)
        for serials in by_level.values():
            assert sorted(serials) == list(range(1, len(serials) + 1))  # no gap, no duplicate
        assert reg.audit.verify_chain() is None
        assert sum(1 for e in reg.audit.entries(entity="certificate") if e.action == "deliver") == 60


def test_sign_existing_pdfs(home: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from registry.models import Style
    from skillcert.cli import cli
    from skillcert.preview import preview_record

    src = tmp_path / "in"
    src.mkdir()
    with Renderer() as r:
        for i in range(5):
            rec, inst, photo = preview_record(Style.STYLE1, row=i)
            (src / f"doc{i}.pdf").write_bytes(r.render(rec, inst, photo=photo).pdf)
    (src / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    env = {"SKILLCERT_HOME": str(home.home), "SKILLCERT_ACTOR": "t"}
    runner = CliRunner(env=env)
    files = sorted(str(p) for p in src.glob("*.pdf"))
    args = [
        "sign",
        *files,
        "--identity",
        f"{BJ}-institution",
        "--out",
        str(tmp_path / "out"),
        "--seal-box",
        "1,141.7,150.2,113.4,113.4",
        "--level",
        "B-B",
        "--workers",
        "1",
        "--json",
    ]
    res = runner.invoke(cli, args, catch_exceptions=False)
    import json

    d = json.loads(res.stdout)
    assert res.exit_code == 11 and d["counts"] == {"signed": 5, "done": 0, "skipped": 0, "failed": 1}
    assert {Path(f["source"]).name for f in d["files"] if f["outcome"] == "failed"} == {"broken.pdf"}
    for i in range(5):  # inputs untouched, outputs sealed
        assert not validate_pdf((src / f"doc{i}.pdf").read_bytes(), Trust(roots=home.trust_roots)).signatures
        st = validate_pdf((tmp_path / "out" / f"doc{i}.pdf").read_bytes(), Trust(roots=home.trust_roots))
        assert len(st.signatures) == 1 and all(c.outcome.value != "fail" for c in st.checks)
    again = runner.invoke(
        cli,
        [
            "sign",
            *(str(tmp_path / "out" / f"doc{i}.pdf") for i in range(5)),
            "--identity",
            f"{BJ}-institution",
            "--out",
            str(tmp_path / "out2"),
            "--seal-box",
            "1,100,100,100,100",
            "--level",
            "B-B",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert json.loads(again.stdout)["counts"]["skipped"] == 5
    same_dir = runner.invoke(
        cli,
        [
            "sign",
            str(src / "doc0.pdf"),
            "--identity",
            f"{BJ}-institution",
            "--out",
            str(src),
            "--seal-box",
            "1,100,100,100,100",
            "--level",
            "B-B",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert json.loads(same_dir.stdout)["counts"]["failed"] == 1 and (src / "doc0.pdf").read_bytes().startswith(b"%PDF")


def test_issue_on_paper_draws_blank_serials(home: Settings, tmp_path: Path) -> None:
    """``issue --paper``: each certificate prints the serial of the blank sheet it is drawn on."""
    import pypdfium2 as pdfium

    from registry.errors import RuleViolation

    out = tmp_path / "out"
    opts = IssueOptions(
        institution_code=GD, out_dir=out, issue_date=date(2026, 11, 20), level=PadesLevel.B_B, paper=True
    )
    with Registry.open(home.registry_path) as reg:
        reg.blanks.receive(
            GD,
            first_serial="GD2026000001",
            last_serial="GD2026000010",
            on=date(2026, 11, 2),
            source="省职业技能鉴定中心",
            actor="t",
        )
        with pytest.raises(RuleViolation):  # 12 certificates, 10 sheets: refused before anything renders
            issue_batch(reg, opts, render_settings=home.render_settings(), actor="t")
        assert not list(out.glob("*.pdf")) and reg.blanks.stock(GD)["in_stock"] == 10
        reg.blanks.receive(
            GD,
            first_serial="GD2026000011",
            last_serial="GD2026000020",
            on=date(2026, 11, 3),
            source="省职业技能鉴定中心",
            actor="t",
        )
        summary = issue_batch(reg, opts, render_settings=home.render_settings(), actor="t")
        assert summary.delivered == 12 and reg.blanks.stock(GD)["printed"] == 12
        printed = {s.certificate_number: s.serial for s in reg.blanks.sheets(GD, state="printed")}
    for path in sorted(out.glob("*.pdf")):
        text = pdfium.PdfDocument(path.read_bytes())[0].get_textpage().get_text_range()
        assert printed[path.stem] in text, path.name
