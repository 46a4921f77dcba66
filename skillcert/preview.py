"""Sample data for ``skillcert render --preview``: a demo institution and holder per style."""

from __future__ import annotations

import csv
from datetime import date

from registry import institution_from_toml
from registry.ids import parse_id
from registry.models import Certificate, CertStatus, Institution, Style
from registry.numbers import format_number
from registry.tables import level_from_text

from .demo import DEMO_DIR
from .demo_job import DEMO_BATCHES

__all__ = ["preview_record"]

_BY_STYLE = {Style.STYLE1: 0, Style.STYLE2: 1, Style.GUANGDONG: 2}


def preview_record(style: Style, *, row: int = 0) -> tuple[Certificate, Institution, bytes]:
    """The ``row``-th holder of the demo batch of the institution that uses ``style``."""
    filing, results = DEMO_BATCHES[_BY_STYLE[style]]
    inst = institution_from_toml((DEMO_DIR / filing).read_text(encoding="utf-8"), source=filing)
    with (DEMO_DIR / results).open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    r = rows[row % len(rows)]
    doc = parse_id(r["证件类型"], r["证件号码"])
    level = level_from_text(r["职业技能等级"]) or 5
    issue = date(2026, 11, 20)
    cert = Certificate(
        id=row + 1,
        institution_code=inst.code,
        batch_id=0,
        row=row + 2,
        name=r["姓名"],
        id_type=doc.type.code,
        id_number=doc.number,
        occupation=r["职业名称"],
        job=r["工种/职业方向"].strip(),
        level=level,
        photo_sha256="",
        work_unit=r["所在单位"],
        status=CertStatus.VALID,
        version=1,
        number=format_number(inst.code, issue.year, level, row + 1),
        issue_date=issue,
        qr_token="preview-token",
    )
    return cert, inst, (DEMO_DIR / r["照片"]).read_bytes()
