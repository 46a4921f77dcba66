"""What the people at each end need (issue 13, items 1-6): the employer's query, photo and
upload check, the old paper after a reissue, Beijing time and the operator, the holder's notice.

Cheap by design: a small registry in ``tmp_path`` published without sealing, and the session's
sealed demo (``demo_home``) read-only through the ASGI app.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from registry import Registry
from registry.models import ResultRow
from search_index import PairKind, Snapshot, publish
from verify import Operator, RateLimit, SiteSettings, create_app

from .conftest import DEMO_CODES, DemoHome
from .factory import photo_bytes

BIG = RateLimit(per_minute=100_000, burst=100_000)
PERSON = ("欧阳建国", "11010519491231002X")
ON = date(2026, 11, 20)


def _site(root: Path, secret: bytes, **kw: Any) -> TestClient:
    s = SiteSettings(snapshot_root=root, secret=secret, lookup_limit=BIG, qr_limit=BIG, upload_limit=BIG, **kw)
    return TestClient(create_app(s))


def _main(html: str) -> str:
    return html.split('<main id="main">')[1].split("</main>")[0]


@pytest.fixture
def small(reg: Registry, tmp_path: Path) -> Iterator[tuple[Registry, Path]]:
    """One person with two certificates (electrician level 4 and welder level 5), one other holder."""
    photo = photo_bytes(3)
    sha = hashlib.sha256(photo).hexdigest()
    rows = [
        ResultRow(row=2, name=PERSON[0], id_type="201", id_number=PERSON[1], occupation="电工", job="", level=4,
                  photo_sha256=sha),
        ResultRow(row=3, name=PERSON[0], id_type="201", id_number=PERSON[1], occupation="焊工", job="", level=5,
                  photo_sha256=sha),
        ResultRow(row=4, name="李四", id_type="201", id_number="110105199003070015", occupation="电工", job="",
                  level=5, photo_sha256=sha),
    ]  # fmt: skip
    reg.certificates.add_batch(
        DEMO_CODES["beijing"], source_name="p.csv", source_sha256="1" * 64, rows=[(r, photo) for r in rows], actor="t"
    )
    reg.certificates.issue(DEMO_CODES["beijing"], ON, actor="t")
    home = tmp_path / "home"
    publish(reg, home)
    yield reg, home


def _certs(reg: Registry) -> list[Any]:
    return [c for c in reg.certificates.select() if c.name == PERSON[0]]


# -- 1: a name + ID query lists all of a person's certificates --------------------------------


def test_name_and_id_find_every_certificate_of_the_person(small: tuple[Registry, Path]) -> None:
    reg, home = small
    mine = _certs(reg)
    assert len(mine) == 2
    snap = Snapshot.open(home)
    try:
        found = snap.lookup_all_by_pair(PairKind.NAME_ID, *PERSON)
        assert sorted(v.occupation for v in found) == ["焊工", "电工"]
        assert snap.lookup_all_by_pair(PairKind.NAME_ID, PERSON[0], "110105199003070015") == []
        for c in mine:  # a pair with the number still names one certificate
            assert [v.level for v in snap.lookup_all_by_pair(PairKind.NUMBER_ID, c.number, c.id_number)] == [c.level]
    finally:
        snap.close()
    with _site(home / "snapshots", (home / "index.secret").read_bytes()) as client:
        body = client.post("/api/v1/query", json={"name": PERSON[0], "id_number": PERSON[1]}).json()
        assert body["found"] and len(body["certificates"]) == 2
        assert {x["record"]["occupation"] for x in body["certificates"]} == {"电工", "焊工"}
        page = _main(client.post("/query", data={"name": PERSON[0], "id_number": PERSON[1]}).text)
        assert page.count('class="record"') == 2 and "电工" in page and "焊工" in page
        assert "2 张证书" in page


# -- 2: the QR landing shows the photo; the snapshot holds none in clear -----------------------


def test_the_qr_landing_shows_the_photo_only_with_the_token(small: tuple[Registry, Path]) -> None:
    reg, home = small
    c = _certs(reg)[0]
    raw = reg.certificates.photo(c.photo_sha256)
    blob = b"".join(p.read_bytes() for p in (home / "snapshots").rglob("*") if p.is_file())
    assert raw not in blob and raw[100:164] not in blob  # sealed, not stored
    snap = Snapshot.open(home)
    try:
        assert snap.photo_by_qr(c.number, c.qr_token) == raw
        assert snap.photo_by_qr(c.number, "wrong-token") is None
        other = next(x for x in reg.certificates.select() if x.name != PERSON[0])
        assert snap.photo_by_qr(c.number, other.qr_token) is None  # another certificate's token
    finally:
        snap.close()
    with _site(home / "snapshots", (home / "index.secret").read_bytes()) as client:
        page = client.get(f"/c/{c.number}?t={c.qr_token}").text
        m = re.search(r'<img class="photo" src="data:image/jpeg;base64,([^"]+)" alt="([^"]+)"', page)
        assert m is not None and base64.b64decode(m.group(1)) == raw and "照片" in m.group(2)
        assert "<img" not in client.get(f"/c/{c.number}?t=wrong").text
        assert "<img" not in _main(client.post("/query", data={"name": PERSON[0], "id_number": PERSON[1]}).text)


# -- 4: a reissue gives a new token; the old paper's QR says replaced --------------------------


def test_a_reissue_retires_the_old_papers_qr_token(small: tuple[Registry, Path]) -> None:
    reg, home = small
    c = _certs(reg)[0]
    new = reg.lifecycle.reissue(c.number, applied_on=date(2026, 11, 23), on=date(2026, 11, 24), service_due=date(2026, 11, 30),
                      damaged_returned=False, actor="t")  # fmt: skip
    assert new.qr_token and new.qr_token != c.qr_token and new.version == 2
    assert reg.audit.verify().ok, reg.audit.verify().problems
    assert all("qr_token" not in v for v in reg.lifecycle.version_history(c.id))  # never shown
    publish(reg, home, incremental=True)
    snap = Snapshot.open(home)
    try:
        old = snap.lookup_by_qr(c.number, c.qr_token)
        assert old is not None and old.status == "replaced" and old.replaced_on == "2026-11-24"
        assert old.replaced_how == "reissue"
        cur = snap.lookup_by_qr(c.number, new.qr_token)
        assert cur is not None and cur.status == "valid" and cur.versions[-1].how == "reissue"
        assert snap.photo_by_qr(c.number, c.qr_token) is None and snap.photo_by_qr(c.number, new.qr_token)
        assert len(snap.lookup_all_by_pair(PairKind.NAME_ID, *PERSON)) == 2  # the retired token is no certificate
        assert snap.manifest["certificates"] == 3
    finally:
        snap.close()
    with _site(home / "snapshots", (home / "index.secret").read_bytes()) as client:
        page = _main(client.get(f"/c/{c.number}?t={c.qr_token}").text)
        assert "verdict-replaced" in page and "2026-11-24" in page and "补发" in page and "请向持证人索取" in page
        en = _main(client.get(f"/c/{c.number}?t={c.qr_token}&lang=en").text)
        assert "Replaced" in en and "reissued" in en and "ask for the current certificate" in en
        assert client.get(f"/api/v1/certificates/qr?number={c.number}&t={c.qr_token}").json()["status"] == "replaced"
    # a full publish keeps the old token resolvable too
    publish(reg, home)
    snap = Snapshot.open(home)
    try:
        assert snap.lookup_by_qr(c.number, c.qr_token).status == "replaced"  # type: ignore[union-attr]
        assert snap.manifest["certificates"] == 3
    finally:
        snap.close()


# -- 5: Beijing time and the operator ---------------------------------------------------------


def test_beijing_time_operator_and_print_view(small: tuple[Registry, Path]) -> None:
    reg, home = small
    c = _certs(reg)[0]
    op = Operator(name_zh="北京市某职业技能鉴定指导中心", name_en="Beijing Skills Testing Centre",
                  contact="010-12345678 · verify@example.org", address="北京市海淀区某路 1 号")  # fmt: skip
    with _site(home / "snapshots", (home / "index.secret").read_bytes(), operator=op) as client:
        page = client.get(f"/c/{c.number}?t={c.qr_token}").text
        assert op.name_zh in page and op.contact in page and "北京时间" in page and " UTC" not in page
        assert re.search(r"查验时间[^<]*</span>\s*<time datetime=\"[0-9T:+-]+\">\d{4}-\d\d-\d\d \d\d:\d\d", page)
        en = client.get(f"/c/{c.number}?t={c.qr_token}&lang=en").text
        assert op.name_en in en and "Beijing time" in en
        css = client.get("/static/site.css").text
        assert "@media print" in css


def test_operator_from_settings_toml(tmp_path: Path) -> None:
    from skillcert.serving import site_settings
    from skillcert.settings import Settings

    home = tmp_path / "h"
    home.mkdir()
    (home / "index.secret").write_bytes(b"s" * 32)
    (home / "settings.toml").write_text(
        '[site]\noperator_zh = "某某鉴定中心"\noperator_en = "Some Testing Centre"\n'
        'operator_contact = "010-1234"\noperator_address = "北京"\n',
        encoding="utf-8",
    )
    s = site_settings(Settings.from_env({"SKILLCERT_HOME": str(home)}))
    assert s.operator == Operator(name_zh="某某鉴定中心", name_en="Some Testing Centre", contact="010-1234",
                                  address="北京")  # fmt: skip
    (home / "settings.toml").write_text('[site]\noperator_contact = "x"\n', encoding="utf-8")
    with pytest.raises(Exception, match="operator_zh"):
        site_settings(Settings.from_env({"SKILLCERT_HOME": str(home)}))


# -- 3: the upload check in human groups --------------------------------------------------------


@pytest.fixture
def demo_client(demo_home: DemoHome) -> Iterator[TestClient]:
    base = SiteSettings.from_home(demo_home.home, trust_roots=(demo_home.home / "pki" / "certs" / "root.pem",))
    with TestClient(create_app(replace(base, lookup_limit=BIG, qr_limit=BIG, upload_limit=BIG))) as c:
        yield c


def _groups(html: str) -> list[tuple[str, str]]:
    """(group key, outcome) of each check group, in page order."""
    return re.findall(r'<section class="group group-([a-z]+) outcome-([a-z_]+)"', html)


def test_the_check_page_speaks_in_groups(demo_client: TestClient, demo_home: DemoHome) -> None:
    pdf = demo_home.pdfs[0].read_bytes()
    page = _main(demo_client.post("/check", files={"file": ("c.pdf", pdf, "application/pdf")}).text)
    assert _groups(page) == [("unchanged", "pass"), ("sealed", "pass"), ("current", "pass")]
    assert "文件未被改动" in page and "由备案机构的印章密钥签章" in page and "登记簿显示证书有效" in page
    visible = page.split("<details")[0]
    assert "filed_key" not in visible and "record_match" not in visible  # raw names only in the details
    assert "<details" in page and "filed_key" in page.split("<details")[1]
    sig = re.search(r'<li class="sig sig-(\w+)">(.*?)</li>', page, re.S)
    assert sig is not None and sig.group(1) == "pass" and "北京时间" in sig.group(2)
    assert "查验时间" in page
    # the API keeps every detailed check
    api = demo_client.post("/api/v1/check", files={"file": ("c.pdf", pdf, "application/pdf")}).json()
    assert {"integrity", "filed_key", "record_match", "status"} <= {c["check"] for c in api["checks"]}

    data = bytearray(pdf)
    data[pdf.index(b"stream", pdf.index(b"/DCTDecode")) + 200] ^= 1
    bad = _main(demo_client.post("/check?lang=en", files={"file": ("c.pdf", bytes(data), "application/pdf")}).text)
    groups = _groups(bad)
    assert groups[0] == ("unchanged", "fail"), groups
    banner = bad.split('<div class="verdict ')[1].split("</div>")[0]
    assert "Invalid" in banner and "The document was changed" in banner  # the failing group, named
    assert "sig sig-fail" in bad


def test_groups_put_failures_first_and_never_claim_what_went_unchecked() -> None:
    from sign import BottomLine, Check, Outcome, SealStatus
    from sign.status import SignatureReport
    from verify.check import CheckReport, Verdict
    from verify.present import beijing_time, check_groups, seal_lines

    def c(name: str, outcome: Outcome) -> Check:
        return Check(name, outcome, f"{name} 中", f"{name} en")

    sig = (c("integrity", Outcome.FAIL), c("chain", Outcome.NOT_APPLICABLE), c("filed_key", Outcome.PASS))
    seal = SealStatus(
        BottomLine.INVALID,
        (c("signed", Outcome.PASS), *sig),
        (SignatureReport("Sig1", "某机构", "ab" * 32, None, "2026-11-20T01:30:12+00:00", "", sig),),
    )
    report = CheckReport(
        Verdict.INVALID, (*seal.checks, c("registered", Outcome.PASS), c("status", Outcome.PASS)), seal
    )
    groups = check_groups(report)
    assert [(g.key, g.outcome.value) for g in groups] == [
        ("unchanged", "fail"),
        ("sealed", "unknown"),  # the chain was never checked: not "sealed by a filed key"
        ("current", "pass"),
    ]
    assert [p.name for p in groups[1].problems] == ["chain"]
    (line,) = seal_lines(report)
    assert line.outcome is Outcome.FAIL and line.time == "2026-11-20 09:30:12" and line.timestamped
    assert beijing_time("2026-12-31T16:00:00Z") == "2027-01-01 00:00:00"  # the date turns in Beijing
