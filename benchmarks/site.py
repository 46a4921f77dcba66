"""Benchmark: the verification site under HTTP load, over a 1,000,000-certificate snapshot (issue 5).

The snapshot is real where the requests look: the demo (``skillcert.demo_job.run_demo``, run in
a subprocess with a time limit) issues 92 sealed B-LT certificates for its three institutions and
publishes a snapshot; then 1,000,000 synthetic certificates of ``--institutions`` synthetic
institutions (``benchmarks/index.py``'s generators: ``make_institutions``, ``certificates``,
``rows``, with registry ids past the demo's) are added to that snapshot as one new generation
by the project's ``search_index.publish.commit_generation`` (as an incremental publish adds one:
the directory rebuilt with the demo's and the synthetic institutions, the manifest re-signed),
so the demo's institutions, seal fingerprints and PDFs stay valid. None of this is timed.

``skillcert serve --workers 2`` (uvicorn, uvloop + httptools when installed, access log off)
is started as a subprocess on 127.0.0.1 and loaded with ``wrk --latency`` on 127.0.0.1 only:

* ``/healthz`` — the ceiling of the HTTP stack on this machine;
* the QR landing page ``/c/<number>?t=<token>`` of one demo certificate (look-up among
  1,000,092 records, the institution, the Jinja2 page, security headers, the rate limiter);
* ``POST /api/v1/check`` with that certificate's sealed PDF as multipart field ``file`` (a Lua
  script reads the body from a file), at ``--check-connections`` (throughput: the CPU-bound
  check saturates the two workers) and at ``--latency-connections`` (the median of one request
  in flight per worker: with c connections always busy, latency ≈ c / throughput, so the
  throughput run's median says more about the queue than about the check).

Rounds are interleaved (healthz, QR, check, check at low concurrency, then again), so load from
elsewhere on the machine hits every endpoint alike; the figures are medians of ``--runs`` rounds,
and the QR/healthz ratio is taken within each round. Before the load every request is checked
(200, the masked record on the QR page, ``bottom_line`` "valid"); after it wrk's non-2xx/3xx and
socket-error counts are printed. wrk runs on the same 2 cores as the server: it takes CPU from
the workers, on both healthz and QR alike. ``[site]`` limits are raised in ``settings.toml``: the
limiter's code path still runs on every request, but one client (127.0.0.1) must not be limited
in a throughput test. It prints figures; it never fails on a timing.

``--profile`` adds, after the server is stopped, an in-process look at where the time goes:
the app called directly as ASGI (no HTTP) for healthz, QR and QR with a wrong token, the QR
request's parts (the one look-up, rate limiter, page, the Jinja2 main block alone) and a cProfile
of 2,000 QR calls; then the upload check as ASGI, its parts (read_embedded, seal_status, judge),
``sign.validate_pdf``'s steps one by one, and a cProfile of the seal validation.

    ./run bench site [--count 1000000] [--institutions 20000] [--runs 3] [--duration 15]
                     [--connections 64] [--check-connections 8] [--quick] [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import http.client
import importlib.util
import io
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_QR_RPS = 6000.0
TARGET_QR_RATIO = 0.4  # issue 18
TARGET_QR_P99_MS = 30.0
TARGET_CHECK_RPS = 50.0
TARGET_CHECK_P50_MS = 40.0
HIGH_LIMIT = 100_000_000  # per minute: no 429 from one client during the load
ACTOR = "bench"
DEMO_TIMEOUT_S = 900
START_TIMEOUT_S = 120
PROFILE_CALLS = 2000


def _bench_index() -> ModuleType:
    """``benchmarks/index.py`` as a module (its name alone, ``index``, is too generic to import)."""
    spec = importlib.util.spec_from_file_location("skillcert_bench_index", Path(__file__).with_name("index.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# -- building the home ------------------------------------------------------------------------
_DEMO_CODE = """
import json, sys
from datetime import date
from skillcert.demo_job import run_demo
from skillcert.settings import Settings
s = Settings.from_env({"SKILLCERT_HOME": sys.argv[1], "SKILLCERT_ACTOR": sys.argv[2]})
r = run_demo(s, today=date.fromisoformat(sys.argv[3]), workers=int(sys.argv[4]))
print(json.dumps(r.as_dict()))
"""


def run_demo_bounded(home: Path, workers: int) -> dict[str, Any]:
    """The real demo (issue, seal B-LT, publish) in a subprocess with a time limit."""
    env = {**os.environ, "SKILLCERT_HOME": str(home)}
    home.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(
        [sys.executable, "-c", _DEMO_CODE, str(home), ACTOR, date.today().isoformat(), str(workers)],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        env=env,
        cwd=home,
    )
    if p.returncode != 0:
        raise SystemExit(f"the demo failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def add_synthetic(home: Path, bi: ModuleType, count: int, n_inst: int, seed: int) -> dict[str, Any]:
    """Add ``count`` synthetic certificates and ``n_inst`` institutions to the current snapshot."""
    from search_index._layout import INSTITUTIONS, read_meta
    from search_index.publish import commit_generation, load_or_create_keys

    secret, key = load_or_create_keys(home)
    target = (home / "snapshots" / "current").resolve()
    conn = sqlite3.connect(f"file:{target / 'certs.sqlite'}?mode=ro", uri=True)
    try:
        meta = read_meta(conn, target)
    finally:
        conn.close()
    demo_insts: dict[str, Any] = json.loads((target / meta["directory"] / INSTITUTIONS).read_text(encoding="utf-8"))
    demo_count = int(json.loads(meta["manifest"])["certificates"])
    t0 = time.perf_counter()
    made = bi.make_institutions(n_inst + len(demo_insts), seed)
    insts = [i for i in made if i.obj.code not in demo_insts][:n_inst]  # the demo's filings stay the real ones
    t_inst = time.perf_counter() - t0
    corpus = bi.Corpus(insts)

    t0 = time.perf_counter()
    institutions = list(demo_insts.values()) + [i.public for i in insts]
    rows = bi.rows(secret, bi.certificates(corpus, count, seed), id_offset=10**9)  # past the demo's registry ids
    signed = commit_generation(target, key, rows, institutions=institutions)
    conn = sqlite3.connect(target / "certs.sqlite", isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    t_all = time.perf_counter() - t0
    return {
        "target": target,
        "demo": demo_count,
        "added": int(signed["last_increment"]),
        "total": int(signed["certificates"]),
        "institutions": len(institutions),
        "t_inst": t_inst,
        "t_certs": t_all,
        "size": bi.size_of(target / "certs.sqlite"),
    }


def raise_limits(path: Path) -> str:
    """Set ``[site] qr_per_minute`` and ``upload_per_minute`` high, keeping the file valid TOML."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = tomllib.loads(text)
    lines = [f"{k} = {HIGH_LIMIT}  # benchmarks/site.py" for k in ("qr_per_minute", "upload_per_minute")]
    if "site" not in data:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + "[site]\n" + "\n".join(lines) + "\n"
        how = "appended a [site] table"
    else:
        site = data["site"]
        for k in ("qr_per_minute", "upload_per_minute"):  # an uncommented value already there: drop it
            if k in site:
                text = re.sub(rf"(?m)^\s*{k}\s*=.*$\n?", "", text)
        header = re.search(r"(?m)^\[site\][ \t]*(#.*)?$\n?", text)
        if header is None:  # e.g. an inline table or a dotted key: too unusual to edit safely
            raise SystemExit(f"{path}: found a [site] setting but no '[site]' header line to add the limits under")
        text = text[: header.end()] + "\n".join(lines) + "\n" + text[header.end() :]
        how = "added under the existing [site] header"
    path.write_text(text, encoding="utf-8")
    check = tomllib.loads(text)["site"]
    assert check["qr_per_minute"] == check["upload_per_minute"] == HIGH_LIMIT
    return how


# -- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``skillcert serve`` in its own session (process group), so stopping it stops its workers."""

    def __init__(self, home: Path, port: int, workers: int, log: Path) -> None:
        self.port = port
        self.log = log
        env = {**os.environ, "SKILLCERT_HOME": str(home)}
        env.pop("SKILLCERT_SNAPSHOT", None)
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "skillcert",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            cwd=home,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return time.monotonic() - t0
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer /healthz within {timeout:.0f} s")

    def workers(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor, not multiprocessing's helpers)."""
        out = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                stat = (p / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.proc.pid and "resource_tracker" not in cmd:
                out.append(int(p.name))
        return sorted(out)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only what it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._log.close()


def proc_mem(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    out = {"VmRSS": 0.0, "VmHWM": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in out:
                out[k] = int(v.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def multipart(pdf: bytes) -> tuple[bytes, str]:
    boundary = "skillcert-bench-" + secrets.token_hex(12)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="certificate.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def preflight(port: int, qr_path: str, record: dict[str, Any], body: bytes, ctype: str) -> list[str]:
    from search_index.privacy import mask_id, mask_name

    out = []
    status, _, data = request(port, "GET", "/healthz")
    if status != 200 or data.strip() != b"ok":
        raise SystemExit(f"/healthz answered {status} {data[:100]!r}")
    out.append("/healthz 200 'ok'")
    status, headers, data = request(port, "GET", qr_path)
    page = data.decode("utf-8", errors="replace")
    masked = mask_name(str(record["name"]))
    if status != 200 or masked not in page or record["occupation"] not in page or "有效" not in page:
        raise SystemExit(f"the QR landing answered {status} without the masked record ({masked}):\n{page[:2000]}")
    if str(record["name"]) in page or str(record["id_number"]) in page:
        raise SystemExit("the QR landing shows the raw name or ID number")
    out.append(
        f"QR landing 200, {len(data):,} B, shows {masked} / {mask_id(str(record['id_number']))} 有效 "
        f"(content-security-policy {'set' if 'content-security-policy' in headers else '**missing**'})"
    )
    status, _, data = request(port, "POST", "/api/v1/check", body, {"Content-Type": ctype})
    try:
        bottom = json.loads(data).get("bottom_line")
    except (json.JSONDecodeError, AttributeError):
        bottom = None
    if status != 200 or bottom != "valid":
        raise SystemExit(f"/api/v1/check answered {status}, bottom_line {bottom!r}:\n{data[:2000]!r}")
    out.append(f"POST /api/v1/check 200, bottom_line 'valid' ({len(body):,} B multipart body)")
    return out


# -- wrk ---------------------------------------------------------------------------------------
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_wrk(out: str) -> dict[str, float]:
    res: dict[str, float] = {"non2xx": 0, "errors": 0, "timeouts": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{out}")
    res["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m is None:
            raise ValueError(f"no {pct}% latency in wrk's output (--latency):\n{out}")
        res[f"p{pct}"] = _ms(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        c, r, w, t = (int(x) for x in m.groups())
        res["errors"], res["timeouts"] = c + r + w + t, t
    return res


def run_wrk(url: str, threads: int, conns: int, duration: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    assert url.startswith("http://127.0.0.1:")  # only the local server
    p = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 60)
    if p.returncode != 0:
        raise SystemExit(f"wrk failed ({p.returncode}): {p.stderr}\n{p.stdout}")
    return parse_wrk(p.stdout)


def lua_script(path: Path, body_file: Path, ctype: str) -> None:
    path.write_text(
        "-- POST the sealed PDF as multipart field 'file' (body read once per wrk thread)\n"
        'wrk.method = "POST"\n'
        f'local f = assert(io.open("{body_file}", "rb"))\n'
        'wrk.body = f:read("*a")\n'
        "f:close()\n"
        f'wrk.headers["Content-Type"] = "{ctype}"\n',
        encoding="utf-8",
    )


# -- in-process profile -----------------------------------------------------------------------
def _scope(method: str, path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def asgi_call(app: Any, method: str, path: str, query: str = "", body: bytes = b"", ctype: str = "") -> int:
    """One request straight into the ASGI app (no socket, no HTTP parsing); returns the status."""
    status = 0
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())] if body else []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that says nothing more
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, query, headers), receive, send)
    return status


def _top(prof: cProfile.Profile, key: str, n: int, only: str | None = None) -> list[str]:
    s = io.StringIO()
    st = pstats.Stats(prof, stream=s).sort_stats(key)
    st.print_stats(*([only] if only else []), n)
    body = s.getvalue().splitlines()
    start = next((i for i, ln in enumerate(body) if ln.strip().startswith("ncalls")), 0)
    return [
        "    " + ln.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "") for ln in body[start:] if ln.strip()
    ]


def _each(fn: Callable[[], object], n: int, warm: int = 200) -> float:
    """Mean µs per call of ``fn`` after ``warm`` calls."""
    for _ in range(warm):
        fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def _app(home: Path) -> Any:
    from skillcert.serving import site_settings
    from skillcert.settings import Settings
    from verify import create_app

    return create_app(site_settings(Settings.from_env({"SKILLCERT_HOME": str(home)})))


def profile_qr(home: Path, qr_path: str) -> list[str]:
    """Where one QR request's time goes, without HTTP: the app as ASGI, its parts, cProfile."""
    from starlette.requests import Request

    from verify.app import Pages, _checked

    app = _app(home)
    site = app.state.site
    path, _, query = qr_path.partition("?")
    number = path.rsplit("/", 1)[1]
    token = query.split("t=", 1)[1].split("&", 1)[0]
    n = PROFILE_CALLS
    loop = asyncio.new_event_loop()
    try:

        async def many(p: str, q: str) -> float:
            for _ in range(200):
                assert await asgi_call(app, "GET", p, q) == 200
            t0 = time.perf_counter()
            for _ in range(n):
                await asgi_call(app, "GET", p, q)
            return (time.perf_counter() - t0) / n * 1e6

        health_us = loop.run_until_complete(many("/healthz", ""))
        qr_us = loop.run_until_complete(many(path, query))
        miss_us = loop.run_until_complete(many(path, "t=" + "A" * len(token)))  # a wrong token: the same page, unknown
        found = site.snapshot.landing_by_qr(number, token)  # record, photo, institution, manifest: one look-up
        assert found.record is not None
        pages = Pages(site)
        req = Request(_scope("GET", path, query, []))
        t_lookup = _each(lambda: site.snapshot.landing_by_qr(number, token), n)
        t_limit = _each(lambda: site.limits.qr.take("127.0.0.1"), n)
        t_render = _each(lambda: pages.landing_page(req, found), n)
        template = pages._landing["zh"]
        ctx = {
            **pages._landing_ctx["zh"],
            "view": found.record,
            "manifest": found.manifest,
            "photo": None,
            **_checked(),
        }
        t_template = _each(lambda: "".join(template.blocks["main"](template.new_context(ctx, shared=True))), n)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            loop.run_until_complete(asgi_call(app, "GET", path, query))
        prof.disable()
    finally:
        loop.close()
        site.close()
    return [
        f"in-process, no HTTP, one process (mean of {n:,} calls each):",
        f"  app as ASGI: /healthz {health_us:.1f} µs, QR landing {qr_us:.1f} µs "
        f"(≈ {1e6 / qr_us:,.0f} QR pages/s per core before any HTTP work); a wrong token {miss_us:.1f} µs",
        f"  parts of a QR request: Snapshot.landing_by_qr {t_lookup:.1f} µs · Buckets.take {t_limit:.1f} µs · "
        f"Pages.landing_page {t_render:.1f} µs (of which the Jinja2 main block alone {t_template:.1f} µs; "
        "the frame around it is rendered once per language and generation)",
        f"  cProfile of {n:,} QR calls (ASGI), top 15 by own time:",
        *_top(prof, "tottime", 15),
        "  the same, the project's, Starlette's and Jinja2's functions by cumulative time:",
        *_top(
            prof, "cumulative", 14, r"verify/|starlette/(templating|datastructures)|jinja2/environment|search_index/"
        ),
    ]


def _seal_parts(pdf: bytes, trust: Any, n: int) -> list[str]:
    """Medians of the steps of ``sign.validate_pdf`` done one by one (pyHanko's API, as validate_pdf uses it)."""
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        from sign.validate import _context, _timestamp_time

        def med(fn: Callable[[], object]) -> float:
            fn()
            ts = []
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) * 1e3)
            return statistics.median(ts)

        def opened() -> tuple[Any, Any]:
            r = PdfFileReader(io.BytesIO(pdf), strict=False)
            return list(r.embedded_signatures), DocumentSecurityStore.read_dss(r)

        sigs, dss = opened()
        moment = _timestamp_time(sigs[0])
        t_open = med(opened)
        t_ctx = med(lambda: (_context(trust, dss, moment), _context(trust, dss, None)))
        t_diff = med(lambda: opened()[0][0].compute_integrity_info(DEFAULT_DIFF_POLICY)) - t_open

        def whole() -> None:
            s, d = opened()
            validate_pdf_signature(s[0], signer_validation_context=_context(trust, d, moment),
                                   ts_validation_context=_context(trust, d, None))  # fmt: skip

        t_all = med(whole)
    except Exception as e:  # sign/validate.py changes: the parts are a diagnosis, not the benchmark
        return [f"  (seal_status parts not measured: {type(e).__name__}: {e})"]
    return [
        f"  seal_status, step by step (medians of {n}): open + embedded_signatures + read_dss {t_open:.1f} ms "
        f"(pyHanko reads the /Contents hex strings a byte at a time) · two validation contexts from the DSS "
        f"{t_ctx:.1f} ms · digest + modification analysis (diff policy) {t_diff:.1f} ms · CMS, chain, "
        f"revocation, timestamp ≈ {max(0.0, t_all - t_open - t_ctx - t_diff):.1f} ms · together {t_all:.1f} ms"
    ]


def profile_check(home: Path, pdf: bytes, body: bytes, ctype: str, n: int) -> list[str]:
    """Where one upload check's time goes: the app as ASGI, then each step alone, and cProfile."""
    from sign import Trust
    from verify.check import filed_fingerprints, judge, read_embedded, seal_status

    app = _app(home)
    site = app.state.site
    loop = asyncio.new_event_loop()
    try:

        async def many() -> float:
            for _ in range(3):
                assert await asgi_call(app, "POST", "/api/v1/check", "", body, ctype) == 200
            t0 = time.perf_counter()
            for _ in range(n):
                await asgi_call(app, "POST", "/api/v1/check", "", body, ctype)
            return (time.perf_counter() - t0) / n * 1e3

        app_ms = loop.run_until_complete(many())
    finally:
        loop.close()
    record = read_embedded(pdf)
    trust = Trust(roots=site.settings.trust_roots, filed_fingerprints=filed_fingerprints(site.snapshot, record))
    seal = seal_status(pdf, trust)
    t_read = _each(lambda: read_embedded(pdf), n, 3) / 1e3
    t_seal = _each(lambda: seal_status(pdf, trust), n, 3) / 1e3
    t_judge = _each(lambda: judge(pdf, record, seal, site.snapshot), n, 3) / 1e3
    parts = _seal_parts(pdf, trust, n)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        seal_status(pdf, trust)
    prof.disable()
    site.close()
    return [
        f"upload check in-process, one process (mean of {n} calls each):",
        f"  app as ASGI (multipart parse, thread pool, JSON): {app_ms:.1f} ms per PDF "
        f"(≈ {1e3 / app_ms:.0f} PDFs/s per core)",
        f"  parts: read_embedded (pikepdf) {t_read:.1f} ms · seal_status (sign.validate_pdf) {t_seal:.1f} ms · "
        f"judge (snapshot look-up, directory) {t_judge:.2f} ms",
        *parts,
        f"  cProfile of {n} seal_status calls, top 15 by cumulative time:",
        *_top(prof, "cumulative", 15),
        "  top 12 by own time:",
        *_top(prof, "tottime", 12),
    ]


# -- main --------------------------------------------------------------------------------------
def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--count", type=int, default=1_000_000, help="synthetic certificates (default 1,000,000)")
    ap.add_argument("--institutions", type=int, default=20_000, help="synthetic institutions (default 20,000)")
    ap.add_argument("--runs", type=int, default=None, help="rounds of loads, medians reported (default 3; --quick 1)")
    ap.add_argument("--duration", type=int, default=None, help="seconds per load (default 15; --quick 5)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections for healthz and QR (default 64)")
    ap.add_argument("--check-connections", type=int, default=8, help="connections for the PDF check (default 8)")
    ap.add_argument(
        "--latency-connections", type=int, default=2, help="connections for the check's latency run (0: none)"
    )
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20,000 certificates, 2,000 institutions, 5 s loads, 1 round")
    ap.add_argument("--profile", action="store_true", help="then profile one QR request in-process")
    ap.add_argument("--keep", action="store_true", help="keep the temporary SKILLCERT_HOME (prints its path)")
    a = ap.parse_args()
    if a.quick:
        a.count, a.institutions = 20_000, 2_000
    runs = a.runs if a.runs is not None else 1 if a.quick else 3
    duration = a.duration if a.duration is not None else 5 if a.quick else 15
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    bi = _bench_index()

    tmp = Path(tempfile.mkdtemp(prefix="skillcert-bench-site-"))
    server: Server | None = None

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        home = tmp / "home"
        t0 = time.perf_counter()
        demo = run_demo_bounded(home, a.workers)
        t_demo = time.perf_counter() - t0
        from render import read_record

        pdfs = sorted((home / "out").glob("*.pdf"))
        if not pdfs:
            raise SystemExit("the demo wrote no PDF")
        pdf_file = Path(demo.get("example_pdf") or pdfs[0])
        pdf = pdf_file.read_bytes()
        record = read_record(pdf)
        assert record is not None
        url = str(record["qr_url"])
        qr_path = "/" + url.split("/", 3)[3].split("#", 1)[0]  # a browser never sends the fragment
        built = add_synthetic(home, bi, a.count, a.institutions, a.seed)
        how = raise_limits(home / "settings.toml")
        body, ctype = multipart(pdf)
        body_file, script = tmp / "check-body.bin", tmp / "check.lua"
        body_file.write_bytes(body)
        lua_script(script, body_file, ctype)

        port = free_port()
        server = Server(home, port, a.workers, tmp / "server.log")
        t_ready = server.wait_ready(START_TIMEOUT_S)
        pre = preflight(port, qr_path, record, body, ctype)
        workers = server.workers()
        mem_before = {pid: proc_mem(pid) for pid in workers}
        base = f"http://127.0.0.1:{port}"
        load1 = os.getloadavg()

        loads: list[tuple[str, str, int, Path | None]] = [
            ("healthz", base + "/healthz", a.connections, None),
            ("qr", base + qr_path, a.connections, None),
            ("check", base + "/api/v1/check", a.check_connections, script),
        ]
        if a.latency_connections > 0:
            loads.append(("check_lat", base + "/api/v1/check", a.latency_connections, script))
        results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _, _ in loads}
        for r in range(runs):
            for name, u, conns, sc in loads:
                results[name].append(run_wrk(u, a.threads, conns, duration, sc))
                time.sleep(1)
            print(
                f"  (round {r + 1}/{runs}: "
                + ", ".join(f"{n} {results[n][-1]['rps']:,.0f}/s" for n, _, _, _ in loads)
                + f"; load {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
                flush=True,
            )
        load2 = os.getloadavg()
        mem_after = {pid: proc_mem(pid) for pid in workers}
        sup_mem = proc_mem(server.proc.pid)
        post_status, _, _ = request(port, "GET", qr_path)
        server.stop()
        server = None
        prof_lines: list[str] = []
        if a.profile:
            prof_lines = profile_qr(home, qr_path) + profile_check(home, pdf, body, ctype, 10 if a.quick else 30)
        if a.keep:
            print(f"kept {tmp}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    def runs_of(name: str, key: str = "rps") -> str:
        return "/".join(f"{x[key]:,.0f}" for x in results[name])

    ratios = [q["rps"] / h["rps"] for q, h in zip(results["qr"], results["healthz"], strict=True)]
    ratio = statistics.median(ratios)
    qr_rps, qr_p99, check_rps = med("qr", "rps"), med("qr", "p99"), med("check", "rps")
    check_p50 = med("check_lat", "p50") if "check_lat" in results else med("check", "p50")
    cores = os.cpu_count()

    print(
        f"site benchmark: {built['total']:,} certificates ({built['demo']} sealed demo + {built['added']:,} synthetic), "
        f"{built['institutions']:,} institutions; skillcert serve --workers {a.workers} (uvicorn); "
        f"wrk -t{a.threads} --latency, {duration} s per load, median of {runs} round(s)"
    )
    print(
        f"  load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; before the loads "
        f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}; after {load2[0]:.2f} {load2[1]:.2f} {load2[2]:.2f} ({cores} cores)"
    )
    print(
        f"  set-up, not timed in the figures: demo (issue + seal B-LT + publish) {t_demo:.0f} s; "
        f"{built['added']:,} certificates and the directory as one new generation {built['t_certs']:.0f} s "
        f"(+ {built['t_inst']:.1f} s making the filings); "
        f"certs.sqlite {built['size'] / 1e6:.0f} MB; server ready in {t_ready:.1f} s"
    )
    print(
        f"  rate limits: [site] qr_per_minute = upload_per_minute = {HIGH_LIMIT:,} in settings.toml ({how}). "
        "The limiter's code path still runs on every request, but a throughput test has one client "
        "(127.0.0.1), which must not be limited; the real limits are per client and worker."
    )
    print(f"  pre-flight: {'; '.join(pre)}")
    print(f"  the certificate: {pdf_file.name} ({len(pdf):,} B), QR landing {qr_path.split('?')[0]}?t=…")
    print(
        f"  {'endpoint':<34} {'conns':>5} {'req/s median':>13}  {'(runs)':<22} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'non-2xx':>8} {'sock err':>8}"
    )
    labels = {
        "healthz": "GET /healthz",
        "qr": "GET /c/<number>?t=<token> (QR)",
        "check": "POST /api/v1/check (sealed PDF)",
        "check_lat": "POST /api/v1/check, latency run",
    }
    for name, _, conns, _ in loads:
        rs = results[name]
        print(
            f"  {labels[name]:<34} {conns:>5} {med(name, 'rps'):>13,.0f}  {'(' + runs_of(name) + ')':<22}"
            f" {med(name, 'p50'):>7.2f} {med(name, 'p99'):>7.2f} {sum(int(x['non2xx']) for x in rs):>8,}"
            f" {sum(int(x['errors']) for x in rs):>8,}"
        )
    print("  targets")
    print(
        f"    QR landing        {qr_rps:8,.0f} req/s    target >= {TARGET_QR_RPS:,.0f} req/s with {a.workers} workers — "
        f"{mark(qr_rps >= TARGET_QR_RPS)}"
    )
    print(
        f"    QR / healthz      {ratio:8.2f}          target >= {TARGET_QR_RATIO} in the same round — "
        f"{mark(ratio >= TARGET_QR_RATIO)}   (per round {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    print(
        f"    QR p99            {qr_p99:8.2f} ms       target <= {TARGET_QR_P99_MS:.0f} ms — {mark(qr_p99 <= TARGET_QR_P99_MS)}"
    )
    print(
        f"    upload check      {check_rps:8,.1f} PDFs/s   target >= {TARGET_CHECK_RPS:.0f} PDFs/s — "
        f"{mark(check_rps >= TARGET_CHECK_RPS)}   (at {a.check_connections} connections)"
    )
    lat_conns = a.latency_connections if "check_lat" in results else a.check_connections
    print(
        f"    upload check p50  {check_p50:8.2f} ms       target <= {TARGET_CHECK_P50_MS:.0f} ms — "
        f"{mark(check_p50 <= TARGET_CHECK_P50_MS)}   (at {lat_conns} connections; at {a.check_connections}: "
        f"{med('check', 'p50'):.1f} ms, ≈ connections / throughput while saturated)"
    )
    mem = ", ".join(
        f"pid {pid} {mem_after[pid][0]:.0f} MB (peak {mem_after[pid][1]:.0f}; {mem_before[pid][0]:.0f} before the load)"
        for pid in workers
    )
    print(f"  server RSS per worker after the loads: {mem}; supervisor {sup_mem[0]:.0f} MB")
    print(
        f"  after the loads: the QR landing answers {post_status}; bench wall time {time.perf_counter() - t_start:.0f} s"
    )
    for line in prof_lines:
        print("  " + line)


if __name__ == "__main__":
    main()
