"""Who a client is cannot be forged (issue 11, item 5), downloads answer a miss like a hit (item 9),
and links stay on the site (item 10)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from verify import RateLimit, SiteSettings, create_app

from .conftest import DemoHome
from .serving import skillcert_serve

TIGHT = RateLimit(per_minute=1, burst=3)


def _site(home: Path, **kw: object) -> SiteSettings:
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    return replace(base, lookup_limit=TIGHT, **kw)  # type: ignore[arg-type]


def _statuses(c: TestClient, forwarded: list[str]) -> list[int]:
    return [
        c.get(
            "/query", params={"number": "S000011084012262000001", "name": "张三"}, headers={"x-forwarded-for": f}
        ).status_code
        for f in forwarded
    ]


def test_forwarded_for_is_ignored_unless_configured(demo_home: DemoHome) -> None:
    with TestClient(create_app(_site(demo_home.home)), client=("127.0.0.1", 4000)) as c:
        codes = _statuses(c, [f"10.0.0.{i}" for i in range(6)])
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429, 429]


def test_behind_a_proxy_the_rightmost_untrusted_hop_counts(demo_home: DemoHome) -> None:
    settings = _site(demo_home.home, trust_forwarded_for=True, trusted_proxies=("127.0.0.1", "10.9.0.0/16"))
    with TestClient(create_app(settings), client=("127.0.0.1", 4000)) as c:
        # the client writes whatever it likes on the left; the proxies append the real address
        spoofed = _statuses(c, [f"1.1.1.{i}, 203.0.113.7, 10.9.0.2" for i in range(5)])
        other = _statuses(c, ["203.0.113.8, 10.9.0.2"])
    assert spoofed[:3] == [200, 200, 200] and spoofed[3:] == [429, 429]
    assert other == [200]  # a different real client has its own bucket
    # a peer that is not a trusted proxy cannot speak for others at all
    with TestClient(create_app(settings), client=("198.51.100.1", 4000)) as c:
        codes = _statuses(c, [f"203.0.113.{i}" for i in range(5)])
    assert codes[3:] == [429, 429]


def test_an_unknown_download_pair_does_the_work_of_a_known_one(demo_home: DemoHome) -> None:
    """A miss reads a real encrypted download by the same statement and tries the code on it."""
    from render import read_record
    from search_index import Snapshot
    from search_index.downloads import decrypt_pdf

    rec = read_record(demo_home.pdfs[0].read_bytes())
    assert rec is not None
    snap = Snapshot.open(demo_home.home)
    try:
        view, blob = snap.encrypted_download(rec["number"], rec["id_number"])
        assert view is not None and blob is not None
        sizes = set()
        for i in range(20):
            miss_view, miss_blob = snap.encrypted_download(rec["number"], f"11010119900101{i:04d}")
            assert miss_view is None and miss_blob is not None and miss_blob.startswith(b"SKDL1")
            sizes.add(len(miss_blob) // 10_000)
            # the code the caller tries on it is bound to no number: even the right one fails
            assert decrypt_pdf(miss_blob, demo_home.code(rec["number"]), number=rec["number"] + "\x00unknown") is None
        assert len(sizes) >= 1 and all(s >= 1 for s in sizes)  # real certificates, not a tiny decoy
    finally:
        snap.close()
    with TestClient(create_app(_site(demo_home.home, download_limit=RateLimit(per_minute=600, burst=100)))) as c:
        form = {"number": rec["number"], "id_number": "110101199001010000", "code": demo_home.code(rec["number"])}
        r = c.post("/api/v1/download", json=form)
        assert r.status_code == 403, r.text


def test_language_link_never_leaves_the_site(demo_home: DemoHome) -> None:
    with TestClient(create_app(_site(demo_home.home)), follow_redirects=False) as c:
        for path in ("//evil.example/x", "/\\evil.example/x", "/c/%2F%2Fevil.example"):
            r = c.get(path)
            assert r.status_code == 404
            hrefs = [h.split('"')[0] for h in r.text.split('href="')[1:]]
            for h in hrefs:
                if h.startswith("data:"):
                    continue  # the inline favicon
                assert h.startswith(("?", "/", "#")) and not h.startswith("//"), (path, h)
                assert urllib.parse.urlsplit(urllib.parse.urljoin("http://site.test" + "/x", h)).netloc == "site.test"


@pytest.mark.slow
def test_a_real_server_ignores_forwarded_for(demo_home: DemoHome, tmp_path: Path) -> None:
    """uvicorn's own proxy-header rewriting is off: spoofed X-Forwarded-For from loopback changes nothing."""
    with skillcert_serve(demo_home.home, tmp_path) as srv:
        base = srv.base
        codes = []
        for i in range(14):  # the default look-up burst is 10
            req = urllib.request.Request(
                f"{base}/query?number=S000011084012262000001&name=%E5%BC%A0%E4%B8%89",
                headers={"X-Forwarded-For": f"10.1.2.{i}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
        assert codes[:10] == [200] * 10 and set(codes[10:]) == {429}, codes
