"""sign/_fasthex.py reads every hex string as pyHanko does: the same value, the same error, the
stream left at the same place."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest

from sign._fasthex import original, read_hex_string


def _outcome(fn: Any, data: bytes) -> tuple[Any, ...]:
    s = io.BytesIO(data)
    try:
        value = fn(s)
    except Exception as e:
        return ("raised", type(e).__name__, s.tell() if not s.closed else None)
    return ("read", type(value).__name__, bytes(value.original_bytes), s.tell())


CASES = [
    b"<>",
    b"<3082>",
    b"<3082> rest",
    b"<308>",  # odd: padded with 0
    b"<30 82\n0a\r\t\x00\x0cff>tail",
    b"<FEFF0041>",  # a text string's byte order mark
    b"<30%comment>\n82>",  # a comment inside (pyHanko's way)
    b"<30 zz>",
    b"<3082",  # no end
    b"<",
    b"<%>",
    b"<" + b"ab" * 70000 + b">x",  # longer than one block
    b"<" + b"ab" * 70000,  # long, no end
    b"<" + b"a b\n" * 40000 + b"%c\n>",
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_the_same_as_pyhanko(data: bytes) -> None:
    assert _outcome(read_hex_string, data) == _outcome(original(), data)


def test_the_same_as_pyhanko_on_random_input() -> None:
    rng = random.Random(18)
    alphabet = b"0123456789abcdefABCDEF \n\r\t\x00\x0c%>g<("
    for _ in range(3000):
        n = rng.choice([0, 1, 2, 5, 17, 200])
        data = b"<" + bytes(rng.choice(alphabet) for _ in range(n)) + rng.choice([b"", b">", b">x"])
        assert _outcome(read_hex_string, data) == _outcome(original(), data), data


def test_it_stands_in_for_pyhankos_reader() -> None:
    from pyhanko.pdf_utils import generic

    original()  # installs it (sign.validate does, before it reads a file)
    assert generic.read_hex_string_from_stream is read_hex_string
    read: Any = generic.read_object
    assert read(io.BytesIO(b"<3082>"), None).original_bytes == b"\x30\x82"


def test_name_comparison_is_asn1cryptos(tmp_path: Any) -> None:
    """sign/_names.py: the memo answers as asn1crypto does, for equal, unequal and odd names."""
    from asn1crypto.x509 import Name

    from sign import _names

    asn1 = _names.original()
    names = [
        Name.build({"common_name": "示例 CA", "country_name": "CN"}),
        Name.build({"common_name": "示例  ca", "country_name": "CN"}),  # equal after string prep
        Name.build({"common_name": "示例 CA"}),
        Name.build({"common_name": "Other", "organization_name": "X"}),
    ]
    for a in names:
        for b in names:
            for _ in range(2):  # the second time from the memo
                assert (a == b) == asn1(a, b) and (a != b) == (not asn1(a, b))
    assert names[0] == names[1] and names[0] != names[2]
    hashable = _names.original_hashable()
    for a in names:
        assert a.hashable == hashable.fget(a) == a.hashable  # the second time from the memo
    assert (names[0] == "CN=示例 CA") is False
