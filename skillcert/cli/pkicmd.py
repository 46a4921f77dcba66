from __future__ import annotations

import contextlib
import time

import click

from sign import DemoPki, PkiServer

from ..seals import DEMO_PASSWORD, setup_demo_pki
from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings


@click.group("pki")
def pki() -> None:
    """演示 PKI（仅供演示和测试）/ the demo PKI (demo and tests only)."""


@pki.command("demo")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def demo(as_json: bool) -> None:
    """为每个已备案印章及每个机构的二维码签名生成演示密钥并登记 / make a demo key per filed seal, and a QR
    and credential key per institution, and file them."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        p = setup_demo_pki(s, reg)
        idents = reg.seals.identities()
    emit(
        {
            "pki": str(p.root),
            "tsa_url": p.tsa_url,
            "root": str(p.root_cert),
            "identities": [{"name": i.name, "fingerprint": i.fingerprint} for i in idents],
        },
        as_json,
        "\n".join(
            [f"演示 PKI demo PKI: {p.root}  TSA: {p.tsa_url}", *(f"  {i.name}  {i.fingerprint[:16]}…" for i in idents)]
        ),
    )


@pki.command("serve")
@click.option("--seconds", type=float, help="运行多少秒后退出 / stop after this many seconds")
def serve(seconds: float | None) -> None:
    """在 127.0.0.1 上提供演示 TSA/OCSP/CRL / serve the demo TSA, OCSP and CRLs on 127.0.0.1."""
    s = settings()
    with errors_mapped():
        p = DemoPki.at(s.home / "pki", password=DEMO_PASSWORD)
        with PkiServer(p):
            click.echo(f"serving {p.url} (Ctrl+C to stop)")
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(seconds) if seconds else _forever()


def _forever() -> None:
    while True:
        time.sleep(3600)
