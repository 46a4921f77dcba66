"""asn1crypto's comparison of X.509 names, remembered: the same answers without the string prep.

Validating one seal compares certificate names about two hundred times (path building, CRL and
OCSP issuer matching, pyHanko's AdES engine doing it all again), and asn1crypto prepares every
value of both names for each comparison (RFC 4518 string prep, in Python): a large part of a
check's CPU (issue 18). Whether two names are equal is a function of their two DER encodings
only, so :func:`install` wraps ``asn1crypto.x509.Name.__eq__`` with a bounded memo keyed by the
pair of encodings: the first comparison of a pair is asn1crypto's own (and an exception it raises,
for a value string prep refuses, is raised again every time — never remembered); later ones reuse
its answer. ``__ne__`` is ``not ==`` in asn1crypto, so it follows. ``Name.hashable`` (the same
prepped values, as a dict key) is remembered per encoding the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MEMO_SIZE", "install"]

MEMO_SIZE = 8192
_memo: dict[tuple[bytes, bytes], bool] = {}
_original: Any = None


def _name_eq(self: Any, other: Any) -> bool:
    from asn1crypto.x509 import Name

    if not isinstance(other, Name):
        return False
    key = (self.dump(), other.dump())
    found = _memo.get(key)
    if found is None:
        found = bool(_original(self, other))
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        _memo[key] = found
    return found


_hashes: dict[bytes, str] = {}
_original_hashable: Any = None


def _name_hashable(self: Any) -> str:
    """``Name.hashable`` (the prepped form used as a dict key), remembered per encoding."""
    key = self.dump()
    found = _hashes.get(key)
    if found is None:
        found = str(_original_hashable.fget(self))
        if len(_hashes) >= MEMO_SIZE:
            _hashes.clear()
        _hashes[key] = found
    return found


def install() -> None:
    """Wrap ``Name.__eq__`` and ``Name.hashable`` (idempotent)."""
    global _original, _original_hashable
    from asn1crypto.x509 import Name

    if _original is None:
        _original, _original_hashable = Name.__eq__, Name.__dict__["hashable"]
        Name.__eq__ = _name_eq
        Name.hashable = property(_name_hashable)


def original() -> Any:
    """asn1crypto's own comparison (for the comparison test)."""
    install()
    return _original


def original_hashable() -> Any:
    """asn1crypto's own ``Name.hashable`` property (for the comparison test)."""
    install()
    return _original_hashable
