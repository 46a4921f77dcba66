"""The holder's download notice (领取通知): how to fetch the sealed e-certificate from the site.

One text file per holder, ``<out>/notices/<number>.txt``, for the institution to print or
send. It carries the download code — the only place the code exists: the registry and the
snapshot keep just the PDF encrypted under it (``search_index.downloads``).
"""

from __future__ import annotations

from pathlib import Path

from registry.models import Certificate, Institution
from registry.tables import LEVELS

from .files import write_atomic

__all__ = ["notice_text", "write_notice"]


def notice_text(c: Certificate, inst: Institution, *, code: str, site_url: str) -> str:
    lv = LEVELS[c.level]
    url = site_url.rstrip("/") + "/download"
    return (
        f"职业技能等级证书 电子证书领取通知 / Notice: your electronic certificate\n"
        f"\n"
        f"持证人 Holder: {c.name}\n"
        f"职业（工种）Occupation: {c.occupation}{'' if c.job in ('', '——', '--') else ' / ' + c.job}\n"
        f"等级 Level: {lv.zh} / {lv.en}\n"
        f"证书编号 Certificate No.: {c.number}\n"
        f"评价机构 Institution: {inst.name_zh}\n"
        f"\n"
        f"下载码 Download code: {code}\n"
        f"{_version_line(c.version)}"
        f"\n"
        f"请访问 {url} ，输入证书编号、本人证件号码和下载码，下载加盖电子印章的证书 PDF。\n"
        f"Visit {url} and enter the certificate number, your ID number and the download code\n"
        f"to download the sealed PDF certificate.\n"
        f"下载码只印在本通知上，请妥善保管，勿转交他人。\n"
        f"The code exists only on this notice: keep it safe and do not share it.\n"
    )


def _version_line(version: int) -> str:
    """Which notice counts: a corrected or reissued certificate's new notice replaces the earlier ones."""
    if version <= 1:
        return ""
    return (
        f"本通知为第 {version} 版，此前的通知和下载码均已作废。\n"
        f"This notice is version {version}: earlier notices and their download codes no longer work.\n"
    )


def write_notice(directory: Path, c: Certificate, inst: Institution, *, code: str, site_url: str) -> None:
    write_atomic(directory / f"{c.number}.txt", notice_text(c, inst, code=code, site_url=site_url).encode("utf-8"))
