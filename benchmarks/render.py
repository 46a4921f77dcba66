"""Benchmark: rendering 2,000 distinct certificates (issue 3).

Every certificate is distinct — its own name, ID number, certificate number, QR token and
photo — for the demo Beijing institution (reference style 一), rendered with one
``render.Renderer`` per process: all of them in one process, then split over one process per
core. Prints certificates/s, the median and p95 time per certificate, KB per PDF, each
process's peak RSS, where the time goes, where the bytes of a PDF go, and the ratio to the
naive way (a new Renderer per certificate, 30 certificates) measured in the same run, with the
targets beside the figures. It prints figures; it never fails on a timing.

* Each measurement runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own.
* The inputs (records and photo files) are made up front, outside the timed region; each
  process builds its Renderer and renders one warm-up certificate (reported as "first
  document") before the clock starts. Wall clock runs from "all workers ready" to "all done".
* Where the time goes comes from thin timing wrappers (about 1 µs each) around the engine's
  own calls — ``prepare_photo``, ``qr_svg``, ``require_glyphs`` — on the
  real inputs; the Typst compile (plus the engine's glue) is the rest of each certificate.

    ./run bench render [--count 2000] [--workers N] [--quick] [--photos DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _harness import ok, p95, peak_rss_mb, run_workers  # noqa: E402

from registry import institution_from_toml  # noqa: E402
from registry.ids import id_check_char  # noqa: E402
from registry.models import Certificate, CertStatus, Institution  # noqa: E402
from registry.numbers import format_number  # noqa: E402
from skillcert.demo import DEMO_DIR  # noqa: E402

TARGET_PER_CORE = 80.0  # certificates/s
TARGET_KB = 80.0  # per certificate with photo
TARGET_RSS_MB = 250.0  # per process
NAIVE_COUNT = 30
ISSUE_DATE = date(2026, 11, 22)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌浩宇欣怡子轩梓涵"
    "秀英德辉鹏飞晓燕海燕春梅雪梅冬梅淑珍淑华丽娟振华永刚国庆立新卫东"
)
RARE = "堃喆镕赟䶮𠇔"  # every 100th name has one: the last two need the Hanazono fallback fonts

# the engine's own calls whose time is measured; the Typst compile is the rest
STAGES = {
    "prepare_photo": "photo: decode, crop, JPEG (Pillow)",
    "qr_svg": "QR code SVG (zxing-cpp)",
    "require_glyphs": "glyph check (cmaps)",
}
REST = "Typst compile + engine glue"


def institution() -> Institution:
    return institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8"))


# -- inputs ------------------------------------------------------------------------------
def _tinted(src: Path, k: int) -> bytes:
    """The photo with a faint colour tint unique to ``k``, re-encoded: distinct bytes and pixels."""
    from PIL import Image

    with Image.open(src) as raw:
        im = raw.convert("RGB")
    r_gain, b_gain = 1 + 0.003 * (k % 12), 1 - 0.003 * (k // 12)
    lut = [min(255, round(v * r_gain)) for v in range(256)] + list(range(256))
    lut += [round(v * b_gain) for v in range(256)]
    out = io.BytesIO()
    im.point(lut).save(out, "JPEG", quality=90, dpi=(300, 300))
    return out.getvalue()


def make_inputs(d: Path, count: int, photo_dir: Path) -> dict[str, int]:
    """Write ``count`` distinct records (records.json) and photos (photos/NNNNNN.jpg) to ``d``."""
    rng = random.Random(count)
    inst = institution()
    scope = [(s.occupation, s.job, lv) for s in inst.scope for lv in sorted(s.levels)]
    sources = sorted(p for p in photo_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not sources:
        raise SystemExit(f"no photos in {photo_dir}")
    (d / "photos").mkdir(parents=True, exist_ok=True)
    serials: dict[int, int] = {}
    names: set[str] = set()
    ids: set[str] = set()
    photos: set[str] = set()
    records = []
    for i in range(count):
        photo = _tinted(sources[i % len(sources)], i // len(sources))
        (d / "photos" / f"{i:06d}.jpg").write_bytes(photo)
        sha = hashlib.sha256(photo).hexdigest()
        photos.add(sha)
        while True:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            if i % 100 == 99:
                name += RARE[(i // 100) % len(RARE)]
            if name not in names:
                break
        names.add(name)
        while True:
            born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 14000))
            body = f"110108{born:%Y%m%d}{rng.randrange(1000):03d}"
            idn = body + id_check_char(body)
            if idn not in ids:
                break
        ids.add(idn)
        occupation, job, level = scope[i % len(scope)]
        serials[level] = serials.get(level, 0) + 1
        cert = Certificate(
            id=i + 1,
            institution_code=inst.code,
            batch_id=1,
            row=i + 1,
            name=name,
            id_type="201",
            id_number=idn,
            occupation=occupation,
            job=job,
            level=level,
            photo_sha256=sha,
            work_unit="北京某某科技有限公司",
            status=CertStatus.VALID,
            version=1,
            number=format_number(inst.code, ISSUE_DATE.year, level, serials[level]),
            issue_date=ISSUE_DATE,
            qr_token=base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode(),
        )
        records.append({k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(cert).items()})
    (d / "records.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return {
        "names": len(names),
        "numbers": len({r["number"] for r in records}),
        "tokens": len({r["qr_token"] for r in records}),
        "photos": len(photos),
        "sources": len(sources),
    }


def load_records(d: Path, start: int, stop: int) -> list[tuple[Certificate, bytes]]:
    out = []
    for i, r in enumerate(json.loads((d / "records.json").read_text(encoding="utf-8"))[start:stop], start):
        r["status"] = CertStatus(r["status"])
        for k in ("issue_date", "reported_on"):
            r[k] = date.fromisoformat(r[k]) if r[k] else None
        out.append((Certificate(**r), (d / "photos" / f"{i:06d}.jpg").read_bytes()))
    return out


def warm_up_record(inst: Institution) -> tuple[Certificate, bytes]:
    """A certificate outside the measured set (its own number, name and untinted photo)."""
    photo = sorted((DEMO_DIR / "photos").glob("*.jpg"))[0].read_bytes()
    cert = Certificate(
        id=999_999,
        institution_code=inst.code,
        batch_id=0,
        row=0,
        name="预热样例",
        id_type="201",
        id_number="11010519491231002X",
        occupation="电工",
        job="",
        level=5,
        photo_sha256=hashlib.sha256(photo).hexdigest(),
        work_unit="",
        status=CertStatus.VALID,
        version=1,
        number=format_number(inst.code, ISSUE_DATE.year, 5, 999_999),
        issue_date=ISSUE_DATE,
        qr_token="warm-up-token",
    )
    return cert, photo


# -- in a worker process -----------------------------------------------------------------
def _rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def instrument(spent: dict[str, list[float]], prepared: list[str]) -> None:
    """Wrap the engine's calls named in STAGES with timers appending to ``spent`` (seconds)."""
    import render.engine as engine

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        times = spent.setdefault(name, [])

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            times.append(time.perf_counter() - t0)
            if name == "prepare_photo":
                prepared.append(hashlib.sha256(result.jpeg).hexdigest()[:16])
            return result

        return wrapper

    for name in STAGES:
        fn = getattr(engine, name, None)
        if fn is None:
            raise SystemExit(f"render.engine no longer calls {name}(); update benchmarks/render.py")
        setattr(engine, name, timed(name, fn))


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def worker(d: Path, start: int, stop: int, keep: bool) -> None:
    """Render records[start:stop] with one Renderer; talk to the parent over stdin/stdout."""
    import render

    inst = institution()
    items = load_records(d, start, stop)
    spent: dict[str, list[float]] = {}
    prepared: list[str] = []
    instrument(spent, prepared)
    t0 = time.perf_counter()
    renderer = render.Renderer()
    init_s = time.perf_counter() - t0
    cert, photo = warm_up_record(inst)
    t0 = time.perf_counter()
    renderer.render(cert, inst, photo=photo)
    first_s = time.perf_counter() - t0
    for v in spent.values():
        v.clear()
    prepared.clear()
    rss_ready = _rss_mb()
    _say({"ready": True})
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("worker: no go")

    times: list[float] = []
    sizes: list[int] = []
    hashes: list[str] = []
    rss: list[tuple[int, float]] = [(0, rss_ready)]
    checkpoints = {len(items) * q // 4 for q in (1, 2, 3, 4)}
    largest: bytes = b""
    cpu0 = _cpu_s()
    begin = time.perf_counter()
    for n, (cert, photo) in enumerate(items, 1):
        t0 = time.perf_counter()
        out = renderer.render(cert, inst, photo=photo)
        times.append(time.perf_counter() - t0)
        sizes.append(len(out.pdf))
        hashes.append(hashlib.sha256(out.pdf).hexdigest()[:16])
        if keep and n == 1:
            (d / "first.pdf").write_bytes(out.pdf)
        if keep and len(out.pdf) > len(largest):
            largest = out.pdf
        if n in checkpoints:
            rss.append((n, _rss_mb()))
    elapsed = time.perf_counter() - begin
    cpu = _cpu_s() - cpu0
    peak = peak_rss_mb()
    renderer.close()
    if keep:
        (d / "largest.pdf").write_bytes(largest)
    _say(
        {
            "start": start,
            "stop": stop,
            "init_s": init_s,
            "first_s": first_s,
            "elapsed_s": elapsed,
            "cpu_s": cpu,
            "times": times,
            "sizes": sizes,
            "hashes": hashes,
            "prepared": prepared,
            "stages": spent,
            "rss": rss,
            "peak_rss_mb": peak,
        }
    )


def naive_worker(d: Path, n: int) -> None:
    """The naive way: ``render.render_certificate`` (a new Renderer per certificate)."""
    import render

    inst = institution()
    items = load_records(d, 0, n)
    times = []
    for cert, photo in items:
        t0 = time.perf_counter()
        render.render_certificate(cert, inst, photo=photo)
        times.append(time.perf_counter() - t0)
    _say({"times": times, "peak_rss_mb": peak_rss_mb()})


# -- in the parent -----------------------------------------------------------------------
def run_group(d: Path, count: int, workers: int, keep: bool) -> tuple[float, list[dict[str, Any]]]:
    """Start ``workers`` processes over contiguous slices; wall clock from all ready to all done."""
    bounds = [count * k // workers for k in range(workers + 1)]
    cmds = []
    for k in range(workers):
        cmd = [sys.executable, __file__, "--worker", str(d), "--slice", f"{bounds[k]}:{bounds[k + 1]}"]
        if keep and k == 0:
            cmd.append("--keep")
        cmds.append(cmd)
    return run_workers(cmds)


def run_naive(d: Path, n: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--naive", str(d), "--slice", f"0:{n}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def where_bytes(pdf_bytes: bytes) -> dict[str, int]:
    """The on-disk (compressed) bytes of one PDF by what they are for."""
    import pikepdf
    from pikepdf import Name

    parts: dict[str, int] = {}
    seen: set[tuple[int, int]] = set()

    def add(label: str, stream: Any) -> None:
        if stream.objgen in seen:
            return
        seen.add(stream.objgen)
        parts[label] = parts.get(label, 0) + len(stream.read_raw_bytes())

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if "/Metadata" in pdf.Root:
            add("XMP metadata (uncompressed, PDF/A)", pdf.Root.Metadata)
        for intent in pdf.Root.get("/OutputIntents", []):
            if "/DestOutputProfile" in intent:
                add("ICC profiles", intent.DestOutputProfile)
        for page in pdf.pages:
            for c in page.obj.Contents if isinstance(page.obj.Contents, pikepdf.Array) else [page.obj.Contents]:
                add("page content (text, QR, seal, frame)", c)
        objects = list(pdf.objects)
        for obj in objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == Name.FontDescriptor:
                face = str(obj.FontName).lstrip("/").split("+", 1)[-1]
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in obj:
                        add(f"font {face}", obj[key])
                if "/CIDSet" in obj:
                    add("font ToUnicode + CIDSet", obj.CIDSet)
            elif isinstance(obj, pikepdf.Dictionary) and "/ToUnicode" in obj:
                add("font ToUnicode + CIDSet", obj.ToUnicode)
        for obj in objects:
            if not isinstance(obj, pikepdf.Stream):
                continue
            sd = obj.stream_dict
            if sd.get("/Subtype") == Name.Image:
                add(f"image {sd.Width}×{sd.Height} {str(sd.get('/Filter', '')).lstrip('/')}", obj)
            elif sd.get("/Type") == Name.EmbeddedFile:
                add("embedded record (JSON)", obj)
            elif "/N" in sd:
                add("ICC profiles", obj)
            elif sd.get("/Subtype") == Name.Form:
                add("form XObjects", obj)
            else:
                add("other streams", obj)
    parts["dictionaries, structure tree, xref"] = len(pdf_bytes) - sum(parts.values())
    return parts


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:6.1f}"


def report(
    a: argparse.Namespace,
    facts: dict[str, int],
    gen_s: float,
    one: tuple[float, list[dict[str, Any]]],
    many: tuple[float, list[dict[str, Any]]] | None,
    naive: dict[str, Any],
    d: Path,
    load: tuple[float, float],
) -> None:
    wall1, (r1,) = one
    times1, sizes1 = r1["times"], r1["sizes"]
    rate1 = a.count / wall1
    print(f"render benchmark: {a.count:,} distinct certificates, style1 (Beijing demo institution)")
    print(f"  machine: {os.cpu_count()} cores, load average {load[0]:.2f} before, {load[1]:.2f} after")
    print(
        f"  inputs: {facts['names']:,} names, {facts['numbers']:,} numbers, {facts['tokens']:,} QR tokens, "
        f"{facts['photos']:,} photos ({facts['sources']} sources, tinted, re-encoded); made in {gen_s:.1f} s, not timed"
    )
    print(
        f"  distinct after rendering: {len(set(r1['prepared'])):,} prepared photos, "
        f"{len(set(r1['hashes'])):,} PDFs (1 process)"
    )
    print()
    print(f"  {'':44s}{'figure':>16s}   target")
    print(
        f"  {'1 process: certificates/s':44s}{rate1:16.1f}   >= {TARGET_PER_CORE:.0f} per core"
        f"   {ok(rate1 >= TARGET_PER_CORE)}"
    )
    if many is not None:
        walln = many[0]
        raten = a.count / walln
        goal = TARGET_PER_CORE * a.workers
        print(
            f"  {f'{a.workers} processes: certificates/s (aggregate)':44s}{raten:16.1f}   >= {goal:.0f} "
            f"({TARGET_PER_CORE:.0f} x {a.workers})   {ok(raten >= goal)}"
        )
        print(f"  {'   per process':44s}{raten / a.workers:16.1f}   speed-up over 1 process {raten / rate1:.2f}x")
    per = 1000 / TARGET_PER_CORE
    med1, p951 = statistics.median(times1) * 1000, p95(times1) * 1000
    print(
        f"  {'1 process: ms per certificate, median / p95':44s}{med1:7.1f} / {p951:6.1f}   "
        f"<= {per:.1f} (= {TARGET_PER_CORE:.0f}/s)   {ok(med1 <= per)}"
    )
    if many is not None:
        tn = [t for r in many[1] for t in r["times"]]
        print(
            f"  {f'{a.workers} processes: ms per certificate, median / p95':44s}"
            f"{statistics.median(tn) * 1000:7.1f} / {p95(tn) * 1000:6.1f}"
        )
    cpu1 = r1["cpu_s"] / a.count * 1000
    print(f"  {'1 process: CPU ms per certificate':44s}{cpu1:16.1f}")
    if many is not None:
        cpun = sum(r["cpu_s"] for r in many[1]) / a.count * 1000
        print(
            f"  {f'{a.workers} processes: CPU ms per certificate':44s}{cpun:16.1f}   (above 1 process: the cores slow each other)"
        )
    kb = [s / 1024 for s in sizes1]
    print(
        f"  {'KB per PDF, median / max':44s}{statistics.median(kb):7.1f} / {max(kb):6.1f}   "
        f"<= {TARGET_KB:.0f}   {ok(max(kb) <= TARGET_KB)}"
    )
    print(
        f"  {'peak RSS, 1 process':44s}{r1['peak_rss_mb']:13.0f} MB   <= {TARGET_RSS_MB:.0f} MB"
        f"   {ok(r1['peak_rss_mb'] <= TARGET_RSS_MB)}"
    )
    if many is not None:
        peaks = [r["peak_rss_mb"] for r in many[1]]
        print(
            f"  {f'peak RSS, each of {a.workers} processes':44s}{' / '.join(f'{p:.0f}' for p in peaks):>13s} MB"
            f"   <= {TARGET_RSS_MB:.0f} MB   {ok(max(peaks) <= TARGET_RSS_MB)}"
        )
    rss = "  ".join(f"{n:,}: {mb:.0f}" if n else f"ready: {mb:.0f}" for n, mb in r1["rss"])
    print(f"  RSS (MB) after n certificates, 1 process: {rss}")
    print(
        f"  cold start, 1 process: Renderer() {r1['init_s'] * 1000:.0f} ms, "
        f"first document {r1['first_s'] * 1000:.0f} ms (before the clock)"
    )

    nt = naive["times"]
    naive_rate = len(nt) / sum(nt)
    print()
    print(
        f"  baseline, a new Renderer per certificate ({len(nt)}): {naive_rate:.1f} certificates/s, "
        f"median {_ms(nt).strip()} ms (first {nt[0] * 1000:.0f} ms), peak RSS {naive['peak_rss_mb']:.0f} MB"
    )
    print(f"  one Renderer per process / baseline = {rate1 / naive_rate:.1f}x")

    print()
    print(f"  where the time goes (1 process, {len(times1):,} certificates, ms per certificate)")
    stages = r1["stages"]
    rest = [t - sum(stages[k][i] for k in stages) for i, t in enumerate(times1)]
    total_mean = statistics.fmean(times1)
    print(f"    {'':36s}{'median':>8s}{'mean':>8s}{'share':>8s}")
    rows = [(STAGES[k], stages[k]) for k in STAGES] + [(REST, rest)]
    for label, xs in rows:
        mean = statistics.fmean(xs)
        print(f"    {label:36s}{_ms(xs):>8s}{mean * 1000:8.1f}{mean / total_mean:8.0%}")
    print(f"    {'whole render()':36s}{_ms(times1):>8s}{total_mean * 1000:8.1f}{1:8.0%}")

    print()
    first, largest = (d / "first.pdf").read_bytes(), (d / "largest.pdf").read_bytes()
    pa, pb = where_bytes(first), where_bytes(largest)
    print(f"  where the bytes go (KB): first certificate {len(first) / 1024:.1f}, largest {len(largest) / 1024:.1f}")
    labels = sorted(set(pa) | set(pb), key=lambda k: -max(pa.get(k, 0), pb.get(k, 0)))
    fonts = [k for k in labels if k.startswith("font")]
    for label in labels:
        print(f"    {label:44s}{pa.get(label, 0) / 1024:8.1f}{pb.get(label, 0) / 1024:8.1f}")
    fa, fb = sum(pa.get(k, 0) for k in fonts), sum(pb.get(k, 0) for k in fonts)
    print(f"    {'all fonts':44s}{fa / 1024:8.1f}{fb / 1024:8.1f}   ({fa / len(first):.0%} / {fb / len(largest):.0%})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="distinct certificates (default 2000)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the per-core run")
    ap.add_argument("--quick", action="store_true", help="200 certificates, a fast check")
    ap.add_argument("--photos", type=Path, default=DEMO_DIR / "photos", help="source photos (default: the demo's)")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--naive", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--slice", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker or a.naive:
        start, stop = (int(x) for x in a.slice.split(":"))
        if a.worker:
            worker(a.worker, start, stop, a.keep)
        else:
            naive_worker(a.naive, stop)
        return
    if a.quick:
        a.count = 200
    a.workers = max(1, min(a.workers, a.count))
    with tempfile.TemporaryDirectory(prefix="skillcert-bench-render-") as tmp:
        d = Path(tmp)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        facts = make_inputs(d, a.count, a.photos)
        gen_s = time.perf_counter() - t0
        one = run_group(d, a.count, 1, keep=True)
        many = run_group(d, a.count, a.workers, keep=False) if a.workers > 1 else None
        naive = run_naive(d, min(NAIVE_COUNT, a.count))
        report(a, facts, gen_s, one, many, naive, d, (load0, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
