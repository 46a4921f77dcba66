from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hsettings

from registry import Registry, institution_from_toml
from registry.models import ResultRow
from skillcert.demo import DEMO_DIR

from .factory import photo_bytes, result_rows

hsettings.register_profile("ci", derandomize=True, max_examples=300, deadline=None)
hsettings.register_profile("dev", max_examples=200, deadline=None)
hsettings.load_profile("ci" if os.environ.get("CI") else "dev")

REQUIRE_SYSTEM = os.environ.get("SKILLCERT_REQUIRE_SYSTEM") == "1"
DEMO_CODES = {"beijing": "S000011084012", "ministry": "Y000111020001", "guangdong": "S000044012001"}


@pytest.fixture
def require_program() -> Callable[[str], str]:
    """Path of a system program; skip if missing — or fail when SKILLCERT_REQUIRE_SYSTEM=1."""

    def need(program: str) -> str:
        found = shutil.which(program)
        if found:
            return found
        if REQUIRE_SYSTEM:
            pytest.fail(f"{program} is required (SKILLCERT_REQUIRE_SYSTEM=1) but not installed")
        pytest.skip(f"{program} not installed")
        raise AssertionError  # unreachable

    return need


class Clock:
    """A settable clock for the store (I/O at the edges: tests control time)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def filing(kind: str) -> str:
    name = {
        "beijing": "institution-beijing.toml",
        "ministry": "institution-ministry.toml",
        "guangdong": "institution-guangdong.toml",
    }[kind]
    return (DEMO_DIR / name).read_text(encoding="utf-8")


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of the ``reg`` fixture runs on both engines, but those marked ``sqlite_only``
    (they open the SQLite file itself: the command-line tool, a raw edit, the file's bytes)."""
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", BACKENDS[:1] if only else BACKENDS)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One real PostgreSQL server per session (Debian's ``postgresql``) on a free loopback port."""
    from sign.pki import free_port

    from .pg_server import PgServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        if REQUIRE_SYSTEM:
            pytest.fail("PostgreSQL (Debian package postgresql) is required (SKILLCERT_REQUIRE_SYSTEM=1)")
        pytest.skip("PostgreSQL not installed")
    # not under pytest's own temp root: that is private to root, and the server runs as postgres
    folder = Path(tempfile.mkdtemp(prefix="skillcert-pg-"))
    server = PgServer(bin_dir, free_port(), folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def registry_at(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a fresh registry goes on this test's engine: a SQLite file, or a new PostgreSQL database."""
    backend = getattr(request, "param", None) or request.getfixturevalue("backend")
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_server").fresh())
    return tmp_path / "registry.sqlite"


def location(r: Registry) -> str:
    """What another process opens this registry with: its SQLite file or its PostgreSQL URL."""
    return str(r.path) if r.db.kind == "sqlite" else str(r.db.url)  # type: ignore[attr-defined]


@pytest.fixture
def reg(registry_at: str | Path, clock: Clock, backend: str) -> Iterator[Registry]:
    """A fresh registry with the three demo institutions filed, on each engine in turn."""
    r = Registry.create(registry_at, clock=clock)
    for kind in DEMO_CODES:
        r.institutions.add(institution_from_toml(filing(kind)), actor="test")
    yield r
    r.close()


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    d = tmp_path / "batch" / "photos"
    d.mkdir(parents=True)
    (d / "p.jpg").write_bytes(photo_bytes())
    return d


def add_pending(
    r: Registry, n: int, *, code: str = DEMO_CODES["beijing"], seed: int = 7, level: int = 5
) -> list[ResultRow]:
    data = photo_bytes(seed)
    sha = hashlib.sha256(data).hexdigest()
    rows = result_rows(n, sha, seed=seed, level=level)
    r.certificates.add_batch(
        code,
        source_name=f"t{seed}.csv",
        source_sha256=f"{seed:064x}",
        rows=[(row, data if i == 0 else None) for i, row in enumerate(rows)],
        actor="test",
    )
    return rows


TODAY = date(2026, 3, 2)
# who runs the demo site ([site] operator_* in the demo's settings.toml): every footer names it
DEMO_OPERATOR = ("示例职业技能鉴定指导中心（演示）", "Demo Skills Testing Centre", "010-00000000 · verify@example.org")


@dataclass(frozen=True)
class DemoHome:
    """The whole demo (92 certificates sealed at B-LTA, the default; notices, a published snapshot) made once per session."""

    home: Path
    port: int  # the QR codes point to http://127.0.0.1:<port>
    settings: Any

    @property
    def pdfs(self) -> list[Path]:
        return sorted((self.home / "out").glob("*.pdf"))

    def code(self, number: str) -> str:
        notice = (self.home / "out" / "notices" / f"{number}.txt").read_text(encoding="utf-8")
        m = re.search(r"Download code: (\S+)", notice)
        assert m is not None
        return m.group(1)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> DemoHome:
    from sign.pki import free_port
    from skillcert.demo_job import run_demo
    from skillcert.settings import Settings

    home = tmp_path_factory.mktemp("demo-site") / "home"
    home.mkdir()
    port = free_port()
    (home / "settings.toml").write_text(
        f'[render]\nsite_url = "http://127.0.0.1:{port}"\n'
        f'[site]\noperator_zh = "{DEMO_OPERATOR[0]}"\noperator_en = "{DEMO_OPERATOR[1]}"\n'
        f'operator_contact = "{DEMO_OPERATOR[2]}"\n',
        encoding="utf-8",
    )
    env = {"SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "test"}
    run_demo(Settings.from_env(env), today=date(2026, 11, 20), workers=2)
    return DemoHome(home, port, Settings.from_env(env))


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real ``redis-server`` per session on a free loopback port (``--save "" --appendonly no``)."""
    from sign.pki import free_port

    from .redis_server import RedisServer

    program = shutil.which("redis-server")
    if program is None:
        if REQUIRE_SYSTEM:
            pytest.fail("redis-server is required (SKILLCERT_REQUIRE_SYSTEM=1) but not installed")
        pytest.skip("redis-server not installed")
    server = RedisServer(program, free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(redis_session: Any) -> Any:
    """The session's Redis, running and empty (a test that stopped it gets it back here)."""
    redis_session.start()
    redis_session.flush()
    return redis_session
