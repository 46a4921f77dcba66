"""Exit codes come from one table (``registry.errors.ExitCode``) and leave the program in one
place (``skillcert/cli/_runtime.py``); files are replaced whole by one implementation
(``registry.atomic``). Issue 15, item 4."""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
import stat
from pathlib import Path

import pytest

from registry.atomic import replacing, write_atomic
from registry.errors import ExitCode, SkillcertError
from skillcert.cli._runtime import EXIT_CODES
from skillcert.files import write_atomic as write_private

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("registry", "render", "sign", "search_index", "verify", "skillcert")
RUNTIME = ROOT / "skillcert" / "cli" / "_runtime.py"


def _exits(path: Path) -> list[str]:
    """Each place in ``path`` that ends the process: sys.exit(), os._exit(), exit(), quit(),
    ctx.exit(), raise SystemExit."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute):  # sys.exit, ctx.exit, os._exit
                name = f.attr if f.attr == "exit" or (f.attr == "_exit" and ast.unparse(f.value) == "os") else ""
            else:  # exit(), quit() (a helper named _exit is fine)
                name = f.id if isinstance(f, ast.Name) and f.id in ("exit", "quit") else ""
            if name:
                found.append(f"{path.name}:{node.lineno} {name}()")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "SystemExit":
                found.append(f"{path.name}:{node.lineno} raise SystemExit")
    return sorted(found, key=lambda e: int(e.split(":")[1].split()[0]))


def test_only_the_runtime_ends_the_process() -> None:
    found = [
        f"{f.parent.name}/{e}"
        for pkg in PACKAGES
        for f in sorted((ROOT / pkg).rglob("*.py"))
        if f != RUNTIME
        for e in _exits(f)
    ]
    assert found == []
    assert _exits(RUNTIME)  # the checker does see an exit


def test_the_checker_sees_each_way_out(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import sys, os\nsys.exit(3)\nos._exit(1)\nctx.exit(2)\nraise SystemExit(7)\nraise SystemExit\n")
    assert [e.split()[-1] for e in _exits(f.parent / "m.py")] == [
        "exit()",
        "_exit()",
        "exit()",
        "SystemExit",
        "SystemExit",
    ]


def test_no_exit_number_is_written_outside_the_table() -> None:
    """``exit_code = 7`` anywhere would be a second table; each error names its ExitCode member."""
    literal = []
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AnnAssign)
                    else []
                )
                value = getattr(node, "value", None)
                for t in targets:
                    name = t.attr if isinstance(t, ast.Attribute) else t.id if isinstance(t, ast.Name) else ""
                    if "exit" in name.lower() and isinstance(value, ast.Constant) and isinstance(value.value, int):
                        literal.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert literal == []


def _all_errors() -> set[type[SkillcertError]]:
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(module.__path__, f"{pkg}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    seen: set[type[SkillcertError]] = set()
    todo: list[type[SkillcertError]] = [SkillcertError]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo.extend(c for c in cls.__subclasses__() if c not in seen)
    return seen


def test_every_error_names_a_member_of_the_table() -> None:
    errors = _all_errors()
    assert len(errors) > 20
    wrong = [c.__qualname__ for c in errors if type(c.exit_code) is not ExitCode]
    assert wrong == []
    # the documented codes of the errors stay what they were
    by_name = {c.__name__: int(c.exit_code) for c in errors}
    assert {k: by_name[k] for k in ("NotFound", "ImportRejected", "CalendarNotCovered", "RenderError")} == {
        "NotFound": 5,
        "ImportRejected": 7,
        "CalendarNotCovered": 8,
        "RenderError": 9,
    }
    assert by_name["SealError"] == by_name["NotReadyToSeal"] == by_name["LocalSiteUrl"] == 10
    assert (by_name["IssueIncomplete"], by_name["IssueLocked"], by_name["UnreadablePdf"]) == (11, 12, 13)


def test_the_readme_lists_codes_of_the_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    para = readme[readme.index("Exit codes:") :].split("\n\n")[0]
    listed = {int(n) for n in re.findall(r"`(\d+)`", para)}
    assert listed == set(EXIT_CODES)  # every code the command can exit with, and no other
    assert EXIT_CODES[14] == "审计核验未通过 audit verification failed"
    assert [int(c) for c in ExitCode] == sorted(EXIT_CODES)


# -- the one atomic write ------------------------------------------------------------------------
def test_write_atomic_replaces_whole_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.json"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed while writing")
    assert target.read_bytes() == b"old"
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"]


def test_part_files_keep_the_name_the_sweepers_match(tmp_path: Path) -> None:
    target = tmp_path / "S000011084012261000001.pdf"
    with replacing(target) as tmp:
        assert re.fullmatch(r"\.S000011084012261000001\.pdf\.[0-9a-f]+\.part", tmp.name)
        tmp.write_bytes(b"%PDF")


def test_private_files_are_the_owners_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_private(tmp_path / "cert.pdf", b"x")  # skillcert.files: certificates, notices
        write_atomic(tmp_path / "manifest.json", b"{}")  # a snapshot file the site may read
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cert.pdf").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "manifest.json").stat().st_mode) == 0o644


def test_one_atomic_write_implementation() -> None:
    """``os.replace`` of a file written just before is the helper's job; the other renames left
    are of folders and symlinks (or a file staged earlier)."""
    renames = {
        str(f.relative_to(ROOT))
        for pkg in PACKAGES
        for f in (ROOT / pkg).rglob("*.py")
        if "os.replace(" in f.read_text(encoding="utf-8")
    }
    assert "registry/atomic.py" in renames
    for gone in ("registry/tabular.py", "registry/merkle.py", "registry/template.py"):
        assert gone not in renames
    assert "mkstemp" not in (ROOT / "skillcert" / "files.py").read_text(encoding="utf-8")
