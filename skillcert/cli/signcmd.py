from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from registry.errors import NotFound, SkillcertError
from sign import PadesLevel, SealBoxSpec, SealOptions
from sign.appearance import SealPicture
from sign.placement import Placement
from sign.qr_key import QR_SEAL_KIND

from ..pipeline import default_workers
from ..seals import identity_spec, seal_services
from ..signing_job import SignJob, check_tsa, sign_files
from ._runtime import JSON_HELP, ExitCode, emit, errors_mapped, finish, open_registry, settings


def _box(text: str) -> tuple[int, tuple[float, float, float, float]]:
    try:
        page, x, y, w, h = (float(v) for v in text.split(","))
    except ValueError as e:
        raise click.BadParameter("应为 PAGE,X,Y,W,H（页从 1 起，单位为点，原点在左下角）/ expected PAGE,X,Y,W,H") from e
    return int(page) - 1, (x, y, w, h)


def _picture(reg: object, code: str, kind: str) -> SealPicture:
    """The institution's filed seal, drawn by the renderer's seal code."""
    from render.seal_picture import seal_pdf

    try:
        inst = reg.institutions.get(code)  # type: ignore[attr-defined]
    except NotFound as e:
        raise SkillcertError(
            f"签名身份所属机构 {code} 未备案", f"the identity's institution {code} is not filed"
        ) from e
    seals = {s.kind: s for s in inst.seals}
    seal = seals.get(kind) or seals.get("institution")
    if seal is None:
        raise SkillcertError(f"机构 {code} 没有备案“{kind}”印章", f"institution {code} has no filed {kind!r} seal")
    return SealPicture(seal_pdf(seal))


class _Rate:
    """Progress text: files per second since the start (click shows the ETA)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.done = 0

    def update(self, bar: object, n: int) -> None:
        self.done += n
        bar.update(n)  # type: ignore[attr-defined]

    def show(self, _: object) -> str:
        secs = time.monotonic() - self.start
        return f"{self.done / secs:.1f} 份/秒 PDFs/s" if secs > 0 and self.done else ""


@click.command("sign")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--identity", "name", required=True, help="已登记的签名身份 / a filed signing identity")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="输出目录 / output folder")
@click.option("--seal-box", help="PAGE,X,Y,W,H：新印章位置（页从 1 起；点，原点左下）/ where the seal goes, in points")
@click.option(
    "--anchor", help="盖在最后一处该文字上（如“（盖章）”或机构名称）/ seal over the last occurrence of this text"
)
@click.option(
    "--perforation",
    is_flag=True,
    help="骑缝章：印章分切在每页右边缘 / a perforation seal across all pages' right edges",
)
@click.option("--seal-field", help="签入已有的空签名域 / sign this existing empty signature field")
@click.option("--invisible", is_flag=True, help="不画印章（空外观）/ no drawn seal (an empty appearance)")
@click.option(
    "--level", type=click.Choice([lv.value for lv in PadesLevel]), help="默认取设置（B-LTA）/ default: settings (B-LTA)"
)
@click.option("--force", is_flag=True, help="已签名的文件也再加一个印章 / add a seal even if already signed")
@click.option("--workers", type=int, help="并行进程数（默认每核一个）/ processes (default: one per core)")
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    help="清单 CSV（默认 OUT/manifest.csv）/ the manifest CSV",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def sign_cmd(
    files: tuple[Path, ...],
    name: str,
    out: Path,
    seal_box: str | None,
    anchor: str | None,
    perforation: bool,
    seal_field: str | None,
    invisible: bool,
    level: str | None,
    force: bool,
    workers: int | None,
    manifest: Path | None,
    as_json: bool,
) -> None:
    """为已有的 PDF 批量加盖电子印章；不覆盖输入，中断后重跑续完 / seal existing PDFs in a batch with the
    institution's drawn seal; inputs are never overwritten, a rerun resumes.

    印章位置 where: --seal-box, --anchor, --perforation, --seal-field, or by default the lower right
    of the last page. 清单 manifest: OUT/manifest.csv (check it later with `skillcert verify --manifest`).
    """
    s = settings()
    with errors_mapped(as_json):
        if sum(map(bool, (seal_box, anchor, perforation, seal_field))) > 1:
            raise click.UsageError("give at most one of --seal-box, --anchor, --perforation, --seal-field")
        with open_registry(s) as reg:
            rec = reg.seals.identity(name)
            if rec.seal_kind == QR_SEAL_KIND:  # a key purpose, not a seal: it never signs a PDF
                raise SkillcertError(
                    f"签名身份 {name} 是二维码与电子凭证密钥，不能加盖印章",
                    f"signing identity {name} is the QR and credential key; it cannot seal a PDF",
                )
            spec = identity_spec(rec)
            picture = None if invisible else _picture(reg, rec.institution_code, rec.seal_kind)
        box, placement = None, None
        if seal_field:
            box = SealBoxSpec(spec.seal_kind, 0, None, field=seal_field)
        elif seal_box:
            page, rect = _box(seal_box)
            box = SealBoxSpec(spec.seal_kind, page, rect)
        elif invisible:
            raise click.UsageError("--invisible needs --seal-box or --seal-field")
        else:
            placement = Placement(anchor=anchor, perforation=perforation)
        lv = PadesLevel(level or s.seal_level)
        options = SealOptions(level=lv, tsa_url=s.tsa_url, trust_roots=s.trust_roots)
        job = SignJob(
            identity=spec,
            box=box,
            placement=placement,
            picture=picture,
            out_dir=out,
            force=force,
            workers=workers or default_workers(),
            options=options,
            manifest=manifest,
        )
        with seal_services(s):  # the demo PKI's TSA/OCSP/CRL while sealing, as `skillcert issue` does
            check_tsa(options)
            rate = _Rate()
            with click.progressbar(
                length=len(files), label="签章 sealing", file=sys.stderr, show_eta=True, item_show_func=rate.show
            ) as bar:
                results = sign_files(files, job, progress=lambda n: rate.update(bar, n))
    counts = {k: sum(1 for r in results if r.outcome == k) for k in ("signed", "done", "skipped", "failed")}
    lines = [
        f"签章 sealed {counts['signed']} · 此前已完成 done earlier {counts['done']} · 跳过 skipped {counts['skipped']}"
        f" · 失败 failed {counts['failed']} → {out}  (清单 manifest: {job.manifest_path})"
    ]
    lines += [
        f"  {r.outcome}: {r.source} — {r.reason_zh} / {r.reason_en}"
        for r in results
        if r.outcome in ("skipped", "failed")
    ]
    emit(
        {"counts": counts, "manifest": str(job.manifest_path), "files": [r.as_dict() for r in results]},
        as_json,
        "\n".join(lines),
    )
    if counts["failed"]:
        finish(ExitCode.INCOMPLETE)
