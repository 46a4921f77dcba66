"""Until when a validation's verdict holds: the next moment at which the clock can change it.

:func:`sign.validate_pdf` judges some things *now*: pyHanko's AdES engine validates each seal at
the current time, and the timestamp's own chain is checked at the current time. Every such
judgement compares the clock with a time written in the data — a certificate's ``notBefore`` or
``notAfter``, an OCSP response's or CRL's ``thisUpdate``, ``nextUpdate``, ``producedAt``, a
revocation date, a timestamp's ``genTime`` — give or take pyHanko's tolerance (1 s) and its
fallback validity of revocation data without ``nextUpdate`` (``thisUpdate`` + 30 min). Between
two such moments the verdict of the same bytes under the same trust cannot change.

:func:`data_times` reads every DER time out of a blob, generically: each UTCTime and
GeneralizedTime, also inside OCTET and BIT STRINGs that hold DER (an OCSP response, a TSTInfo,
extensions) and any implicitly tagged value that reads as a GeneralizedTime. It may find more
than the validator compares (a wider net only shortens the horizon); a blob it cannot walk gives
``None`` — no horizon, so nothing is memoised. :func:`stable_until` turns the times into the end of
the interval the validation ran in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

__all__ = ["GUARD", "OFFSETS", "data_times", "stable_until"]

# what pyHanko adds to a data time before comparing it with the clock (see the module docstring)
OFFSETS = (timedelta(0), timedelta(minutes=30))
GUARD = timedelta(seconds=5)  # around each moment: pyHanko's 1 s tolerance, with room to spare
_MAX_DEPTH = 40
_MAX_NODES = 200_000
_UTC = re.compile(rb"\d{10}(\d{2})?(Z|[+-]\d{4})")
_GEN = re.compile(rb"\d{10}(\d{2}(\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{4})?")


class _Bad(Exception):
    pass


class _TooMuch(Exception):
    pass


def _time(tag: int, raw: bytes) -> datetime | None:
    """A UTCTime (tag 23) or GeneralizedTime (24) as an aware UTC datetime."""
    text = raw.decode("ascii", errors="replace")
    if tag == 23:
        if not _UTC.fullmatch(raw):
            raise _Bad
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif not _GEN.fullmatch(raw):
        return None
    digits, zone = re.match(r"([\d.,]+)(.*)", text).groups()  # type: ignore[union-attr]
    whole = digits.split(".")[0].split(",")[0].ljust(14, "0")
    try:
        t = datetime(
            int(whole[:4]), int(whole[4:6]), int(whole[6:8]), int(whole[8:10]), int(whole[10:12]), int(whole[12:14])
        )
    except ValueError:
        if tag == 23:
            raise _Bad from None
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        t -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return t.replace(tzinfo=UTC)


def _walk(data: bytes, out: list[datetime], depth: int, budget: list[int], strict: bool) -> bool:
    """Every TLV in ``data``; ``False`` when ``data`` is not a sequence of DER values (``strict``: raise)."""
    i, n = 0, len(data)
    if depth > _MAX_DEPTH:
        raise _Bad
    found: list[datetime] = []
    inner: list[tuple[int, bytes]] = []
    while i < n:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMuch
        if strict and data[i] == 0 and data[i:].strip(b"\x00") == b"":
            break  # the zero padding after a signature's DER
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:  # high tag number
            while i < n and data[i] & 0x80:
                i += 1
            i += 1
        if i >= n:
            if strict:
                raise _Bad
            return False
        first = data[i]
        i += 1
        if first < 0x80:
            length = first
        else:
            k = first & 0x7F
            if k == 0 or k > 4 or i + k > n:  # indefinite length is BER, not DER
                if strict:
                    raise _Bad
                return False
            length = int.from_bytes(data[i : i + k], "big")
            i += k
        if i + length > n:
            if strict:
                raise _Bad
            return False
        inner.append((tag, data[i : i + length]))
        i += length
    for tag, value in inner:
        if tag & 0x20:  # constructed
            _walk(value, found, depth + 1, budget, True)
        elif tag in (23, 24):
            t = _time(tag, value)
            if t is None:
                raise _Bad
            found.append(t)
        elif tag & 0xC0 and len(value) <= 32:  # an implicitly tagged primitive: a time if it reads as one
            t = _time(24, value)
            if t is not None:
                found.append(t)
        elif tag in (3, 4) and len(value) > 1:  # OCTET / BIT STRING: DER inside (OCSP, TSTInfo, extensions)
            body = value[1:] if tag == 3 else value
            sub: list[datetime] = []
            try:  # a guess: a hash or a signature value is not DER, and then holds no time
                if _walk(body, sub, depth + 1, budget, False):
                    found.extend(sub)
            except _Bad:
                pass
    out.extend(found)
    return True


def data_times(blobs: Iterable[bytes]) -> list[datetime] | None:
    """Every DER time in ``blobs`` (each one or more DER values); ``None`` if one cannot be walked."""
    out: list[datetime] = []
    budget = [_MAX_NODES]
    try:
        for blob in blobs:
            _walk(bytes(blob), out, 0, budget, True)
    except (_Bad, _TooMuch, IndexError, ValueError, OverflowError):
        return None
    return out


def stable_until(times: Iterable[datetime], started: datetime, finished: datetime) -> datetime | None:
    """The first moment after ``finished`` at which the clock can change a verdict reached between
    ``started`` and ``finished``; ``None`` when one such moment falls inside that interval."""
    until: datetime | None = None
    for t in times:
        for offset in OFFSETS:
            lo, hi = t + offset - GUARD, t + offset + GUARD
            if hi < started:
                continue
            if lo <= finished:
                return None
            if until is None or lo < until:
                until = lo
    return until if until is not None else datetime.max.replace(tzinfo=UTC)
