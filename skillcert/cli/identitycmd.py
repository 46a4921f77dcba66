from __future__ import annotations

from pathlib import Path

import click

from sign import Pkcs11Identity, Pkcs12Identity

from ..seals import file_identity
from ._runtime import INSTITUTION_HELP, JSON_HELP, emit, errors_mapped, open_registry, settings


@click.group("identity")
def identity() -> None:
    """印章签名身份 / seal signing identities (PKCS#12 or PKCS#11)."""


@identity.command("add")
@click.option("--name", required=True, help="身份名称 / a name for this identity")
@click.option("--institution", "code", required=True, help=INSTITUTION_HELP)
@click.option(
    "--seal",
    "seal_kind",
    type=click.Choice(["institution", "issuing", "competition", "qr"]),
    default="institution",
    help="此密钥签哪一枚已备案的印章；qr：二维码与电子凭证签名密钥（ECDSA P-256） / which filed seal this key "
    "signs for; qr: the key that signs QR payloads and credentials (ECDSA P-256)",
)
@click.option(
    "--p12",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PKCS#12 文件；密码取自 --password-env / PKCS#12 file; its password from --password-env",
)
@click.option(
    "--password-env",
    default="SKILLCERT_P12_PASSWORD",
    show_default=True,
    help="存放 PKCS#12 密码的环境变量名 / the environment variable holding the PKCS#12 password",
)
@click.option(
    "--pkcs11-module",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PKCS#11 模块 (.so) / the PKCS#11 module (.so)",
)
@click.option("--token-label", help="PKCS#11 令牌标签 / the PKCS#11 token label")
@click.option("--key-label", help="令牌中私钥的标签 / the private key's label on the token")
@click.option("--cert-label", help="证书标签（默认同私钥）/ the certificate's label (default: the key's)")
@click.option(
    "--pin-env",
    default="SKILLCERT_PKCS11_PIN",
    show_default=True,
    help="存放 PIN 的环境变量名 / the environment variable holding the PIN",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def add(
    name: str,
    code: str,
    seal_kind: str,
    p12: Path | None,
    password_env: str,
    pkcs11_module: Path | None,
    token_label: str | None,
    key_label: str | None,
    cert_label: str | None,
    pin_env: str,
    as_json: bool,
) -> None:
    """登记签名身份，其证书指纹记入机构备案 / file a signing identity; its fingerprint joins the filing.

    密码和 PIN 只从环境变量读取，不从命令行读取 / passwords and PINs come from the environment, never the command line.
    """
    s = settings()
    with errors_mapped(as_json):
        if p12 is not None:
            ident: Pkcs12Identity | Pkcs11Identity = Pkcs12Identity(path=p12, password_env=password_env)
        elif pkcs11_module is not None and token_label and key_label:
            ident = Pkcs11Identity(
                module=pkcs11_module,
                token_label=token_label,
                key_label=key_label,
                cert_label=cert_label,
                pin_env=pin_env,
            )
        else:
            raise click.UsageError("give --p12 FILE, or --pkcs11-module with --token-label and --key-label")
        with open_registry(s) as reg:
            rec = file_identity(
                reg, name=name, institution_code=code, seal_kind=seal_kind, identity=ident, actor=s.actor
            )
    emit(
        {
            "name": rec.name,
            "institution": rec.institution_code,
            "seal": rec.seal_kind,
            "fingerprint": rec.fingerprint,
            "not_after": rec.not_after,
        },
        as_json,
        f"已登记 filed: {rec.name} ({rec.seal_kind}) {rec.fingerprint}",
    )


@identity.command("list")
@click.option("--institution", "code", help="只列此机构 / only this institution")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def list_(code: str | None, as_json: bool) -> None:
    """列出签名身份 / list signing identities."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        idents = reg.seals.identities(code)
    emit(
        [
            {
                "name": i.name,
                "institution": i.institution_code,
                "seal": i.seal_kind,
                "kind": i.kind,
                "fingerprint": i.fingerprint,
                "not_after": i.not_after,
            }
            for i in idents
        ],
        as_json,
        "\n".join(
            f"{i.name}  {i.institution_code}  {i.seal_kind:11}  {i.kind}  {i.fingerprint[:16]}…  "
            f"until {i.not_after[:10]}"
            for i in idents
        )
        or "（无 none）",
    )
