"""The verification site over a published snapshot (issue: site). Never opens the registry."""

from __future__ import annotations

__all__: list[str] = []
