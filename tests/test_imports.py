"""The parts import one way: registry <- render/sign/search_index <- verify <- skillcert."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

from .conftest import DemoHome

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


_SITE_ONLY = """
import sys, json
from pathlib import Path

from starlette.testclient import TestClient
from verify import SiteSettings, create_app

site, pdf, number, token = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
settings = SiteSettings.from_home(site, trust_roots=(site / "root.pem",))
with TestClient(create_app(settings)) as c:
    landing = c.get(f"/c/{number}", params={"t": token})
    check = c.post("/api/v1/check", files={"file": ("c.pdf", pdf.read_bytes(), "application/pdf")})
    inst = c.get("/institutions")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("registry", "search_index", "render", "sign"))
print(json.dumps({"landing": landing.status_code, "check": check.json().get("bottom_line"),
                  "institutions": inst.status_code, "loaded": loaded}))
"""


def test_the_site_runs_from_a_folder_holding_only_a_snapshot(demo_home: DemoHome, tmp_path: Path) -> None:
    """One-way isolation for real, not as a text search: a site folder with the snapshot, the index
    secret and the trust root — no registry file anywhere — answers a QR landing, an upload check
    and the directory, and its process never loads the registry store, importer or audit log."""
    import shutil
    import subprocess
    import sys
    from urllib.parse import parse_qs, urlsplit

    from render import read_record

    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(demo_home.home / "snapshots", site / "snapshots", symlinks=True)
    shutil.copy(demo_home.home / "index.secret", site / "index.secret")
    shutil.copy(demo_home.home / "pki" / "certs" / "root.pem", site / "root.pem")
    assert not [p for p in site.rglob("*") if p.name.startswith("registry")]
    pdf = demo_home.pdfs[0]
    record = read_record(pdf.read_bytes()) or {}
    qr = urlsplit(str(record.get("qr_url", "")))
    token = parse_qs(qr.query).get("t", [""])[0]
    assert token, record
    r = subprocess.run(
        [sys.executable, "-c", _SITE_ONLY, str(site), str(pdf), pdf.stem, token],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "SKILLCERT_HOME": str(tmp_path / "nowhere")},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["landing"], out["check"], out["institutions"]) == (200, "valid", 200), out
    forbidden = {"registry.store", "registry.importer", "registry.audit", "registry._schema", "search_index.publish"}
    assert forbidden.isdisjoint(out["loaded"]), sorted(forbidden & set(out["loaded"]))
