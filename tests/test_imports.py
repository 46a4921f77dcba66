"""The parts import one way: registry <- render/sign/search_index <- verify <- skillcert."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("registry", "render", "sign", "search_index", "verify", "skillcert")
ALLOWED: dict[str, set[str]] = {
    "registry": set(),
    "render": {"registry"},
    "sign": {"registry"},
    "search_index": {"registry"},
    "verify": {"registry", "render", "sign", "search_index"},
    "skillcert": {"registry", "render", "sign", "search_index", "verify"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def test_import_direction() -> None:
    violations = []
    for pkg in PACKAGES:
        files = list((ROOT / pkg).rglob("*.py"))
        assert files, pkg
        for f in files:
            for dep in imported_packages(f) - ALLOWED[pkg] - {pkg}:
                violations.append(f"{f.relative_to(ROOT)} imports {dep}")
    assert violations == []


def test_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("import verify.app\nfrom skillcert.cli import main\nfrom .x import y\n")
    assert imported_packages(bad) == {"verify", "skillcert"}


def test_verify_never_opens_the_registry_store() -> None:
    for f in (ROOT / "verify").rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "registry.store" not in text and "Registry" not in text, f
