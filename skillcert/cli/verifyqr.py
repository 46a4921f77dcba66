"""``skillcert verify-qr``: a certificate's QR code checked offline (see ``skillcert.qr_check``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..qr_check import OfflineVerdict, QrReport, check_qr, qr_text_from_image
from ._runtime import JSON_HELP, ExitCode, current_snapshot, emit, errors_mapped, finish, settings

EXIT = {
    OfflineVerdict.VALID: ExitCode.OK,
    OfflineVerdict.AUTHENTIC: ExitCode.VERIFY_AUTHENTIC_OFFLINE,
    OfflineVerdict.NOT_CURRENT: ExitCode.VERIFY_NOT_CURRENT,
    OfflineVerdict.INVALID: ExitCode.VERIFY_INVALID,
    OfflineVerdict.UNKNOWN: ExitCode.VERIFY_UNKNOWN,
}
_HEADLINE = {
    OfflineVerdict.VALID: ("有效：数据真实，本地快照中状态有效", "VALID: authentic, and valid in the local snapshot"),
    OfflineVerdict.AUTHENTIC: (
        "数据真实（离线核验）；是否已撤销需联网",
        "AUTHENTIC (checked offline); revocation needs the network",
    ),
    OfflineVerdict.NOT_CURRENT: (
        "数据真实，但证书已撤销、暂停或已更换",
        "AUTHENTIC, but revoked, suspended or replaced",
    ),
    OfflineVerdict.INVALID: (
        "无效：签名不符，不要相信这张纸上的信息",
        "INVALID: the signature does not check out; do not trust this paper",
    ),
    OfflineVerdict.UNKNOWN: ("无法离线核验", "cannot be checked offline"),
}


def _text(r: QrReport) -> str:
    zh, en = _HEADLINE[r.verdict]
    out = [f"{zh} / {en}"]
    if r.claims is not None:
        out.append("纸面应显示 The paper should show:")
        out += [f"  {a} {b}: {v}" for a, b, v in r.paper()]
    out += [f"  · {z} / {e}" for z, e in zip(r.lines_zh, r.lines_en, strict=True)]
    return "\n".join(out)


def _json(r: QrReport) -> dict[str, object]:
    return {
        "verdict": r.verdict.value,
        "paper": {en: v for _, en, v in r.paper()},
        "checks": [{"zh": z, "en": e} for z, e in zip(r.lines_zh, r.lines_en, strict=True)],
        "key_list_date": r.key_list_date,
        "status": r.status,
        "online_url": r.online_url,
    }


@click.command("verify-qr")
@click.argument("source")
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="从查询网站 /api/v1/keys 保存的密钥列表（默认：本机当前快照）/ a key list saved from the site's "
    "/api/v1/keys (default: the current local snapshot)",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def verify_qr_cmd(source: str, keys_file: Path | None, as_json: bool) -> None:
    """离线核验证书二维码（扫描得到的网址或二维码图片）/ check a certificate's QR code offline.

    SOURCE 是扫码得到的文字、二维码的照片/扫描图，或证书 PDF（读取其上印出的二维码）/ SOURCE is the
    scanned text, a photo or scan of the code, or a certificate PDF (its printed code is read).
    不联网：用已备案的机构密钥核对签名 / no network: the signature is checked against the filed institution keys.
    """
    s = settings()
    with errors_mapped(as_json):
        path = Path(source)
        text = qr_text_from_image(path) if path.is_file() else source
        snapshot = current_snapshot(s) if keys_file is None else None
        try:
            report = check_qr(text, snapshot=snapshot, keys_file=keys_file)
        finally:
            if snapshot is not None:
                snapshot.close()
    emit(_json(report), as_json, _text(report))
    finish(EXIT[report.verdict])
