"""Benchmark: the upload check, a delivered copy and a file that is not one (issue 18, rows 3 and 4).

Row 3 — a delivered certificate vs a ``/healthz`` round trip. ``skillcert serve`` (one worker)
over the demo's snapshot on 127.0.0.1; one client, one keep-alive connection, requests one after
another: ``GET /healthz`` and ``POST /api/v1/check`` with a delivered PDF (multipart ``file``),
interleaved in rounds so that load from elsewhere hits both alike. The first upload of the file
takes the full path and leaves the delivered-copy memo (``verify/delivered.py``); the figure is
the median round trip of the uploads after it, the floor the median ``/healthz`` round trip of
the same rounds, and the ratio the two (goal <= 10x). Every answer is checked (200, ``valid``).

Row 4 — a file that is not a delivered copy (the delivered PDF plus one newline: still valid,
judged by its seals and data), checked in full in this process: ``read_embedded``,
``seal_status``, ``judge``; the figure is the median CPU time (``time.process_time``) per
check, the floor the CPU time of what such a check cannot avoid, measured in the same run:
SHA-256 of the file, opening it with qpdf (pikepdf), and two RSA-2048 signature verifications
(the seal's and its timestamp's), with the chain taken from a cache (goal <= 15 ms CPU).

It prints figures; it never fails on a timing.

    ./run bench upload [--home DIR] [--rounds 200] [--full 20]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_DELIVERED_RATIO = 10.0
GOAL_FULL_CPU_MS = 15.0


def _bench_site() -> ModuleType:
    """``benchmarks/site.py`` as a module: its demo build, server and multipart helpers."""
    spec = importlib.util.spec_from_file_location("skillcert_bench_site", Path(__file__).with_name("site.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _round_trip(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, ctype: str) -> bytes:
    headers = {"Content-Type": ctype} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{method} {path} answered {r.status}: {data[:300]!r}")
    return data


def delivered_round_trips(site: ModuleType, home: Path, pdf: bytes, rounds: int) -> dict[str, float]:
    import json

    body, ctype = site.multipart(pdf)
    server = site.Server(home, site.free_port(), 1, home.parent / "upload-server.log")
    try:
        server.wait_ready(site.START_TIMEOUT_S)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        t0 = time.perf_counter()
        first = json.loads(_round_trip(conn, "POST", "/api/v1/check", body, ctype))
        t_first = time.perf_counter() - t0
        if first.get("bottom_line") != "valid":
            raise SystemExit(f"the delivered PDF is not valid: {first.get('bottom_line')}")
        health: list[float] = []
        check: list[float] = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            _round_trip(conn, "GET", "/healthz", None, "")
            t1 = time.perf_counter()
            answer = _round_trip(conn, "POST", "/api/v1/check", body, ctype)
            t2 = time.perf_counter()
            if b'"bottom_line":"valid"' not in answer.replace(b" ", b""):
                raise SystemExit(f"an upload was not answered valid: {answer[:300]!r}")
            health.append((t1 - t0) * 1e3)
            check.append((t2 - t1) * 1e3)
        conn.close()
    finally:
        server.stop()
    return {
        "first_ms": t_first * 1e3,
        "health_ms": statistics.median(health),
        "check_ms": statistics.median(check),
        "body": float(len(body)),
    }


@contextlib.contextmanager
def _stock_pyhanko() -> Iterator[None]:
    """pyHanko's hex-string reader, asn1crypto's name comparison and pyHanko's signature
    verification as they ship (no sign/_fasthex, sign/_names, sign/_sigmemo), for the comparison in
    the same run."""
    from asn1crypto.x509 import Name
    from pyhanko.pdf_utils import generic
    from pyhanko_certvalidator import sig_validate

    from sign import _fasthex, _names, _sigmemo

    hex_install, names_install, memo_install = _fasthex.install, _names.install, _sigmemo.install
    fast_hex, fast_eq, fast_hashable = generic.read_hex_string_from_stream, Name.__eq__, Name.__dict__["hashable"]
    fast_raw = sig_validate._validate_raw
    generic.read_hex_string_from_stream, Name.__eq__ = _fasthex.original(), _names.original()
    Name.hashable = _names.original_hashable()
    sig_validate._validate_raw = _sigmemo.original()
    _fasthex.install = _names.install = _sigmemo.install = lambda: None
    try:
        yield
    finally:
        _fasthex.install, _names.install, _sigmemo.install = hex_install, names_install, memo_install
        generic.read_hex_string_from_stream, Name.__eq__ = fast_hex, fast_eq
        Name.hashable = fast_hashable
        sig_validate._validate_raw = fast_raw


def full_check_cpu(home: Path, data: bytes, n: int) -> dict[str, float]:
    """Median CPU ms of a full check of ``data`` in this process, and of the floor's parts."""
    import hashlib

    import pikepdf
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from search_index import Snapshot
    from sign import Trust
    from verify.check import filed_fingerprints, judge, read_embedded, seal_status

    snap = Snapshot.open(home)
    roots = (home / "pki" / "certs" / "root.pem",)

    def full() -> str:
        record = read_embedded(data)
        trust = Trust(roots=roots, filed_fingerprints=filed_fingerprints(snap, record))
        return judge(data, record, seal_status(data, trust), snap).bottom_line.value

    verdict = full()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = hashlib.sha256(data).digest()
    sig = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    pub = key.public_key()

    def floor() -> None:
        hashlib.sha256(data).digest()
        with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
            len(pdf.pages)
        for _ in range(2):
            pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())

    def cpu(fn: object, k: int) -> float:
        ts = []
        for _ in range(k):
            t0 = time.process_time()
            fn()  # type: ignore[operator]
            ts.append((time.process_time() - t0) * 1e3)
        return statistics.median(ts)

    out = {"full_ms": cpu(full, n), "floor_ms": cpu(floor, max(50, n))}
    with _stock_pyhanko():
        out["stock_ms"] = cpu(full, max(3, n // 2))
    t0 = time.perf_counter()
    full()
    out["full_wall_ms"] = (time.perf_counter() - t0) * 1e3
    snap.close()
    out["verdict_valid"] = float(verdict == "valid")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--home", type=Path, help="an existing demo SKILLCERT_HOME (else the demo is run, not timed)")
    ap.add_argument("--rounds", type=int, default=200, help="healthz + upload rounds (default 200)")
    ap.add_argument("--full", type=int, default=20, help="full checks timed (default 20)")
    a = ap.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    site = _bench_site()
    load0 = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="skillcert-bench-upload-"))
    try:
        if a.home is None:
            home = tmp / "home"
            site.run_demo_bounded(home, 2)
        else:
            home = tmp / "home"
            shutil.copytree(a.home, home, symlinks=True)
        site.raise_limits(home / "settings.toml")
        pdf_file = sorted((home / "out").glob("*.pdf"))[0]
        pdf = pdf_file.read_bytes()
        rt = delivered_round_trips(site, home, pdf, a.rounds)
        fc = full_check_cpu(home, pdf + b"\n", a.full)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()
    ratio = rt["check_ms"] / rt["health_ms"]
    print(
        f"upload benchmark: {pdf_file.name} ({len(pdf):,} B); load average {load0[0]:.2f} at start, "
        f"{load1[0]:.2f} at the end ({os.cpu_count()} cores)"
    )
    print(
        f"  row 3, a delivered copy (sequential, one keep-alive client, {a.rounds} rounds; first upload, "
        f"the full path: {rt['first_ms']:.0f} ms)"
    )
    print(
        f"    figure POST /api/v1/check {rt['check_ms']:.2f} ms · floor GET /healthz {rt['health_ms']:.2f} ms · "
        f"ratio {ratio:.1f}x · goal <= {GOAL_DELIVERED_RATIO:.0f}x — {'met' if ratio <= GOAL_DELIVERED_RATIO else '**not met**'}"
    )
    print("  row 4, not a delivered copy (the PDF + one newline), full check in process, CPU time")
    print(
        f"    figure {fc['full_ms']:.1f} ms CPU (wall {fc['full_wall_ms']:.1f} ms; verdict "
        f"{'valid' if fc['verdict_valid'] else '**not valid**'}) · floor (SHA-256 + qpdf open + 2 RSA-2048 "
        f"verifications) {fc['floor_ms']:.2f} ms · ratio {fc['full_ms'] / fc['floor_ms']:.0f}x · goal <= "
        f"{GOAL_FULL_CPU_MS:.0f} ms CPU — {'met' if fc['full_ms'] <= GOAL_FULL_CPU_MS else '**not met**'}"
    )
    print(
        f"    the same with stock pyHanko/asn1crypto (no sign/_fasthex, _names, _sigmemo): {fc['stock_ms']:.1f} ms CPU"
    )


if __name__ == "__main__":
    main()
