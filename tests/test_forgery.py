"""What the verifier must never call valid: keyless overlays, changes a certification forbids,
forbidden algorithms, malformed validation data (issue 11, items 1, 11, 12, 13).

Each attack is made here from a genuine demo certificate with pyHanko's own incremental writer,
and judged by ``sign.validate_pdf``, by the site's API and by ``skillcert verify``.
"""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from sign import BottomLine, Outcome, SealStatus, Trust, UnreadablePdf, validate_pdf
from skillcert.cli import cli
from verify import RateLimit, SiteSettings, create_app

from .conftest import DemoHome

GENEROUS = RateLimit(per_minute=100_000, burst=100_000)


def _trust(demo_home: DemoHome) -> Trust:
    con = sqlite3.connect(demo_home.home / "registry.sqlite")
    try:
        fps = frozenset(r[0] for r in con.execute("SELECT fingerprint FROM identities"))
    finally:
        con.close()
    return Trust(roots=(demo_home.home / "pki" / "certs" / "root.pem",), filed_fingerprints=fps)


def _check(status: SealStatus, name: str) -> list[Any]:
    return [c for c in status.checks if c.name == name]


def _first(demo_home: DemoHome, prefix: str = "S000011084012") -> bytes:
    return next(p for p in demo_home.pdfs if p.name.startswith(prefix)).read_bytes()


def _overlay_widget(good: bytes, *, signed_field: bool = False) -> bytes:
    """A new *unsigned* signature field whose widget appearance paints a white box and new text."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import init_xobject_dictionary
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    w = IncrementalPdfFileWriter(io.BytesIO(good))
    append_signature_field(w, SigFieldSpec("Forged", on_page=0, box=(60, 560, 420, 640)))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
    )
    ap = init_xobject_dictionary(
        b"1 1 1 rg 0 0 360 80 re f 0 0 0 rg BT /F1 24 Tf 10 30 Td (Zhang San  Level 1) Tj ET", 360, 80, resources
    )
    ap_ref = w.add_object(ap)
    for field_ref in w.root["/AcroForm"]["/Fields"]:
        field = field_ref.get_object()
        if field.get("/T") == "Forged":
            field["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): ap_ref})
            w.update_container(field)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def overlay(demo_home: DemoHome) -> bytes:
    return _overlay_widget(_first(demo_home))


def test_unsigned_widget_overlay_is_invalid(demo_home: DemoHome, overlay: bytes) -> None:
    import pypdfium2

    # the forged text is really drawn by a widget-drawing viewer (pdfium, as in Chrome)
    doc = pypdfium2.PdfDocument(overlay)
    try:
        doc.init_forms()
        page = doc[0]
        text = page.get_textpage().get_text_range()
        bitmap = page.render(scale=1, may_draw_forms=True).to_pil()
    finally:
        doc.close()
    assert "Zhang San" not in text  # not page text: only the widget draws it
    genuine = pypdfium2.PdfDocument(_first(demo_home))
    try:
        before = genuine[0].render(scale=1).to_pil()
    finally:
        genuine.close()
    box = (60, 842 - 640, 420, 842 - 560)
    assert before.crop(box).tobytes() != bitmap.crop(box).tobytes()  # the widget paints over the page
    status = validate_pdf(overlay, _trust(demo_home))
    assert status.bottom_line is BottomLine.INVALID
    (mods,) = _check(status, "modifications")
    assert mods.outcome is Outcome.FAIL and "after sealing" in mods.en and "盖章后" in mods.zh


def test_overlay_invalid_on_the_site_and_the_cli(
    demo_home: DemoHome, overlay: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = SiteSettings.from_home(demo_home.home, trust_roots=(demo_home.home / "pki" / "certs" / "root.pem",))
    with TestClient(create_app(replace(base, upload_limit=GENEROUS))) as c:
        body = c.post("/api/v1/check", files={"file": ("c.pdf", overlay, "application/pdf")}).json()
        assert body["bottom_line"] == "invalid", body
        page = c.post("/check", files={"file": ("c.pdf", overlay, "application/pdf")})
        assert page.status_code == 200 and "无效" in page.text
    path = tmp_path / "forged.pdf"
    path.write_bytes(overlay)
    monkeypatch.setenv("SKILLCERT_HOME", str(demo_home.home))
    r = CliRunner().invoke(cli, ["verify", str(path), "--json"], catch_exceptions=False)
    assert r.exit_code == 20 and json.loads(r.stdout)["bottom_line"] == "invalid"


def test_genuine_style2_with_its_second_seal_stays_valid(demo_home: DemoHome) -> None:
    status = validate_pdf(_first(demo_home, "Y000111020001"), _trust(demo_home))
    assert status.bottom_line is BottomLine.VALID
    mods = _check(status, "modifications")
    assert len(mods) == 2 and "filed seal" in mods[0].en and mods[1].en.startswith("after sealing only validation")


def test_second_seal_needs_a_filed_key(demo_home: DemoHome) -> None:
    trust = _trust(demo_home)
    data = _first(demo_home, "Y000111020001")
    status = validate_pdf(
        data, replace(trust, filed_fingerprints=frozenset({validate_pdf(data, trust).signatures[0].fingerprint}))
    )
    assert status.bottom_line is BottomLine.INVALID
    assert any(c.outcome is Outcome.FAIL and "Seal2" in c.en for c in _check(status, "modifications"))
    unknown = validate_pdf(data, replace(trust, filed_fingerprints=None))
    assert unknown.bottom_line is BottomLine.UNKNOWN


def _unsealed(data: bytes) -> bytes:
    """The rendered certificate as it was before sealing: the first revision of the sealed file."""
    end = data.index(b"%%EOF") + len(b"%%EOF")
    return data[: end + 1] if data[end : end + 1] == b"\n" else data[:end]


def _demo_signer(demo_home: DemoHome, label: str = "S000011084012-institution") -> Any:
    from pyhanko.sign.signers import SimpleSigner

    pki = demo_home.home / "pki"
    signer = SimpleSigner.load(
        str(pki / "keys" / f"{label}.pem"),
        str(pki / "certs" / f"{label}.pem"),
        ca_chain_files=(str(pki / "certs" / "interm.pem"),),
    )
    assert signer is not None
    return signer


def _sign(data: bytes, signer: Any, field: str, *, box: tuple[int, int, int, int] | None = None, **meta: Any) -> bytes:
    """Sign as an attacker would: pyHanko's own refusals (a certification forbidding changes) bypassed."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec

    class Careless(signers.PdfSigner):
        def _enforce_certification_constraints(self, reader: Any) -> None:
            pass

    w = IncrementalPdfFileWriter(io.BytesIO(data))
    spec = SigFieldSpec(field, on_page=0, box=box) if box else None
    pdf_signer = Careless(signers.PdfSignatureMetadata(field_name=field, **meta), signer=signer, new_field_spec=spec)
    return bytes(pdf_signer.sign_pdf(w).getvalue())


@pytest.fixture(scope="module")
def certified(demo_home: DemoHome) -> dict[int, bytes]:
    from pyhanko.sign.fields import MDPPerm

    signer = _demo_signer(demo_home)
    plain = _unsealed(_first(demo_home))
    return {
        p.value: _sign(plain, signer, "Certify", certify=True, docmdp_permissions=p)
        for p in (MDPPerm.NO_CHANGES, MDPPerm.FILL_FORMS, MDPPerm.ANNOTATE)
    }


def test_certified_documents_alone_are_judged_by_their_seal(demo_home: DemoHome, certified: dict[int, bytes]) -> None:
    for data in certified.values():
        status = validate_pdf(data, _trust(demo_home))
        checks = {c.name: c.outcome for c in status.checks}
        assert checks["integrity"] is checks["chain"] is checks["modifications"] is Outcome.PASS


def test_no_changes_certification_refuses_a_second_seal(demo_home: DemoHome, certified: dict[int, bytes]) -> None:
    second = _sign(certified[1], _demo_signer(demo_home), "Seal2", box=(400, 80, 513, 193))
    status = validate_pdf(second, _trust(demo_home))
    assert status.bottom_line is BottomLine.INVALID
    (first_mods, _) = _check(status, "modifications")
    assert first_mods.outcome is Outcome.FAIL and "DocMDP P1" in first_mods.en


@pytest.mark.parametrize("perm", [1, 2, 3])
def test_certified_then_overlaid_is_invalid(demo_home: DemoHome, certified: dict[int, bytes], perm: int) -> None:
    status = validate_pdf(_overlay_widget(certified[perm]), _trust(demo_home))
    assert status.bottom_line is BottomLine.INVALID
    assert _check(status, "modifications")[0].outcome is Outcome.FAIL


def test_ed448_over_a_disallowed_digest_fails_integrity(demo_home: DemoHome, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
    from cryptography.x509.oid import NameOID
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = Ed448PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "北京市海淀区明德职业技能培训学校")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, None)
    )
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    class AnyDigest(SimpleSigner):
        def _check_digest_algorithm(self, digest_algorithm: str) -> None:
            pass  # pyHanko refuses to make what an attacker makes by other means

    signer = AnyDigest(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore(),
    )
    data = _sign(_unsealed(_first(demo_home)), signer, "Seal1", md_algorithm="sha256")
    status = validate_pdf(data, replace(_trust(demo_home), roots=(*_trust(demo_home).roots,)))
    (integrity,) = _check(status, "integrity")
    assert integrity.outcome is Outcome.FAIL and "ed448" in integrity.en and "sha256" in integrity.en
    assert status.bottom_line is BottomLine.INVALID


@pytest.mark.parametrize(
    "dss",
    [
        {"/Certs": 5},
        {"/Certs": [1, 2], "/OCSPs": "x"},
        {"/VRI": [1]},
        {"/VRI": {"/ABCDEF": 7}},
        {"/CRLs": {"/A": 1}},
    ],
)
def test_malformed_validation_data_is_unreadable_not_a_crash(demo_home: DemoHome, dss: dict[str, Any]) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    def pdf_value(v: Any) -> Any:
        if isinstance(v, int):
            return generic.NumberObject(v)
        if isinstance(v, str):
            return generic.TextStringObject(v)
        if isinstance(v, list):
            return generic.ArrayObject([pdf_value(x) for x in v])
        return generic.DictionaryObject({generic.NameObject(k): pdf_value(x) for k, x in v.items()})

    w = IncrementalPdfFileWriter(io.BytesIO(_first(demo_home)))
    w.root["/DSS"] = pdf_value(dss)
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    try:
        status = validate_pdf(out.getvalue(), _trust(demo_home))
    except UnreadablePdf as e:
        assert e.zh and e.en
    else:
        assert status.bottom_line is not BottomLine.VALID


def test_trailing_bytes_after_the_last_revision_are_not_valid(demo_home: DemoHome) -> None:
    good = _first(demo_home)
    for tail in (b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", b"garbage"):
        try:
            status = validate_pdf(good + tail, _trust(demo_home))
        except UnreadablePdf:
            continue
        assert status.bottom_line is BottomLine.INVALID


# -- a document timestamp's widget: only our blank one is validation data -----------------------


def _timestamp_with_widget(demo_home: DemoHome, good: bytes, variant: str) -> bytes:
    """A document timestamp appended as sign.seal adds one — an invisible widget whose ``/AP /N`` is
    an empty form XObject — or with that widget made to draw, show or do something."""
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import DummyTimeStamper

    pki = demo_home.home / "pki"
    tsa = DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(pki / "certs" / "tsa.pem")),
        tsa_key=load_private_key_from_pemder(str(pki / "keys" / "tsa.pem"), None),
    )
    w = IncrementalPdfFileWriter(io.BytesIO(good))
    visible = variant == "visible"
    fields.append_signature_field(
        w, fields.SigFieldSpec("Timestamp-x", on_page=0, box=(60, 560, 420, 640) if visible else None)
    )
    content = b"1 0 0 rg 0 0 400 400 re f" if variant == "paints" else b""
    n = generic.StreamObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 400, 400)]),
        },
        stream_data=content,
    )
    if variant == "resources":
        n[generic.pdf_name("/Resources")] = generic.DictionaryObject(
            {generic.pdf_name("/ProcSet"): generic.ArrayObject([generic.pdf_name("/PDF")])}
        )
    for ref in w.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        if widget.get("/T") == "Timestamp-x":
            widget[generic.pdf_name("/AP")] = generic.DictionaryObject({generic.pdf_name("/N"): w.add_object(n)})
            if variant == "action":
                widget[generic.pdf_name("/A")] = generic.DictionaryObject(
                    {
                        generic.pdf_name("/S"): generic.pdf_name("/JavaScript"),
                        generic.pdf_name("/JS"): generic.TextStringObject("app.alert('x')"),
                    }
                )
            w.update_container(widget)
    out = signers.PdfTimeStamper(tsa, field_name="Timestamp-x").timestamp_pdf(w, "sha256")
    return bytes(out.getvalue())


def test_our_blank_timestamp_widget_is_validation_data(demo_home: DemoHome) -> None:
    status = validate_pdf(_timestamp_with_widget(demo_home, _first(demo_home), "blank"), _trust(demo_home))
    assert _check(status, "modifications")[0].outcome is Outcome.PASS, status.as_dict()


@pytest.mark.parametrize("variant", ["paints", "visible", "action", "resources"])
def test_a_timestamp_widget_that_can_show_or_do_something_is_a_change(demo_home: DemoHome, variant: str) -> None:
    status = validate_pdf(_timestamp_with_widget(demo_home, _first(demo_home), variant), _trust(demo_home))
    (mods,) = _check(status, "modifications")
    assert mods.outcome is Outcome.FAIL, (variant, mods)
    assert status.bottom_line is BottomLine.INVALID
