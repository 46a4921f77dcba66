"""Serving the verification site: settings from ``$SKILLCERT_HOME``, uvicorn, the app factory.

Each uvicorn worker process builds its own app through :func:`app_from_env` (one snapshot
reader with one read-only SQLite connection per worker, opened at start-up). The access log
is off: a request line carries certificate numbers and QR tokens, which must not be logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from registry.errors import SkillcertError
from verify import Operator, RateLimit, SiteSettings, create_app

from .settings import Settings

__all__ = ["app_from_env", "serve", "site_settings"]

_ENV_SNAPSHOT = "SKILLCERT_SNAPSHOT"
_ENV_RATE_LIMIT_URL = "SKILLCERT_RATE_LIMIT_URL"  # wins over [site] rate_limit_url


def _limit(site: dict[str, object], key: str, default: RateLimit) -> RateLimit:
    value = site.get(key)
    if value is None:
        return default
    if not isinstance(value, int | float) or value <= 0:
        raise SkillcertError(f"设置 [site] {key} 应为正数", f"setting [site] {key} must be a positive number")
    return RateLimit(per_minute=float(value), burst=max(default.burst, int(value) // 3))


def site_settings(s: Settings, *, snapshot: Path | None = None) -> SiteSettings:
    """The site's settings from the institution's: snapshot, secret, trust roots and ``[site]``."""
    base = SiteSettings.from_home(s.home, snapshot=snapshot, trust_roots=s.trust_roots)
    site = dict(s.site)
    mb = site.get("max_upload_mb", 10)
    if not isinstance(mb, int | float) or mb <= 0:
        raise SkillcertError(
            "设置 [site] max_upload_mb 应为正数", "setting [site] max_upload_mb must be a positive number"
        )
    from dataclasses import replace

    return replace(
        base,
        max_upload_bytes=int(mb * 1024 * 1024),
        lookup_limit=_limit(site, "lookup_per_minute", base.lookup_limit),
        qr_limit=_limit(site, "qr_per_minute", base.qr_limit),
        upload_limit=_limit(site, "upload_per_minute", base.upload_limit),
        download_limit=_limit(site, "download_per_minute", base.download_limit),
        trust_forwarded_for=bool(site.get("trust_forwarded_for", False)),
        trusted_proxies=_proxies(site),
        operator=_operator(site),
        rate_limit_url=_rate_limit_url(site),
    )


def _rate_limit_url(site: dict[str, object]) -> str | None:
    """``$SKILLCERT_RATE_LIMIT_URL`` or ``[site] rate_limit_url``: Redis for limits shared by all nodes."""
    value = os.environ.get(_ENV_RATE_LIMIT_URL) or site.get("rate_limit_url")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        raise SkillcertError(
            "设置 [site] rate_limit_url 应为 redis://、rediss:// 或 unix:// 地址",
            "setting [site] rate_limit_url must be a redis://, rediss:// or unix:// URL",
        )
    return value


_OPERATOR_KEYS = ("operator_zh", "operator_en", "operator_contact", "operator_address")


def _operator(site: dict[str, object]) -> Operator | None:
    """``[site] operator_zh / operator_en / operator_contact / operator_address``: who runs the site."""
    values = {k: site.get(k) for k in _OPERATOR_KEYS if site.get(k) is not None}
    if not values:
        return None
    for k, v in values.items():
        if not isinstance(v, str) or not v.strip():
            raise SkillcertError(f"设置 [site] {k} 应为非空文字", f"setting [site] {k} must be non-empty text")
    if "operator_zh" not in values:
        raise SkillcertError(
            "设置 [site] 写了运营者信息却缺少 operator_zh（运营单位中文名称）",
            "setting [site] gives operator details but no operator_zh (the operator's name in Chinese)",
        )
    return Operator(
        name_zh=str(values["operator_zh"]).strip(),
        name_en=str(values.get("operator_en", "")).strip(),
        contact=str(values.get("operator_contact", "")).strip(),
        address=str(values.get("operator_address", "")).strip(),
    )


def _proxies(site: dict[str, object]) -> tuple[str, ...]:
    import ipaddress

    value = site.get("trusted_proxies", ["127.0.0.1", "::1"])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SkillcertError(
            "设置 [site] trusted_proxies 应为地址列表", "setting [site] trusted_proxies must be a list of addresses"
        )
    for v in value:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError as e:
            raise SkillcertError(
                f"设置 [site] trusted_proxies 中的 {v!r} 不是地址或网段",
                f"{v!r} in setting [site] trusted_proxies is not an address or network",
            ) from e
    return tuple(value)


def app_from_env() -> Starlette:
    """The uvicorn factory (``skillcert.serving:app_from_env``): ``$SKILLCERT_HOME``, ``$SKILLCERT_SNAPSHOT``."""
    s = Settings.from_env()
    snap = os.environ.get(_ENV_SNAPSHOT)
    return create_app(site_settings(s, snapshot=Path(snap) if snap else None))


def serve(s: Settings, *, host: str, port: int, workers: int, snapshot: Path | None = None) -> None:
    """Run uvicorn until interrupted (uvloop and httptools when installed)."""
    import uvicorn

    site_settings(s, snapshot=snapshot)  # fail here, clearly, rather than in every worker
    os.environ["SKILLCERT_HOME"] = str(s.home)
    if snapshot is not None:
        os.environ[_ENV_SNAPSHOT] = str(snapshot.absolute())
    uvicorn.run(
        "skillcert.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        server_header=False,
        # uvicorn would take the client from X-Forwarded-For of any loopback peer; the site decides
        # itself whom to believe (SiteSettings.trusted_proxies), so the raw peer must reach it
        proxy_headers=False,
        log_level="warning",
    )
