"""The CLI through click's runner: exit codes, --json, bilingual errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from skillcert.cli import cli
from skillcert.demo import DEMO_DIR

from .conftest import DemoHome
from .factory import beijing_rows, photo_bytes, write_results


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SKILLCERT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKILLCERT_ACTOR", "tester")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_number_check_json(run) -> None:  # type: ignore[no-untyped-def]
    r = run("number", "check", "S000011082003225000001", "--json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["district"] == "海淀区" and d["serial"] == 1 and d["level_en"] == "Level 5 / Junior Worker"
    r = run("number", "check", "Y000111020001225000001")
    assert r.exit_code == 0 and "西城区" in r.stdout


@pytest.mark.parametrize("bad", ["S000011032003225000001", "S000011082003226000001", "S0000110820032250000"])
def test_number_check_rejects_with_bilingual_reason(run, bad: str) -> None:  # type: ignore[no-untyped-def]
    r = run("number", "check", bad)
    assert r.exit_code == 3
    assert "错误" in r.stderr and "Error:" in r.stderr
    r = run("number", "check", bad, "--json")
    assert r.exit_code == 3 and json.loads(r.stdout)["problems"]


def test_id_check(run) -> None:  # type: ignore[no-untyped-def]
    r = run("id", "check", "201", "11010519491231002X", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["birth_date"] == "1949-12-31"
    r = run("id", "check", "201", "110105194912310021")
    assert r.exit_code == 3 and "check character" in r.stderr


def test_init_institution_import_report(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("institution", "list")
    assert r.exit_code == 6 and "skillcert init" in r.stderr
    assert run("init").exit_code == 0
    assert json.loads(run("init", "--json").stdout)["created"] is False
    r = run("institution", "add", "--file", str(DEMO_DIR / "institution-beijing.toml"))
    assert r.exit_code == 0, r.stderr
    assert run("institution", "add", "--file", str(DEMO_DIR / "institution-beijing.toml")).exit_code == 4
    bad = tmp_path / "bad.toml"
    bad.write_text('code = "S000011032003"\nname_zh = ""\n')
    r = run("institution", "add", "--file", str(bad))
    assert r.exit_code == 4 and "pos 8-9" in r.stderr and "name_zh" in r.stderr
    listed = json.loads(run("institution", "list", "--json").stdout)
    assert [i["code"] for i in listed["institutions"]] == ["S000011084012"]
    assert "电焊工" in run("institution", "show", "S000011084012").stdout

    batch = tmp_path / "batch"
    (batch / "photos").mkdir(parents=True)
    (batch / "photos" / "p.jpg").write_bytes(photo_bytes())
    rows = beijing_rows(10)
    rows[5][2] = "110105194912310021"
    path = write_results(batch / "r.csv", rows)
    r = run("import", str(path), "--institution", "S000011084012", "--dry-run", "--json")
    assert r.exit_code == 7 and [p["row"] for p in json.loads(r.stdout)["problems"]] == [7]
    r = run("import", str(path), "--institution", "S000011084012")
    assert r.exit_code == 7 and "nothing was written" in r.stderr
    rows[5][2] = beijing_rows(1, seed=5)[0][2]
    path = write_results(batch / "r.csv", rows)
    r = run("import", str(path), "--institution", "S000011084012", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["rows"] == 10

    out = tmp_path / "report.xlsx"
    r = run("report", "export", "--out", str(out), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["rows"] == 0  # nothing issued yet
    assert run("institution", "cancel", "S000011084012", "--on", "2026-01-05", "--reason", "test").exit_code == 0
    assert "S000011084012" in run("institution", "list").stdout.split("retired codes:")[1]


@pytest.mark.slow
def test_demo_is_idempotent(run, tmp_path: Path, demo_home: DemoHome) -> None:  # type: ignore[no-untyped-def]
    """``skillcert demo`` again on a home the demo made (the session's, copied: the demo is built
    once per session): nothing is imported, numbered or sealed twice, and its files verify."""
    shutil.copytree(demo_home.home, tmp_path / "home", symlinks=True)
    before = sorted(p.name for p in (tmp_path / "home" / "out").glob("*.pdf"))
    assert len(before) == 92
    second = json.loads(run("demo", "--no-serve", "--json").stdout)
    assert second["imported"] == {} and sum(second["issued"].values()) == 0, second
    assert second["counts"]["valid"] == 92 and len(second["institutions"]) == 3
    assert sorted(p.name for p in (tmp_path / "home" / "out").glob("*.pdf")) == before
    example = tmp_path / "home" / "out" / before[0]
    r = run("verify", str(example), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["bottom_line"] == "valid"
    tampered = tmp_path / "t.pdf"
    data = bytearray(example.read_bytes())
    data[data.index(b"stream", data.index(b"/DCTDecode")) + 200] ^= 1  # inside the photo
    tampered.write_bytes(bytes(data))
    r = run("verify", str(tampered), "--json")
    assert r.exit_code == 20 and json.loads(r.stdout)["bottom_line"] == "invalid"
    assert run("verify", str(tmp_path / "missing.pdf")).exit_code == 13
    assert run("identity", "list").stdout.count("S000011084012-institution") == 1


@pytest.mark.parametrize("style", ["style1", "style2", "guangdong"])
def test_render_preview_each_style(run, tmp_path: Path, style: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"{style}.pdf"
    r = run("render", "--preview", "--style", style, "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert out.read_bytes()[:5] == b"%PDF-" and d["style"] == style and d["seal_boxes"]
    assert len(d["seal_boxes"]) == (2 if style == "style2" else 1)


def test_render_by_number_and_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from registry import Registry

    assert run("demo", "--no-issue").exit_code == 0
    with Registry.open(tmp_path / "home" / "registry.sqlite") as reg:
        (_, number), *_ = reg.certificates.issue("Y000111020001", date(2026, 11, 20), actor="t", limit=2)
    out = tmp_path / "c.pdf"
    r = run("render", number, "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["number"] == number and len(json.loads(r.stdout)["seal_boxes"]) == 2
    r = run("render", number, "--kind", "proof", "--out", str(tmp_path / "p.pdf"))
    assert r.exit_code == 1 and "--proof-number" in r.stderr
    assert run("render", "S000011084012265999999", "--out", str(tmp_path / "x.pdf")).exit_code == 5
    assert not (tmp_path / "x.pdf").exists() and not list(tmp_path.glob(".x.pdf.*"))


def test_publish_full_and_incremental(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from registry import Registry

    assert run("demo", "--no-issue").exit_code == 0
    assert run("publish", "--incremental").exit_code == 1  # nothing to update yet
    with Registry.open(tmp_path / "home" / "registry.sqlite") as reg:
        reg.certificates.issue("S000044012001", date(2026, 11, 20), actor="t")
    first = json.loads(run("publish", "--json").stdout)
    assert first["certificates"] == 12 and (tmp_path / "home" / "snapshots" / "current" / "certs.sqlite").exists()
    second = json.loads(run("publish", "--incremental", "--json").stdout)
    assert second["incremental_updates"] == 1 and second["id"] == first["id"]
