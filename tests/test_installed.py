"""Our top-level names are also PyPI names (``render`` is Render's SDK): with such a package
first on ``sys.path``, or its files over ours, ``import skillcert`` stops with a bilingual message
naming the other distribution and the fix (issue 15, item 7). Real subprocesses, real packages on
disk; nothing mocked."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("registry", "render", "sign", "search_index", "verify")
FOREIGN = '"""Render\'s Python SDK (a stranger with our name)."""\nclass Client: ...\n'


def _python(cwd: Path, code: str, *, pythonpath: Path, isolated: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(pythonpath)
    args = [sys.executable, *(["-S"] if isolated else []), "-c", code]
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _dist_info(site: Path, name: str, version: str, files: list[Path]) -> None:
    """A minimal installed distribution: METADATA and a RECORD of ``files`` (as pip writes them)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    rows = []
    for f in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(f.read_bytes()).digest()).rstrip(b"=").decode()
        rows.append(f"{f.relative_to(site).as_posix()},sha256={digest},{f.stat().st_size}")
    rows.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _assert_clash(res: subprocess.CompletedProcess[str], *, other: str | None) -> None:
    assert res.returncode != 0, res
    err = res.stderr
    assert "错误：导入的 render 不是 skillcert 的包" in err, err
    assert "Error: the imported `render` is not skillcert's package" in err, err
    assert "pipx install" in err and "./run" in err
    if other is not None:
        assert f"另一个发行包 {other}" in err and f"another distribution, {other}" in err
        assert f"pip uninstall {other}" in err
    assert "Client" not in res.stdout


def test_a_pypi_render_first_on_the_path_stops_the_import(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "render").mkdir(parents=True)
    (site / "render" / "__init__.py").write_text(FOREIGN, encoding="utf-8")
    _dist_info(site, "render-sdk", "1.2.0", [site / "render" / "__init__.py"])
    res = _python(tmp_path, "import skillcert.pipeline", pythonpath=site)
    _assert_clash(res, other="render-sdk")
    assert str(site / "render" / "__init__.py") in res.stderr
    cli = _python(tmp_path, "from skillcert.cli import main; main()", pythonpath=site)  # the console script
    _assert_clash(cli, other="render-sdk")


def test_a_stray_render_folder_is_named_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "render").mkdir()
    (tmp_path / "render" / "__init__.py").write_text(FOREIGN, encoding="utf-8")
    res = _python(tmp_path, "import skillcert", pythonpath=tmp_path)
    _assert_clash(res, other=None)
    assert "不属于任何已安装的发行包" in res.stderr and "no installed distribution" in res.stderr


def test_our_own_packages_pass(tmp_path: Path) -> None:
    res = _python(tmp_path, "import skillcert, render; print(render.__file__)", pythonpath=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(ROOT / "render" / "__init__.py")


def _wheel_site(tmp_path: Path) -> Path:
    """What ``pip install skillcert-*.whl`` leaves in site-packages, as far as the check reads it:
    the packages' ``__init__.py`` files and our RECORD with their hashes."""
    site = tmp_path / "site-packages"
    (site / "skillcert").mkdir(parents=True)
    for name in ("__init__.py", "_installed.py"):
        shutil.copy(ROOT / "skillcert" / name, site / "skillcert" / name)
    files = [site / "skillcert" / "__init__.py", site / "skillcert" / "_installed.py"]
    for pkg in OURS:
        (site / pkg).mkdir()
        shutil.copy(ROOT / pkg / "__init__.py", site / pkg / "__init__.py")
        files.append(site / pkg / "__init__.py")
    _dist_info(site, "skillcert", "0.1.0", files)
    return site


def test_a_wheel_whose_render_was_overwritten_stops_the_import(tmp_path: Path) -> None:
    site = _wheel_site(tmp_path)
    ok = _python(tmp_path, "import skillcert", pythonpath=site, isolated=True)  # -S: only this site
    assert ok.returncode == 0, ok.stderr
    (site / "render" / "__init__.py").write_text(FOREIGN, encoding="utf-8")  # pip install render-sdk, same folder
    _dist_info(site, "render-sdk", "1.2.0", [site / "render" / "__init__.py"])
    _assert_clash(_python(tmp_path, "import skillcert", pythonpath=site, isolated=True), other="render-sdk")
