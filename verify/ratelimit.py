"""Per-client token buckets (in memory, per worker process), so nobody can enumerate holders.

Each bucket refills continuously; a request that finds it empty gets 429 with ``Retry-After``.
The table is bounded (least recently seen clients are dropped first), so a flood of addresses
cannot exhaust memory. With several worker processes each keeps its own table: the effective
limit is the per-process limit times the workers. ``[site] rate_limit_url = "redis://…"`` makes
them one limit for every worker of every node (:mod:`verify._redis_limits`), with these tables
as the fallback while Redis does not answer.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from .settings import RateLimit

__all__ = ["Buckets", "Limiter"]


class Limiter(Protocol):
    """What a handler asks of a rate limit (local :class:`Buckets` or the shared ones)."""

    def take(self, key: str) -> int: ...

    def retry_after(self, key: str) -> int: ...


class Buckets:
    def __init__(
        self, limit: RateLimit, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._max = max_keys
        self._clock = clock
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last refill)

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._state.get(key, (float(self._limit.burst), now))
        return min(float(self._limit.burst), tokens + (now - last) * self._limit.per_minute / 60.0)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: now), without taking a token."""
        tokens = self._tokens(key, self._clock())
        if tokens >= 1.0:
            return 0
        rate = self._limit.per_minute / 60.0
        return max(1, math.ceil((1.0 - tokens) / rate)) if rate > 0 else 3600

    def take(self, key: str) -> int:
        """Take one token; returns 0 when allowed, else the seconds to wait (nothing taken)."""
        now = self._clock()
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            self._state[key] = (tokens, now)
            self._state.move_to_end(key)
            return self.retry_after(key)
        self._state[key] = (tokens - 1.0, now)
        self._state.move_to_end(key)
        if len(self._state) > self._max:
            self._state.popitem(last=False)
        return 0
