"""Sample data for ``skillcert demo``: three institutions, result batches and generated photos (all fictitious)."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent
