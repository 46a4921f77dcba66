from __future__ import annotations

import sys
from pathlib import Path

import click

from sign import PadesLevel, SealBoxSpec, SealOptions

from ..pipeline import default_workers
from ..seals import identity_spec
from ..signing_job import SignJob, sign_files
from ._runtime import emit, errors_mapped, open_registry, settings


def _box(text: str) -> tuple[int, tuple[float, float, float, float]]:
    try:
        page, x, y, w, h = (float(v) for v in text.split(","))
    except ValueError as e:
        raise click.BadParameter("应为 PAGE,X,Y,W,H（页从 1 起，单位为点，原点在左下角）/ expected PAGE,X,Y,W,H") from e
    return int(page) - 1, (x, y, w, h)


@click.command("sign")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--identity", "name", required=True, help="已登记的签名身份 / a filed signing identity")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--seal-box", help="PAGE,X,Y,W,H：新印章位置（页从 1 起；点，原点左下）/ where the seal goes, in points")
@click.option("--seal-field", help="签入已有的空签名域 / sign this existing empty signature field")
@click.option("--level", type=click.Choice([lv.value for lv in PadesLevel]))
@click.option("--force", is_flag=True, help="已签名的文件也再加一个印章 / add a seal even if already signed")
@click.option("--workers", type=int)
@click.option("--json", "as_json", is_flag=True)
def sign_cmd(
    files: tuple[Path, ...],
    name: str,
    out: Path,
    seal_box: str | None,
    seal_field: str | None,
    level: str | None,
    force: bool,
    workers: int | None,
    as_json: bool,
) -> None:
    """为已有的 PDF 批量签章；不覆盖输入 / seal existing PDFs in a batch; inputs are never overwritten."""
    s = settings()
    with errors_mapped(as_json):
        if bool(seal_box) == bool(seal_field):
            raise click.UsageError("give exactly one of --seal-box or --seal-field")
        with open_registry(s) as reg:
            spec = identity_spec(reg.identity(name))
        if seal_box:
            page, rect = _box(seal_box)
            box = SealBoxSpec(spec.seal_kind, page, rect)
        else:
            box = SealBoxSpec(spec.seal_kind, 0, None, field=seal_field)
        lv = PadesLevel(level or s.seal_level)
        job = SignJob(
            identity=spec,
            box=box,
            out_dir=out,
            force=force,
            workers=workers or default_workers(),
            options=SealOptions(level=lv, tsa_url=s.tsa_url, trust_roots=s.trust_roots),
        )
        out.mkdir(parents=True, exist_ok=True)
        with click.progressbar(length=len(files), label="签章 sealing", file=sys.stderr, show_eta=True) as bar:
            results = sign_files(files, job, progress=bar.update)
    counts = {k: sum(1 for r in results if r.outcome == k) for k in ("signed", "skipped", "failed")}
    lines = [
        f"签章 sealed {counts['signed']} · 跳过 skipped {counts['skipped']} · 失败 failed {counts['failed']} → {out}"
    ]
    lines += [f"  {r.outcome}: {r.source} — {r.reason_zh} / {r.reason_en}" for r in results if r.outcome != "signed"]
    emit({"counts": counts, "files": [r.as_dict() for r in results]}, as_json, "\n".join(lines))
    if counts["failed"]:
        sys.exit(11)
