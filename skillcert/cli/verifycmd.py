from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from registry.errors import NotFound, SkillcertError
from render import read_record
from sign import BottomLine, SealStatus, Trust, UnreadablePdf, validate_pdf

from ..settings import Settings
from ._runtime import emit, errors_mapped, open_registry, settings

EXIT = {BottomLine.VALID: 0, BottomLine.INVALID: 20, BottomLine.REVOKED: 21, BottomLine.UNKNOWN: 22}
_MARK = {"pass": "✓", "fail": "✗", "not_applicable": "–", "unknown": "?"}


def _verify_one(s: Settings, path: Path, online: bool) -> tuple[SealStatus, dict[str, Any] | None]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UnreadablePdf(f"无法读取 {path}", f"cannot read {path}: {e}") from e
    try:
        record = read_record(data) if data.startswith(b"%PDF-") else None
    except Exception:  # a damaged attachment: the seal check below reports the file
        record = None
    filed = None
    if record and s.registry_path.exists():
        with open_registry(s) as reg:
            try:
                filed = reg.filed_fingerprints(str(record.get("institution_code")))
            except NotFound:
                filed = frozenset()
    return validate_pdf(data, Trust(roots=s.trust_roots, filed_fingerprints=filed, online=online)), record


@click.command("verify")
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--online", is_flag=True, help="为无吊销信息的签名联网查询 OCSP/CRL / fetch revocation data if none is embedded"
)
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(target: Path, online: bool, as_json: bool) -> None:
    """验证证书 PDF（或文件夹中所有 PDF）的电子印章 / check the seals of a PDF, or of every PDF in a folder.

    退出码 exit: 0 valid · 20 invalid · 21 revoked · 22 unknown · 13 unreadable (the worst file counts).
    """
    s = settings()
    with errors_mapped(as_json):
        if not s.trust_roots:
            raise SkillcertError(
                "设置中没有信任根证书（[seal] trust_roots）", "no trust roots in the settings ([seal] trust_roots)"
            )
        if target.is_dir():
            paths = sorted(target.glob("*.pdf"))
            results = [(p, *_verify_one(s, p, online)) for p in paths]
            worst = max((EXIT[st.bottom_line] for _, st, _ in results), default=0)
            counts: dict[str, int] = {}
            for _, st, _ in results:
                counts[st.bottom_line.value] = counts.get(st.bottom_line.value, 0) + 1
            emit(
                {
                    "folder": str(target),
                    "counts": counts,
                    "files": [{"file": p.name, "bottom_line": st.bottom_line.value} for p, st, _ in results],
                },
                as_json,
                "\n".join(
                    [
                        f"{len(results)} 个文件 files: {counts}",
                        *(
                            f"  {st.bottom_line.value.upper():8} {p.name}"
                            for p, st, _ in results
                            if st.bottom_line is not BottomLine.VALID
                        ),
                    ]
                ),
            )
            sys.exit(worst)
        status, record = _verify_one(s, target, online)
    lines = [f"结论 bottom line: {status.bottom_line.value.upper()}"]
    if record:
        lines.append(f"  证书 certificate: {record.get('number')} {record.get('institution_name')}")
    lines += [f"  {_MARK[c.outcome.value]} {c.name:13} {c.zh} / {c.en}" for c in status.checks]
    emit({**status.as_dict(), "record_number": record.get("number") if record else None}, as_json, "\n".join(lines))
    sys.exit(EXIT[status.bottom_line])
