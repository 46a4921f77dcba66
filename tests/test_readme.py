"""Every ``$ skillcert …`` example in the README runs, in order, with the exit code it states."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def examples() -> list[tuple[list[str], int]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ skillcert "):
                m = re.search(r"#\s*exits (\d+)", line)
                out.append((shlex.split(line[2:], comments=True)[1:], int(m.group(1)) if m else 0))
    return out


def test_readme_has_the_two_commands() -> None:
    assert "./run demo" in README and "./run test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./run test" in ci and "SKILLCERT_REQUIRE_SYSTEM=1" in ci


def test_readme_examples_run(tmp_path: Path) -> None:
    cases = examples()
    assert len(cases) >= 10
    (tmp_path / "skillcert").symlink_to(ROOT / "skillcert")
    env = {**os.environ, "SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "readme"}
    outputs = {}
    for args, code in cases:
        r = subprocess.run(
            [sys.executable, "-m", "skillcert", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,  # `demo` seals 92 certificates: ≈ 1-2 min on a loaded 2-core machine
        )
        assert r.returncode == code, (args, r.stdout, r.stderr)
        outputs[" ".join(args)] = r
    assert (tmp_path / "out" / "report.xlsx").is_file()
    # the error text shown in the README is what the program prints
    shown = re.search(r"```text\n(错误：.*?)```", README, flags=re.S)
    assert shown is not None
    assert outputs["number check S000011032003226000001"].stderr.strip() == shown.group(1).strip()


def test_readme_python_examples_run() -> None:
    """Each ```python block runs, with the names it leaves to the reader bound to the demo's first
    holder of style (一) (``record``, ``institution``, ``photo_bytes``)."""
    from registry.models import Style
    from skillcert.preview import preview_record

    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    for block in blocks:
        record, institution, photo_bytes = preview_record(Style.STYLE1)
        names = {"record": record, "institution": institution, "photo_bytes": photo_bytes}
        exec(compile(block, "README.md", "exec"), names)  # our own README
        pdf = names.get("pdf")
        if pdf is not None:
            assert pdf.pdf[:5] == b"%PDF-" and pdf.seal_boxes
