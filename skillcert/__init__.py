"""skillcert — the application shell: settings, the CLI and the demo."""

from __future__ import annotations

from ._installed import check_packages

__version__ = "0.1.0"
__all__ = ["__version__"]

check_packages()  # registry, render, sign, search_index, verify are ours, not a PyPI namesake's
