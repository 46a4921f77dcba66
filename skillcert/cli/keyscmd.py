"""``skillcert keys``: the data keys that seal holders' names, ID numbers and photos in the
registry — which key seals what, and rotation (see :mod:`registry._keys_store`)."""

from __future__ import annotations

import click

from ..keys_job import rotate_keys
from ._runtime import JSON_HELP, emit, errors_mapped, open_registry, settings


@click.group("keys")
def keys() -> None:
    """登记库个人信息的数据密钥：状态、轮换 / the registry's data keys: status, rotation."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def status_cmd(as_json: bool) -> None:
    """当前密钥及各密钥加密的记录数 / the current key and what each key seals."""
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        st = reg.keys.status()
    lines = [f"当前数据密钥 current data key: {st.current or '无（明文登记库）none (a register in clear)'}"]
    lines += [f"  证书 certificates  {k}: {n}" for k, n in sorted(st.certificates.items())]
    lines += [f"  照片 photos        {k}: {n}" for k, n in sorted(st.photos.items())]
    if st.pending:
        lines.append(
            f"  尚未以当前密钥加密 not yet under the current key: {st.pending}（运行 run skillcert keys rotate）"
        )
    emit(
        {"current": st.current, "certificates": st.certificates, "photos": st.photos, "pending": st.pending},
        as_json,
        "\n".join(lines),
    )


@keys.command("rotate")
@click.option(
    "--batch", type=click.IntRange(1, 100_000), default=500, help="每个事务的证书数 / certificates per transaction"
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def rotate_cmd(batch: int, as_json: bool) -> None:
    """新密钥加密全部个人信息；中断后重跑即续完 / seal every holder's data under a new key; rerun to resume.

    旧密钥保留（历史版本与审计日志仍以其加密）/ older keys stay: superseded versions and the audit
    log remain sealed under them.
    """
    s = settings()
    with errors_mapped(as_json), open_registry(s) as reg:
        r = rotate_keys(s, reg, batch=batch)
    verb = "续完 resumed" if r.resumed else "已轮换 rotated"
    emit(
        {
            "previous": r.previous,
            "key": r.key,
            "resumed": r.resumed,
            "certificates": r.certificates,
            "photos": r.photos,
            "keys_dir": str(s.keys_dir),
        },
        as_json,
        f"数据密钥{verb}: {r.previous or '明文 clear'} → {r.key}；证书 certificates {r.certificates}，照片 photos "
        f"{r.photos}\n  密钥目录 keys: {s.keys_dir}（旧密钥须保留 keep the older keys）",
    )
