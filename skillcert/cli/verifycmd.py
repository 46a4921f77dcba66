from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from registry.errors import NotFound, SkillcertError
from search_index import Snapshot
from sign import UnreadablePdf
from verify import CheckReport, Verdict, check_pdf
from verify.check import read_embedded
from verify.sealed_document import (
    DocumentReport,
    DocumentVerdict,
    FiledSigner,
    check_sealed_document,
    snapshot_signers,
)

from ..settings import Settings
from ._runtime import JSON_HELP, ExitCode, current_snapshot, emit, errors_mapped, finish, open_registry, settings

EXIT = {
    Verdict.VALID: ExitCode.OK,
    Verdict.INVALID: ExitCode.VERIFY_INVALID,
    Verdict.REVOKED: ExitCode.VERIFY_NOT_CURRENT,
    Verdict.REPLACED: ExitCode.VERIFY_NOT_CURRENT,
    Verdict.SUSPENDED: ExitCode.VERIFY_NOT_CURRENT,
    Verdict.UNKNOWN: ExitCode.VERIFY_UNKNOWN,
}
# a sealed document that is not a register certificate: never 0, which a script reads as a valid certificate
DOCUMENT_EXIT = {
    DocumentVerdict.SEALED: ExitCode.VERIFY_SEALED_DOCUMENT,
    DocumentVerdict.INVALID: ExitCode.VERIFY_INVALID,
    DocumentVerdict.UNKNOWN: ExitCode.VERIFY_UNKNOWN,
}
Report = CheckReport | DocumentReport


def _exit(report: Report) -> ExitCode:
    if isinstance(report, DocumentReport):
        return DOCUMENT_EXIT[report.bottom_line]
    return EXIT[report.bottom_line]


_MARK = {"pass": "✓", "fail": "✗", "not_applicable": "–", "unknown": "?"}


def _registry_signers(s: Settings) -> Callable[[str], FiledSigner | None]:
    """No snapshot yet: the registry's own filing says whose key a fingerprint is."""

    def signer_of(fingerprint: str) -> FiledSigner | None:
        with open_registry(s) as reg:
            for ident in reg.seals.identities():
                if ident.fingerprint == fingerprint.lower():
                    inst = reg.institutions.get(ident.institution_code)
                    since = None if inst.status_date is None else inst.status_date.isoformat()
                    fps = reg.seals.filed_fingerprints(inst.code)
                    return FiledSigner(inst.code, inst.name_zh, fps, inst.status.value, since)
        return None

    return signer_of


def _verify_one(s: Settings, snap: Snapshot | None, path: Path, online: bool) -> Report:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UnreadablePdf(f"无法读取 {path}", f"cannot read {path}: {e}") from e
    if read_embedded(data) is None:  # no certificate record: judge it as a document the institution sealed
        if snap is not None:
            signer_of = snapshot_signers(snap)
        elif s.has_registry():
            signer_of = _registry_signers(s)
        else:
            signer_of = lambda _fp: None  # noqa: E731
        return check_sealed_document(data, s.trust_roots, signer_of, online=online)
    if snap is not None or not s.has_registry():
        return check_pdf(data, snap, s.trust_roots, online=online)

    def filed(code: str) -> frozenset[str]:  # no snapshot yet: the registry's own filing
        with open_registry(s) as reg:
            try:
                return reg.seals.filed_fingerprints(code)
            except NotFound:
                return frozenset()

    return check_pdf(data, None, s.trust_roots, online=online, filed=filed)


def _worst(codes: list[ExitCode]) -> ExitCode:
    """The folder's exit code: a failure (20-22, the highest) before a sealed document (23) before 0."""
    sealed = ExitCode.VERIFY_SEALED_DOCUMENT
    bad = [c for c in codes if c not in (ExitCode.OK, sealed)]
    return max(bad) if bad else (sealed if sealed in codes else ExitCode.OK)


def _lines(report: Report, snap: Snapshot | None) -> list[str]:
    if isinstance(report, DocumentReport):
        zh, en = report.sentence()
        lines = [f"结论 bottom line: {report.bottom_line.value.upper()} — {zh} / {en}"]
        lines += [f"  {_MARK[c.outcome.value]} {c.name:14} {c.zh} / {c.en}" for c in report.checks]
        lines += [f"  · 此前的其他签名（未判断）earlier signature by others (not judged): {o}" for o in report.others]
        return lines
    lines = [f"结论 bottom line: {report.bottom_line.value.upper()}"]
    if report.record:
        r = report.record
        lines.append(f"  证书 certificate: {r.name} {r.occupation} {r.level_zh} · {r.institution_zh}")
    lines += [f"  {_MARK[c.outcome.value]} {c.name:14} {c.zh} / {c.en}" for c in report.checks]
    if snap is None:
        lines.append("  （未发布快照，未核对登记状态 / no snapshot published: register not checked）")
    return lines


def _check_manifest(
    s: Settings, snap: Snapshot | None, manifest: Path, online: bool
) -> tuple[ExitCode, dict[str, Any]]:
    """Every sealed row of a ``skillcert sign`` manifest: the output is there, has the recorded
    SHA-256, and its seal verdict holds."""
    import hashlib

    from ..sign_manifest import read_manifest

    rows = [r for r in read_manifest(manifest) if r.status in ("signed", "done")]
    if not rows and not manifest.exists():
        raise SkillcertError(f"清单 {manifest} 不存在", f"the manifest {manifest} does not exist")
    files, codes = [], []
    for row in rows:
        out = Path(row.output)
        entry: dict[str, Any] = {"input": row.input, "output": row.output}
        if not out.is_file():
            entry.update(bottom_line="missing", zh="输出文件不存在", en="the output file is missing")
            codes.append(ExitCode.VERIFY_INVALID)
        elif hashlib.sha256(out.read_bytes()).hexdigest() != row.sha256:
            entry.update(
                bottom_line="changed",
                zh="文件与清单记录的 SHA-256 不符",
                en="the file's SHA-256 differs from the manifest",
            )
            codes.append(ExitCode.VERIFY_INVALID)
        else:
            try:
                report = _verify_one(s, snap, out, online)
            except UnreadablePdf as e:
                entry.update(bottom_line="unreadable", zh=e.zh, en=e.en)
                codes.append(ExitCode.UNREADABLE_PDF)
            else:
                d = report.as_dict()
                entry.update(bottom_line=report.bottom_line.value, zh=d["zh"], en=d["en"])
                codes.append(_exit(report))
        files.append(entry)
    counts: dict[str, int] = {}
    for f in files:
        counts[f["bottom_line"]] = counts.get(f["bottom_line"], 0) + 1
    return _worst(codes), {"manifest": str(manifest), "counts": counts, "files": files}


@click.command("verify")
@click.argument("target", type=click.Path(path_type=Path), required=False)
@click.option(
    "--online", is_flag=True, help="为无吊销信息的签名联网查询 OCSP/CRL / fetch revocation data if none is embedded"
)
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    help="核对 `skillcert sign` 的清单中每个文件 / check every file of a `skillcert sign` manifest",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def verify_cmd(target: Path | None, online: bool, manifest: Path | None, as_json: bool) -> None:
    """验证证书 PDF（或文件夹中所有 PDF）的电子印章 / check the seals of a PDF, or of every PDF in a folder.

    有已发布的快照时同时核对登记状态（与查验网站结论相同）/ with a published snapshot the register is
    checked too (the site's verdict). 没有证书数据的文件按机构盖章文件核对 / a file without a certificate
    record is judged as a document the institution sealed (``sealed``: not a register certificate).

    退出码 exit: 0 valid · 20 invalid · 21 revoked, replaced or suspended · 22 unknown · 23 sealed
    document, not a register certificate · 13 unreadable (the worst file counts).
    """
    s = settings()
    with errors_mapped(as_json):
        if not s.trust_roots:
            raise SkillcertError(
                "设置中没有信任根证书（[seal] trust_roots）", "no trust roots in the settings ([seal] trust_roots)"
            )
        if (target is None) == (manifest is None):
            raise click.UsageError("give a PDF or folder, or --manifest")
        snap = current_snapshot(s)
        if manifest is not None:
            code, data = _check_manifest(s, snap, manifest, online)
            text = [f"{len(data['files'])} 个文件 files: {data['counts']}"]
            text += [
                f"  {f['bottom_line'].upper():10} {f['output']} — {f['zh']} / {f['en']}"
                for f in data["files"]
                if f["bottom_line"] != DocumentVerdict.SEALED.value
            ]
            emit(data, as_json, "\n".join(text))
            finish(code)
        assert target is not None
        if target.is_dir():
            paths = sorted(target.glob("*.pdf"))
            results = [(p, _verify_one(s, snap, p, online)) for p in paths]
            worst = _worst([_exit(st) for _, st in results])
            counts: dict[str, int] = {}
            for _, st in results:
                counts[st.bottom_line.value] = counts.get(st.bottom_line.value, 0) + 1
            emit(
                {
                    "folder": str(target),
                    "counts": counts,
                    "files": [{"file": p.name, "bottom_line": st.bottom_line.value} for p, st in results],
                },
                as_json,
                "\n".join(
                    [
                        f"{len(results)} 个文件 files: {counts}",
                        *(
                            f"  {st.bottom_line.value.upper():8} {p.name}"
                            for p, st in results
                            if st.bottom_line.value not in (Verdict.VALID.value, DocumentVerdict.SEALED.value)
                        ),
                    ]
                ),
            )
            finish(worst)
        report = _verify_one(s, snap, target, online)
    emit(report.as_dict(), as_json, "\n".join(_lines(report, snap)))
    finish(_exit(report))
