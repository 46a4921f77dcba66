"""PAdES seals and their validation (issue: electronic seals). Imports only ``registry``."""

from __future__ import annotations

__all__: list[str] = []
