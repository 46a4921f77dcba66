"""What a snapshot may hold about a person: keyed hashes of key pairs, and masked values.

The three pair keys (SPEC §5: a query gives two of three — number, name, ID number) and the
QR key are HMAC-SHA256 under a secret that stays with the publisher and the sites; the
snapshot holds only the digests. Values are normalised first: full-width to half-width,
spaces trimmed, upper case (so ``x`` and ``X`` in an ID number are the same).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from enum import StrEnum
from typing import Any

__all__ = ["Keyer", "PairKind", "mask_id", "mask_name", "norm", "pair_key", "qr_key"]


class PairKind(StrEnum):
    NUMBER_NAME = "number+name"
    NUMBER_ID = "number+id"
    NAME_ID = "name+id"


def norm(value: str) -> str:
    """NFKC (full-width → half-width), inner runs of spaces to one, trimmed, upper case."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).upper()


def _digest(secret: bytes, *parts: str) -> bytes:
    return hmac.new(secret, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()


def _number(value: str) -> str:  # a certificate or ID number: normalised, no spaces at all
    return norm(value).replace(" ", "")


# which normalisation each side of a pair gets: numbers and ID numbers lose all spaces, names keep single ones
_SIDES = {
    PairKind.NUMBER_NAME: (_number, norm),
    PairKind.NUMBER_ID: (_number, _number),
    PairKind.NAME_ID: (norm, _number),
}


def pair_key(secret: bytes, kind: PairKind, a: str, b: str) -> bytes:
    """The lookup key of a pair. Numbers and ID numbers lose all spaces; names keep single ones."""
    first, second = _SIDES[kind]
    return _digest(secret, kind.value, first(a), second(b))


def qr_key(secret: bytes, number: str, token: str) -> bytes:
    return _digest(secret, "qr", _number(number), token.strip())


def _keyed(secret: bytes) -> Any:
    """HMAC-SHA256 keyed with ``secret``: OpenSSL's object (what ``hmac.new`` wraps), else ``hmac.new``'s."""
    try:
        from _hashlib import hmac_new

        return hmac_new(secret, digestmod="sha256")
    except (ImportError, ValueError):  # a Python without OpenSSL's HMAC
        return hmac.new(secret, digestmod=hashlib.sha256)


class Keyer:
    """:func:`pair_key` and :func:`qr_key` under one secret (the same digests), for a reader that
    makes one on every look-up: the HMAC key schedule is done once and copied (OpenSSL's HMAC
    object itself where there is one, without the ``hmac.HMAC`` wrapper around it), each value
    normalised once, the pair kind told by identity (a ``StrEnum``'s hash is Python code)."""

    __slots__ = ("_hmac",)

    def __init__(self, secret: bytes) -> None:
        self._hmac = _keyed(secret)

    def _digest(self, message: str) -> bytes:
        h = self._hmac.copy()
        h.update(message.encode("utf-8"))
        digest: bytes = h.digest()
        return digest

    def pair(self, kind: PairKind, a: str, b: str) -> bytes:
        if kind is PairKind.NUMBER_NAME:
            return self._digest("number+name\x1f" + _number(a) + "\x1f" + norm(b))
        if kind is PairKind.NUMBER_ID:
            return self._digest("number+id\x1f" + _number(a) + "\x1f" + _number(b))
        if kind is PairKind.NAME_ID:
            return self._digest("name+id\x1f" + norm(a) + "\x1f" + _number(b))
        return self.pair(PairKind(kind), a, b)  # the kind's text ("number+name"): the member

    def qr(self, number: str, token: str) -> bytes:
        return self._digest("qr\x1f" + _number(number) + "\x1f" + token.strip())


def mask_name(name: str) -> str:
    """张*三 · 张* · 欧阳** · S**** J*** (Latin names: the first letter of each word)."""
    if any("\u3400" <= c <= "\u9fff" or ord(c) > 0xFFFF for c in name) and " " not in name:
        chars = list(name)
        if len(chars) <= 2:
            return chars[0] + "*"
        return chars[0] + "*" * (len(chars) - 2) + chars[-1]
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def mask_id(number: str) -> str:
    """1101**********002X: the first 4 and the last 4 characters stay."""
    n = _number(number)
    if len(n) <= 8:
        return n[:2] + "*" * max(0, len(n) - 2)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]
