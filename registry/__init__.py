"""The domain core: certificate numbers, ID documents, code tables, field rules, the
working-day calendar, and the registry store with imports, number allocation and audit."""

from __future__ import annotations

from .errors import Problem, SkillcertError
from .filings import institution_from_toml
from .ids import IdDocument, check_id, parse_id
from .importer import ImportReport, import_results
from .models import Certificate, CertStatus, Institution, Style
from .numbers import CertificateNumber, check_number, format_number, parse_number
from .report import export_report
from .store import Registry
from .tables import LEVELS, Variant
from .workdays import WorkdayCalendar

__all__ = [
    "LEVELS",
    "CertStatus",
    "Certificate",
    "CertificateNumber",
    "IdDocument",
    "ImportReport",
    "Institution",
    "Problem",
    "Registry",
    "SkillcertError",
    "Style",
    "Variant",
    "WorkdayCalendar",
    "check_id",
    "check_number",
    "export_report",
    "format_number",
    "import_results",
    "institution_from_toml",
    "parse_id",
    "parse_number",
]
