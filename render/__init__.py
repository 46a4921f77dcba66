"""Rendering certificates to PDF (issue: renderer). Imports only ``registry``."""

from __future__ import annotations

__all__: list[str] = []
