"""Where the certificates' QR codes point, and whether sealing may go on with it.

A sealed certificate carries its QR code for good: ``<site_url>/c/<number>?t=<token>``. The
default ``site_url`` is this machine (``http://127.0.0.1:8000``), right for the demo and useless
to an employer scanning the paper, and the holder's notice names it too. So a certificate sealed
with a real key (not one of the demo PKI's) is refused while ``site_url`` is unset or a loopback
address, before any number is allocated — unless the clerk says it is meant
(``skillcert issue --allow-local-site`` or ``[render] allow_local_site = true``), e.g. to try
the real key on a test registry. The demo's keys may seal with a local site, with a warning.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from registry._seals_store import IdentityRecord
from registry.errors import ExitCode, SkillcertError
from registry.models import Institution
from sign.pki import DEMO_ISSUER_CN

__all__ = ["LocalSiteUrl", "check_site_url", "is_demo_identity", "is_local_site", "local_site_warning"]


def is_local_site(url: str) -> bool:
    """Unset, ``localhost``, a loopback or an unspecified address: nobody else can open it."""
    host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def is_demo_identity(rec: IdentityRecord) -> bool:
    """A key of the demo PKI (``skillcert pki demo``): its certificate was issued by the demo CA."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(rec.cert_pem.encode("ascii"))
    except ValueError:
        return False
    return [a.value for a in cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)] == [DEMO_ISSUER_CN]


class LocalSiteUrl(SkillcertError):
    """Real keys would seal QR codes that point at this machine: refused before numbering."""

    exit_code = ExitCode.SEAL_FAILED

    def __init__(self, inst: Institution, url: str) -> None:
        super().__init__(
            f"机构 {inst.code}（{inst.name_zh}）：证书二维码将指向 {url or '（未设置）'}，这是本机地址，持证人和用人单位"
            "都打不开，且签章后不能更改；未分配任何编号。请在 settings.toml 的 [render] 中设置查询网站地址 "
            'site_url = "https://…"；仅用于测试时，可加 --allow-local-site（或设置 [render] allow_local_site = true）',
            f"institution {inst.code} ({inst.name_en or inst.name_zh}): the QR codes would point to "
            f"{url or '(unset)'}, this machine, which no holder or employer can open — and a sealed QR code "
            "never changes; no number was allocated. Set the verification site in settings.toml: [render] site_url = "
            '"https://…"; only for a test, add --allow-local-site (or set [render] allow_local_site = true)',
        )


def check_site_url(inst: Institution, url: str, identities: Iterable[IdentityRecord], *, allow: bool) -> None:
    """Raise :class:`LocalSiteUrl` when real keys would seal QR codes pointing at a local site."""
    if allow or not is_local_site(url):
        return
    if all(is_demo_identity(rec) for rec in identities):
        return  # the demo: its certificates are trusted by nobody anyway
    raise LocalSiteUrl(inst, url)


def local_site_warning(url: str) -> str | None:
    """The loud line ``issue`` prints when the QR codes will point at this machine."""
    if not is_local_site(url):
        return None
    return (
        f"警告 WARNING：证书二维码和持证人通知将指向本机 {url or '（未设置）'}，只适合演示和测试；正式签发前请在 "
        f"settings.toml 中设置 [render] site_url / QR codes and holder notices will point to this machine "
        f"({url or 'unset'}): for the demo and tests only; set [render] site_url before issuing for real"
    )
