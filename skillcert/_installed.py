"""Our top-level packages must be our own files.

``registry``, ``render``, ``sign``, ``search_index`` and ``verify`` are also names of other
distributions on PyPI (``render`` is Render's SDK). With one of those installed in the same
environment, ``import render`` may load the other project's package (it comes first on
``sys.path``, or its files overwrote ours in ``site-packages``), and skillcert would fail later
with a puzzling ``ImportError``. :func:`check_packages` runs when ``skillcert`` is imported and
stops at once with a bilingual message that names the other distribution and the fix.

It imports none of the packages it checks (one of them may be the stranger): it asks the import
system where each name resolves (``importlib.util.find_spec``, no code runs) and, for a wheel
install, compares each ``__init__.py`` with the hash our ``RECORD`` holds. Only on a clash does it
look up the other distribution (``importlib.metadata.packages_distributions``, ≈ 0.4 s).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
from pathlib import Path

__all__ = ["OUR_PACKAGES", "PackageClash", "check_packages"]

OUR_PACKAGES = ("registry", "render", "sign", "search_index", "verify")
DISTRIBUTION = "skillcert"


class PackageClash(ImportError):
    """One of our top-level names resolved to another project's files."""

    def __init__(self, name: str, origin: str | None, others: list[str]) -> None:
        where = origin or "?"
        if others:
            who_zh = f"来自另一个发行包 {', '.join(others)}（{where}）"
            who_en = f"comes from another distribution, {', '.join(others)} ({where})"
            fix_zh = f"请卸载它（pip uninstall {' '.join(others)}），或"
            fix_en = f"Uninstall it (pip uninstall {' '.join(others)}), or"
        else:
            who_zh = f"来自 {where}（不属于任何已安装的发行包）"
            who_en = f"comes from {where} (no installed distribution)"
            fix_zh = "请把它移出 sys.path / PYTHONPATH，或"
            fix_en = "Move it off sys.path / PYTHONPATH, or"
        self.zh = (
            f"导入的 {name} 不是 skillcert 的包，而是{who_zh}；两者同名，skillcert 无法运行。"
            f"{fix_zh}把 skillcert 装在独立的环境中：pipx install <skillcert 源码目录或 wheel>，"
            "或在源码目录中使用 ./run（自带 .venv）"
        )
        self.en = (
            f"the imported `{name}` is not skillcert's package: it {who_en}; the two share the name, so "
            f"skillcert cannot run. {fix_en} install skillcert in an environment of its own: "
            "`pipx install <skillcert source folder or wheel>`, or `./run` in the source folder (its own .venv)"
        )
        self.name, self.origin, self.others = name, origin, others
        super().__init__(f"\n错误：{self.zh}\nError: {self.en}", name=name, path=origin)


def _record_hashes(home: Path) -> dict[str, str]:
    """``path -> sha256`` of our wheel's RECORD beside the packages (empty for a source tree or an
    editable install, whose RECORD lists no package files)."""
    hashes: dict[str, str] = {}
    for record in home.glob(f"{DISTRIBUTION}-*.dist-info/RECORD"):
        with record.open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                if len(row) >= 2 and row[1].startswith("sha256="):
                    hashes[row[0]] = row[1].removeprefix("sha256=")
    return hashes


def _sha256(path: Path) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


def _others(name: str) -> list[str]:
    from importlib.metadata import packages_distributions

    found = packages_distributions().get(name, [])
    return sorted({d for d in found if d.lower() != DISTRIBUTION})


def _origin(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def check_packages(home: Path | None = None) -> None:
    """Raise :class:`PackageClash` unless each of :data:`OUR_PACKAGES` resolves to the folder
    beside ``skillcert`` (``home``) and, in a wheel install, to the files our RECORD lists."""
    home = home or Path(__file__).resolve().parent.parent
    hashes: dict[str, str] | None = None
    for name in OUR_PACKAGES:
        origin = _origin(name)
        ours = home / name / "__init__.py"
        if origin is None or Path(origin).resolve() != ours.resolve():
            raise PackageClash(name, origin, _others(name))
        if hashes is None:
            hashes = _record_hashes(home)
        recorded = hashes.get(f"{name}/__init__.py")
        if recorded is not None and _sha256(ours) != recorded:  # another wheel overwrote our file
            raise PackageClash(name, origin, _others(name))
