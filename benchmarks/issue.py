"""Benchmark: the whole issue pipeline for 2,000 certificates (issue 5).

2,000 distinct imported records of the demo Beijing institution go through
``skillcert.pipeline.issue_batch`` — number allocation, render, PAdES B-B seal with a visible
widget on the drawn seal (RSA-2048, demo PKI), atomic write, delivery recorded — with one worker
process per core. In the same run, the naive pipeline (one Renderer, but stock pyHanko: a fresh
``SimpleSigner.load_pkcs12`` per document and ``signers.sign_pdf`` without ``bytes_reserved``, so
pyHanko signs twice to size the signature) seals 200 of the same certificates in one process.
Prints certificates/s, the ratio, median ms per stage, peak RSS, and the targets beside them.
It prints figures; it never fails on a timing.

* The inputs (CSV with distinct photos, registry, import, demo PKI) are made up front, not timed.
* Each measurement runs in its own subprocess, so its ``ru_maxrss`` is its own:
  RUSAGE_SELF is the pipeline's main process; RUSAGE_CHILDREN is the **largest single** worker,
  not their sum. The harness also samples the whole process tree every 0.2 s: the sum of RSS
  (shared library pages counted once per process: an upper bound) and the sum of PSS (shared
  pages divided among the processes that map them: what the tree costs the machine).
* The pipeline's time is ``issue_batch`` end to end, so it includes starting the worker
  processes (spawn, imports, fonts, first compile). The steady rate between the 10th and the
  90th percentile of deliveries is printed beside it. The naive pipeline's clock starts after
  its Renderer is built and warmed up, which flatters the naive side: the ratio is a lower bound.
* Issue 18: the ratio is also printed beside its floor, measured in the same run (per core, one
  render — the naive side's median — plus one raw RSA-2048 signature, ``openssl speed
  rsa2048``), and its goal: >= 20x with ``--quick``, >= 25x at 2,000.
* One full run (about 2-3 minutes on 2 cores), not a median of several: the per-stage figures
  are medians over the documents.

    ./run bench issue [--count 2000] [--naive 200] [--workers N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _floor import rsa2048_sign_ms  # noqa: E402
from _harness import ok, stock_seal  # noqa: E402

TARGET_RATE = 100.0  # certificates/s on 2 cores
TARGET_RATIO = 10.0  # pipeline / naive (issue 5)
GOAL_RATIO_QUICK, GOAL_RATIO_FULL = 20.0, 25.0  # issue 18: with --quick (200), and at 2,000
TARGET_RSS_MB = 400.0  # all processes together
ISSUE_DATE = date(2026, 11, 22)
ACTOR = "bench"


def _settings(home: Path) -> Any:
    from skillcert.settings import Settings

    return Settings.from_env({"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": ACTOR})


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu_s(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# -- set-up (not timed) ------------------------------------------------------------------
def setup(d: Path, count: int) -> tuple[Path, dict[str, Any]]:
    """A registry with the demo Beijing institution, ``count`` imported rows and a demo PKI."""
    from benchmarks.registry import CODE, make_batch
    from registry import Registry, import_results, institution_from_toml
    from skillcert.demo import DEMO_DIR
    from skillcert.seals import setup_demo_pki

    home = d / "home"
    home.mkdir(parents=True)
    s = _settings(home)
    t0 = time.perf_counter()
    csv_path = make_batch(d / "batch", count, count)  # every row its own photo file (distinct bytes)
    inst = institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8"))
    with Registry.create(s.registry_path) as reg:
        reg.institutions.add(inst, actor=ACTOR)
        rep = import_results(reg, csv_path, CODE, today=ISSUE_DATE, actor=ACTOR)
        pki = setup_demo_pki(s, reg)  # also puts the demo PKCS#12 password in the environment
    if rep.rows != count:
        raise SystemExit(f"imported {rep.rows} rows, expected {count}")
    return home, {"setup_s": time.perf_counter() - t0, "code": CODE, "p12": str(pki.p12(f"{CODE}-institution"))}


# -- the pipeline (a subprocess) ---------------------------------------------------------
def pipeline_worker(home: Path, code: str, workers: int) -> None:
    from registry import Registry
    from sign import PadesLevel
    from skillcert.pipeline import IssueOptions, issue_batch

    s = _settings(home)
    done: list[float] = []
    with Registry.open(s.registry_path) as reg:
        cpu0 = _cpu_s(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        summary = issue_batch(
            reg,
            IssueOptions(
                institution_code=code,
                out_dir=home / "out",
                issue_date=ISSUE_DATE,
                level=PadesLevel.B_B,
                workers=workers,
            ),
            render_settings=s.render_settings(),
            actor=ACTOR,
            progress=lambda _n: done.append(time.perf_counter() - t0),
        )
    sizes = [p.stat().st_size for p in (home / "out").glob("*.pdf")]
    _say(
        {
            "numbered": summary.numbered,
            "delivered": summary.delivered,
            "seconds": summary.seconds,
            "render_ms": summary.render_ms,
            "seal_ms": summary.seal_ms,
            "write_ms": summary.write_ms,
            "done_s": done,
            "cpu_main_s": _cpu_s(resource.RUSAGE_SELF) - cpu0,
            "cpu_workers_s": _cpu_s(resource.RUSAGE_CHILDREN),
            "kb": statistics.median(sizes) / 1024 if sizes else 0.0,
            "self_rss_mb": _maxrss_mb(resource.RUSAGE_SELF),
            "children_rss_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        }
    )


# -- the naive pipeline (a subprocess) ---------------------------------------------------
def naive_worker(home: Path, code: str, p12: Path, n: int) -> None:
    """One Renderer, stock pyHanko per document: fresh load_pkcs12, sign_pdf without bytes_reserved."""
    import hashlib

    from registry import Registry
    from render import Renderer
    from skillcert.files import write_atomic
    from skillcert.seals import DEMO_PASSWORD

    s = _settings(home)
    out = home / "naive-out"
    reg = Registry.open(s.registry_path)
    inst = reg.institutions.get(code)
    ids = sorted(c.id for c in reg.certificates.select(institution_code=code))[:n]
    renderer = Renderer(s.render_settings())
    first = reg.certificates.by_id(ids[0])
    renderer.render(first, inst, photo=reg.certificates.photo(first.photo_sha256))  # warm-up, outside the clock
    render_ms: list[float] = []
    sign_ms: list[float] = []
    write_ms: list[float] = []
    cpu0 = _cpu_s(resource.RUSAGE_SELF)
    t_start = time.perf_counter()
    for cid in ids:
        c = reg.certificates.by_id(cid)
        t0 = time.perf_counter()
        rendered = renderer.render(c, inst, photo=reg.certificates.photo(c.photo_sha256))
        t1 = time.perf_counter()
        data = stock_seal(rendered.pdf, rendered.seal_boxes, p12, DEMO_PASSWORD)
        t2 = time.perf_counter()
        write_atomic(out / f"{c.number}.pdf", data)
        hashlib.sha256(data).hexdigest()
        t3 = time.perf_counter()
        render_ms.append((t1 - t0) * 1000)
        sign_ms.append((t2 - t1) * 1000)
        write_ms.append((t3 - t2) * 1000)
    seconds = time.perf_counter() - t_start
    cpu = _cpu_s(resource.RUSAGE_SELF) - cpu0
    renderer.close()
    reg.close()
    _say(
        {
            "count": len(ids),
            "seconds": seconds,
            "cpu_s": cpu,
            "render_ms": render_ms,
            "seal_ms": sign_ms,
            "write_ms": write_ms,
            "self_rss_mb": _maxrss_mb(resource.RUSAGE_SELF),
        }
    )


# -- in the harness ----------------------------------------------------------------------
def _tree_mb(root: int) -> tuple[float, float]:
    """Summed RSS and summed PSS (shared pages divided among their users) of ``root`` and its descendants."""
    parent: dict[int, int] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                parent[int(p.name)] = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(c for c, pp in parent.items() if pp == pid)
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(("Rss:", "Pss:")):
                    kb = int(line.split()[1])
                    rss, pss = (rss + kb, pss) if line.startswith("Rss:") else (rss, pss + kb)
        except OSError:
            continue
    return rss / 1024, pss / 1024


def run_sampled(cmd: list[str]) -> tuple[dict[str, Any], tuple[float, float]]:
    """Run a measurement subprocess; return its JSON line and the peak summed RSS and PSS of its process tree."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = [0.0, 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, pss = _tree_mb(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{cmd[2:4]} failed with exit code {proc.returncode}")
    return dict(json.loads(out.strip().splitlines()[-1])), (peak[0], peak[1])


def _med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def check_one(home: Path, code: str) -> str:
    """Validate one pipeline PDF (demo root, filed key, OCSP from the demo PKI on loopback): not timed."""
    from registry import Registry
    from sign import DemoPki, PkiServer, Trust, validate_pdf

    s = _settings(home)
    with Registry.open(s.registry_path) as reg:
        filed = reg.seals.filed_fingerprints(code)
    path = min((home / "out").glob("*.pdf"))
    with PkiServer(DemoPki.at(home / "pki")):
        st = validate_pdf(path.read_bytes(), Trust(roots=s.trust_roots, filed_fingerprints=filed, online=True))
    return f"{path.name}: {st.bottom_line.value}, {len(st.signatures)} signature(s)"


def report(
    a: argparse.Namespace,
    facts: dict[str, Any],
    pipe: dict[str, Any],
    naive: dict[str, Any],
    load: tuple[float, float],
    floor: tuple[float, str],
) -> None:
    p, tree = pipe["result"], pipe["tree_mb"]
    n, ntree = naive["result"], naive["tree_mb"]
    rate = p["delivered"] / p["seconds"]
    naive_rate = n["count"] / n["seconds"]
    done = p["done_s"]
    lo, hi = len(done) // 10, len(done) * 9 // 10
    steady = (hi - lo) / (done[hi - 1] - done[lo - 1]) if hi - lo > 1 and lo > 0 else float("nan")
    stages = [("render", "render_ms"), ("sign (B-B seal)", "seal_ms"), ("write + record", "write_ms")]
    per_worker = _med(p["render_ms"]) + _med(p["seal_ms"])

    print(f"issue benchmark: {a.count:,} certificates, Beijing demo institution (style1), PAdES B-B, RSA-2048")
    print(
        f"  machine: {os.cpu_count()} cores, load average {load[0]:.2f} before, {load[1]:.2f} after; "
        f"pipeline workers: {a.workers}; one full run (set-up {facts['setup_s']:.1f} s, not timed)"
    )
    print()
    print(f"  {'':52s}{'figure':>12s}   target")
    print(
        f"  {f'pipeline: certificates/s ({a.workers} workers, wall clock)':52s}{rate:12.1f}"
        f"   >= {TARGET_RATE:.0f} on 2 cores   {ok(rate >= TARGET_RATE)}"
    )
    print(
        f"  {'   issue_batch seconds':52s}{p['seconds']:12.1f}   (numbered {p['numbered']:,}, delivered {p['delivered']:,})"
    )
    print(f"  {'   first certificate delivered after (s)':52s}{done[0]:12.1f}   (spawn, imports, fonts, first compile)")
    print(f"  {'   steady rate, deliveries 10%..90% (/s)':52s}{steady:12.1f}")
    print(
        f"  {'   per worker from stage medians (/s)':52s}{1000 / per_worker:12.1f}"
        f"   (render + seal = {per_worker:.1f} ms; x {a.workers} = {a.workers * 1000 / per_worker:.1f}/s)"
    )
    naive_label = f"naive: certificates/s (1 process, {n['count']})"
    print(f"  {naive_label:52s}{naive_rate:12.1f}")
    print(
        f"  {'pipeline / naive':52s}{rate / naive_rate:11.1f}x   >= {TARGET_RATIO:.0f}x"
        f"   {ok(rate / naive_rate >= TARGET_RATIO)}"
    )
    print(f"  {'   per worker (stage medians) / naive':52s}{1000 / per_worker / naive_rate:11.1f}x")
    rsa_ms, how = floor
    floor_ms = _med(n["render_ms"]) + rsa_ms  # one render + one RSA-2048 signature, per certificate per core
    floor_ratio = a.workers * 1000 / floor_ms / naive_rate
    goal = GOAL_RATIO_FULL if a.count >= 2000 else GOAL_RATIO_QUICK
    print(
        f"  {'issue 18: pipeline / naive, floor, goal':52s}{rate / naive_rate:11.1f}x"
        f"   floor {floor_ratio:.1f}x, goal >= {goal:.0f}x   {ok(rate / naive_rate >= goal)}"
    )
    print(
        f"  {'   floor: render + one RSA-2048 signature (ms)':52s}{floor_ms:12.1f}"
        f"   ({_med(n['render_ms']):.1f} + {rsa_ms:.2f} {how}) per certificate per core"
    )
    cpu_p = (p["cpu_main_s"] + p["cpu_workers_s"]) / p["delivered"] * 1000
    cpu_n = n["cpu_s"] / n["count"] * 1000
    print(
        f"  {'CPU ms per certificate, pipeline (all processes)':52s}{cpu_p:12.1f}"
        f"   (main {p['cpu_main_s'] / p['delivered'] * 1000:.1f}, workers incl. start-up "
        f"{p['cpu_workers_s'] / p['delivered'] * 1000:.1f})"
    )
    print(f"  {'CPU ms per certificate, naive':52s}{cpu_n:12.1f}   (CPU ratio {cpu_n / cpu_p:.1f}x)")
    print()
    print(f"  median ms per certificate    {'pipeline':>10s}{'naive':>10s}")
    for label, key in stages:
        print(f"    {label:26s}{_med(p[key]):10.1f}{_med(n[key]):10.1f}")
    total_p = sum(_med(p[k]) for _, k in stages)
    total_n = sum(_med(n[k]) for _, k in stages)
    print(f"    {'sum of medians':26s}{total_p:10.1f}{total_n:10.1f}")
    print(f"  median PDF size {p['kb']:.1f} KB")
    print()
    print("  peak RSS (MB)")
    print(f"    {'pipeline main process (RUSAGE_SELF)':52s}{p['self_rss_mb']:8.0f}")
    print(f"    {'largest single worker (RUSAGE_CHILDREN = max of any child)':52s}{p['children_rss_mb']:8.0f}")
    bound = p["self_rss_mb"] + a.workers * p["children_rss_mb"]
    print(f"    {f'bound: main + {a.workers} x largest worker':52s}{bound:8.0f}")
    print(
        f"    {'sampled sum of RSS over the process tree (0.2 s)':52s}{tree[0]:8.0f}"
        f"   <= {TARGET_RSS_MB:.0f} in all   {ok(tree[0] <= TARGET_RSS_MB)}"
    )
    print(f"    {'sampled sum of PSS (shared pages counted once)':52s}{tree[1]:8.0f}   {ok(tree[1] <= TARGET_RSS_MB)}")
    print(f"    {'naive process (RUSAGE_SELF / sampled RSS)':52s}{n['self_rss_mb']:8.0f} / {ntree[0]:.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="certificates through the pipeline (default 2000)")
    ap.add_argument("--naive", type=int, default=200, help="certificates through the naive pipeline (default 200)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="pipeline worker processes")
    ap.add_argument("--quick", action="store_true", help="200 certificates, 30 naive: a fast check")
    ap.add_argument("--pipeline-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--naive-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--code", help=argparse.SUPPRESS)
    ap.add_argument("--p12", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.pipeline_worker:
        pipeline_worker(a.pipeline_worker, a.code, a.workers)
        return
    if a.naive_worker:
        naive_worker(a.naive_worker, a.code, a.p12, a.naive)
        return
    if a.quick:
        a.count, a.naive = 200, 30
    a.naive = min(a.naive, a.count)
    with tempfile.TemporaryDirectory(prefix="skillcert-bench-issue-") as tmp:
        load0 = os.getloadavg()[0]
        home, facts = setup(Path(tmp), a.count)
        me = [sys.executable, __file__]
        code = ["--code", facts["code"]]
        result, tree = run_sampled([*me, "--pipeline-worker", str(home), *code, "--workers", str(a.workers)])
        pipe = {"result": result, "tree_mb": tree}
        result, tree = run_sampled(
            [*me, "--naive-worker", str(home), *code, "--p12", facts["p12"], "--naive", str(a.naive)]
        )
        naive = {"result": result, "tree_mb": tree}
        floor = rsa2048_sign_ms()
        report(a, facts, pipe, naive, (load0, os.getloadavg()[0]), floor)
        print(f"  check: {check_one(home, facts['code'])}")


if __name__ == "__main__":
    main()
