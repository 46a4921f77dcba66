"""The verification site over a published snapshot. Never opens the registry (SPEC §5).

- :func:`create_app` — the Starlette app (pages and the ``/api/v1`` JSON API);
- :func:`check_pdf` — the upload check as data (:class:`CheckReport`), also used by ``skillcert verify``;
- :class:`SiteSettings` — where the snapshot is, the index secret, trust roots, limits, the
  :class:`Operator`.
"""

from __future__ import annotations

from .app import create_app
from .check import CheckReport, Verdict, check_pdf
from .settings import Operator, RateLimit, SiteSettings

__all__ = ["CheckReport", "Operator", "RateLimit", "SiteSettings", "Verdict", "check_pdf", "create_app"]
