"""The look-up's and the QR page's fast paths (issue 18) answer exactly what the plain ones did:
the cached HMAC key schedule, the decoder's quick test of a record in its stored form, the
templates with the words and small partials folded in, the bounded cache of opened photos."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from search_index.photos import OpenedPhotos, seal_photo
from search_index.privacy import Keyer, PairKind, pair_key, qr_key
from search_index.record import SnapshotRecordRejected, _stored_form, _well_typed, decode_record, encode_record
from verify._templates import environment
from verify.present import Messages

from .test_record_types import FULL, STORED_V3

TEMPLATES = Path(__file__).resolve().parent.parent / "verify" / "templates"


@pytest.mark.parametrize("secret", [b"", b"short", b"x" * 64, b"y" * 200])
def test_the_keyer_makes_the_publishers_keys(secret: bytes) -> None:
    keys = Keyer(secret)
    values = ["S 0001１２", "张　三 ", "x y  z", "110101199001011234x", ""]
    for kind, a, b in itertools.product(PairKind, values, values):
        assert keys.pair(kind, a, b) == pair_key(secret, kind, a, b)
    assert keys.qr(" s00 1", "tok ") == qr_key(secret, " s00 1", "tok ")
    for kind in PairKind:  # the kind's text, as a caller outside the reader may pass it
        assert keys.pair(kind.value, "a", "b") == pair_key(secret, kind, "a", "b")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        keys.pair("number", "a", "b")  # type: ignore[arg-type]


def test_decoy_ids_are_uniform_over_the_range_and_refilled() -> None:
    from search_index.reader import _Randoms

    randoms = _Randoms()
    drawn = [randoms.below(10) for _ in range(3000)]  # past several 256-number refills
    assert set(drawn) == set(range(10)) and all(200 <= drawn.count(v) <= 400 for v in range(10))  # 300 ± 6 sigma
    big = [randoms.below(2**63) for _ in range(600)]
    assert len(set(big)) == 600 and max(big) > 2**62  # 128 bits a draw, not 64
    randoms.reset()  # what a forked child does: its numbers are its own
    assert 0 <= randoms.below(7) < 7


def _variants() -> list[dict[str, Any]]:
    base = json.loads(STORED_V3[2])
    wrong: list[Any] = [None, True, 1, 1.5, "x", [], ["x"], [1], {}, [{"version": 2, "how": "x", "on": "y"}]]
    return [base | {key: value} for key in base for value in wrong]


def test_the_quick_test_accepts_exactly_what_the_full_checks_accept() -> None:
    for d in _variants():
        text = json.dumps(d, ensure_ascii=False, sort_keys=True)
        try:
            slow: Any = _well_typed(json.loads(text))
        except (KeyError, TypeError, AttributeError):
            slow = False
        assert _stored_form(json.loads(text)) <= bool(slow), text  # never accepts what the checks refuse
        try:
            rec = decode_record(text)
        except SnapshotRecordRejected:
            assert not slow, text
        else:
            assert slow and decode_record(text.encode()) == rec and decode_record(" " + text + "\n") == rec


def test_records_in_another_key_order_or_with_spaces_read_the_same() -> None:
    text = encode_record(FULL)
    shuffled = json.dumps(dict(reversed(list(json.loads(text).items()))), ensure_ascii=False)
    assert decode_record(shuffled) == decode_record(f"\n {text} ") == decode_record(text) == FULL
    with pytest.raises(SnapshotRecordRejected):
        decode_record(text + "x")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_folded_templates_render_what_the_files_say(lang: str) -> None:
    plain = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "svg"]))
    folded = environment(TEMPLATES, lang)
    for name in ("_record.html", "_verdict.html", "_checked.html", "_paper.html"):
        ctx: dict[str, Any] = {
            "T": Messages(lang),
            "t": lambda key, **kw: key,
            "lang": lang,
            "view": FULL,
            "verdict": "valid",
            "verdict_text": {"valid": "ok"},
            "detail": "d",
            "photo": "AAAA",
            "checked_at": "now",
            "checked_iso": "iso",
        }
        assert folded.get_template(name).render(ctx) == plain.get_template(name).render(ctx), name
    source = folded.loader.get_source(folded, "landing.html")[0]  # type: ignore[union-attr]
    assert "T.landing_title" not in source and '{% include "_record.html" %}' not in source
    assert "{% extends" in source  # the layout stays a layout


def test_opened_photos_are_kept_per_key_and_bounded() -> None:
    jpeg = b"\xff\xd8\xff" + bytes(1000)
    blob = seal_photo(jpeg, number="N1", token="tok")
    kept = OpenedPhotos(max_bytes=2500, max_entries=10)
    assert kept.open(("g1", b"k"), blob, number="N1", token="wrong") is None  # nothing kept for a failure
    assert kept.open(("g1", b"k"), blob, number="N1", token="tok") == jpeg
    assert kept.open(("g1", b"k"), b"damaged", number="N1", token="tok") == jpeg  # kept under that key
    for g in range(5):
        assert kept.open((g, b"k"), blob, number="N1", token="tok") == jpeg
    assert kept.open(("g1", b"k"), b"damaged", number="N1", token="tok") is None  # the oldest went first
    assert len(kept._kept) == 2 and kept._bytes == 2 * len(jpeg)
