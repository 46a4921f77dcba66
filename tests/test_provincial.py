"""A provincial centre on loopback (issue 16): one PostgreSQL registry, two ``skillcert issue``
processes started at once on one institution's batch (as on two machines sharing the database and
the output store), and two ``skillcert serve`` nodes on two ports, each over its own adopted copy of
the signed snapshot, counting their rate limits in one Redis.

Everything is built once for the module (real CLI subprocesses throughout); the tests then read
what it left: every certificate delivered once, numbers gap-free, every PDF valid on both nodes,
the QR landing page and the holder download on both, one limit for both nodes. Both issue runs must
do part of the batch — the test that says so comes last, so that ``-x`` still shows the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from registry import Registry
from render import read_record
from search_index.privacy import mask_name
from skillcert.demo import DEMO_DIR

from .conftest import DEMO_CODES
from .factory import beijing_rows, photo_bytes, write_results
from .serving import Served, skillcert_serve

pytestmark = [pytest.mark.system, pytest.mark.slow]

BJ = DEMO_CODES["beijing"]
BATCH = 30  # certificates in the one batch both issue runs share
ISSUE_DATE = "2026-11-20"
LOOKUP_PER_MINUTE = 3  # the shared limit under test: burst 10 (max(10, 3 // 3)), then 3 a minute
LOOKUP_BURST = 10
OPEN = 60_000  # every other limit opened up: the tests send a few hundred requests from one client


@dataclass(frozen=True)
class IssueRun:
    returncode: int
    stdout: str
    stderr: str

    def summary(self) -> dict[str, Any]:
        assert self.returncode == 0, f"exit {self.returncode}\n{self.stdout}\n{self.stderr}"
        return json.loads(self.stdout)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Centre:
    home: Path  # the publisher's home, shared by both issue runs (its downloads/ folder too)
    out: Path  # the output store both issue runs write to
    registry_url: str
    runs: tuple[IssueRun, IssueRun]
    nodes: tuple[Served, Served]
    redis: Any

    @property
    def bases(self) -> tuple[str, str]:
        return self.nodes[0].base, self.nodes[1].base


def _env(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCERT_")}
    return {**env, "SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "clerk", **more}


def _cli(env: dict[str, str], *args: str) -> Any:
    p = subprocess.run(
        [sys.executable, "-m", "skillcert", *args, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, f"skillcert {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return json.loads(p.stdout)


def _issue_concurrently(env: dict[str, str], out: Path, logs: Path) -> tuple[IssueRun, IssueRun]:
    """Two ``skillcert issue`` processes on the same institution and out folder, started together."""
    cmd = [sys.executable, "-m", "skillcert", "issue", "--institution", BJ, "--out", str(out)]
    cmd += ["--workers", "1", "--date", ISSUE_DATE, "--json"]
    procs = []
    with ExitStack() as files:
        for name in ("issue-1", "issue-2"):
            stdout = files.enter_context((logs / f"{name}.out").open("wb"))
            stderr = files.enter_context((logs / f"{name}.err").open("wb"))
            procs.append(subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL))
        try:
            for p in procs:
                p.wait(timeout=600)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=30)
    runs = [
        IssueRun(
            p.returncode,
            (logs / f"{name}.out").read_text(errors="replace"),
            (logs / f"{name}.err").read_text(errors="replace"),
        )
        for p, name in zip(procs, ("issue-1", "issue-2"), strict=True)
    ]
    return runs[0], runs[1]


def _node(root: Path, name: str, *, centre_home: Path, publisher_key: Path, dist: Path, redis_url: str) -> Path:
    """A verification node's home: the index secret and the pinned key copied over once, the demo
    PKI's root as its trust root, the shared Redis, and the exported snapshot adopted."""
    node = root / name
    (node / "roots").mkdir(parents=True)
    shutil.copy2(centre_home / "index.secret", node / "index.secret")
    shutil.copy2(publisher_key, node / "publisher.pub")
    shutil.copy2(centre_home / "pki" / "certs" / "root.pem", node / "roots" / "root.pem")
    (node / "settings.toml").write_text(
        '[seal]\ntrust_roots = ["roots/root.pem"]\n'
        f'[site]\nrate_limit_url = "{redis_url}"\nlookup_per_minute = {LOOKUP_PER_MINUTE}\n'
        f"qr_per_minute = {OPEN}\nupload_per_minute = {OPEN}\ndownload_per_minute = {OPEN}\n",
        encoding="utf-8",
    )
    incoming = root / f"incoming-{name}"
    shutil.copytree(dist / "latest", incoming)  # on to the node: rsync, scp, a disk… (cp -rL)
    adopted = _cli(
        _env(node),
        "snapshot",
        "adopt",
        str(incoming),
        "--into",
        str(node),
        "--publisher-key",
        str(node / "publisher.pub"),
    )
    assert adopted["changed"] is True
    return node


@pytest.fixture(scope="module")
def centre(pg_server: Any, redis_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    from sign.pki import free_port

    root = tmp_path_factory.mktemp("provincial")
    home, out = root / "centre", root / "out"
    home.mkdir()
    port_a = free_port()
    port_b = free_port()
    while port_b == port_a:
        port_b = free_port()
    # the QR codes point to node A; the landing page works on every node alike
    (home / "settings.toml").write_text(f'[render]\nsite_url = "http://127.0.0.1:{port_a}"\n', encoding="utf-8")
    url = pg_server.fresh()
    env = _env(home, SKILLCERT_REGISTRY_URL=url)
    _cli(env, "init")
    _cli(env, "institution", "add", "--file", str(DEMO_DIR / "institution-beijing.toml"))
    (root / "batch" / "photos").mkdir(parents=True)
    (root / "batch" / "photos" / "p.jpg").write_bytes(photo_bytes())
    results = write_results(root / "batch" / "results.csv", beijing_rows(BATCH, seed=16))
    assert _cli(env, "import", str(results), "--institution", BJ)["rows"] == BATCH
    _cli(env, "pki", "demo")

    runs = _issue_concurrently(env, out, root)
    # publish from the PostgreSQL registry, export, and take the snapshot on each node
    dist, key = root / "dist", root / "publisher.pub"
    _cli(env, "publish", "--to", str(dist))
    made = subprocess.run(
        [sys.executable, "-m", "skillcert", "snapshot", "key", "--out", str(key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, f"skillcert snapshot key: exit {made.returncode}\n{made.stdout}\n{made.stderr}"
    homes = [
        _node(root, name, centre_home=home, publisher_key=key, dist=dist, redis_url=redis_session.url)
        for name in ("node-a", "node-b")
    ]
    redis_session.start()
    redis_session.flush()
    with ExitStack() as stack:
        nodes = tuple(
            stack.enter_context(skillcert_serve(h, h, port=p)) for h, p in zip(homes, (port_a, port_b), strict=True)
        )
        yield Centre(home, out, url, runs, (nodes[0], nodes[1]), redis_session)


@pytest.fixture(scope="module")
def delivered(centre: Centre) -> dict[str, Any]:
    """Each certificate of the batch by number: the registry's record and its delivery records."""
    with Registry.open(centre.registry_url, keys=centre.home / "keys") as reg:
        certs = list(reg.certificates.select(institution_code=BJ))
        found = {str(c.number): (c, reg.seals.deliveries(c.id)) for c in certs if c.number}
    assert len(certs) == len(found) == BATCH, "every certificate of the batch has a number"
    return found


def _pg(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


# -- the registry and the output store ---------------------------------------------------------
def test_every_certificate_delivered_exactly_once(centre: Centre, delivered: dict[str, Any]) -> None:
    for number, (c, deliveries) in delivered.items():
        assert [d.version for d in deliveries] == [c.version] == [1], number  # one record per version
        d = deliveries[0]
        assert d.file_name == f"{number}.pdf"
        pdf = (centre.out / d.file_name).read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == d.pdf_sha256, number  # the file is the recorded one
    # one delivery row and one audit event per certificate, from plain SQL behind the store
    rows = _pg(centre.registry_url, "SELECT certificate_id, version FROM deliveries")
    assert len(rows) == len(set(rows)) == BATCH
    events = _pg(centre.registry_url, "SELECT entity_key FROM audit WHERE action = 'deliver'")
    assert sorted(Counter(k for (k,) in events).values()) == [1] * BATCH
    # one PDF per number, one notice, one encrypted download; nothing staged, hidden or half-written
    numbers = set(delivered)
    assert {p.name for p in centre.out.iterdir()} == {f"{n}.pdf" for n in numbers} | {"notices", "credentials"}
    assert {p.name for p in (centre.out / "notices").iterdir()} == {f"{n}.txt" for n in numbers}
    assert {p.name for p in (centre.out / "credentials").iterdir()} == {f"{n}.vc.jwt" for n in numbers}
    assert {p.name for p in (centre.home / "downloads").iterdir()} == {f"{n}.bin" for n in numbers}


def test_the_audit_chain_holds(centre: Centre) -> None:
    """Two writers on two connections appended to one hash chain, in one order."""
    report = _cli(_env(centre.home, SKILLCERT_REGISTRY_URL=centre.registry_url), "audit", "verify")
    assert report["ok"] is True, report


def test_numbers_are_gap_free_per_institution_year_and_level(centre: Centre, delivered: dict[str, Any]) -> None:
    serials: dict[tuple[str, int], list[int]] = defaultdict(list)
    for number, (c, _) in delivered.items():
        prefix, serial = number[:-6], int(number[-6:])  # L IIII PPRR SSSS YY G | NNNNNN
        assert prefix == f"{BJ}{ISSUE_DATE[2:4]}{c.level}", number
        serials[(prefix, c.level)].append(serial)
    assert len(serials) > 1  # the batch spans several levels
    for group, got in serials.items():
        assert sorted(got) == list(range(1, len(got) + 1)), group
    counters = _pg(centre.registry_url, "SELECT institution_code, year, level, last_serial FROM number_counters")
    assert sorted(counters) == sorted((BJ, 2026, level, len(got)) for (_, level), got in serials.items())


# -- both verification nodes -------------------------------------------------------------------
def _records(centre: Centre) -> list[tuple[bytes, dict[str, Any]]]:
    pdfs = sorted(centre.out.glob("*.pdf"))
    assert len(pdfs) == BATCH
    out = []
    for p in pdfs:
        data = p.read_bytes()
        rec = read_record(data)
        assert rec is not None, p
        out.append((data, rec))
    return out


def _on_both(centre: Centre, ask: Any, items: list[Any]) -> list[tuple[str, Any, Any]]:
    """``ask(client, item)`` for every item on each node, one at a time per node; ``(base, item, answer)``."""
    import httpx2

    with (
        httpx2.Client(base_url=centre.bases[0], timeout=60) as a,
        httpx2.Client(base_url=centre.bases[1], timeout=60) as b,
        ThreadPoolExecutor(2) as pool,
    ):
        jobs = [(client, item) for item in items for client in (a, b)]
        answers = list(pool.map(lambda job: ask(*job), jobs))
    return [(str(client.base_url), item, answer) for (client, item), answer in zip(jobs, answers, strict=True)]


def test_every_pdf_verifies_valid_on_both_nodes(centre: Centre) -> None:
    def check(client: Any, item: tuple[bytes, dict[str, Any]]) -> tuple[int, Any]:
        r = client.post("/api/v1/check", files={"file": ("c.pdf", item[0], "application/pdf")})
        return r.status_code, r.json()

    answers = _on_both(centre, check, _records(centre))
    assert len(answers) == 2 * BATCH
    for base, (_, rec), (status, body) in answers:
        assert status == 200, (base, rec["number"], body)
        failed = {c["check"]: c.get("reason") for c in body["checks"] if c["outcome"] != "pass"}
        assert body["bottom_line"] == "valid" and not failed, (base, rec["number"], failed)


def test_qr_landing_page_on_both_nodes(centre: Centre) -> None:
    def landing(client: Any, rec: dict[str, Any]) -> tuple[int, str, int, Any]:
        path = "/" + rec["qr_url"].split("#")[0].split("/", 3)[3]  # /c/<number>?t=<token> (not the fragment)
        page = client.get(path)
        api = client.get("/api/v1/certificates/qr", params={"number": rec["number"], "t": path.split("?t=")[1]})
        return page.status_code, page.text, api.status_code, api.json()

    records = [rec for _, rec in _records(centre)]
    assert all(r["qr_url"].startswith(f"{centre.bases[0]}/c/{r['number']}?t=") for r in records)
    for base, rec, (status, text, api_status, body) in _on_both(centre, landing, records):
        masked = mask_name(rec["name"])  # 张*三 · 张*
        assert status == 200 and "有效" in text and masked in text, (base, rec["number"])
        assert rec["name"] not in text and rec["id_number"] not in text
        assert api_status == 200 and body["status"] == "valid", (base, body)
    # a wrong token shows nothing, on either node
    import httpx2

    for base in centre.bases:
        page = httpx2.get(f"{base}/c/{records[0]['number']}?t=wrong", timeout=30)
        assert "无法确认" in page.text and records[0]["occupation"] not in page.text.split('<main id="main">')[1]


def test_holder_downloads_on_both_nodes(centre: Centre) -> None:
    """Each notice's code (written by whichever run delivered it) opens the delivered PDF on both nodes."""

    def download(client: Any, item: tuple[bytes, dict[str, Any]]) -> tuple[int, bytes]:
        _data, rec = item
        notice = (centre.out / "notices" / f"{rec['number']}.txt").read_text(encoding="utf-8")
        m = re.search(r"Download code: (\S+)", notice)
        assert m is not None, notice
        form = {"number": rec["number"], "id_number": rec["id_number"], "code": m.group(1)}
        r = client.post("/api/v1/download", json=form)
        return r.status_code, r.content

    for base, (data, rec), (status, content) in _on_both(centre, download, _records(centre)):
        assert status == 200 and content == data, (base, rec["number"], status)


def test_one_limit_for_both_nodes(centre: Centre) -> None:
    """Two-of-three queries spread over both nodes take from one bucket: the burst once, not twice."""
    import httpx2

    for base in centre.bases:
        lines = httpx2.get(f"{base}/healthz", timeout=10).text.splitlines()
        assert lines[0] == "ok" and "limits: shared" in lines, lines
    centre.redis.flush()
    query = {"number": f"{BJ}{ISSUE_DATE[2:4]}5000001", "name": "nobody"}
    answers = []
    with httpx2.Client(timeout=30) as client:
        for i in range(2 * LOOKUP_BURST):
            base = centre.bases[i % 2]
            r = client.get(f"{base}/query", params=query)
            answers.append((base, r.status_code, r.headers.get("retry-after")))
    statuses = [s for _, s, _ in answers]
    # each node alone would allow its own burst (2 × 10 here); shared, 10 in all (+1 if a token
    # came back meanwhile: 3 a minute), then 429 with Retry-After on both nodes alike
    allowed = statuses.count(200)
    assert LOOKUP_BURST <= allowed <= LOOKUP_BURST + 1, statuses
    assert statuses[:LOOKUP_BURST] == [200] * LOOKUP_BURST and set(statuses) == {200, 429}, statuses
    limited = [(base, after) for base, s, after in answers if s == 429]
    assert {base for base, _ in limited} == set(centre.bases)
    assert all(after is not None and int(after) >= 1 for _, after in limited)


# -- both issue runs did part of the batch (last: needs the shared issue runs of issue 16) ------
def test_both_issue_runs_shared_the_batch(centre: Centre) -> None:
    for run in centre.runs:
        assert "Traceback" not in run.stderr, run.stderr
    first, second = (run.summary() for run in centre.runs)
    assert first["delivered"] > 0 and second["delivered"] > 0, (first, second)
    assert first["delivered"] + second["delivered"] == BATCH
    assert first["recovered"] == second["recovered"] == 0
    assert first["numbered"] + second["numbered"] == BATCH
