"""The verification site as a person meets it: a real ``skillcert serve`` and headless Chromium.

One server subprocess and one browser for the whole module. The site's default rate limits
stay in force (each server process has its own buckets), so the traffic here is kept under
every burst: 5 QR landings, 4 uploads, 2 downloads, 1 two-of-three look-up. Each result page is
checked with axe-core (0 violations) at 390 × 844 (a phone) or 1366 × 768 (a laptop), in Chinese
and in English.

Screenshots go under ``tmp_path`` unless ``SKILLCERT_SCREENSHOTS`` names a folder
(``SKILLCERT_SCREENSHOTS=docs/img`` refreshes the pictures in the docs).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from render import read_record

from .conftest import DEMO_OPERATOR, DemoHome
from .serving import skillcert_serve

BEIJING = "S000011084012"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _axe(page: Any) -> None:
    """axe-core (bundled by axe-playwright-python, injected over CDP: the site's CSP allows no script)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _no_overflow(page: Any) -> None:
    """Nothing wider than the screen (a phone must not scroll sideways)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _masked(name: str) -> str:
    """The site's rule for a Chinese name: 张*三, 欧阳**, and 张* for two characters."""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode("utf-8")


@pytest.fixture(scope="module")
def site(demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``skillcert serve`` on the port the certificates' QR codes name; its base URL."""
    with skillcert_serve(demo_home.home, tmp_path_factory.mktemp("serve"), port=demo_home.port) as srv:
        yield srv.base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$SKILLCERT_SCREENSHOTS`` when set, else a temporary folder."""
    chosen = os.environ.get("SKILLCERT_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def launcher() -> Iterator[Callable[[str], Any]]:
    """One headless Chromium for the module, started by the first test that asks (with its path)."""
    state: dict[str, Any] = {}

    def launch(executable: str) -> Any:
        if "browser" not in state:
            from playwright.sync_api import sync_playwright

            state["pw"] = sync_playwright().start()
            state["browser"] = state["pw"].chromium.launch(
                executable_path=executable, args=["--headless", "--no-sandbox", "--disable-gpu"], headless=True
            )
        return state["browser"]

    yield launch
    if "browser" in state:
        state["browser"].close()
    if "pw" in state:
        state["pw"].stop()


@pytest.fixture
def page_for(
    launcher: Callable[[str], Any], require_program: Callable[[str], str], site: str
) -> Iterator[Callable[..., Any]]:
    """A fresh browser context (no cookies carried between tests) and a page in it."""
    browser = launcher(require_program("chromium"))
    contexts: list[Any] = []

    def new_page(viewport: dict[str, int] = DESKTOP, locale: str = "zh-CN") -> Any:
        ctx = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield new_page
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="module")
def first(demo_home: DemoHome) -> tuple[bytes, dict[str, Any]]:
    pdf = demo_home.pdfs[0].read_bytes()
    rec = read_record(pdf)
    assert rec is not None
    return pdf, rec


# --- over plain HTTP ----------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_subprocess_answers_on_loopback(site: str, first: tuple[bytes, dict[str, Any]]) -> None:
    _, rec = first
    assert _get(f"{site}/healthz")[2] == "ok"
    assert rec["qr_url"].startswith(f"{site}/c/{rec['number']}?t=")
    status, headers, body = _get(rec["qr_url"])
    assert status == 200 and 'lang="zh-CN"' in body and "有效" in body
    assert _masked(rec["name"]) in body and rec["name"] not in body and rec["id_number"] not in body
    assert rec["occupation"] in body
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"


# --- in the browser ----------------------------------------------------------------------------


@pytest.mark.system
@pytest.mark.slow
def test_scan_the_qr_code_and_switch_language(
    page_for: Callable[..., Any], first: tuple[bytes, dict[str, Any]], site: str, shots: Path
) -> None:
    import pypdfium2 as pdfium
    import zxingcpp

    pdf, rec = first
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=150 / 72).to_pil()
    finally:
        doc.close()
    codes = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1
    url = codes[0].text
    assert url.startswith(f"{site}/c/") and url == rec["qr_url"]

    page = page_for(PHONE)
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator(".verdict-word").inner_text().strip() == "有效"
    record = page.locator("table.record:not(.claims)").inner_text()
    assert _masked(rec["name"]) in record and rec["occupation"] in record
    html = page.content()
    # the site never sends the full name; only the offline check shows the name the QR code's own
    # signed fragment carries (read on the phone, never sent), to compare with the paper
    sent = page.locator("main").evaluate(
        "m => { const c = m.cloneNode(true); c.querySelector('#offline')?.remove(); return c.innerHTML; }"
    )
    assert rec["name"] not in sent and rec["id_number"] not in html
    # the holder's photo, decrypted with the QR token, really drawn
    photo = page.locator("img.photo")
    assert photo.count() == 1 and photo.evaluate("i => i.complete && i.naturalWidth > 100")
    assert "北京时间" in page.locator("p.checked").inner_text() and " UTC" not in page.inner_text("body")
    assert DEMO_OPERATOR[0] in page.locator("footer").inner_text()  # the site's operator, from settings
    _axe(page)
    _no_overflow(page)
    page.screenshot(path=str(shots / "site-qr-landing.png"), full_page=True)

    page.locator("a.lang").click()
    page.wait_for_selector("html[lang=en]")
    assert page.locator(".verdict-word").inner_text().strip() == "Valid"
    assert "How to check the paper" in page.locator("section.paper").inner_text()
    assert rec["name"] not in page.content()
    assert page.locator("img.photo").count() == 1 and "Beijing time" in page.locator("p.checked").inner_text()
    assert DEMO_OPERATOR[1] in page.locator("footer").inner_text() and DEMO_OPERATOR[2] in page.content()
    _axe(page)
    _no_overflow(page)
    page.screenshot(path=str(shots / "site-qr-landing-en.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_qr_landing_on_a_laptop(
    page_for: Callable[..., Any], first: tuple[bytes, dict[str, Any]], locale: str, shots: Path
) -> None:
    _, rec = first
    page = page_for(DESKTOP, locale=locale)
    where, _, fragment = rec["qr_url"].partition("#")  # the signed payload stays the fragment
    page.goto(where + ("&lang=en" if locale == "en" else "") + (f"#{fragment}" if fragment else ""))
    assert page.locator(".verdict-word").inner_text().strip() == ("Valid" if locale == "en" else "有效")
    box, table = page.locator("img.photo").bounding_box(), page.locator("table.record:not(.claims)").bounding_box()
    assert box and table and box["x"] + box["width"] <= table["x"]  # the photo beside the record
    _axe(page)
    page.emulate_media(media="print")  # the printable result: no navigation, the time of the check
    assert not page.locator("header.top").is_visible() and page.locator("p.checked").is_visible()
    assert page.locator("footer .operator").is_visible()
    page.screenshot(path=str(shots / f"site-qr-landing-print-{locale[:2]}.png"), full_page=True)


def _upload(page: Any, site: str, file: Path) -> None:
    page.goto(f"{site}/check")
    page.locator("#c-file").set_input_files(str(file))
    with page.expect_navigation():
        page.locator("form[action='/check'] button[type=submit]").click()


def _groups(page: Any) -> list[tuple[str, str]]:
    """(group, outcome) of each check group in page order: unchanged · sealed · current."""
    out = []
    for el in page.locator("section.group").all():
        classes = (el.get_attribute("class") or "").split()
        out.append(
            (
                next(c[6:] for c in classes if c.startswith("group-")),
                next(c[8:] for c in classes if c.startswith("outcome-")),
            )
        )
    return out


def _outcomes(page: Any) -> dict[str, str]:
    """check name → the row's outcome class (``outcome-pass`` …), from the collapsed details."""
    rows = page.locator("table.checks tbody tr")
    out: dict[str, str] = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        classes = (row.get_attribute("class") or "").split()
        name = (row.locator("td").first.text_content() or "").strip()  # inner_text is "" while collapsed
        out[name] = next(c for c in classes if c.startswith("outcome-"))
    return out


@pytest.mark.system
@pytest.mark.slow
def test_upload_a_signed_pdf(page_for: Callable[..., Any], demo_home: DemoHome, site: str, shots: Path) -> None:
    page = page_for()
    _upload(page, site, demo_home.pdfs[0])
    assert page.locator(".verdict-word").inner_text().strip() == "有效"
    assert _groups(page) == [("unchanged", "pass"), ("sealed", "pass"), ("current", "pass")]
    visible = page.locator("main").inner_text()
    assert "文件未被改动" in visible and "filed_key" not in visible  # the raw names stay collapsed
    outcomes = _outcomes(page)
    assert outcomes and "integrity" in outcomes
    assert set(outcomes.values()) <= {"outcome-pass", "outcome-not_applicable"}, outcomes
    assert page.locator("table.checks tr.outcome-fail").count() == 0
    sigs = page.locator("ul.sigs li.sig")
    assert sigs.count() >= 1 and "北京时间" in sigs.first.inner_text() and "印章有效" in sigs.first.inner_text()
    box = sigs.first.bounding_box()
    assert box is not None and box["height"] < 45  # one line on a laptop: signer · time · status
    _axe(page)
    page.screenshot(path=str(shots / "site-check-valid.png"), full_page=True)
    page.locator("details.details summary").click()
    assert page.locator("table.checks").is_visible()
    _axe(page)
    page.locator("details.details summary").click()
    page.emulate_media(media="print")
    assert not page.locator("form[action='/check']").is_visible() and page.locator("p.checked").is_visible()
    page.screenshot(path=str(shots / "site-check-print.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
def test_upload_a_tampered_pdf(
    page_for: Callable[..., Any], first: tuple[bytes, dict[str, Any]], site: str, shots: Path, tmp_path: Path
) -> None:
    pdf, _ = first
    data = bytearray(pdf)
    data[pdf.index(b"stream", pdf.index(b"/DCTDecode")) + 200] ^= 1
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))

    page = page_for(PHONE)
    _upload(page, site, tampered)
    assert page.locator(".verdict-word").inner_text().strip() == "无效"
    outcomes = _outcomes(page)
    assert outcomes["integrity"] == "outcome-fail", outcomes
    groups = _groups(page)
    assert groups[0] == ("unchanged", "fail"), groups  # failing first, and named in the red banner
    assert "文件已被改动" in page.locator(".verdict .failed").inner_text()
    assert page.locator("ul.sigs li.sig-fail").count() >= 1
    _axe(page)
    _no_overflow(page)
    page.screenshot(path=str(shots / "site-check-tampered.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
def test_upload_in_english_on_phone_and_laptop(
    page_for: Callable[..., Any], first: tuple[bytes, dict[str, Any]], site: str, shots: Path, tmp_path: Path
) -> None:
    pdf, _ = first
    data = bytearray(pdf)
    data[pdf.index(b"stream", pdf.index(b"/DCTDecode")) + 200] ^= 1
    good, bad = tmp_path / "good.pdf", tmp_path / "tampered.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(bytes(data))
    for viewport, file, word in ((PHONE, good, "Valid"), (DESKTOP, bad, "Invalid")):
        page = page_for(viewport, locale="en")
        page.goto(f"{site}/check?lang=en")
        page.locator("#c-file").set_input_files(str(file))
        with page.expect_navigation():
            page.locator("form[action='/check'] button[type=submit]").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator(".verdict-word").inner_text().strip() == word
        text = page.locator("main").inner_text()
        assert "Beijing time" in text and "Checked at" in text
        if word == "Valid":
            assert "The document is unchanged" in text and "The register says it is current" in text
        else:
            assert "The document was changed" in page.locator(".verdict .failed").inner_text()
        _axe(page)
        _no_overflow(page)
        page.screenshot(path=str(shots / f"site-check-{word.lower()}-en.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
def test_holder_download(
    page_for: Callable[..., Any],
    demo_home: DemoHome,
    first: tuple[bytes, dict[str, Any]],
    site: str,
    shots: Path,
    tmp_path: Path,
) -> None:
    pdf, rec = first
    page = page_for()
    page.goto(f"{site}/download")
    page.fill("#d-number", rec["number"])
    page.fill("#d-id", rec["id_number"])
    page.fill("#d-code", demo_home.code(rec["number"]))
    with page.expect_download() as info:
        page.locator("form[action='/download'] button[type=submit]").click()
    download = info.value
    saved = tmp_path / "downloaded.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes() == pdf
    assert download.suggested_filename.endswith(".pdf")

    # one wrong code: the form comes back with the error, number and ID kept, the code not
    page.fill("#d-code", "2222-2222-2222")
    with page.expect_navigation():
        page.locator("form[action='/download'] button[type=submit]").click()
    alert = page.get_by_role("alert")
    assert "下载码不正确" in alert.inner_text()
    assert page.input_value("#d-number") == rec["number"] and page.input_value("#d-code") == ""
    page.screenshot(path=str(shots / "site-download.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
def test_institution_search_and_filing(page_for: Callable[..., Any], site: str, shots: Path) -> None:
    page = page_for()
    page.goto(f"{site}/institutions")
    page.fill("#i-q", "海淀 培训")
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()
    link = page.locator(f"ul.results a[href='/institutions/{BEIJING}']")
    assert link.count() == 1 and "海淀" in link.inner_text()
    page.screenshot(path=str(shots / "site-institutions.png"), full_page=True)

    with page.expect_navigation():
        link.click()
    assert page.url.endswith(f"/institutions/{BEIJING}")
    assert page.locator("svg.seal").count() >= 1
    assert BEIJING in page.locator("table.record:not(.claims)").inner_text()
    page.screenshot(path=str(shots / "site-institution.png"), full_page=True)


@pytest.mark.system
@pytest.mark.slow
def test_two_of_three_query(
    page_for: Callable[..., Any], first: tuple[bytes, dict[str, Any]], site: str, shots: Path
) -> None:
    _, rec = first
    page = page_for()
    page.goto(f"{site}/query")
    page.fill("#q-number", rec["number"])
    page.fill("#q-name", rec["name"])
    with page.expect_navigation():
        page.locator("form[action='/query'] button[type=submit]").click()
    assert page.locator(".verdict-word").inner_text().strip() == "有效"
    assert _masked(rec["name"]) in page.locator("table.record:not(.claims)").inner_text()
    page.screenshot(path=str(shots / "site-query.png"), full_page=True)

    page.fill("#q-number", rec["number"])
    page.fill("#q-name", "")
    page.fill("#q-id", "")
    with page.expect_navigation() as nav:
        page.locator("form[action='/query'] button[type=submit]").click()
    response = nav.value
    assert response is not None and response.status == 400
    assert "至少填写两项" in page.get_by_role("alert").inner_text()
    assert page.locator(".verdict-word").count() == 0
