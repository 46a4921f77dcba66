"""``skillcert serve`` as a real subprocess for the tests: started on 127.0.0.1, up once /healthz
says ``ok``, stopped with SIGTERM (then SIGKILL) however the test ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Served", "generous_app", "skillcert_serve"]


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    env: dict[str, str]  # the environment it runs in (SKILLCERT_HOME …), for CLI calls beside it
    proc: subprocess.Popen[bytes]
    log: Path


@contextmanager
def skillcert_serve(home: Path, log_dir: Path, *, port: int | None = None) -> Iterator[Served]:
    from sign.pki import free_port

    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "SKILLCERT_SNAPSHOT"}
    env |= {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"}
    log_path = log_dir / "serve.log"
    cmd = [sys.executable, "-m", "skillcert", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"skillcert serve exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    if r.read().split(b"\n")[0] == b"ok":  # then `key: value` lines (shared limits)
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"skillcert serve did not answer in 30 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield Served(base, env, proc, log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def generous_app(home: Path, *, check_timeout_seconds: float) -> Any:
    """The site over ``home``'s snapshot in-process, every rate limit opened up (for tests that
    send hundreds of requests from one client)."""
    from dataclasses import replace

    from verify import RateLimit, SiteSettings, create_app

    generous = RateLimit(per_minute=1_000_000, burst=1_000_000)
    base = SiteSettings.from_home(home, trust_roots=(home / "pki" / "certs" / "root.pem",))
    return create_app(
        replace(
            base,
            lookup_limit=generous,
            qr_limit=generous,
            upload_limit=generous,
            download_limit=generous,
            code_failures=generous,
            check_timeout_seconds=check_timeout_seconds,
        )
    )
