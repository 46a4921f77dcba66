"""Rate limits shared through a real Redis: the bucket in-process, then two real ``skillcert serve``
nodes counting against one limit, Redis killed (local fallback, said by /healthz) and back."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from verify import RateLimit
from verify._redis_limits import PREFIX, SharedBuckets, SharedStore, redacted

from .serving import skillcert_serve

SECRET = b"s" * 32


class Ticks:
    """A monotonic clock the test moves (the store's retry pacing; Redis keeps its own time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


# -- the bucket, in-process, on the real server -------------------------------------------------
def test_two_workers_share_one_bucket(redis_server: Any) -> None:
    """Two stores (two worker processes' worth) take from one bucket: the burst once, not twice."""
    limit = RateLimit(per_minute=0.5, burst=4)
    a = SharedBuckets("lookup", limit, SharedStore(redis_server.url, SECRET))
    b = SharedBuckets("lookup", limit, SharedStore(redis_server.url, SECRET))
    got = [(a if i % 2 else b).take("203.0.113.9") for i in range(8)]
    assert got[:4] == [0, 0, 0, 0]
    assert all(w >= 1 for w in got[4:]), got
    assert a.retry_after("203.0.113.9") >= 1 and b.retry_after("198.51.100.1") == 0
    assert b.take("198.51.100.1") == 0  # another client has its own bucket


def test_retry_after_takes_nothing(redis_server: Any) -> None:
    limit = RateLimit(per_minute=1, burst=2)
    bucket = SharedBuckets("qr", limit, SharedStore(redis_server.url, SECRET))
    for _ in range(5):
        assert bucket.retry_after("192.0.2.1") == 0
    assert [bucket.take("192.0.2.1") for _ in range(3)][:2] == [0, 0]
    assert not _redis(redis_server.url).exists(SharedStore(redis_server.url, SECRET).key("qr", "192.0.2.2"))


def test_the_wait_is_what_the_local_bucket_says(redis_server: Any) -> None:
    """Empty at 30/min: one token comes back in 2 s, so the wait is 1 or 2 s (Redis's clock moved
    a little since), like the in-memory bucket's; with no refill at all, an hour."""
    bucket = SharedBuckets("upload", RateLimit(per_minute=30, burst=1), SharedStore(redis_server.url, SECRET))
    assert bucket.take("a") == 0
    assert bucket.take("a") in (1, 2)
    never = SharedBuckets("code", RateLimit(per_minute=0, burst=1), SharedStore(redis_server.url, SECRET))
    assert never.take("a") == 0 and never.take("a") == 3600


def test_a_bucket_refills(redis_server: Any) -> None:
    bucket = SharedBuckets("dl", RateLimit(per_minute=6000, burst=1), SharedStore(redis_server.url, SECRET))
    assert bucket.take("x") == 0
    for _ in range(200):  # 100 tokens a second: soon one is back
        if bucket.take("x") == 0:
            break
        time.sleep(0.01)
    else:
        pytest.fail("the bucket never refilled")


def test_keys_reveal_no_client_and_expire(redis_server: Any) -> None:
    store = SharedStore(redis_server.url, SECRET)
    limit = RateLimit(per_minute=30, burst=10)
    SharedBuckets("lookup", limit, store).take("203.0.113.77")
    SharedBuckets("code_certificate", limit, store).take("S000011084012263000001\x1f110101199003070012")
    r = _redis(redis_server.url)
    keys = sorted(k.decode() for k in r.keys("*"))
    assert len(keys) == 2 and all(k.startswith(PREFIX) for k in keys)
    dump = b"".join(r.keys("*")) + b"".join(v for k in r.keys("*") for v in r.hgetall(k).values())
    for secret_part in (b"203.0.113", b"S000011084012", b"110101199003070012"):
        assert secret_part not in dump
    for k in keys:
        ttl = r.pttl(k)
        assert 0 < ttl <= 1_000 + 60_000 * 1 / 30 * 1 + 1_000  # refill of one token, and a second
    # keyed: another index secret, other keys (nobody can hash all IPv4 addresses to find one)
    assert SharedStore(redis_server.url, b"t" * 32).key("lookup", "203.0.113.77") not in keys
    assert store.key("lookup", "203.0.113.77") in keys


def test_redacted_url_hides_the_password() -> None:
    assert redacted("redis://:hunter2@10.0.0.5:6380/2") == "redis://10.0.0.5:6380/2"
    assert "hunter2" not in redacted("rediss://user:hunter2@cache.example/0")


def test_down_falls_back_locally_and_retries_at_a_bounded_pace(redis_server: Any) -> None:
    ticks = Ticks()
    store = SharedStore(redis_server.url, SECRET, clock=ticks, backoff=(0.5, 2.0))
    bucket = SharedBuckets("lookup", RateLimit(per_minute=0.5, burst=3), store)
    assert bucket.take("c") == 0 and store.health()["limits"] == "shared"
    redis_server.stop()
    try:
        assert bucket.take("c") == 0  # answered from the local bucket: a fresh one
        assert store.health()["limits"] == "local" and "limits_fallback_since" in store.health()
        tried = store.attempts
        for _ in range(50):  # within the back-off: no attempt at all
            bucket.take("c")
        assert store.attempts == tried
        # each later attempt waits twice as long, up to the cap
        waits = []
        for _ in range(4):
            before, start = store.attempts, ticks.now
            while store.attempts == before:
                ticks.now += 0.25
                bucket.retry_after("c")
            waits.append(ticks.now - start)
        assert waits == [0.5, 1.0, 2.0, 2.0]
    finally:
        redis_server.start()
    before = store.attempts
    assert bucket.take("c") >= 1  # the local bucket (spent above) answers: Redis not yet asked again
    assert store.health()["limits"] == "local" and store.attempts == before
    ticks.now += 2.0
    bucket.take("c")
    assert store.health() == {"limits": "shared"}  # nothing about where Redis is: /healthz is public
    # the restarted Redis had no script: redis-py loaded it again (NOSCRIPT), and it counts
    assert [bucket.take("d") for _ in range(4)][3] >= 1


def test_one_attempt_is_one_connection() -> None:
    """A Redis that hangs up costs one connection per back-off period (the client is told not to
    retry on its own), however many requests come meanwhile."""
    import socket
    import threading

    accepted = []
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def hang_up() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        ticks = Ticks()
        store = SharedStore(f"redis://127.0.0.1:{port}/0", SECRET, clock=ticks)
        bucket = SharedBuckets("qr", RateLimit(per_minute=60, burst=2), store)
        bucket.take("z")
        assert store.health()["limits"] == "local" and len(accepted) == 1
        for _ in range(20):
            bucket.take("z")
        assert len(accepted) == 1
        ticks.now += 0.5
        bucket.take("z")
        assert len(accepted) == 2
    finally:
        server.close()
        thread.join(timeout=5)


def test_site_settings_read_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from registry.errors import SkillcertError
    from skillcert.serving import site_settings
    from skillcert.settings import Settings

    (tmp_path / "index.secret").write_bytes(SECRET)
    monkeypatch.delenv("SKILLCERT_RATE_LIMIT_URL", raising=False)

    def url() -> str | None:
        return site_settings(Settings.from_env({"SKILLCERT_HOME": str(tmp_path)})).rate_limit_url

    assert url() is None  # local limits unless asked
    (tmp_path / "settings.toml").write_text('[site]\nrate_limit_url = "redis://127.0.0.1:6390/1"\n')
    assert url() == "redis://127.0.0.1:6390/1"
    monkeypatch.setenv("SKILLCERT_RATE_LIMIT_URL", "unix:///run/redis/redis.sock?db=2")
    assert url() == "unix:///run/redis/redis.sock?db=2"  # the environment wins
    monkeypatch.setenv("SKILLCERT_RATE_LIMIT_URL", "http://127.0.0.1:6379")
    with pytest.raises(SkillcertError, match="redis://"):
        url()


def test_an_address_nobody_listens_on_fails_fast() -> None:
    from sign.pki import free_port

    store = SharedStore(f"redis://127.0.0.1:{free_port()}/0", SECRET)
    bucket = SharedBuckets("qr", RateLimit(per_minute=60, burst=2), store)
    assert [bucket.take("z") for _ in range(3)] == [0, 0, 1]  # the local bucket's answers
    assert store.health()["limits"] == "local"


# -- two real nodes ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snapshot_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo's numbered certificates (not sealed) and a published snapshot."""
    from registry import Registry
    from search_index import publish
    from skillcert.demo_job import run_demo
    from skillcert.settings import Settings

    root = tmp_path_factory.mktemp("nodes") / "home"
    s = Settings.from_env({"SKILLCERT_HOME": str(root), "SKILLCERT_ACTOR": "t"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(s.registry_path) as reg:
        reg.certificates.issue("S000011084012", date(2026, 11, 20), actor="t")
        publish(reg, root)
    return root


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _health(base: str) -> dict[str, str]:
    status, text = _get(f"{base}/healthz")
    lines = text.splitlines()
    assert status == 200 and lines[0] == "ok", text
    return dict(line.split(": ", 1) for line in lines[1:])


@pytest.fixture
def two_nodes(snapshot_home: Path, redis_server: Any, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two ``skillcert serve`` processes on two ports over copies of one home, one Redis."""
    homes = []
    for name in ("node-a", "node-b"):
        home = tmp_path / name
        shutil.copytree(snapshot_home, home, symlinks=True)
        (home / "settings.toml").write_text(
            f'[site]\nlookup_per_minute = 3\nrate_limit_url = "{redis_server.url}"\n', encoding="utf-8"
        )
        homes.append(home)
    with (
        skillcert_serve(homes[0], homes[0]) as a,
        skillcert_serve(homes[1], homes[1]) as b,
    ):
        yield a.base, b.base


def _spend(bases: tuple[str, ...], n: int) -> list[int]:
    """``n`` two-of-three queries (limit: 3 a minute, burst 10), alternating between the nodes."""
    query = "/query?number=S000011084012263000001&name=nobody"
    return [_get(f"{bases[i % len(bases)]}{query}")[0] for i in range(n)]


def test_two_nodes_count_against_one_limit_and_survive_redis(two_nodes: tuple[str, str], redis_server: Any) -> None:
    a, b = two_nodes
    assert _health(a)["limits"] == "shared" and _health(b)["limits"] == "shared"
    # burst 10 (max(10, 3 // 3)): ten answers in all, then 429 on both nodes alike
    statuses = _spend((a, b), 14)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 4, statuses
    redis_server.stop()
    try:
        # the site keeps answering, each node from its own local bucket, and says so
        assert _spend((a,), 1) == [200] and _spend((b,), 1) == [200]
        assert _health(a)["limits"] == "local" and _health(b)["limits"] == "local"
        assert "limits_fallback_since" in _health(a)
        assert _get(f"{a}/")[0] == 200
    finally:
        redis_server.start()
    # back: each node asks Redis again after its back-off (at most 10 s), and one limit holds again
    deadline = time.monotonic() + 60
    while not all(_health(x)["limits"] == "shared" for x in (a, b)):
        assert time.monotonic() < deadline, (_health(a), _health(b))
        _spend((a, b), 2)
        time.sleep(0.5)
    redis_server.flush()
    statuses = _spend((b, a), 12)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 2, statuses


def test_without_redis_each_node_counts_alone(snapshot_home: Path, tmp_path: Path) -> None:
    """No rate_limit_url: local limits as before — /healthz says just ``ok``, each node its own burst."""
    home = tmp_path / "solo"
    shutil.copytree(snapshot_home, home, symlinks=True)
    (home / "settings.toml").write_text("[site]\nlookup_per_minute = 3\n", encoding="utf-8")
    with skillcert_serve(home, home) as a:
        assert _get(f"{a.base}/healthz") == (200, "ok")
        assert _spend((a.base,), 11)[10] == 429
