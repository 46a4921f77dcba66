from __future__ import annotations

import hashlib
import os
import re
import shutil
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


@pytest.fixture
def reg(tmp_path: Path, clock: Clock) -> Iterator[Registry]:
    """A fresh registry with the three demo institutions filed."""
    r = Registry.create(tmp_path / "registry.sqlite", clock=clock)
    for kind in DEMO_CODES:
        r.add_institution(institution_from_toml(filing(kind)), actor="test")
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
    r.add_batch(
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
