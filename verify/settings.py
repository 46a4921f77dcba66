"""What a verification site needs: where its snapshot is, the index secret, trust roots, limits,
and who runs it (the operator every page names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from registry.errors import SkillcertError

__all__ = ["Operator", "RateLimit", "SiteSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute``."""

    per_minute: float
    burst: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """Who runs the site and how to reach them (``[site] operator_*`` in settings.toml)."""

    name_zh: str
    name_en: str = ""
    contact: str = ""  # telephone, e-mail: shown as written
    address: str = ""

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    snapshot_root: Path  # ``$SKILLCERT_HOME/snapshots`` (follows ``current``) or one snapshot folder
    secret: bytes  # the index secret: computes look-up keys; never in a snapshot
    trust_roots: tuple[Path, ...] = ()
    max_upload_bytes: int = 10 * 1024 * 1024
    check_timeout_seconds: float = 4.0  # per step, in a worker process that is killed when it runs over
    check_concurrency: int = 2  # uploads checked at once per site process (one check process each)
    check_memory_mb: int = 256  # what one check may allocate before it fails
    lookup_limit: RateLimit = field(default_factory=lambda: RateLimit(per_minute=30, burst=10))
    qr_limit: RateLimit = field(default_factory=lambda: RateLimit(per_minute=120, burst=60))
    upload_limit: RateLimit = field(default_factory=lambda: RateLimit(per_minute=12, burst=6))
    download_limit: RateLimit = field(default_factory=lambda: RateLimit(per_minute=6, burst=5))
    # wrong download codes: per client and per certificate, so guesses spread over clients stop too
    code_failures: RateLimit = field(default_factory=lambda: RateLimit(per_minute=0.2, burst=5))
    trust_forwarded_for: bool = False  # behind a reverse proxy that sets X-Forwarded-For
    # the proxies whose X-Forwarded-For is believed (addresses or networks); the client is the
    # right-most address that is not one of them
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    operator: Operator | None = None  # shown in every page's footer and on printed results
    # ``redis://…``: every worker of every node counts against one limit (verify._redis_limits);
    # None: each worker process keeps its own tables (the limit times the workers)
    rate_limit_url: str | None = None

    @classmethod
    def from_home(cls, home: Path, *, snapshot: Path | None = None, **options: object) -> SiteSettings:
        """The site for ``$SKILLCERT_HOME``: its current snapshot (or ``snapshot``) and ``index.secret``."""
        secret_file = home / "index.secret"
        if not secret_file.is_file():
            raise SkillcertError(
                f"{secret_file} 不存在：请先发布快照（skillcert publish）",
                f"{secret_file} is missing: publish a snapshot first (skillcert publish)",
            )
        root = snapshot if snapshot is not None else home / "snapshots"
        return cls(snapshot_root=root, secret=secret_file.read_bytes(), **options)  # type: ignore[arg-type]
