"""Upload checks in worker processes that a timeout really stops and a memory limit really caps.

A thread cannot be stopped: an ``asyncio.timeout`` around ``run_in_threadpool`` answers the client
but leaves the thread inflating a bomb (FIELD-NOTES). Each check here runs in a process of a
pebble ``ProcessPool`` (a maintained pool made for exactly this: per-task timeouts that terminate
the worker, and a fresh worker in its place). Each worker caps its own data segment
(``RLIMIT_DATA``) at :data:`WORKER_MEMORY_MB` above what it uses after start-up, so a file that
decodes to more fails with ``MemoryError`` inside the worker, not in the site.

Workers are started with ``forkserver`` (never ``fork`` from a process with threads) and recycled
after :data:`TASKS_PER_WORKER` checks.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import resource
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

__all__ = ["CheckFailed", "CheckPool"]

WORKER_MEMORY_MB = 256
TASKS_PER_WORKER = 500
T = TypeVar("T")


class CheckFailed(Exception):
    """The check could not finish: ``reason`` is ``timeout``, ``memory``, ``crashed`` or ``refused``.

    ``refused`` carries the bilingual reason a check gave (``zh``, ``en``).
    """

    def __init__(self, reason: str, zh: str = "", en: str = "") -> None:
        super().__init__(reason)
        self.reason, self.zh, self.en = reason, zh, en


def _data_segment_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _init_worker(memory_mb: int) -> None:
    import sign.validate  # noqa: F401  (pay for the imports once per worker, not per check)
    import verify.check  # noqa: F401

    # what the imports made lives as long as the worker: out of the collector's way, so a full
    # collection during a check walks only the check's own objects
    gc.freeze()
    limit = _data_segment_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _warm() -> bool:
    return True


def _guarded(fn: Callable[..., T], *args: Any) -> tuple[bool, Any]:
    """Run ``fn`` in the worker; a bilingual error comes back as data (its class does not unpickle)."""
    from registry.errors import SkillcertError

    try:
        return True, fn(*args)
    except SkillcertError as e:
        return False, (e.zh, e.en)


class CheckPool:
    """A lazily started process pool; :meth:`run` awaits ``fn(*args)`` in a worker within ``timeout``."""

    def __init__(self, workers: int, timeout: float, memory_mb: int = WORKER_MEMORY_MB) -> None:
        self._workers = max(1, workers)
        self._timeout = timeout
        self._memory_mb = memory_mb
        self._pool: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._pool is None:
                from pebble import ProcessPool

                self._pool = ProcessPool(
                    max_workers=self._workers,
                    max_tasks=TASKS_PER_WORKER,
                    initializer=_init_worker,
                    initargs=(self._memory_mb,),
                    context=multiprocessing.get_context("forkserver"),
                )
            return self._pool

    def start(self) -> None:
        """Start the workers in the background (site start-up) so the first upload does not wait."""
        pool = self._get()
        for _ in range(self._workers):
            pool.schedule(_warm)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        from pebble import ProcessExpired

        future = self._get().schedule(_guarded, args=(fn, *args), timeout=self._timeout)
        try:
            ok, value = await asyncio.wrap_future(future)
        except (FutureTimeout, TimeoutError) as e:
            raise CheckFailed("timeout") from e
        except MemoryError as e:
            raise CheckFailed("memory") from e
        except ProcessExpired as e:  # killed (by the kernel, or a signal): the pool has replaced it
            raise CheckFailed("crashed") from e
        if not ok:
            raise CheckFailed("refused", *value)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join(timeout=5)
