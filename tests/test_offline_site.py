"""The site's side of the offline checks: the key and status list API, the credential upload,
the holder's credential download, and the QR code's signed fragment checked in Chromium with the
server stopped (the service worker's shell).

A small home of its own (the demo's results, the Beijing batch issued without rendering), with a
P-256 QR key filed for the Beijing institution; the fragments and credentials are signed here
with that key, as the issue pipeline signs them.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from registry import Registry
from registry.models import Certificate
from search_index import mask_id, publish
from search_index.offline_keys import read_key_list
from search_index.status_list import decode_bits, revoked
from sign.credential import CredentialLabels, make_credential
from sign.qr_key import EcPublicKey, EcSigner
from sign.qr_payload import QrClaims, sign_payload
from verify import RateLimit, SiteSettings, create_app

from .factory import p256_signer
from .serving import skillcert_serve

BEIJING = "S000011084012"
GENEROUS = RateLimit(per_minute=100_000, burst=100_000)
CODE = "2345-6789-ABCD"  # the download code of the first two certificates here
LABELS = CredentialLabels(
    institution_zh="北京市海淀区示例职业技能培训学校",
    institution_en="Beijing Haidian Example Vocational Training School",
    level_zh="四级/中级工",
    level_en="Level 4 / Intermediate Worker",
    id_type_zh="居民身份证",
    id_type_en="Resident Identity Card",
)


def _qr_identity(signer: EcSigner, pem: str) -> Any:
    from registry._seals_store import IdentityRecord

    return IdentityRecord(
        name="beijing-qr",
        institution_code=BEIJING,
        seal_kind="qr",
        kind="pkcs12",
        location={"path": "qr.p12"},
        cert_pem=pem,
        fingerprint=signer.fingerprint,
        not_after=(datetime.now(UTC) + timedelta(days=365)).isoformat(),
        added_at=datetime.now(UTC).isoformat(),
    )


def _file_qr_key(reg: Registry, ident: Any) -> bool:
    """File the key as the Beijing institution's ``qr`` identity; ``False`` where the store does not
    take a ``qr`` identity yet (then :func:`_publish` shows it to the publisher)."""
    try:
        reg.seals.add_identity(ident, actor="t")
    except Exception:  # the store's refusal, or the table's CHECK on seal_kind
        return False
    return True


def _publish(reg: Registry, home: Path, ident: Any, filed: bool, **kw: Any) -> None:
    """``publish``, with the QR identity among the institution's identities even where it could not be filed."""
    if filed:
        publish(reg, home, **kw)
        return
    seals = reg.seals
    plain = seals.identities

    def identities(institution_code: str | None = None) -> list[Any]:
        found = plain(institution_code)
        return [*found, ident] if institution_code in (None, BEIJING) else found

    seals.identities = identities  # type: ignore[method-assign]
    try:
        publish(reg, home, **kw)
    finally:
        del seals.identities


def claims_of(c: Certificate) -> QrClaims:
    assert c.number is not None and c.issue_date is not None
    return QrClaims(
        number=c.number,
        name=c.name,
        id_masked=mask_id(c.id_number),
        id_type=c.id_type,
        occupation=c.occupation,
        job=c.job,
        level=c.level,
        issue_date=c.issue_date,
        institution_code=c.institution_code,
        kind="certificate",
        version=c.version,
    )


def _pdf(attachment: bytes | None) -> bytes:
    """A one-page PDF, with the credential attached as the issue pipeline attaches it (or without)."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    if attachment is not None:
        pdf.attachments["credential.vc.jwt"] = pikepdf.AttachedFileSpec(pdf, attachment, mime_type="application/vc+jwt")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class OfflineHome:
    home: Path
    port: int
    base: str
    signer: EcSigner
    pub: EcPublicKey
    certs: list[Certificate]
    credentials: dict[str, str]  # number -> the credential JWT
    pdfs: dict[str, bytes]  # number -> the PDF behind the download
    ident: Any  # the QR identity
    filed: bool  # whether the registry took it (else each publish here is shown it)

    def fragment(self, c: Certificate) -> str:
        return sign_payload(claims_of(c), self.signer)

    def qr_url(self, c: Certificate) -> str:
        return f"{self.base}/c/{c.number}?t={c.qr_token}#{self.fragment(c)}"


def _build(root: Path) -> OfflineHome:
    from registry.qr_keys import public_key_of_pem
    from search_index.downloads import encrypt_pdf
    from sign.pki import free_port
    from skillcert.demo_job import run_demo
    from skillcert.settings import Settings

    home = root / "home"
    home.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (home / "settings.toml").write_text(f'[render]\nsite_url = "{base}"\n', encoding="utf-8")
    s = Settings.from_env({"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "t"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    signer, pem = p256_signer("Beijing QR key")
    pub = public_key_of_pem(pem, institution_code=BEIJING)
    ident = _qr_identity(signer, pem)
    with Registry.open(s.registry_path) as reg:
        reg.certificates.issue(BEIJING, date(2026, 11, 20), actor="t")
        filed = _file_qr_key(reg, ident)
        certs = [c for c in reg.certificates.select(institution_code=BEIJING) if c.number]
        credentials = {
            c.number: make_credential(claims_of(c), LABELS, signer, site=base, status_index=c.id)
            for c in certs
            if c.number
        }
        downloads = home / "downloads"
        downloads.mkdir(exist_ok=True)
        pdfs: dict[str, bytes] = {}
        for i, c in enumerate(certs[:2]):  # the first with its credential attached, the second without
            assert c.number is not None
            pdfs[c.number] = _pdf(credentials[c.number].encode() if i == 0 else None)
            (downloads / f"{c.number}.bin").write_bytes(encrypt_pdf(pdfs[c.number], CODE, number=c.number))
        _publish(reg, home, ident, filed, site_url=base)
    return OfflineHome(home, port, base, signer, pub, certs, credentials, pdfs, ident, filed)


@pytest.fixture(scope="module")
def offline_home(tmp_path_factory: pytest.TempPathFactory) -> OfflineHome:
    return _build(tmp_path_factory.mktemp("offline-site"))


def _settings(home: Path) -> SiteSettings:
    base = SiteSettings.from_home(home, trust_roots=())
    limits = {"lookup_limit": GENEROUS, "qr_limit": GENEROUS, "upload_limit": GENEROUS, "download_limit": GENEROUS}
    return replace(base, **limits)  # type: ignore[arg-type]


@pytest.fixture
def client(offline_home: OfflineHome) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(offline_home.home)), follow_redirects=False) as c:
        yield c


def _upload(c: TestClient, data: bytes, path: str = "/api/v1/check") -> Any:
    return c.post(path, files={"file": ("c.vc.jwt", data, "application/vc+jwt")})


def _flip(text: str, at: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:at] + alphabet[(alphabet.index(text[at]) + 1) % 64] + text[at + 1 :]


# -- the API ---------------------------------------------------------------------------------------
def test_key_list_and_jwks(client: TestClient, offline_home: OfflineHome) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    r = client.get("/api/v1/keys")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public, max-age=")
    listed = read_key_list(r.text)  # the publisher's signature, checked
    assert offline_home.pub.kid in {k.kid for k in listed.keys}
    assert listed.institutions[BEIJING]["name"]
    tampered = {**r.json(), "jws": _flip(r.json()["jws"], len(r.json()["jws"]) // 2)}
    with pytest.raises(Exception, match=r"signature|签名"):
        read_key_list(json.dumps(tampered))

    jwks = client.get("/api/v1/jwks.json").json()
    assert jwks == {"keys": [r.json()["publisher"]]} and jwks["keys"][0]["crv"] == "Ed25519"

    inst = client.get(f"/api/v1/institutions/{BEIJING}/jwks.json")
    assert inst.status_code == 200 and inst.json() == {"keys": [offline_home.pub.jwk()]}
    number = offline_home.certs[0].number
    assert number is not None
    decoded = jwt.decode(offline_home.credentials[number], KeySet.import_key_set(inst.json()), algorithms=["ES256"])
    assert decoded.claims["credentialSubject"]["certificate"]["number"] == number
    other = client.get("/api/v1/institutions/S000044012001/jwks.json")
    assert other.status_code == 200 and other.json() == {"keys": []}  # filed, but no QR key
    missing = client.get("/api/v1/institutions/S999911084012/jwks.json")
    assert missing.status_code == 404 and missing.json()["zh"] and missing.json()["en"]


def test_status_lists_are_signed_by_the_publisher(client: TestClient) -> None:
    from joserfc import jws
    from joserfc.jwk import OKPKey

    publisher = client.get("/api/v1/jwks.json").json()["keys"][0]
    for purpose in ("revocation", "suspension"):
        r = client.get(f"/api/v1/status/{purpose}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vc+jwt")
        assert r.headers["cache-control"].startswith("public")
        obj = jws.deserialize_compact(r.text, OKPKey.import_key(publisher), algorithms=["Ed25519"])
        subject = json.loads(obj.payload)["credentialSubject"]
        assert subject["statusPurpose"] == purpose and not any(decode_bits(subject["encodedList"]))
    bad = client.get("/api/v1/status/other")
    assert bad.status_code == 404 and bad.json()["error"] == "no_status_list"


def test_openapi_names_the_offline_paths(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in ("/api/v1/keys", "/api/v1/jwks.json", "/api/v1/institutions/{code}/jwks.json", "/api/v1/status/{purpose}"):
        assert p in paths


# -- the credential upload --------------------------------------------------------------------------
def test_credential_upload_valid(client: TestClient, offline_home: OfflineHome) -> None:
    c = offline_home.certs[0]
    assert c.number is not None
    body = _upload(client, offline_home.credentials[c.number].encode()).json()
    assert body["bottom_line"] == "valid" and body["kind"] == "credential", body
    checks = {k["check"]: k["outcome"] for k in body["checks"]}
    assert checks == {
        "signature": "pass",
        "status_list": "pass",
        "registered": "pass",
        "record_match": "pass",
        "institution": "pass",
        "scope": "pass",
        "status": "pass",
    }
    assert body["record"]["occupation"] == c.occupation and c.name not in json.dumps(body, ensure_ascii=False)
    page = _upload(client, offline_home.credentials[c.number].encode(), "/check")
    assert page.status_code == 200 and "有效" in page.text and "电子凭证" in page.text
    en = client.post("/check?lang=en", files={"file": ("c.vc.jwt", offline_home.credentials[c.number].encode())})
    assert "Valid" in en.text and "credential" in en.text


def test_changed_or_garbage_credential_is_invalid(client: TestClient, offline_home: OfflineHome) -> None:
    c = offline_home.certs[0]
    assert c.number is not None
    token = offline_home.credentials[c.number]
    head, body, sig = token.split(".")
    changed = [
        ".".join([head, _flip(body, len(body) // 2), sig]),  # one character of the data
        ".".join([head, body, _flip(sig, 5)]),  # one character of the signature
    ]
    other_signer, _ = p256_signer("not filed")
    forged = make_credential(claims_of(c), LABELS, other_signer, site=offline_home.base, status_index=c.id)
    _, fb, fs = forged.split(".")
    changed.append(".".join([head, fb, fs]))  # the filed key's kid over another key's signature
    for text in changed:
        r = _upload(client, text.encode())
        assert r.status_code == 200 and r.json()["bottom_line"] == "invalid", r.json()
        assert r.json()["kind"] == "credential"
    for junk in (b"eyJ.x.y", b"eyJhbGciOiJub25lIn0.e30.", ("eyJ" + "A" * 70_000 + ".a.b").encode()):
        r = _upload(client, junk)
        assert r.status_code in (200, 422), (junk[:20], r.status_code)
        assert r.json().get("bottom_line", "invalid") == "invalid" and r.json()["zh"] and r.json()["en"]
    page = _upload(client, changed[0].encode(), "/check")
    assert page.status_code == 200 and "无效" in page.text


def test_credential_of_an_unknown_certificate_is_not_valid(client: TestClient, offline_home: OfflineHome) -> None:
    c = replace(offline_home.certs[0], name="王某某")
    token = make_credential(claims_of(c), LABELS, offline_home.signer, site=offline_home.base, status_index=c.id)
    body = _upload(client, token.encode()).json()
    assert body["bottom_line"] == "unknown", body
    assert {k["check"]: k["outcome"] for k in body["checks"]}["registered"] == "fail"


def test_revoked_credential_after_an_incremental_publish(offline_home: OfflineHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(offline_home.home, home, symlinks=True)
    c = offline_home.certs[2]
    assert c.number is not None
    with TestClient(create_app(_settings(home))) as client:
        assert _upload(client, offline_home.credentials[c.number].encode()).json()["bottom_line"] == "valid"
        with Registry.open(home / "registry.sqlite") as reg:
            reg.lifecycle.revoke(
                c.number,
                reason="以虚假材料取得 / obtained with false documents",
                on=date(2026, 11, 25),
                actor="t",
                benefits_cancelled=True,
                commitment_sha256=None,
            )
            _publish(
                reg,
                home,
                offline_home.ident,
                offline_home.filed,
                incremental=True,
                actor="t",
                site_url=offline_home.base,
            )
        time.sleep(0.6)  # the reader re-checks the snapshot twice a second
        status = client.get("/api/v1/status/revocation").text
        encoded = json.loads(base64.urlsafe_b64decode(status.split(".")[1] + "=="))["credentialSubject"]["encodedList"]
        bits = decode_bits(encoded)
        assert revoked(bits, c.id) and not revoked(bits, offline_home.certs[0].id)
        body = _upload(client, offline_home.credentials[c.number].encode()).json()
        assert body["bottom_line"] == "revoked", body
        checks = {k["check"]: k["outcome"] for k in body["checks"]}
        assert checks["signature"] == "pass" and checks["status_list"] == "fail" and checks["status"] == "fail"
        assert (
            _upload(client, offline_home.credentials[offline_home.certs[0].number or ""].encode()).json()["bottom_line"]
            == "valid"
        )


# -- the holder's download ----------------------------------------------------------------------------
def test_holder_downloads_the_credential(client: TestClient, offline_home: OfflineHome) -> None:
    first, second = offline_home.certs[:2]
    assert first.number is not None and second.number is not None
    form = {"number": first.number, "id_number": first.id_number, "code": CODE}
    page = client.get("/download")
    assert 'type="radio"' in page.text and 'value="credential"' in page.text
    r = client.post("/download", data={**form, "format": "credential"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vc+jwt")
    assert f'filename="{first.number}.vc.jwt"' in r.headers["content-disposition"]
    assert r.text == offline_home.credentials[first.number]
    pdf = client.post("/download", data={**form, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content == offline_home.pdfs[first.number]
    api = client.post("/api/v1/download", json={**form, "format": "credential"})
    assert api.status_code == 200 and api.text == offline_home.credentials[first.number]
    # a PDF without the attachment (issued before credentials): a clear message, the form kept
    older = {"number": second.number, "id_number": second.id_number, "code": CODE, "format": "credential"}
    r = client.post("/download", data=older)
    assert r.status_code == 404 and "尚未提供电子凭证" in r.text and 'value="credential" aria-describedby' in r.text
    assert client.post("/api/v1/download", json=older).json()["error"] == "no_credential"
    wrong = client.post("/download", data={**form, "code": "2222-2222-2222", "format": "credential"})
    assert wrong.status_code == 403


# -- the pages ---------------------------------------------------------------------------------------
def test_only_the_qr_pages_run_scripts_and_only_our_own(client: TestClient, offline_home: OfflineHome) -> None:
    import re

    c = offline_home.certs[0]
    landing = client.get(f"/c/{c.number}?t={c.qr_token}")
    csp = landing.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "default-src 'none'" in csp
    scripts = re.findall(r"<script([^>]*)>", landing.text)
    assert scripts and all('src="/static/' in s or 'type="application/json"' in s for s in scripts)
    assert 'id="offline"' in landing.text and "有效" in landing.text
    assert "script-src" not in client.get("/").headers["content-security-policy"]
    shell = client.get("/offline")
    assert shell.status_code == 200 and "/static/offline.js" in shell.text
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/"
    assert sw.headers["content-type"].startswith("text/javascript")
    js = client.get("/static/offline.js")
    assert js.status_code == 200
    for source in (sw.text, js.text):
        assert "http://" not in source and "https://" not in source and "innerHTML" not in source


# -- in Chromium, with the server stopped --------------------------------------------------------------
def _swapped(fragment: str, name: str) -> str:
    """The payload with another holder's name, the signature left as it was."""
    import cbor2

    tag = cbor2.loads(base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4)))
    tag.value[2] = cbor2.dumps({**cbor2.loads(tag.value[2]), 2: name})
    return base64.urlsafe_b64encode(cbor2.dumps(tag)).rstrip(b"=").decode()


def _axe(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@contextlib.contextmanager
def _phone(chromium: str) -> Iterator[tuple[Any, Any, Any]]:
    """A headless Chromium with one phone-sized Chinese page: (browser, context, page)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"], headless=True
        )
        try:
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            ctx.set_default_timeout(15_000)
            yield browser, ctx, ctx.new_page()
        finally:
            browser.close()


def _offline_verdict(page: Any) -> str:
    page.wait_for_selector("#offline[data-done='1']")
    return str(page.locator(".offline-verdict").get_attribute("data-offline"))


@pytest.mark.system
@pytest.mark.slow
def test_the_qr_code_checks_offline_in_the_browser(
    offline_home: OfflineHome, require_program: Callable[[str], str], tmp_path: Path
) -> None:

    chromium = require_program("chromium")
    shots = Path(os.environ.get("SKILLCERT_SCREENSHOTS") or tmp_path)  # SKILLCERT_SCREENSHOTS=docs/img: the README's
    c = offline_home.certs[0]
    url = offline_home.qr_url(c)
    fragment = offline_home.fragment(c)
    tampered = url.split("#")[0] + "#" + _flip(fragment, len(fragment) // 2)
    swapped = url.split("#")[0] + "#" + _swapped(fragment, "王五")
    other_signer, _ = p256_signer("not filed")
    unfiled = url.split("#")[0] + "#" + sign_payload(claims_of(c), other_signer)
    second = offline_home.certs[1]
    elsewhere = f"{offline_home.base}/c/{second.number}?t={second.qr_token}#{fragment}"
    with _phone(chromium) as (browser, ctx, page):
        with skillcert_serve(offline_home.home, tmp_path, port=offline_home.port):
            page.goto(url)
            assert page.locator(".verdict-word").first.inner_text().strip() == "有效"  # the live part
            assert _offline_verdict(page) == "authentic"
            text = page.locator("#offline").inner_text()
            assert "信息是真实的" in text and c.name in text and "需要联网" in text
            _axe(page)
            # the credential upload and the download form, as people meet them
            assert c.number is not None
            vc = tmp_path / f"{c.number}.vc.jwt"
            vc.write_text(offline_home.credentials[c.number], encoding="ascii")
            check = ctx.new_page()
            check.goto(f"{offline_home.base}/check")
            check.locator("#c-file").set_input_files(str(vc))
            with check.expect_navigation():
                check.locator("form[action='/check'] button[type=submit]").click()
            assert check.locator(".verdict-word").inner_text().strip() == "有效"
            assert "电子凭证的签名有效" in check.locator("main").inner_text()
            _axe(check)
            check.goto(f"{offline_home.base}/download")
            check.locator("input[name=format][value=credential]").check()
            _axe(check)
            check.close()
            en = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en")
            en_page = en.new_page()
            en_page.goto(url.split("#")[0] + "&lang=en#" + fragment)
            assert _offline_verdict(en_page) == "authentic"
            text = en_page.locator("#offline").inner_text()
            assert "The data on this paper is authentic" in text and "needs the network" in text
            assert "Beijing time" in text and "What the paper should show" in text
            _axe(en_page)
            page.screenshot(path=str(shots / "offline-online.png"), full_page=True)
            en_page.screenshot(path=str(shots / "offline-en.png"), full_page=True)
            en.close()
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            page.wait_for_function("caches.open('skillcert-offline-1').then(c => c.keys()).then(k => k.length >= 4)")
        # the server is gone: the worker's shell answers, and the check runs on what it kept
        page.goto("about:blank")
        page.goto(url)
        assert page.locator("#offline-shell").is_visible()
        assert _offline_verdict(page) == "authentic"
        text = page.locator("#offline").inner_text()
        assert "信息是真实的" in text and c.name in text and c.occupation in text and "密钥列表日期" in text
        assert "北京时间" in text and "居民身份证 (201)" in text
        _axe(page)
        page.screenshot(path=str(shots / "offline-authentic.png"), full_page=True)
        page.goto("about:blank")
        page.goto(tampered)
        assert _offline_verdict(page) in ("invalid",)
        assert "不是真实的" in page.locator("#offline").inner_text()
        assert c.name not in page.locator("#offline").inner_text()
        _axe(page)
        page.screenshot(path=str(shots / "offline-tampered.png"), full_page=True)
        page.goto("about:blank")
        page.goto(unfiled)  # signed with a key nobody filed
        assert _offline_verdict(page) == "invalid"
        assert "不在已备案的密钥中" in page.locator("#offline").inner_text()
        page.goto("about:blank")
        page.goto(elsewhere)  # a genuine code under another certificate's number
        assert _offline_verdict(page) == "invalid"
        assert "证书编号与签名数据中的不一致" in page.locator("#offline").inner_text()
        page.goto("about:blank")
        page.goto(swapped)  # another name under the genuine signature
        assert _offline_verdict(page) == "invalid"
        assert "签名无效" in page.locator("#offline").inner_text()
        assert "王五" not in page.locator("#offline").inner_text()
        ctx.close()


@pytest.mark.system
@pytest.mark.slow
def test_a_scanned_demo_certificate_checks_offline_once_the_server_is_gone(
    demo_home: Any, require_program: Callable[[str], str], tmp_path: Path
) -> None:
    """The whole way a phone goes: the printed code read from a rasterised demo certificate, the
    site opened once, the server stopped, the same code scanned again — an offline verdict."""
    import pypdfium2 as pdfium
    import zxingcpp

    chromium = require_program("chromium")
    pdf = next(p for p in demo_home.pdfs if p.stem.startswith("S000011084012"))
    doc = pdfium.PdfDocument(pdf.read_bytes())
    try:
        image = doc[0].render(scale=200 / 72).to_pil()
    finally:
        doc.close()
    (code,) = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    url = code.text
    assert url.startswith(f"http://127.0.0.1:{demo_home.port}/c/{pdf.stem}?t=") and "#" in url
    with _phone(chromium) as (_, _, page):
        with skillcert_serve(demo_home.home, tmp_path, port=demo_home.port):
            page.goto(url)
            assert page.locator(".verdict-word").first.inner_text().strip() == "有效"
            assert _offline_verdict(page) == "authentic"
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            page.wait_for_function("caches.open('skillcert-offline-1').then(c => c.keys()).then(k => k.length >= 4)")
        page.goto("about:blank")
        page.goto(url)  # no server any more: the service worker's shell and the kept key list
        assert page.locator("#offline-shell").is_visible()
        assert _offline_verdict(page) == "authentic"
        text = page.locator("#offline").inner_text()
        assert pdf.stem in text and "信息是真实的" in text and "需要联网" in text
