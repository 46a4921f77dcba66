"""The QR landing page's fast path (``Pages.landing_page``) sends what the general page render sends.

``landing_page`` renders ``landing.html``'s main block alone, puts it into the rest of the page
rendered once per language and generation, and splices the photo's base64 in as bytes. Each case
here is rendered both ways, byte for byte: hit and miss, both languages, every status line, a new
generation, and record fields that hold the fast path's own slot markers.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from markupsafe import Markup
from starlette.requests import Request

from render import read_record
from search_index.reader import Landing
from verify import SiteSettings
from verify import app as site_app
from verify._site import Site

from .conftest import DemoHome

CHECKED = {"checked_at": "2026-12-02 10:00:00", "checked_iso": "2026-12-02T10:00:00+08:00"}


def _request(path: str, query: str = "", cookie: str = "") -> Request:
    headers = [(b"host", b"testserver")] + ([(b"cookie", cookie.encode())] if cookie else [])
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "path_params": {"number": path.rsplit("/", 1)[1]},
        }
    )


@pytest.fixture
def pages(demo_home: DemoHome, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(site_app, "_checked", lambda: dict(CHECKED))  # the same second for both renders
    site = Site(SiteSettings.from_home(demo_home.home, trust_roots=(demo_home.home / "pki" / "certs" / "root.pem",)))
    yield site_app.Pages(site)
    site.close()


def _both(pages: Any, request: Request, found: Landing) -> tuple[Any, Any]:
    photo = Markup(base64.b64encode(found.photo).decode("ascii")) if found.photo else None
    general = pages.render(
        request,
        "landing.html",
        view=found.record,
        inst=found.institution,
        manifest=found.manifest,
        photo=photo,
        **CHECKED,
    )
    return pages.landing_page(request, found), general


def _same(pages: Any, request: Request, found: Landing) -> bytes:
    fast, general = _both(pages, request, found)
    assert fast.body == general.body
    assert fast.status_code == general.status_code == 200
    assert fast.raw_headers == general.raw_headers  # content-length, content-type, no-store, the lang cookie
    return bytes(fast.body)


def _qr(demo_home: DemoHome) -> tuple[str, str]:
    record = read_record(demo_home.pdfs[0].read_bytes())
    assert record is not None
    path, _, query = ("/" + str(record["qr_url"]).split("/", 3)[3].split("#")[0]).partition("?")
    return path, query.split("t=", 1)[1]


def test_hit_and_miss_in_both_languages(pages: Any, demo_home: DemoHome) -> None:
    path, token = _qr(demo_home)
    number = path.rsplit("/", 1)[1]
    hit = pages.site.snapshot.landing_by_qr(number, token)
    assert hit.record is not None
    for query, cookie in ((f"t={token}", ""), (f"t={token}&lang=en", ""), (f"t={token}", "lang=en")):
        body = _same(pages, _request(path, query, cookie), hit)
        assert b'id="offline-words"' in body and b"/static/offline.js" in body
    miss = pages.site.snapshot.landing_by_qr(number, "A" * len(token))
    assert miss.record is None
    for query in ("t=" + "A" * len(token), "t=x&lang=en", ""):
        _same(pages, _request(path, query), miss)


def test_every_status_line_and_the_photo(pages: Any, demo_home: DemoHome) -> None:
    path, token = _qr(demo_home)
    found = pages.site.snapshot.landing_by_qr(path.rsplit("/", 1)[1], token)
    view = found.record
    assert view is not None
    photo = found.photo or b"\xff\xd8\xff\xe0 not a real JPEG"
    variants = [
        replace(view, status="revoked", status_date="2026-11-30", status_reason="违规 <b>&"),
        replace(view, status="replaced", replaced_on="2026-11-29", replaced_how="reissue", status_date="2026-11-29"),
        replace(view, status="suspended", job="——"),
        replace(view, job="<\x00main\x00>", name="<\x00photo\x00>", occupation="<\x00switch\x00>"),
    ]
    for v in variants:
        for lang in ("zh", "en"):
            _same(pages, _request(path, f"t={token}&lang={lang}"), found._replace(record=v, photo=None))
    body = _same(pages, _request(path, f"t={token}"), found._replace(photo=photo))
    assert base64.b64encode(photo) in body
    marked = found._replace(record=variants[-1], photo=photo)  # markers in the record are escaped, never slots
    body = _same(pages, _request(path, f"t={token}"), marked)
    assert b"<\x00" not in body and body.count(base64.b64encode(photo)) == 1


def test_a_new_generation_gets_its_own_frame(pages: Any, demo_home: DemoHome) -> None:
    path, token = _qr(demo_home)
    found = pages.site.snapshot.landing_by_qr(path.rsplit("/", 1)[1], token)
    first = _same(pages, _request(path, f"t={token}"), found)
    later = {**found.manifest, "id": "20991231T000000-1", "generation": 99, "updated_at": "2099-12-31T00:00:00Z"}
    second = _same(pages, _request(path, f"t={token}"), found._replace(manifest=later))
    assert b"20991231T000000-1" in second and b"20991231T000000-1" not in first
    assert _same(pages, _request(path, f"t={token}&q=<x>&lang=zh"), found._replace(manifest={}))


def test_the_switch_link_is_escaped(pages: Any, demo_home: DemoHome) -> None:
    path, token = _qr(demo_home)
    found = pages.site.snapshot.landing_by_qr(path.rsplit("/", 1)[1], token)
    body = _same(pages, _request(path, f't={token}&x="><script>'), found)
    assert b'"><script>' not in body
