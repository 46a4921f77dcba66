"""Privacy-limited index snapshots (issue: index). Imports only ``registry``."""

from __future__ import annotations

__all__: list[str] = []
