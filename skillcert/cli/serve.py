from __future__ import annotations

from pathlib import Path

import click

from ..serving import serve
from ._runtime import errors_mapped, settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address to listen on")
@click.option("--port", default=8000, show_default=True, type=int, help="监听端口 / port to listen on")
@click.option("--workers", default=1, show_default=True, type=int, help="进程数 / worker processes")
@click.option(
    "--snapshot",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="快照目录（默认 $SKILLCERT_HOME/snapshots/current）/ a snapshot folder (default: the current one)",
)
def serve_cmd(host: str, port: int, workers: int, snapshot: Path | None) -> None:
    """运行证书查验网站 / run the verification site (QR landing, query, PDF check, download, institutions)."""
    s = settings()
    with errors_mapped():
        click.echo(f"查验网站 verification site: http://{host}:{port}/  (Ctrl-C 停止 to stop)", err=True)
        serve(s, host=host, port=port, workers=workers, snapshot=snapshot)
