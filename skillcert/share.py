"""An issue run's share of an institution's batch: the certificates it claims, a few at a time.

On a shared (PostgreSQL) registry any number of ``skillcert issue`` runs, on any machines, work
through one batch together: each claims a few undelivered certificates with a lease
(``reg.claims``), makes and delivers them, and claims more, so the batch is split by how fast
each run is. A delivery is recorded only while its run still holds the lease; a run that dies
stops renewing, and when its leases run out the others claim what it left. A run ends when
nothing is left to claim and no other live run holds an undelivered certificate — so the last
run standing always finishes the batch.

On SQLite the institution's issue lock still allows one run at a time; the same claims are
taken, and a killed run's leases are void at once (``exclusive``), since no other run can be alive.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator

from registry import Registry

__all__ = ["Share"]


class Share:
    """The claims of one issue run (``holder``) on the batch of ``institution_code``."""

    def __init__(self, reg: Registry, institution_code: str, *, lease_seconds: float, chunk: int) -> None:
        self.reg, self.code, self.lease, self.chunk = reg, institution_code, lease_seconds, max(1, chunk)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._renewed = time.monotonic()
        self.claimed = 0  # certificates this run claimed (a few may have gone to others since)

    @classmethod
    def start(cls, reg: Registry, institution_code: str, *, lease_seconds: float, chunk: int, exclusive: bool) -> Share:
        if exclusive:  # the caller holds the only issue lock: what earlier runs claimed is nobody's
            reg.claims.release_all(institution_code)
        return cls(reg, institution_code, lease_seconds=lease_seconds, chunk=chunk)

    def chunks(self) -> Iterator[list[int]]:
        """Claimed certificate ids, ``chunk`` at a time, until none is left to claim (each pass
        starts from the batch's beginning once, then goes on from its own last claim)."""
        after = 0
        while ids := self.reg.claims.claim(
            self.code, self.holder, limit=self.chunk, lease_seconds=self.lease, after=after
        ):
            self._renewed = time.monotonic()
            self.claimed += len(ids)
            after = max(after, *ids)
            yield ids

    def keep_alive(self) -> None:
        """Renew this run's leases if a third of the lease has passed since the last renewal."""
        if time.monotonic() - self._renewed > self.lease / 3:
            self.reg.claims.renew(self.holder, self.lease)
            self._renewed = time.monotonic()

    def others_working(self) -> bool:
        """Do other live runs hold undelivered certificates? Then wait a moment (renewing ours) and
        say so: the caller tries to claim again, and takes over whatever a dead run's leases free."""
        if not self.reg.claims.pending_elsewhere(self.code, self.holder):
            return False
        time.sleep(min(1.0, self.lease / 4))
        self.keep_alive()
        return True

    def close(self) -> None:
        """Give up every claim (what this run did not deliver is free for the next run at once)."""
        self.reg.claims.release(self.holder)
