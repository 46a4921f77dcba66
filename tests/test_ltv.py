"""Long-term validity and PDF/A of the sealed demo certificates, judged from outside (issue 12).

Every one of the session's 92 demo files — style (一) ``S000011084012*``, style (二) with two seals
``Y000111020001*``, Guangdong ``S000044012001*`` — is checked for:

- a DSS that holds a current CRL/OCSP for every certificate of every chain except the root
  (signers, the intermediate, the TSA), read back with pyHanko's ``DocumentSecurityStore``;
- an appearance (``/AP /N``) on every widget with a non-zero ``/Rect`` (ISO 19005-2/3 §6.3.3);
- XMP that still says PDF/A-3b and carries the skillcert keywords after pyHanko's rewrite;
- B-LTA (the default level): a document timestamp after the last seal;
- and, the acceptance test, ``pyhanko sign adesverify`` (pyHanko's ETSI EN 319 102-1 engine,
  from pyhanko-cli) calling every seal valid in processes without any network (``unshare -n``).
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from render.pdfa import xmp_properties
from sign.seal import ltv_gaps

from .adesverify import adesverify_offline
from .conftest import DEMO_CODES, DemoHome

STYLES = {"style1": DEMO_CODES["beijing"], "style2": DEMO_CODES["ministry"], "guangdong": DEMO_CODES["guangdong"]}


def _root(demo_home: DemoHome) -> Path:
    return demo_home.home / "pki" / "certs" / "root.pem"


def _by_style(demo_home: DemoHome) -> dict[str, list[Path]]:
    out = {style: [p for p in demo_home.pdfs if p.name.startswith(code)] for style, code in STYLES.items()}
    assert all(out.values()), {k: len(v) for k, v in out.items()}
    return out


def test_dss_covers_every_chain_certificate(demo_home: DemoHome) -> None:
    from pyhanko.keys import load_cert_from_pemder

    roots = [load_cert_from_pemder(str(_root(demo_home)))]
    now = datetime.now(UTC)
    for style, files in _by_style(demo_home).items():
        for f in files:
            assert ltv_gaps(f.read_bytes(), roots, now) == [], (style, f.name)


def test_the_check_sees_a_missing_crl(demo_home: DemoHome) -> None:
    """The completeness check is not vacuous: a file whose DSS lost its CRLs is reported."""
    import pikepdf
    from pyhanko.keys import load_cert_from_pemder

    roots = [load_cert_from_pemder(str(_root(demo_home)))]
    with pikepdf.open(demo_home.pdfs[0]) as pdf:
        del pdf.Root.DSS["/CRLs"]
        buf = io.BytesIO()
        pdf.save(buf)
    gaps = ltv_gaps(buf.getvalue(), roots, datetime.now(UTC))
    assert any("Intermediate" in g for g in gaps) and any("Time Stamping" in g for g in gaps), gaps


def test_every_widget_has_an_appearance(demo_home: DemoHome) -> None:
    import pikepdf

    for style, files in _by_style(demo_home).items():
        for f in files:
            seen = 0
            with pikepdf.open(f) as pdf:
                for page in pdf.pages:
                    for annot in page.get("/Annots", []):
                        x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                        seen += bool(x2 - x1 and y2 - y1)
                        # the invisible document timestamp too: PDF/A-1 and Preflight exempt no widget
                        assert "/AP" in annot and "/N" in annot.AP, (style, f.name, str(annot.get("/T")))
                        assert isinstance(annot.AP.N, pikepdf.Stream) and annot.AP.N.Subtype == "/Form"
            assert seen == (2 if style == "style2" else 1), (style, f.name, seen)


def test_xmp_keeps_pdfa_identification_and_keywords(demo_home: DemoHome) -> None:
    import pikepdf

    for style, files in _by_style(demo_home).items():
        for f in files:
            data = f.read_bytes()
            with pikepdf.open(io.BytesIO(data)) as pdf:
                meta = pdf.open_metadata()
                assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B"), (style, f.name)
            props = xmp_properties(data)
            assert props["number"] == f.stem and props["institutionCode"] == f.stem[:13], (style, f.name, props)
            assert props["kind"] == "certificate"


def test_default_level_is_blta_with_a_document_timestamp(demo_home: DemoHome) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    for style, files in _by_style(demo_home).items():
        for f in files:
            with f.open("rb") as fh:
                sigs = PdfFileReader(fh, strict=False).embedded_signatures
                kinds = [str(s.sig_object_type) for s in sigs]
            assert kinds == ["/Sig"] * (2 if style == "style2" else 1) + ["/DocTimeStamp"], (style, f.name, kinds)


@pytest.mark.slow
@pytest.mark.system
def test_pyhanko_adesverify_offline_passes_every_demo_file(demo_home: DemoHome) -> None:
    """``pyhanko sign adesverify --trust root.pem --trust-replace FILE`` on all 92 files, offline."""
    files = demo_home.pdfs
    assert len(files) == 92
    verdicts = adesverify_offline(_root(demo_home), files)
    bad = {f.name: v for f, v in verdicts.items() if v[0] != "ok" or not v[1]}
    assert not bad, bad
    for f, (_, lines) in verdicts.items():
        # one line per seal (document timestamps are judged as part of each): FIELD:SHA256:VALID
        assert all(ln.endswith(":VALID") for ln in lines), (f.name, lines)
        assert len(lines) == (2 if f.name.startswith(STYLES["style2"]) else 1), (f.name, lines)


@pytest.mark.slow
def test_renew_extends_a_delivered_file_and_the_registry_learns_it(demo_home: DemoHome, tmp_path: Path) -> None:
    """``renew_delivered`` (``skillcert renew``) on a copy of the demo home: the file due gets validation
    data and a fresh document timestamp appended, stays complete, and both hashes are delivered copies."""
    import shutil

    import pikepdf
    from click.testing import CliRunner
    from pyhanko.keys import load_cert_from_pemder

    from registry import Registry
    from sign import DemoPki, Trust, validate_pdf
    from sign.seal import renew_by
    from skillcert.cli import cli
    from skillcert.renew import renew_delivered

    home = tmp_path / "home"
    shutil.copytree(demo_home.home, home, ignore=shutil.ignore_patterns("snapshots", "downloads"))
    code = STYLES["guangdong"]
    files = sorted((home / "out").glob(f"{code}*.pdf"))
    before = {f: f.read_bytes() for f in files}
    due = min(renew_by(d) for d in before.values())
    assert due is not None
    far = (due.date()).replace(year=due.year + 1)
    pki = DemoPki.at(home / "pki")
    roots = (pki.root_cert,)
    with Registry.open(home / "registry.sqlite") as reg:
        listed = renew_delivered(
            reg,
            home / "out",
            before=far,
            tsa_url=pki.tsa_url,
            trust_roots=roots,
            actor="t",
            dry_run=True,
            institution_code=code,
        )
        assert len(listed.items) == len(files) and not any(i.renewed for i in listed.items)
        assert all(f.read_bytes() == before[f] for f in files)  # a dry run writes nothing
        none_due = renew_delivered(
            reg,
            home / "out",
            before=due.date(),
            tsa_url=pki.tsa_url,
            trust_roots=roots,
            actor="t",
            dry_run=True,
            institution_code=code,
        )
        assert none_due.items == []
    # the real command, which starts the demo PKI's TSA/OCSP/CRL for the run as `issue` does
    env = {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "t"}
    r = CliRunner().invoke(cli, ["renew", "--before", far.isoformat(), "--institution", code, "--json"], env=env)
    assert r.exit_code == 0, r.output
    done = json.loads(r.output)
    assert done["due"] == done["renewed"] == len(files), done
    with Registry.open(home / "registry.sqlite") as reg:
        f = files[0]
        new = f.read_bytes()
        assert new.startswith(before[f]) and len(new) > len(before[f])  # an incremental update of the delivered file
        c = reg.certificates.get(f.stem)
        hashes = [d.pdf_sha256 for d in reg.seals.deliveries(c.id)]
        assert hashes == [hashlib.sha256(before[f]).hexdigest(), hashlib.sha256(new).hexdigest()]
        assert reg.seals.delivery(c.id).pdf_sha256 == hashes[-1]  # type: ignore[union-attr]
        ours = validate_pdf(new, Trust(roots=roots, filed_fingerprints=reg.seals.filed_fingerprints(code)))
    assert ours.bottom_line.value == "valid", ours.as_dict()  # our modification policy takes the renewal
    # the audit log replays the renewals: intact as made, and a renewal row no event explains is found
    r = CliRunner().invoke(cli, ["audit", "verify", "--json"], env=env)
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(home / "registry.sqlite")
    with con:
        con.execute(
            "INSERT INTO renewals VALUES (?,?,?,?,?,?)", (c.id, 1, "ab" * 32, hashes[-1], "2031-01-01", "2026-12-02")
        )
    con.close()
    r = CliRunner().invoke(cli, ["audit", "verify", "--json"], env=env)
    assert r.exit_code != 0 and "renewals" in r.output, r.output
    assert ltv_gaps(new, [load_cert_from_pemder(str(pki.root_cert))], datetime.now(UTC)) == []
    new_by = renew_by(new)
    assert new_by is not None and new_by >= renew_by(before[f])  # type: ignore[operator]
    # a renewed file (two document timestamps now) is still VALID for pyHanko's AdES engine offline
    ((result, lines),) = adesverify_offline(pki.root_cert, [f], processes=1).values()
    assert result == "ok" and lines and all(ln.endswith(":VALID") for ln in lines), lines
    with pikepdf.open(f) as pdf:  # and every widget, the new timestamp's too, has an appearance
        assert all("/AP" in a for a in pdf.pages[0].Annots)
