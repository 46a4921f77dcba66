"""Token buckets in Redis: every worker of every node counts against one limit.

``[site] rate_limit_url = "redis://…"`` (or ``$SKILLCERT_RATE_LIMIT_URL``) gives each site process
one :class:`SharedStore` — a redis-py client and one Lua script — and a :class:`SharedBuckets`
per limit in place of the local :class:`~verify.ratelimit.Buckets`.

Why a Lua script (``EVALSHA`` through ``register_script``): a token bucket is a read, a refill
computed from the time, and a write. Redis runs a script whole, with nothing interleaved, so two
workers taking the last token at once cannot both get it; it costs one round trip, and the time
is Redis's own (``TIME``), so the nodes' clocks do not matter. (``INCR`` + ``EXPIRE`` is atomic
too, but counts fixed windows — twice the limit across a window edge — not a bucket.) redis-py's
``Script`` loads the script again when a restarted Redis answers ``NOSCRIPT``.

Keys hold no client identity: ``skillcert:rl:<limit>:`` + HMAC-SHA256 of the identity (an IP
address, a certificate pair's hash) under a key derived from the index secret, which every node
has — an unkeyed hash of an IPv4 address is reversed by trying all 2³² of them. Each key expires
once its bucket would be full again (absent and full are the same).

Redis down: the call fails fast (a 0.25 s socket timeout, no client-side retries) and the process
counts in its local buckets; it tries Redis again only after a back-off that doubles from 0.5 s
up to 10 s, one attempt at a time, so a Redis outage never becomes a storm of reconnects and a
Redis that comes back is used again within seconds. :meth:`SharedStore.health` says which.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .ratelimit import Buckets
from .settings import RateLimit

__all__ = ["SharedBuckets", "SharedStore", "redacted"]

_log = logging.getLogger("skillcert.site")

PREFIX = "skillcert:rl:"
MAX_TTL_MS = 86_400_000

# KEYS[1] the bucket · ARGV: tokens per second, burst, "1" take / "0" look, max ttl (ms)
# returns the seconds to wait: 0 = allowed (and, when taking, one token taken)
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local take = ARGV[3] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local got = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens, at = tonumber(got[1]), tonumber(got[2])
if tokens == nil or at == nil then tokens, at = burst, now end
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local wait = 0
if tokens >= 1 then
  if not take then return 0 end
  tokens = tokens - 1
else
  if rate > 0 then wait = math.max(1, math.ceil((1 - tokens) / rate)) else wait = 3600 end
  if not take then return wait end
end
local ttl = tonumber(ARGV[4])
if rate > 0 then ttl = math.min(ttl, math.ceil((burst - tokens) / rate * 1000) + 1000) end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ttl)
return wait
"""


def redacted(url: str) -> str:
    """The URL without its password (for health output and logs)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    where = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{where}{parts.path}" if where else f"{parts.scheme}://{parts.path}"


class SharedStore:
    """One Redis client and script per site process, and whether Redis answers now.

    ``clock`` (monotonic seconds) paces the retries; tests pass their own.
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 0.25,
        backoff: tuple[float, float] = (0.5, 10.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = redacted(url)
        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self._script: Any = self._client.register_script(TOKEN_BUCKET)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._key = hmac.new(secret, b"skillcert-rate-limit/1", hashlib.sha256).digest()
        self._clock = clock
        self._min, self._max = backoff
        self._lock = threading.Lock()
        self._delay = self._min
        self._next_try = 0.0
        self._down_since: datetime | None = None
        self._trying = False
        self.attempts = 0  # calls that reached for Redis (the tests count them)

    def key(self, limit: str, identity: str) -> str:
        """The Redis key of ``identity``'s bucket: keyed hash only, nothing to look up."""
        digest = hmac.new(self._key, f"{limit}\x1f{identity}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{PREFIX}{limit}:{digest}"

    @property
    def shared(self) -> bool:
        return self._down_since is None

    def health(self) -> dict[str, str]:
        """``limits``: ``shared`` (Redis answers) or ``local`` (falling back), and since when. Not
        where Redis is: ``/healthz`` is public (the log names it, without its password)."""
        down = self._down_since
        if down is None:
            return {"limits": "shared"}
        return {"limits": "local", "limits_fallback_since": down.isoformat(timespec="seconds")}

    def run(self, name: str, identity: str, limit: RateLimit, *, take: bool) -> int | None:
        """The seconds to wait (0: allowed) for ``identity`` under the limit ``name``, or None when
        Redis is not to be asked now (the caller counts locally)."""
        with self._lock:
            if self._down_since is not None and (self._trying or self._clock() < self._next_try):
                return None  # down: one attempt per back-off period, by one caller
            self._trying = self._down_since is not None
            self.attempts += 1
        rate = limit.per_minute / 60.0
        try:
            wait = self._script(
                keys=[self.key(name, identity)], args=[repr(rate), limit.burst, "1" if take else "0", MAX_TTL_MS]
            )
        except self._errors as e:
            self._failed(e)
            return None
        except BaseException:
            with self._lock:
                self._trying = False
            raise
        self._answered()
        return int(wait)

    def _failed(self, e: Exception) -> None:
        with self._lock:
            self._trying = False
            self._next_try = self._clock() + self._delay
            self._delay = min(self._max, self._delay * 2)
            if self._down_since is None:
                self._down_since = datetime.now(UTC)
                _log.warning("rate limits: %s does not answer (%s); counting locally", self.url, type(e).__name__)

    def _answered(self) -> None:
        if self._down_since is None:  # the usual case: nothing to change
            return
        with self._lock:
            self._trying = False
            if self._down_since is not None:
                _log.warning("rate limits: %s answers again; shared limits", self.url)
            self._down_since = None
            self._delay = self._min

    def close(self) -> None:
        self._client.close()


class SharedBuckets:
    """One limit (``name``) shared through ``store``; local buckets while Redis is away."""

    def __init__(self, name: str, limit: RateLimit, store: SharedStore) -> None:
        self._name, self._limit, self._store = name, limit, store
        self._local = Buckets(limit)

    def take(self, key: str) -> int:
        wait = self._store.run(self._name, key, self._limit, take=True)
        return self._local.take(key) if wait is None else wait

    def retry_after(self, key: str) -> int:
        wait = self._store.run(self._name, key, self._limit, take=False)
        return self._local.retry_after(key) if wait is None else wait
