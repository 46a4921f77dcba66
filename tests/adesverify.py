"""pyHanko's own ETSI EN 319 102-1 validator (``pyhanko sign adesverify``, from pyhanko-cli), run
the way a stranger would run it on our files: offline, in processes with no network namespace."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REQUIRE_SYSTEM

__all__ = ["adesverify_offline"]

# the CLI's own command, run in-process in a loop to save its start-up per file
_DRIVER = """
import sys, click
from pyhanko.cli import cli_root
root = sys.argv[1]
for f in sys.argv[2:]:
    print("FILE", f, flush=True)
    try:
        cli_root.main(["sign", "adesverify", "--executive-summary", "--trust", root, "--trust-replace", f],
                      prog_name="pyhanko", standalone_mode=False)
        print("RESULT ok", flush=True)
    except click.ClickException as e:
        print("RESULT failed", e.format_message(), flush=True)
"""


def adesverify_offline(root: Path, files: list[Path], *, processes: int = 2) -> dict[Path, tuple[str, list[str]]]:
    """{file: ("ok" or "failed …", its summary lines ``FIELD:SHA256:VALID``, one per seal)}.

    Skips where ``unshare -n`` is missing or not permitted (the test is then not offline)."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        if REQUIRE_SYSTEM:
            pytest.fail("unshare -n is required (SKILLCERT_REQUIRE_SYSTEM=1) to run adesverify offline")
        pytest.skip("unshare -n is not available or not permitted here")
    names = [str(p) for p in files]
    parts = [names[i::processes] for i in range(processes) if names[i::processes]]
    procs = [
        subprocess.Popen(
            [unshare, "-n", sys.executable, "-c", _DRIVER, str(root), *part],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for part in parts
    ]
    verdicts: dict[Path, tuple[str, list[str]]] = {}
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        current, lines = "", []
        for line in out.splitlines():
            if line.startswith("FILE "):
                current, lines = line[5:], []
            elif line.startswith("RESULT "):
                verdicts[Path(current)] = (line[7:], lines)
            else:
                lines.append(line)
    assert sorted(verdicts) == sorted(files), "adesverify did not answer for every file"
    return verdicts
