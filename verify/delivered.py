"""The delivered-copy fast path: a file the register delivered, checked without validating it again.

A certificate's verdict is ``judge(record, seal status, snapshot)`` (:mod:`verify.check`). Of its
inputs, the record embedded in the file and the seal status are functions of the file's bytes,
the trust roots, the institution's filed seal keys and the clock — nothing else (offline: the
site never fetches). So for a file seen before, the full check's result is known without
parsing it again, as long as

- the bytes are the same (the SHA-256 of the upload),
- the trust roots are the same (their contents, read again on every check),
- the filed seal keys of the institution, in the snapshot being served, are the same,
- the clock has not reached a moment at which the validation could change its mind
  (:func:`sign.validate_pdf_until`: a certificate or revocation data expiring, becoming valid,
  a freshness window ending), and at most :data:`MAX_AGE` has passed;

and the register's side — status (revoked, suspended, replaced), the record's data, the
institution's filing and scope — is judged afresh on every upload by the same :func:`judge` over
the pinned snapshot. The verdict is therefore exactly the full check's, at this time.

Only delivered copies are kept: a file whose SHA-256 the snapshot lists among the certificate's
delivered PDFs or proofs (``pdf_sha256``, ``proof_sha256``, committed to by the signed
manifest), and only while it still lists it. Anything else — a re-saved copy, an altered file,
every attack — takes the full path in a bounded worker process. The memo is per process, holds at
most :data:`CAPACITY` entries (least recently used out first), and is dropped with the process.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any, cast

from render import EmbeddedRecord
from search_index import SnapshotRecord
from sign import SealStatus, Trust, UnreadablePdf
from sign.validate import validate_pdf_until

from .check import CheckReport, judge, seal_status

__all__ = ["CAPACITY", "MAX_AGE", "DeliveredCopies", "is_delivered", "seal_status_until"]

CAPACITY = 4096
MAX_AGE = timedelta(minutes=10)  # defence in depth: a delivered copy is validated again this often


def is_delivered(rec: SnapshotRecord | None, sha: str) -> bool:
    """Does the snapshot's masked record list ``sha`` as a delivered PDF or proof of it?"""
    return rec is not None and (sha in rec.pdf_sha256 or sha in rec.proof_sha256)


def seal_status_until(data: bytes, trust: Trust) -> tuple[SealStatus, datetime | None]:
    """:func:`verify.check.seal_status`, and until when it holds (for a worker process)."""
    try:
        return validate_pdf_until(data, trust)
    except UnreadablePdf:
        raise
    except Exception as e:  # the same answer as seal_status gives a crafted file
        raise UnreadablePdf(
            "PDF 结构异常，无法检查", f"the PDF's structure cannot be checked ({type(e).__name__})"
        ) from e


def roots_digest(roots: tuple[Path, ...]) -> bytes | None:
    """What the trust roots are now (their paths and contents); ``None`` if one cannot be read."""
    h = hashlib.sha256()
    try:
        for p in roots:
            h.update(str(p).encode() + b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    except OSError:
        return None
    return h.digest()


@dataclass(frozen=True, slots=True)
class _Memo:
    record: EmbeddedRecord
    seal: SealStatus
    filed: frozenset[str] | None
    roots: bytes
    until: datetime


class DeliveredCopies:
    """The memo of one process: SHA-256 of a delivered copy -> its record and seal status."""

    def __init__(self, capacity: int = CAPACITY, clock: Callable[[], datetime] | None = None) -> None:
        self._capacity = capacity
        self._clock = clock or (lambda: datetime.now(UTC))
        self._memo: OrderedDict[str, _Memo] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._memo)

    def now(self) -> datetime:
        return self._clock()

    def answer(self, data: bytes, sha: str, snapshot: Any, roots: tuple[Path, ...]) -> CheckReport | None:
        """The full check's verdict for ``data`` (whose SHA-256 is ``sha``), if it is a delivered copy
        seen before and nothing it depends on has changed; else ``None`` (take the full path)."""
        from .check import filed_fingerprints

        with self._lock:
            memo = self._memo.get(sha)
            if memo is None:
                return None
            if self._clock() >= memo.until:
                del self._memo[sha]
                return None
            self._memo.move_to_end(sha)
        now_roots = roots_digest(roots)
        if now_roots is None or now_roots != memo.roots or filed_fingerprints(snapshot, memo.record) != memo.filed:
            return None
        report = judge(data, memo.record, memo.seal, snapshot)
        if not is_delivered(report.record, sha):  # no longer listed: forget it, and check in full
            with self._lock:
                self._memo.pop(sha, None)
            return None
        return report

    def keep(
        self,
        sha: str,
        record: EmbeddedRecord,
        seal: SealStatus,
        trust: Trust,
        roots: bytes,
        until: datetime | None,
        started: datetime,
    ) -> None:
        """Remember a delivered copy's full-path result (``started``: when its check began)."""
        if until is None or trust.online:
            return
        until = min(until, started + MAX_AGE)
        if until <= self._clock():
            return
        with self._lock:
            self._memo[sha] = _Memo(record, seal, trust.filed_fingerprints, roots, until)
            self._memo.move_to_end(sha)
            while len(self._memo) > self._capacity:
                self._memo.popitem(last=False)

    async def seal(
        self,
        run: Callable[..., Awaitable[Any]],
        data: bytes,
        record: EmbeddedRecord,
        trust: Trust,
        snapshot: Any,
    ) -> SealStatus:
        """The seal status by ``run`` (the site's worker pool); a delivered copy's is kept."""
        from search_index import PairKind

        sha = hashlib.sha256(data).hexdigest()
        found = snapshot.lookup_by_pair(PairKind.NUMBER_ID, record.number, record.id_number)
        roots = roots_digest(trust.roots)
        if roots is None or trust.online or not is_delivered(found, sha):
            return cast(SealStatus, await run(seal_status, data, trust))
        started = self._clock()
        seal, until = await run(seal_status_until, data, trust)
        self.keep(sha, record, seal, trust, roots, until, started)
        return cast(SealStatus, seal)
