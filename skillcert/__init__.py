"""skillcert — the application shell: settings, the CLI and the demo."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
