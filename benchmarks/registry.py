"""Benchmark: import + number allocation for 100,000 rows (issue 2).

Prints rows/s for the validated, stored import and for number allocation, the ratio to a
baseline (only parsing the same CSV with the csv module) measured in the same process, and
each run's peak RSS for 10,000 and 100,000 rows (flat memory = streamed, not loaded whole).
Each measurement runs in a fresh subprocess so its peak RSS is its own; figures are medians.

    ./run bench registry [--rows 100000] [--runs 3] [--photos 1000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry import Registry, import_results, institution_from_toml  # noqa: E402
from registry.fieldcrypt import new_data_key  # noqa: E402
from registry.ids import id_check_char  # noqa: E402
from skillcert.demo import DEMO_DIR  # noqa: E402

CODE = "S000011084012"
SCOPE = [
    ("电工", "", "5"),
    ("电工", "", "4"),
    ("焊工", "电焊工", "3"),
    ("育婴员", "", "五级/初级工"),
    ("中式烹调师", "", "2"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌浩宇欣怡子轩梓涵"


def make_batch(d: Path, rows: int, photos: int) -> Path:
    rng = random.Random(rows)
    (d / "photos").mkdir(parents=True, exist_ok=True)
    sample = sorted((DEMO_DIR / "photos").glob("*.jpg"))
    for i in range(photos):  # distinct bytes per photo file: the sample photo plus a unique JPEG comment
        data = sample[i % len(sample)].read_bytes()
        (d / "photos" / f"{i}.jpg").write_bytes(data[:2] + b"\xff\xfe\x00\x0a" + f"{i:08d}".encode() + data[2:])
    path = d / "results.csv"
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "证件类型", "证件号码", "职业名称", "工种/职业方向", "职业技能等级", "照片", "所在单位"])
        n = 0
        while n < rows:
            born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 14000))
            body = f"110108{born:%Y%m%d}{rng.randrange(1000):03d}"
            idn = body + id_check_char(body)
            if idn in seen:
                continue
            seen.add(idn)
            occ, job, lv = SCOPE[n % len(SCOPE)]
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            w.writerow([name, "201", idn, occ, job, lv, f"photos/{n % photos}.jpg", "北京某某科技有限公司"])
            n += 1
    return path


def worker(rows: int, photos: int, sealed: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        path = make_batch(d / "batch", rows, photos)
        if sealed:  # the data key beside the file: names, ID numbers and photos sealed (registry.fieldcrypt)
            new_data_key(d / "keys")
        t0 = time.perf_counter()
        with path.open(encoding="utf-8-sig", newline="") as f:
            parsed = sum(1 for _ in csv.reader(f)) - 1
        baseline = time.perf_counter() - t0
        reg = Registry.create(d / "registry.sqlite")
        reg.institutions.add(
            institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")), actor="bench"
        )
        t0, c0 = time.perf_counter(), time.process_time()
        rep = import_results(reg, path, CODE, today=date(2026, 11, 22), actor="bench")
        t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        issued = reg.certificates.issue(CODE, date(2026, 11, 22), actor="bench")
        t_issue, c_issue = time.perf_counter() - t0, time.process_time() - c0
        assert rep.rows == rows == parsed == len(issued)
        assert reg.audit.verify_chain() is None
        reg.close()
        size_mb = (d / "registry.sqlite").stat().st_size / 1e6
    return {
        "rows": rows,
        "baseline_s": baseline,
        "import_s": t_import,
        "issue_s": t_issue,
        "cpu_s": c_import + c_issue,  # this process's CPU time: less swayed by other work on the machine
        "db_mb": size_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(rows: int, photos: int, sealed: bool = False) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(rows), "--photos", str(photos), *(["--sealed"] if sealed else [])],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--photos", type=int, default=1000, help="distinct photo files in the batch")
    ap.add_argument("--worker", type=int)
    ap.add_argument("--sealed", action="store_true", help="(worker) with a data key: personal fields encrypted")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.photos, a.sealed)))
        return
    small = run(a.rows // 10, a.photos)
    runs, sealed_runs = [], []
    for _ in range(a.runs):  # interleaved, so load on the machine affects both alike
        runs.append(run(a.rows, a.photos))
        sealed_runs.append(run(a.rows, a.photos, sealed=True))

    def med(k: str, of: list[dict[str, float]] | None = None) -> float:
        return statistics.median(r[k] for r in (runs if of is None else of))

    imp, iss, base = a.rows / med("import_s"), a.rows / med("issue_s"), a.rows / med("baseline_s")
    both = a.rows / (med("import_s") + med("issue_s"))
    print(f"registry benchmark: {a.rows:,} rows, {a.photos:,} distinct photos, median of {a.runs} runs")
    print(f"  import (validate + store + audit)  {imp:10,.0f} rows/s   ({med('import_s'):.2f} s)")
    print(f"  allocate numbers (+ audit)         {iss:10,.0f} rows/s   ({med('issue_s'):.2f} s)")
    print(
        f"  import + allocate                  {both:10,.0f} rows/s   target >= 25,000 (issue 18): "
        f"{both / 25_000:.2f}x of it"
    )
    print(f"  import + allocate, per CPU second  {a.rows / med('cpu_s'):10,.0f} rows/s   (CPU time of the process)")
    sealed_both = a.rows / (med("import_s", sealed_runs) + med("issue_s", sealed_runs))
    print(
        f"  import + allocate, encrypted       {sealed_both:10,.0f} rows/s   "
        f"(names, ID numbers, photos sealed; {sealed_both / both:.2f}x the clear rate)"
    )
    print(f"  baseline: csv.reader only          {base:10,.0f} rows/s   import/baseline = {imp / base:.3f}")
    print(f"  registry size                      {med('db_mb'):10.1f} MB")
    print(
        f"  peak RSS  {small['rows']:,} rows: {small['peak_rss_mb']:.0f} MB   {a.rows:,} rows: {med('peak_rss_mb'):.0f} MB"
        f"   ratio {med('peak_rss_mb') / small['peak_rss_mb']:.2f} (flat = close to 1)"
    )


if __name__ == "__main__":
    main()
