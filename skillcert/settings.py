"""Settings: where the data lives (``SKILLCERT_HOME``) and the institution's choices.

``$SKILLCERT_HOME`` (default ``./skillcert-data``) holds ``registry.sqlite`` and an optional
``settings.toml``::

    actor = "张三"                      # who is recorded in the audit log
    [calendar]
    holidays_file = "holidays-2027.toml"  # State Council schedule for years chinesecalendar lacks
    [calendar.2027]                       # or the schedule itself (the same tables as the file)
    holidays = ["2027-01-01", "2027-02-05..2027-02-11"]
    workdays = ["2027-02-14"]             # weekend days that are working days (调休)
    [seal]
    level = "B-LTA"                           # B-B · B-T · B-LT · B-LTA (default)
    tsa_url = "http://tsa.example/tsa"        # RFC 3161 time-stamping authority
    trust_roots = ["roots/ca.pem"]            # roots seals are validated against
    [render]
    site_url = "https://verify.example.org"   # where certificate QR codes point
    allow_local_site = false                  # true: real keys may seal QR codes pointing at 127.0.0.1 (tests)
    font_dirs = ["fonts"]                     # the institution's own licensed 楷体/仿宋/Times files
    template_dir = "templates"                # an adjusted copy of render/templates
    [site]
    max_upload_mb = 10                        # PDF upload limit of the verification site
    lookup_per_minute = 30                    # per client: two-of-three queries
    qr_per_minute = 120                       # per client: QR landing pages
    upload_per_minute = 12                    # per client: PDF checks
    download_per_minute = 6                   # per client: holder downloads (wrong codes: 5, then 1 per 5 min)
    trust_forwarded_for = false               # behind a reverse proxy that sets X-Forwarded-For
    rate_limit_url = "redis://127.0.0.1:6379/0"  # limits shared by every worker of every node
    operator_zh = "某某职业技能鉴定指导中心"     # who runs the site: every page's footer and printed results
    operator_en = "… Skills Testing Centre"   # (operator_contact, operator_address: shown as written)
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from registry import WorkdayCalendar
from registry.errors import SkillcertError
from render import RenderSettings
from search_index.downloads import FOLDER as DOWNLOADS_FOLDER

__all__ = ["SETTINGS_TEMPLATE", "Settings"]

SETTINGS_TEMPLATE = """\
# skillcert settings (see README.md)
# actor = "operator"                   # recorded in the audit log as who made each change

[calendar]
# holidays_file = "holidays-2027.toml"  # the State Council schedule for a year chinesecalendar lacks
# A year without one is provisional (暂定): statutory holidays only, no makeup working days.
# [calendar.2027]                       # or give the schedule here
# holidays = ["2027-01-01", "2027-02-05..2027-02-11"]
# workdays = ["2027-02-14"]             # weekend days that are working days (调休)

[render]
# site_url = "http://127.0.0.1:8000"    # where certificate QR codes point (<site>/c/<number>?t=<token>)
# allow_local_site = false              # true: real keys may seal QR codes pointing at this machine (tests only)
# font_dirs = ["fonts"]                 # your own licensed 仿宋 (family FangSong/仿宋) sets the filled values first
# template_dir = "templates"            # an adjusted copy of the style templates (render/templates)

[seal]
# level = "B-LTA"                       # B-B · B-T · B-LT · B-LTA (B-LTA: see README, Seals)
# tsa_url = "http://tsa.example/tsa"    # RFC 3161 time-stamping authority (default: the demo PKI's)
# trust_roots = ["pki/certs/root.pem"]  # roots to validate seals against (default: the demo PKI's)

[registry]
# url = "postgresql://skillcert@db.example/skillcert"  # a PostgreSQL registry (or $SKILLCERT_REGISTRY_URL);
#                                       # default: registry.sqlite in this folder

[issue]
# lease_seconds = 120                   # how long an issue run's hold on the certificates it is making lasts
#                                       # unrenewed: runs on a shared registry take over a killed run's share
#                                       # this long after its last delivery

[site]
# max_upload_mb = 10                    # PDF upload limit of the verification site
# lookup_per_minute = 30                # per client and worker: two-of-three queries (burst 10)
# qr_per_minute = 120                   # QR landing pages (burst 60)
# upload_per_minute = 12                # PDF checks (burst 6)
# download_per_minute = 6               # holder downloads (burst 5); wrong codes: 5, then 1 per 5 minutes
# trust_forwarded_for = false           # behind a reverse proxy that sets X-Forwarded-For
# rate_limit_url = "redis://127.0.0.1:6379/0"  # one limit for every worker of every node (or $SKILLCERT_RATE_LIMIT_URL)
# trusted_proxies = ["127.0.0.1", "::1"] # whose X-Forwarded-For is believed (the right-most other hop is the client)
# operator_zh = "某某职业技能鉴定指导中心"  # who runs the site, shown on every page and printed result
# operator_en = "… Skills Testing Centre"
# operator_contact = "010-00000000 · verify@example.org"
# operator_address = "北京市……"
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    home: Path
    actor: str
    holidays_file: Path | None = None
    holiday_years: Mapping[str, object] = field(default_factory=dict)  # [calendar.YYYY] tables
    site_url: str = "http://127.0.0.1:8000"
    allow_local_site: bool = False  # [render] allow_local_site: see skillcert.site_url
    font_dirs: tuple[Path, ...] = ()
    template_dir: Path | None = None
    seal_level: str = "B-LTA"
    tsa_url: str | None = None
    trust_roots: tuple[Path, ...] = ()
    site: Mapping[str, object] = field(default_factory=dict)  # the [site] table, see verify.SiteSettings
    registry_url: str | None = None  # [registry] url / $SKILLCERT_REGISTRY_URL: a PostgreSQL registry
    issue_lease_seconds: float = 120.0  # [issue] lease_seconds: see skillcert.pipeline

    @property
    def registry_path(self) -> Path:
        """The embedded registry's SQLite file (unused when ``registry_url`` names a PostgreSQL one)."""
        return self.home / "registry.sqlite"

    @property
    def registry_location(self) -> Path | str:
        """Where the registry is: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.registry_url or self.registry_path

    def has_registry(self) -> bool:
        """Is there a registry to open (a PostgreSQL one is assumed to be there; opening says if not)?"""
        return self.registry_url is not None or self.registry_path.exists()

    @property
    def keys_dir(self) -> Path:
        """The data keys that seal holders' names, ID numbers and photos in the registry
        (``registry.fieldcrypt``); never inside the database, never in a snapshot."""
        return self.home / "keys"

    @property
    def downloads_dir(self) -> Path:
        """The holders' encrypted downloads: written by issue, read into each published snapshot."""
        return self.home / DOWNLOADS_FOLDER

    @property
    def settings_path(self) -> Path:
        return self.home / "settings.toml"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("SKILLCERT_HOME") or "skillcert-data").absolute()
        data: dict[str, object] = {}
        path = home / "settings.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise SkillcertError(f"设置文件 {path} 有误：{e}", f"settings file {path} is invalid: {e}") from e
        calendar = data.get("calendar", {})
        holidays = calendar.get("holidays_file") if isinstance(calendar, dict) else None
        try:
            default_actor = getpass.getuser()
        except (KeyError, OSError):
            default_actor = "operator"
        actor = env.get("SKILLCERT_ACTOR") or str(data.get("actor") or default_actor)
        render = data.get("render", {})
        render = render if isinstance(render, dict) else {}
        template_dir = render.get("template_dir")
        seal = data.get("seal", {})
        seal = seal if isinstance(seal, dict) else {}
        roots = tuple(home / str(p) for p in seal.get("trust_roots", []))
        tsa = seal.get("tsa_url")
        demo_pki = home / "pki" / "certomancer.yml"
        if (not roots or not tsa) and demo_pki.is_file():  # the demo PKI made by `skillcert pki demo`
            import yaml

            prefix = yaml.safe_load(demo_pki.read_text(encoding="utf-8"))["external-url-prefix"]
            tsa = tsa or f"{prefix}/skillcert-demo/tsa/tsa"
            roots = roots or (home / "pki" / "certs" / "root.pem",)
        site = data.get("site", {})
        site_table: dict[str, object] = dict(site) if isinstance(site, dict) else {}
        registry = data.get("registry", {})
        registry_url = env.get("SKILLCERT_REGISTRY_URL") or (
            registry.get("url") if isinstance(registry, dict) else None
        )
        issue = data.get("issue", {})
        lease = issue.get("lease_seconds", 120) if isinstance(issue, dict) else 120
        if isinstance(lease, bool) or not isinstance(lease, int | float) or not 1 <= lease <= 86400:
            raise SkillcertError(
                f"设置文件 {path}：[issue] lease_seconds 应为 1 至 86400 之间的秒数，而不是 {lease!r}",
                f"settings file {path}: [issue] lease_seconds must be a number of seconds from 1 to 86400, "
                f"not {lease!r}",
            )
        return cls(
            home=home,
            actor=actor,
            holidays_file=(home / str(holidays)) if holidays else None,
            holiday_years={k: v for k, v in calendar.items() if k != "holidays_file"}
            if isinstance(calendar, dict)
            else {},
            site_url=str(render.get("site_url") or env.get("SKILLCERT_SITE_URL") or "http://127.0.0.1:8000"),
            allow_local_site=render.get("allow_local_site") is True,
            font_dirs=tuple(home / str(d) for d in render.get("font_dirs", [])),
            template_dir=(home / str(template_dir)) if template_dir else None,
            seal_level=str(seal.get("level", "B-LTA")),
            tsa_url=str(tsa) if tsa else None,
            trust_roots=roots,
            site=site_table,
            registry_url=str(registry_url) if registry_url else None,
            issue_lease_seconds=float(lease),
        )

    def render_settings(self) -> RenderSettings:
        return RenderSettings(site_url=self.site_url, font_dirs=self.font_dirs, template_dir=self.template_dir)

    def calendar(self) -> WorkdayCalendar:
        """chinesecalendar, then the holidays file, then ``[calendar.YYYY]`` (the last given wins)."""
        return WorkdayCalendar.with_file(self.holidays_file).with_tables(self.holiday_years, str(self.settings_path))
