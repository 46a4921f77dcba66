"""Rate limits shared through Redis: what one take costs, beside the floor of one Redis round trip.

Starts its own ``redis-server`` on a free loopback port (Debian ``redis-server``), then measures
per call: a local in-memory take, a Redis ``PING`` (the floor: one round trip), a shared take
(``EVALSHA`` of the token-bucket script), and a take while Redis is down (local fallback).

    ./run bench shared_limits [--calls N]

Goals: a shared take ≤ 2× a PING (one round trip, the script's work small beside it); a take
while Redis is down ≤ 3× a local take (no connection attempt inside the back-off).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verify import RateLimit
from verify._redis_limits import SharedBuckets, SharedStore
from verify.ratelimit import Buckets


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _medians_us(fns: list[Callable[[int], object]], calls: int) -> list[float]:
    """Each call timed alone, the functions interleaved (so drift in the machine's load falls on
    all alike); the median of each, µs."""
    times: list[list[float]] = [[] for _ in fns]
    for i in range(calls):
        for fn, ts in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn(i)
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) * 1e6 for ts in times]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    calls = ap.parse_args().calls
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("redis-server is not installed (Debian package redis-server)")
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="bench-redis-")
    cmd = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        limit = RateLimit(per_minute=1e9, burst=10**9)  # never limited: every call does the full work
        local = Buckets(limit)
        shared = SharedBuckets("bench", limit, SharedStore(url, b"k" * 32))
        keys = [f"198.51.{i // 256 % 256}.{i % 256}" for i in range(calls)]
        t_local, t_ping, t_shared = _medians_us(
            [lambda i: local.take(keys[i]), lambda i: client.ping(), lambda i: shared.take(keys[i])], calls
        )
        proc.kill()
        proc.wait()
        down = SharedBuckets("bench", limit, SharedStore(url, b"k" * 32, backoff=(3600.0, 3600.0)))
        down.take("first")  # fails once, then counts locally within the back-off
        local_again = Buckets(limit)
        t_local2, t_down = _medians_us([lambda i: local_again.take(keys[i]), lambda i: down.take(keys[i])], calls)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"calls per measure: {calls} (medians, interleaved)")
    print(f"local take          {t_local:8.1f} µs")
    print(f"Redis PING (floor)  {t_ping:8.1f} µs")
    print(f"shared take         {t_shared:8.1f} µs   ratio to PING {t_shared / t_ping:.2f}   goal ≤ 2.00")
    print(
        f"take, Redis down    {t_down:8.1f} µs   local take beside it {t_local2:.1f} µs   ratio {t_down / t_local2:.2f}   goal ≤ 3.00"
    )


if __name__ == "__main__":
    main()
