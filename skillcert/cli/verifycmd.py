from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.errors import NotFound, SkillcertError
from render import read_record
from sign import BottomLine, Trust, UnreadablePdf, validate_pdf

from ._runtime import emit, errors_mapped, open_registry, settings

EXIT = {BottomLine.VALID: 0, BottomLine.INVALID: 20, BottomLine.REVOKED: 21, BottomLine.UNKNOWN: 22}


@click.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--online", is_flag=True, help="为无吊销信息的签名联网查询 OCSP/CRL / fetch revocation data if none is embedded"
)
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(file: Path, online: bool, as_json: bool) -> None:
    """验证证书 PDF 的电子印章 / check a certificate PDF's seals.

    退出码 exit: 0 valid · 20 invalid · 21 revoked · 22 unknown · 13 unreadable.
    """
    s = settings()
    with errors_mapped(as_json):
        try:
            data = file.read_bytes()
        except OSError as e:
            raise UnreadablePdf(f"无法读取 {file}", f"cannot read {file}: {e}") from e
        if not s.trust_roots:
            raise SkillcertError(
                "设置中没有信任根证书（[seal] trust_roots）", "no trust roots in the settings ([seal] trust_roots)"
            )
        filed = None
        record = None
        try:
            record = read_record(data) if data.startswith(b"%PDF-") else None
        except Exception:  # a damaged attachment is reported by the seal check below
            record = None
        if record and s.registry_path.exists():
            with open_registry(s) as reg:
                try:
                    filed = reg.filed_fingerprints(str(record.get("institution_code")))
                except NotFound:
                    filed = frozenset()
        status = validate_pdf(data, Trust(roots=s.trust_roots, filed_fingerprints=filed, online=online))
    mark = {"pass": "✓", "fail": "✗", "not_applicable": "–", "unknown": "?"}
    lines = [f"结论 bottom line: {status.bottom_line.value.upper()}"]
    if record:
        lines.append(f"  证书 certificate: {record.get('number')} {record.get('institution_name')}")
    lines += [f"  {mark[c.outcome.value]} {c.name:13} {c.zh} / {c.en}" for c in status.checks]
    emit({**status.as_dict(), "record_number": record.get("number") if record else None}, as_json, "\n".join(lines))
    sys.exit(EXIT[status.bottom_line])
