"""The verification site in-process (ASGI client) over the demo's real snapshot and sealed PDFs."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from registry import Registry
from render import read_record
from search_index import publish
from verify import RateLimit, SiteSettings, create_app

from .conftest import DemoHome

GENEROUS = RateLimit(per_minute=100_000, burst=100_000)


def _settings(home: Path, **kw: Any) -> SiteSettings:
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    limits = {"lookup_limit": GENEROUS, "qr_limit": GENEROUS, "upload_limit": GENEROUS, "download_limit": GENEROUS}
    return replace(base, **{**limits, **kw})


@pytest.fixture
def client(demo_home: DemoHome) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(demo_home.home)), follow_redirects=False) as c:
        yield c


@pytest.fixture
def record(demo_home: DemoHome) -> dict[str, Any]:
    rec = read_record(demo_home.pdfs[0].read_bytes())
    assert rec is not None
    return rec


def _path(url: str) -> str:
    """The path and query of a QR URL (its fragment, the signed payload, is never sent)."""
    return "/" + url.split("/", 3)[3].split("#")[0]


def _upload(c: TestClient, data: bytes, path: str = "/api/v1/check") -> Any:
    return c.post(path, files={"file": ("c.pdf", data, "application/pdf")})


def test_qr_landing_shows_the_masked_record(client: TestClient, record: dict[str, Any]) -> None:
    r = client.get(_path(record["qr_url"]))
    assert r.status_code == 200 and 'lang="zh-CN"' in r.text
    assert "有效" in r.text and record["name"] not in r.text and record["id_number"] not in r.text
    masked = record["name"][0] + "*" * (len(record["name"]) - 2) + record["name"][-1]
    assert (
        masked in r.text and record["occupation"] in r.text and f"/institutions/{record['institution_code']}" in r.text
    )
    assert "如何核对手中的纸质证书" in r.text
    en = client.get(_path(record["qr_url"]) + "&lang=en")
    assert 'lang="en"' in en.text and "Valid" in en.text and "How to check the paper" in en.text
    assert en.cookies.get("lang") == "en" or "lang=en" in en.headers.get("set-cookie", "")


def test_wrong_or_missing_token_tells_nothing(client: TestClient, record: dict[str, Any]) -> None:
    number = record["number"]

    def main(path: str) -> str:
        return client.get(path).text.split('<main id="main">')[1].split("</main>")[0]

    wrong, missing = main(f"/c/{number}?t=wrong"), main(f"/c/{number}")
    unknown = main(f"/c/{number[:-6]}999999?t=wrong")
    assert wrong == missing == unknown  # not even whether the number exists
    assert "无法确认" in wrong and record["occupation"] not in wrong


def test_two_of_three_query(client: TestClient, record: dict[str, Any]) -> None:
    n, name, idn = record["number"], record["name"], record["id_number"]
    for form in (
        {"number": n, "name": name},
        {"number": n, "id_number": idn.lower()},
        {"name": name, "id_number": idn},
    ):
        r = client.post("/query", data=form)
        assert r.status_code == 200 and "有效" in r.text and name not in r.text.split("<main")[1].split("value=")[0]
        api = client.post("/api/v1/query", json=form).json()
        assert api["found"] and api["status"] == "valid" and api["record"]["occupation"] == record["occupation"]
    one = client.post("/query", data={"number": n})
    assert one.status_code == 400 and "至少填写两项" in one.text
    assert client.post("/api/v1/query", json={"name": name}).status_code == 400
    # full-width digits of the number still find it; a wrong second key finds nothing
    fw = n[0] + "".join(chr(ord(c) + 0xFEE0) for c in n[1:])
    assert client.post("/api/v1/query", json={"number": fw, "name": name}).json()["found"]
    assert not client.post("/api/v1/query", json={"number": n, "name": name + "甲"}).json()["found"]
    assert client.get(f"/query?number={n}&name={name}").status_code == 200


def test_upload_check_passes_every_check(client: TestClient, demo_home: DemoHome) -> None:
    data = demo_home.pdfs[0].read_bytes()
    body = _upload(client, data).json()
    assert body["bottom_line"] == "valid", body
    assert {c["check"]: c["outcome"] for c in body["checks"]} == {
        "signed": "pass",
        "integrity": "pass",
        "chain": "pass",
        "revocation": "pass",
        "timestamp": "pass",
        "filed_key": "pass",
        "ades": "pass",
        "modifications": "pass",
        "registered": "pass",
        "seals": "pass",
        "record_match": "pass",
        "delivered_copy": "pass",
        "institution": "pass",
        "scope": "pass",
        "status": "pass",
    }
    page = _upload(client, data, "/check")
    assert page.status_code == 200 and "有效" in page.text and page.text.count("通过") >= 15


def test_style2_both_seals_checked(client: TestClient, demo_home: DemoHome) -> None:
    y = next(p for p in demo_home.pdfs if p.name.startswith("Y0001"))
    body = _upload(client, y.read_bytes()).json()
    assert body["bottom_line"] == "valid" and len(body["signatures"]) == 2


def _tampered(demo_home: DemoHome) -> dict[str, bytes]:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.stamp import TextStamp, TextStampStyle

    good = demo_home.pdfs[0].read_bytes()
    flipped = bytearray(good)
    flipped[good.index(b"stream", good.index(b"/DCTDecode")) + 200] ^= 0x01
    w = IncrementalPdfFileWriter(io.BytesIO(good))
    TextStamp(w, style=TextStampStyle(stamp_text="FORGED 伪造")).apply(0, 100, 600)
    overlay = io.BytesIO()
    w.write(overlay)
    return {"flipped": bytes(flipped), "overlay": overlay.getvalue()}


def _resealed(demo_home: DemoHome, signer_label: str) -> bytes:
    """A Beijing certificate rendered again and sealed with another filed institution's key."""
    from render import Renderer
    from sign import PadesLevel, Pkcs12Identity, PkiServer, Sealer, SealOptions, load_signer
    from skillcert.seals import boxes_of, setup_demo_pki

    with Registry.open(demo_home.settings.registry_path) as reg:
        rec = read_record(demo_home.pdfs[0].read_bytes())
        assert rec is not None
        c = reg.certificates.get(rec["number"])
        inst = reg.institutions.get(c.institution_code)
        photo = reg.certificates.photo(c.photo_sha256)
        pki = setup_demo_pki(demo_home.settings, reg)
    with Renderer(demo_home.settings.render_settings()) as r:
        pdf = r.render(c, inst, photo=photo)
    signer = load_signer(Pkcs12Identity(path=pki.p12(signer_label)), secret=pki.password)
    opts = SealOptions(
        level=PadesLevel.B_LTA, tsa_url=demo_home.settings.tsa_url, trust_roots=demo_home.settings.trust_roots
    )
    with PkiServer(pki):
        return Sealer({"institution": signer}, opts).seal(pdf.pdf, boxes_of(pdf))


@pytest.mark.slow
def test_tamper_suite_through_the_api(client: TestClient, demo_home: DemoHome) -> None:
    outcomes = {}
    for name, data in _tampered(demo_home).items():
        body = _upload(client, data).json()
        outcomes[name] = (body["bottom_line"], {c["check"]: c["outcome"] for c in body["checks"]})
    assert outcomes["flipped"][0] == "invalid" and outcomes["flipped"][1]["integrity"] == "fail"
    assert outcomes["overlay"][0] == "invalid" and outcomes["overlay"][1]["modifications"] == "fail"
    # signed by a key that is trusted but filed for another institution
    body = _upload(client, _resealed(demo_home, "Y000111020001-institution")).json()
    checks = {c["check"]: c["outcome"] for c in body["checks"]}
    assert body["bottom_line"] == "invalid" and checks["filed_key"] == "fail" and checks["chain"] == "pass"
    # the same record sealed with its own filed key is valid (the certificate is real)
    assert _upload(client, _resealed(demo_home, "S000011084012-institution")).json()["bottom_line"] == "valid"


def test_revoked_and_expired_signers_never_valid(demo_home: DemoHome, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from render import Renderer
    from sign import (
        PadesLevel,
        Pkcs12Identity,
        PkiServer,
        Sealer,
        SealOptions,
        SealSubject,
        load_signer,
        make_demo_pki,
    )
    from skillcert.seals import boxes_of

    now = datetime.now(UTC)
    pki = make_demo_pki(
        tmp_path / "pki",
        [
            SealSubject("revoked", "已吊销", "已吊销", revoked_since=now - timedelta(days=1)),
            SealSubject(
                "expired", "已过期", "已过期", valid_from=now - timedelta(days=400), valid_to=now - timedelta(days=2)
            ),
        ],
    )
    with Registry.open(demo_home.settings.registry_path) as reg:
        rec = read_record(demo_home.pdfs[0].read_bytes())
        assert rec is not None
        c = reg.certificates.get(rec["number"])
        inst, photo = reg.institutions.get(c.institution_code), reg.certificates.photo(c.photo_sha256)
    with Renderer(demo_home.settings.render_settings()) as r:
        pdf = r.render(c, inst, photo=photo)
    boxes = boxes_of(pdf)
    settings = _settings(demo_home.home, trust_roots=(demo_home.home / "pki" / "certs" / "root.pem", pki.root_cert))
    with PkiServer(pki), TestClient(create_app(settings)) as client:
        for label in ("revoked", "expired"):
            signer = load_signer(Pkcs12Identity(path=pki.p12(label)), secret=pki.password)
            sealed = Sealer(
                {"institution": signer},
                SealOptions(level=PadesLevel.B_T, tsa_url=pki.tsa_url, trust_roots=(pki.root_cert,)),
            ).seal(pdf.pdf, boxes)
            body = _upload(client, sealed).json()
            assert body["bottom_line"] in ("invalid", "unknown"), (label, body)
            assert {c["check"]: c["outcome"] for c in body["checks"]}["filed_key"] == "fail"


def test_bad_uploads_get_clear_4xx(client: TestClient, demo_home: DemoHome) -> None:
    import pikepdf

    assert _upload(client, b"hello").status_code == 422
    assert _upload(client, b"").status_code == 400
    assert (
        client.post("/api/v1/check", content=b"%PDF-1.7", headers={"content-type": "application/pdf"}).status_code
        == 400
    )
    enc = io.BytesIO()
    with pikepdf.open(demo_home.pdfs[0]) as pdf:
        pdf.save(enc, encryption=pikepdf.Encryption(owner="o", user="u"))
    body = _upload(client, enc.getvalue())
    assert body.status_code == 422 and "encrypted" in body.json()["en"]
    small = TestClient(create_app(_settings(demo_home.home, max_upload_bytes=100_000)))
    big = _upload(small, b"%PDF-1.7\n" + b"0" * 200_000)
    assert big.status_code == 413 and big.json()["error"] == "too_large"
    page = _upload(small, b"%PDF-1.7\n" + b"0" * 200_000, "/check")
    assert page.status_code == 413 and "文件过大" in page.text
    page = _upload(client, b"not a pdf", "/check")
    assert page.status_code == 422 and "这不是 PDF 文件" in page.text


def test_security_headers_and_error_pages(client: TestClient) -> None:
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in r.text
    nf = client.get("/no-such-page")
    assert nf.status_code == 404 and "页面不存在" in nf.text
    assert client.get("/api/v1/no-such").json()["error"] == "not_found"
    assert client.get("/healthz").text == "ok"


def test_rate_limit_says_retry_after(demo_home: DemoHome, record: dict[str, Any]) -> None:
    settings = _settings(demo_home.home, lookup_limit=RateLimit(per_minute=6, burst=3))
    with TestClient(create_app(settings)) as c:
        form = {"number": record["number"], "name": record["name"]}
        codes = [c.post("/api/v1/query", json=form).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.post("/query", data=form)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10 and "请求过于频繁" in r.text


def test_holder_download(demo_home: DemoHome, record: dict[str, Any]) -> None:
    number, idn = record["number"], record["id_number"]
    code = demo_home.code(number)
    with TestClient(create_app(_settings(demo_home.home))) as c:
        r = c.post("/download", data={"number": number, "id_number": idn, "code": code.lower().replace("-", " ")})
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content == demo_home.pdfs[0].read_bytes() and "attachment" in r.headers["content-disposition"]
        assert c.post("/api/v1/download", json={"number": number, "id_number": idn, "code": code}).content == r.content
    # wrong codes: a 403, then the per-certificate limit stops the guessing
    with TestClient(create_app(_settings(demo_home.home, download_limit=GENEROUS))) as c:
        codes = [
            c.post("/download", data={"number": number, "id_number": idn, "code": "2222-2222-2222"}).status_code
            for _ in range(7)
        ]
        assert codes[:5] == [403] * 5 and codes[5:] == [429, 429]
        r = c.post("/download", data={"number": number, "id_number": idn, "code": code})
        assert r.status_code == 429  # even the right code waits now: the limit is per certificate too
    # the snapshot holds the PDF only encrypted
    snap = (demo_home.home / "snapshots" / "current").resolve()
    blob = (snap / "downloads.sqlite").read_bytes()
    assert b"%PDF-" not in blob and b"/DCTDecode" not in blob


def test_institution_directory(client: TestClient) -> None:
    r = client.get("/institutions", params={"q": "海淀 培训"})
    assert r.status_code == 200 and "/institutions/S000011084012" in r.text
    r = client.get("/institutions/S000011084012")
    assert r.status_code == 200 and "<svg" in r.text and "JZJBA-2023-0412" in r.text and "焊工" in r.text
    assert "SHA-256" in r.text
    api = client.get("/api/v1/institutions/S000011084012").json()
    assert api["signers"] and all(len(s["fingerprint"]) == 64 for s in api["signers"])
    assert client.get("/institutions/S999911084012").status_code == 404
    en = client.get("/api/v1/institutions", params={"q": "Mingde"}).json()
    assert [i["code"] for i in en["results"]] == ["S000011084012"]


def test_revocation_shows_everywhere(demo_home: DemoHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home.home, home, symlinks=True)
    pdf = sorted((home / "out").glob("*.pdf"))[-1]
    rec = read_record(pdf.read_bytes())
    assert rec is not None
    with TestClient(create_app(_settings(home))) as c:
        assert c.get(_path(rec["qr_url"])).status_code == 200
        with Registry.open(home / "registry.sqlite") as reg:
            reg.lifecycle.revoke(
                rec["number"],
                reason="以虚假材料取得 / obtained with false documents",
                on=date(2026, 11, 25),
                actor="t",
                benefits_cancelled=True,
                commitment_sha256=None,
            )
            publish(reg, home, incremental=True, actor="t")
        import time

        time.sleep(0.6)  # the reader re-checks the snapshot twice a second
        page = c.get(_path(rec["qr_url"])).text
        assert "已撤销" in page and "2026-11-25" in page
        body = _upload(c, pdf.read_bytes()).json()
        assert body["bottom_line"] == "revoked"
        code = demo_home.code(rec["number"])
        r = c.post("/download", data={"number": rec["number"], "id_number": rec["id_number"], "code": code})
        assert r.status_code == 410


def test_openapi_document_is_valid_and_served(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.0") and "/api/v1/check" in doc["paths"]
    json.dumps(doc)
