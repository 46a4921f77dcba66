"""The domain core: certificate numbers, ID documents, code tables, field rules, the
working-day calendar, and the registry store with imports, number allocation and audit."""

from __future__ import annotations

from .blanks import BlankReceipt, BlankSheet, Period, StockReport, export_blank_report, parse_period
from .errors import Problem, SkillcertError
from .filings import institution_from_toml
from .ids import IdDocument, check_id, parse_id
from .importer import ImportReport, import_results
from .models import Certificate, CertStatus, Institution, Style
from .numbers import CertificateNumber, check_number, format_number, parse_number
from .report import ReportStatus, export_report, report_status
from .store import Registry
from .tables import LEVELS, Variant
from .workdays import WorkdayCalendar

__all__ = [
    "LEVELS",
    "BlankReceipt",
    "BlankSheet",
    "CertStatus",
    "Certificate",
    "CertificateNumber",
    "IdDocument",
    "ImportReport",
    "Institution",
    "Period",
    "Problem",
    "Registry",
    "ReportStatus",
    "SkillcertError",
    "StockReport",
    "Style",
    "Variant",
    "WorkdayCalendar",
    "check_id",
    "check_number",
    "export_blank_report",
    "export_report",
    "format_number",
    "import_results",
    "institution_from_toml",
    "parse_id",
    "parse_number",
    "parse_period",
    "report_status",
]
