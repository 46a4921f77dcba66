from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.errors import NotFound, SkillcertError
from search_index import Snapshot
from sign import UnreadablePdf
from verify import CheckReport, Verdict, check_pdf

from ..settings import Settings
from ._runtime import emit, errors_mapped, open_registry, settings

EXIT = {
    Verdict.VALID: 0,
    Verdict.INVALID: 20,
    Verdict.REVOKED: 21,
    Verdict.REPLACED: 21,
    Verdict.SUSPENDED: 21,
    Verdict.UNKNOWN: 22,
}
_MARK = {"pass": "✓", "fail": "✗", "not_applicable": "–", "unknown": "?"}


def _snapshot(s: Settings) -> Snapshot | None:
    """The current snapshot under ``$SKILLCERT_HOME``, if one was published (the site's verdict)."""
    if not (s.home / "snapshots" / "current" / "manifest.json").exists():
        return None
    return Snapshot.open(s.home)


def _verify_one(s: Settings, snap: Snapshot | None, path: Path, online: bool) -> CheckReport:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UnreadablePdf(f"无法读取 {path}", f"cannot read {path}: {e}") from e
    if snap is not None or not s.registry_path.exists():
        return check_pdf(data, snap, s.trust_roots, online=online)

    def filed(code: str) -> frozenset[str]:  # no snapshot yet: the registry's own filing
        with open_registry(s) as reg:
            try:
                return reg.filed_fingerprints(code)
            except NotFound:
                return frozenset()

    return check_pdf(data, None, s.trust_roots, online=online, filed=filed)


@click.command("verify")
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--online", is_flag=True, help="为无吊销信息的签名联网查询 OCSP/CRL / fetch revocation data if none is embedded"
)
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(target: Path, online: bool, as_json: bool) -> None:
    """验证证书 PDF（或文件夹中所有 PDF）的电子印章 / check the seals of a PDF, or of every PDF in a folder.

    有已发布的快照时同时核对登记状态（与查验网站结论相同）/ with a published snapshot the register is
    checked too (the site's verdict).

    退出码 exit: 0 valid · 20 invalid · 21 revoked, replaced or suspended · 22 unknown · 13 unreadable
    (the worst file counts).
    """
    s = settings()
    with errors_mapped(as_json):
        if not s.trust_roots:
            raise SkillcertError(
                "设置中没有信任根证书（[seal] trust_roots）", "no trust roots in the settings ([seal] trust_roots)"
            )
        snap = _snapshot(s)
        if target.is_dir():
            paths = sorted(target.glob("*.pdf"))
            results = [(p, _verify_one(s, snap, p, online)) for p in paths]
            worst = max((EXIT[st.bottom_line] for _, st in results), default=0)
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
                            if st.bottom_line is not Verdict.VALID
                        ),
                    ]
                ),
            )
            sys.exit(worst)
        report = _verify_one(s, snap, target, online)
    lines = [f"结论 bottom line: {report.bottom_line.value.upper()}"]
    if report.record:
        r = report.record
        lines.append(f"  证书 certificate: {r['name']} {r['occupation']} {r['level_zh']} · {r['institution_zh']}")
    lines += [f"  {_MARK[c.outcome.value]} {c.name:14} {c.zh} / {c.en}" for c in report.checks]
    if snap is None:
        lines.append("  （未发布快照，未核对登记状态 / no snapshot published: register not checked）")
    emit(report.as_dict(), as_json, "\n".join(lines))
    sys.exit(EXIT[report.bottom_line])
