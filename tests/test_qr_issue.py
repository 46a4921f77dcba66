"""Issue 19, the issue side: every certificate's QR code carries a payload signed with the
institution's filed P-256 key, and a credential (VC 2.0 / Open Badges 3.0, a JWT) is delivered
next to the PDF. Real demo issue (the session's demo), real rasterising and QR decoding."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from registry import Registry, institution_from_toml
from registry._schema import MIGRATIONS
from registry.errors import SkillcertError
from registry.models import Style
from render import embedded_record
from search_index.privacy import mask_id
from sign import DemoPki, Pkcs12Identity, SealSubject, make_demo_pki
from sign.credential import verify_credential
from sign.qr_key import EcPublicKey, load_ec_signer, public_key_of_pem
from sign.qr_payload import QrPayloadError, verify_payload
from skillcert.demo import DEMO_DIR
from skillcert.seals import DEMO_PASSWORD, DEMO_PASSWORD_ENV, file_identity, setup_demo_pki
from skillcert.settings import Settings

from .conftest import DEMO_CODES, DemoHome
from .softhsm import MODULE, token_with

BJ = DEMO_CODES["beijing"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(reg: Registry, code: str) -> EcPublicKey:
    ident = reg.seals.identity(f"{code}-qr")
    assert ident.seal_kind == "qr" and ident.retired_at is None
    return public_key_of_pem(ident.cert_pem, institution_code=code)


def _first(demo_home: DemoHome, code: str = BJ) -> Path:
    return next(p for p in demo_home.pdfs if p.name.startswith(code))


def test_issued_qr_payload_verifies_and_matches_the_register(demo_home: DemoHome) -> None:
    with Registry.open(demo_home.settings.registry_path) as reg:
        for code in DEMO_CODES.values():
            path = _first(demo_home, code)
            rec = embedded_record(path.read_bytes())
            assert rec is not None and rec.qr_url is not None
            url, _, fragment = rec.qr_url.partition("#")
            c = reg.certificates.get(path.stem)
            assert url == f"http://127.0.0.1:{demo_home.port}/c/{c.number}?t={c.qr_token}"
            assert fragment
            key = _key(reg, code)
            verdict = verify_payload(fragment, [key])
            assert verdict.authentic, verdict.reason_en
            cl = verdict.claims
            assert (cl.number, cl.name, cl.id_type, cl.occupation, cl.level) == (
                c.number, c.name, c.id_type, c.occupation, c.level,
            )  # fmt: skip
            assert cl.id_masked == mask_id(c.id_number) and c.id_number not in fragment
            assert (cl.issue_date, cl.institution_code, cl.version) == (c.issue_date, code, c.version)
            assert cl.kind == "certificate" and cl.proof_number is None
            assert c.job in cl.job or not c.job.strip()


def test_one_changed_byte_of_the_fragment_fails(demo_home: DemoHome) -> None:
    path = _first(demo_home)
    rec = embedded_record(path.read_bytes())
    assert rec is not None and rec.qr_url is not None
    fragment = rec.qr_url.partition("#")[2]
    with Registry.open(demo_home.settings.registry_path) as reg:
        key = _key(reg, BJ)
    raw = _unb64(fragment)
    number = path.stem.encode("ascii")
    at = raw.index(number) + len(number) - 1  # the number's last digit, inside the signed payload
    changed = [
        raw[:at] + bytes([ord("0") + (raw[at] - ord("0") + 1) % 10]) + raw[at + 1 :],
        raw[:-1] + bytes([raw[-1] ^ 0x01]),  # the signature's last byte
    ]
    for bad in changed:
        assert not verify_payload(_b64(bad), [key]).authentic
    # characters of the base64url text (not the last: some of its bits may be padding)
    for i in range(0, len(fragment) - 1, max(1, len(fragment) // 40)):
        alt = "A" if fragment[i] != "A" else "B"
        with contextlib.suppress(QrPayloadError):  # no longer readable: refused just as well
            assert not verify_payload(fragment[:i] + alt + fragment[i + 1 :], [key]).authentic


def test_credential_is_delivered_and_verifies(demo_home: DemoHome) -> None:
    from joserfc import jws
    from joserfc.jwk import KeySet

    creds = sorted((demo_home.home / "out" / "credentials").glob("*.vc.jwt"))
    assert [p.name.split(".")[0] for p in creds] == [p.stem for p in demo_home.pdfs]
    assert not list((demo_home.home / "out" / "credentials").glob(".*"))  # nothing staged is left
    path = _first(demo_home)
    text = (demo_home.home / "out" / "credentials" / f"{path.stem}.vc.jwt").read_text(encoding="ascii")
    with Registry.open(demo_home.settings.registry_path) as reg:
        key = _key(reg, BJ)
        c = reg.certificates.get(path.stem)
    verdict = verify_credential(text, [key])
    assert verdict.authentic, verdict.reason_en
    assert verdict.claims.number == c.number and verdict.claims.name == c.name
    assert verdict.status_index == c.id
    assert set(verdict.status_lists) == {"revocation", "suspension"}
    # a third party's JOSE library, with the JWKS the site publishes
    token = jws.deserialize_compact(text, KeySet.import_key_set({"keys": [dict(key.jwk())]}), algorithms=["ES256"])
    vc = json.loads(token.payload)
    assert token.protected["typ"] == "vc+jwt" and token.protected["kid"] == key.kid
    assert "OpenBadgeCredential" in vc["type"]
    assert vc["credentialSubject"]["certificate"]["number"] == c.number
    assert vc["credentialSubject"]["certificate"]["idNumberMasked"] == mask_id(c.id_number)
    assert vc["issuer"]["id"].endswith(f"/institutions/{BJ}")
    forged = text[:-3] + ("AAA" if text[-3:] != "AAA" else "BBB")
    assert not verify_credential(forged, [key]).authentic
    # the sealed PDF carries the same credential (the holder's download page takes it from there)
    from render.record import record_bytes

    assert record_bytes(path.read_bytes(), "credential.vc.jwt") == text.encode("ascii")


def test_qr_decodes_from_a_phone_like_photo(demo_home: DemoHome) -> None:
    """Page 1 at 300 dpi, cropped around the QR code, turned 7°, blurred, 1000 px wide, JPEG q40."""
    zxingcpp = pytest.importorskip("zxingcpp")
    import pypdfium2
    from PIL import Image, ImageFilter

    from render import Renderer
    from render.engine import _TEMPLATES

    for code in DEMO_CODES.values():
        path = _first(demo_home, code)
        rec = embedded_record(path.read_bytes())
        assert rec is not None and rec.qr_url is not None and "#" in rec.qr_url
        with Renderer(demo_home.settings.render_settings()) as r:
            box = r.layout(_TEMPLATES[Style(rec.style)]).qr
        dpi = 300
        pdf = pypdfium2.PdfDocument(path.read_bytes())
        try:
            page = pdf[0].render(scale=dpi / 72).to_pil().convert("L")
        finally:
            pdf.close()
        px = dpi / 25.4
        cx, cy = (box.x + box.w / 2) * px, (box.y + box.h / 2) * px
        half = 1.5 * max(box.w, box.h) * px
        crop = page.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
        crop = crop.rotate(7, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        crop = crop.filter(ImageFilter.GaussianBlur(radius=1.2))
        crop = crop.resize((1000, round(1000 * crop.height / crop.width)), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=40)
        photo = Image.open(io.BytesIO(buf.getvalue()))
        found = zxingcpp.read_barcodes(photo)
        assert [f.text for f in found] == [rec.qr_url], (code, len(rec.qr_url))


# -- filing ----------------------------------------------------------------------------------------
def _beijing_registry(tmp_path: Path) -> Registry:
    reg = Registry.create(tmp_path / "registry.sqlite")
    inst = institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8"))
    reg.institutions.add(inst, actor="t")
    return reg


@pytest.fixture
def small_pki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoPki:
    monkeypatch.setenv(DEMO_PASSWORD_ENV, DEMO_PASSWORD.decode())
    return make_demo_pki(
        tmp_path / "pki",
        [SealSubject("rsa-seal", "印章", "org"), SealSubject("ec-qr", "二维码签名", "org", ec=True)],
        password=DEMO_PASSWORD,
    )


def test_filing_a_qr_key(tmp_path: Path, small_pki: DemoPki) -> None:
    with _beijing_registry(tmp_path) as reg:
        with pytest.raises(SkillcertError) as e:  # an RSA key is no QR key
            file_identity(
                reg,
                name="bad",
                institution_code=BJ,
                seal_kind="qr",
                identity=Pkcs12Identity(path=small_pki.p12("rsa-seal"), password_env=DEMO_PASSWORD_ENV),
                actor="t",
            )
        assert "P-256" in e.value.zh and "P-256" in e.value.en
        rec = file_identity(
            reg,
            name="qr",
            institution_code=BJ,
            seal_kind="qr",
            identity=Pkcs12Identity(path=small_pki.p12("ec-qr"), password_env=DEMO_PASSWORD_ENV),
            actor="t",
        )
        assert [i.seal_kind for i in reg.seals.identities(BJ)] == ["qr"]
        assert public_key_of_pem(rec.cert_pem).fingerprint == rec.fingerprint
        with pytest.raises(SkillcertError):  # a seal the institution has not filed stays refused
            file_identity(
                reg,
                name="comp",
                institution_code=BJ,
                seal_kind="competition",
                identity=Pkcs12Identity(path=small_pki.p12("rsa-seal"), password_env=DEMO_PASSWORD_ENV),
                actor="t",
            )


def test_an_older_registry_takes_qr_keys_after_migration(tmp_path: Path, small_pki: DemoPki) -> None:
    with _beijing_registry(tmp_path) as reg:
        file_identity(
            reg,
            name="seal",
            institution_code=BJ,
            seal_kind="institution",
            identity=Pkcs12Identity(path=small_pki.p12("rsa-seal"), password_env=DEMO_PASSWORD_ENV),
            actor="t",
        )
    db = sqlite3.connect(tmp_path / "registry.sqlite")  # back to schema 6: the CHECK without 'qr'
    db.executescript("BEGIN;" + MIGRATIONS[6].replace(", 'qr')", ")") + "PRAGMA user_version = 6; COMMIT;")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE identities SET seal_kind = 'qr'")
    db.close()
    with Registry.open(tmp_path / "registry.sqlite") as reg:
        assert [i.name for i in reg.seals.identities(BJ)] == ["seal"]
        file_identity(
            reg,
            name="qr",
            institution_code=BJ,
            seal_kind="qr",
            identity=Pkcs12Identity(path=small_pki.p12("ec-qr"), password_env=DEMO_PASSWORD_ENV),
            actor="t",
        )
        assert sorted(i.seal_kind for i in reg.seals.identities(BJ)) == ["institution", "qr"]


def test_demo_pki_made_before_gets_qr_keys(tmp_path: Path) -> None:
    """A demo PKI from before QR keys: the next ``setup_demo_pki`` adds and files one per institution,
    leaving the seal keys as they were."""
    s = Settings.from_env({"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "t"})
    s.home.mkdir()
    with Registry.create(s.registry_path) as reg:
        inst = institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8"))
        reg.institutions.add(inst, actor="t")
        old = [SealSubject(f"{BJ}-{seal.kind}", seal.text, inst.name_zh) for seal in inst.seals]
        os.environ.setdefault(DEMO_PASSWORD_ENV, DEMO_PASSWORD.decode())
        pki = make_demo_pki(s.home / "pki", old, password=DEMO_PASSWORD)
        for subj in old:
            file_identity(
                reg,
                name=subj.label,
                institution_code=BJ,
                seal_kind=subj.label.split("-", 1)[1],
                identity=Pkcs12Identity(path=pki.p12(subj.label), password_env=DEMO_PASSWORD_ENV),
                actor="t",
            )
        before = {p.name: p.read_bytes() for p in (s.home / "pki" / "certs").glob("*.pem")}
        setup_demo_pki(s, reg)
        kinds = sorted(i.seal_kind for i in reg.seals.identities(BJ))
        assert kinds == sorted([*(seal.kind for seal in inst.seals), "qr"])
        assert all((s.home / "pki" / "certs" / n).read_bytes() == b for n, b in before.items())
        signer = load_ec_signer(Pkcs12Identity(path=pki.p12(f"{BJ}-qr"), password_env=DEMO_PASSWORD_ENV))
        assert signer.fingerprint == reg.seals.identity(f"{BJ}-qr").fingerprint


# -- PKCS#11 ---------------------------------------------------------------------------------------


@pytest.mark.system
def test_p256_key_in_softhsm_signs_a_payload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_program: Callable[[str], str]
) -> None:

    softhsm = require_program("softhsm2-util")
    pki = make_demo_pki(tmp_path / "pki", [SealSubject("hsm-qr", "二维码签名", "明德", ec=True)])
    token_with(tmp_path, monkeypatch, softhsm, pki, "hsm-qr", label="skillcert-qr", chain=False)
    # in a process of its own: SoftHSM2 reads SOFTHSM2_CONF once per process, when the module is
    # first initialised, so another test's token folder would hide this one (and this one theirs)
    script = (
        "import sys; from datetime import date; from pathlib import Path\n"
        "from sign import Pkcs11Identity\nfrom sign.qr_key import load_ec_signer\n"
        "from sign.qr_payload import QrClaims, sign_payload\n"
        "s = load_ec_signer(Pkcs11Identity(module=Path(sys.argv[1]), token_label='skillcert-qr', key_label='hsm-qr'))\n"
        "c = QrClaims(number=sys.argv[2], name='张三', id_masked='1101**********002X', id_type='201', occupation='电工',"
        " job='', level=4, issue_date=date(2026, 11, 20), institution_code=sys.argv[3], kind='certificate', version=1)\n"
        "print(s.kid, sign_payload(c, s))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(MODULE), f"{BJ}262000001", BJ],
        capture_output=True, text=True, env={**os.environ, "SKILLCERT_PKCS11_PIN": "1234"}, check=True, timeout=120,
    )  # fmt: skip
    kid, fragment = done.stdout.split()
    pub = public_key_of_pem(pki.cert_pem("hsm-qr").read_text(), institution_code=BJ)
    assert kid == pub.kid
    verdict = verify_payload(fragment, [pub])
    assert verdict.authentic and verdict.claims.number == f"{BJ}262000001" and verdict.claims.name == "张三"


# -- delivery --------------------------------------------------------------------------------------
def test_credential_is_staged_and_settled_with_the_pdf(tmp_path: Path) -> None:
    """A run killed after recording a delivery but before renaming: the next run's ``settle``
    publishes the staged credential with the PDF; one whose tag the record lacks, and a temp file
    of a killed write, are removed."""
    import hashlib
    from datetime import date

    from skillcert.delivery import Deliverer
    from skillcert.files import write_staged

    from .conftest import add_pending

    with _beijing_registry(tmp_path) as reg:
        add_pending(reg, 2, code=BJ)
        reg.certificates.issue(BJ, date(2026, 11, 20), actor="t")
        c1, c2 = (reg.certificates.by_id(cid) for cid in sorted(reg.seals.undelivered_ids(BJ)))
        out = tmp_path / "out"
        (out / "credentials").mkdir(parents=True)
        d = Deliverer(reg, reg.institutions.get(BJ), out_dir=out, downloads_dir=None, level="B-B",
                      site_url="https://zs.example.cn", actor="t")  # fmt: skip
        pdf = b"%PDF-1.7 sealed"
        tag = hashlib.sha256(pdf).hexdigest()[:16]
        write_staged(out / f"{c1.number}.pdf", pdf, tag)
        write_staged(out / "credentials" / f"{c1.number}.vc.jwt", b"a.b.c", tag)
        reg.seals.mark_delivered(c1.id, c1.version, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                                 file_name=f"{c1.number}.pdf", level="B-B", actor="t")  # fmt: skip
        write_staged(out / "credentials" / f"{c2.number}.vc.jwt", b"x.y.z", "0" * 16)  # never recorded
        part = out / "credentials" / f"..{c2.number}.vc.jwt.{'0' * 16}.staged.abc.part"
        part.write_bytes(b"half")
        d.sweep()
        assert not part.exists()
        d.settle(BJ)
        assert (out / f"{c1.number}.pdf").read_bytes() == pdf
        assert (out / "credentials" / f"{c1.number}.vc.jwt").read_bytes() == b"a.b.c"
        assert not list((out / "credentials").glob(".*")) and not (out / "credentials" / f"{c2.number}.vc.jwt").exists()
        d.deliver(c2, b"%PDF-1.7 second", None, "d.e.f")
        assert (out / "credentials" / f"{c2.number}.vc.jwt").read_text() == "d.e.f"
        assert not list((out / "credentials").glob(".*"))
