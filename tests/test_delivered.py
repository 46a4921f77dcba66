"""The delivered-copy fast path (verify/delivered.py) gives exactly the full check's verdict.

Each delivered PDF of the demo is checked by the site twice: the first upload takes the full
path and leaves a memo, the second is answered from it. Both are compared with ``check_pdf``
(the full check, no memo) — and again after the register changes (revocation), after the trust
roots change, after the clock passes the memo's horizon, and for files that are not delivered
copies (a re-saved copy, an altered one), which must never be answered from a memo.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from registry import Registry
from render import read_record
from search_index import publish
from sign._horizon import data_times, stable_until
from verify import SiteSettings
from verify._site import Site
from verify.check import check_pdf
from verify.delivered import MAX_AGE, DeliveredCopies

from .conftest import DemoHome


def _site(home: Path, roots: tuple[Path, ...] | None = None) -> Site:
    base = SiteSettings.from_home(home, trust_roots=roots or (home / "pki" / "certs" / "root.pem",))
    return Site(replace(base, check_timeout_seconds=60.0))


def _full(site: Site, data: bytes) -> dict[str, Any]:
    with site.snapshot.pinned() as snap:
        return check_pdf(data, snap, site.settings.trust_roots).as_dict()


def _fast(site: Site, data: bytes) -> dict[str, Any] | None:
    with site.snapshot.pinned() as snap:
        r = site.delivered.answer(data, hashlib.sha256(data).hexdigest(), snap, site.settings.trust_roots)
    return None if r is None else r.as_dict()


def _sample(demo_home: DemoHome) -> list[bytes]:
    """One delivered PDF of each style and kind the demo makes."""
    seen: dict[tuple[str, str], bytes] = {}
    for p in demo_home.pdfs:
        data = p.read_bytes()
        rec = read_record(data) or {}
        seen.setdefault((str(rec.get("style")), str(rec.get("kind"))), data)
    return list(seen.values())


def _annotated(data: bytes) -> bytes:
    """``data`` with an incremental update that adds a text annotation to the first page."""
    import io

    from pyhanko.pdf_utils import generic as g
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    generic: Any = g
    w: Any = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (10, 10, 30, 30)]),
            generic.NameObject("/Contents"): generic.TextStringObject("x"),
        }
    )
    page[generic.NameObject("/Annots")] = generic.ArrayObject([w.add_object(annot)])
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_fast_and_full_verdicts_agree_over_the_demo(demo_home: DemoHome) -> None:
    site = _site(demo_home.home)
    try:
        samples = _sample(demo_home)
        assert len(samples) >= 3
        for data in samples:
            assert _fast(site, data) is None  # nothing kept yet
            first = asyncio.run(site.check(data)).as_dict()
            fast = _fast(site, data)
            assert fast is not None, "a delivered copy is kept after its full check"
            assert fast == first == _full(site, data)
            assert asyncio.run(site.check(data)).as_dict() == first
        assert len(site.delivered) == len(samples)
    finally:
        site.close()


def test_files_that_are_not_delivered_copies_take_the_full_path(demo_home: DemoHome) -> None:
    site = _site(demo_home.home)
    try:
        data = demo_home.pdfs[0].read_bytes()
        asyncio.run(site.check(data))
        assert _fast(site, data) is not None
        resaved = data + b"\n"  # still a valid file, but not the delivered bytes
        altered = _annotated(data)  # a later revision no seal allows
        for other in (resaved, altered):
            report = asyncio.run(site.check(other)).as_dict()
            assert _fast(site, other) is None and report == _full(site, other)
        assert len(site.delivered) == 1
        assert asyncio.run(site.check(resaved)).as_dict()["bottom_line"] == "valid"
        assert asyncio.run(site.check(altered)).as_dict()["bottom_line"] == "invalid"
    finally:
        site.close()


def test_a_revocation_after_the_memo_is_seen_at_once(demo_home: DemoHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home.home, home, symlinks=True)
    pdf = sorted((home / "out").glob("*.pdf"))[-1]
    data = pdf.read_bytes()
    rec = read_record(data)
    assert rec is not None
    site = _site(home)
    try:
        assert asyncio.run(site.check(data)).as_dict()["bottom_line"] == "valid"
        with Registry.open(home / "registry.sqlite") as reg:
            reg.lifecycle.revoke(
                rec["number"],
                reason="以虚假材料取得 / false documents",
                on=date(2026, 11, 25),
                actor="t",
                benefits_cancelled=True,
                commitment_sha256=None,
            )
            publish(reg, home, incremental=True, actor="t")
        import time

        time.sleep(0.6)  # the reader re-checks the snapshot twice a second
        fast = _fast(site, data)
        assert fast is not None and fast == _full(site, data)
        assert fast["bottom_line"] == "revoked"
    finally:
        site.close()


def test_other_trust_roots_or_a_later_clock_are_not_answered_from_the_memo(demo_home: DemoHome, tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    shutil.copy(demo_home.home / "pki" / "certs" / "root.pem", root)
    site = _site(demo_home.home, (root,))
    try:
        data = demo_home.pdfs[0].read_bytes()
        asyncio.run(site.check(data))
        assert _fast(site, data) is not None
        later = datetime.now(UTC) + MAX_AGE + timedelta(seconds=1)
        memo = site.delivered
        site.delivered = DeliveredCopies(clock=lambda: later)
        site.delivered._memo.update(memo._memo)
        assert _fast(site, data) is None and len(site.delivered) == 0  # expired, dropped
        site.delivered = memo
        others = sorted((demo_home.home / "pki" / "certs").glob("*.pem"))
        stranger = next(p for p in others if p.name != "root.pem")
        shutil.copy(stranger, root)  # the site now trusts another root
        assert _fast(site, data) is None
        assert asyncio.run(site.check(data)).as_dict() == _full(site, data)
        assert _full(site, data)["bottom_line"] != "valid"
    finally:
        site.close()


def test_data_times_finds_every_time_and_refuses_what_it_cannot_read(demo_home: DemoHome) -> None:
    from pyhanko.keys import load_cert_from_pemder

    cert = cast(Any, load_cert_from_pemder)(str(demo_home.home / "pki" / "certs" / "root.pem"))
    valid = cert["tbs_certificate"]["validity"]
    found = data_times([cert.dump()])
    assert found is not None
    assert {valid["not_before"].native, valid["not_after"].native} <= set(found)
    wrapped = b"\x04" + bytes([0x82]) + len(cert.dump()).to_bytes(2, "big") + cert.dump()  # DER in an OCTET STRING
    assert set(data_times([wrapped]) or []) >= set(found)
    assert data_times([b"\x30\x05\x17\x03abc"]) is None  # a UTCTime that is not one
    assert data_times([b"\x30\x80\x00\x00"]) is None  # indefinite length: BER, not DER
    assert data_times([cert.dump()[:-5]]) is None  # cut short


def test_stable_until_ends_before_the_next_moment_the_clock_matters() -> None:
    t = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert stable_until([t - timedelta(minutes=10)], t, t) == t + timedelta(minutes=20, seconds=-5)
    assert stable_until([t - timedelta(days=2)], t, t) == datetime.max.replace(tzinfo=UTC)
    assert stable_until([t + timedelta(days=3)], t, t) == t + timedelta(days=3, seconds=-5)
    assert stable_until([t - timedelta(minutes=30)], t, t) is None  # a fallback window ends right now
    assert stable_until([t + timedelta(seconds=2)], t, t) is None  # within pyHanko's tolerance
    assert stable_until([t + timedelta(minutes=1)], t, t + timedelta(minutes=2)) is None  # during the check


@pytest.mark.parametrize("capacity", [2])
def test_the_memo_is_bounded(demo_home: DemoHome, capacity: int) -> None:
    site = _site(demo_home.home)
    try:
        site.delivered = DeliveredCopies(capacity=capacity)
        for data in _sample(demo_home)[:3]:
            asyncio.run(site.check(data))
        assert len(site.delivered) == capacity
    finally:
        site.close()


def test_validate_pdf_until_is_validate_pdf_with_a_horizon(demo_home: DemoHome) -> None:
    from sign import Trust
    from sign.validate import validate_pdf, validate_pdf_until

    trust = Trust(roots=(demo_home.home / "pki" / "certs" / "root.pem",))
    for data in _sample(demo_home)[:2]:
        before = datetime.now(UTC)
        status, until = validate_pdf_until(data, trust)
        assert status == validate_pdf(data, trust)
        assert until is None or until > before  # None: a moment that matters fell within the check
