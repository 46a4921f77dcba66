"""The domain core: certificate numbers, ID documents, code tables, field rules, the
working-day calendar, and the registry store with imports, number allocation and audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:  # the type checker sees every name; at run time each module loads when first used
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

# name -> module (see registry._lazy)
_EXPORTS = {
    "BlankReceipt": ".blanks",
    "BlankSheet": ".blanks",
    "CertStatus": ".models",
    "Certificate": ".models",
    "CertificateNumber": ".numbers",
    "IdDocument": ".ids",
    "ImportReport": ".importer",
    "Institution": ".models",
    "LEVELS": ".tables",
    "Period": ".blanks",
    "Problem": ".errors",
    "Registry": ".store",
    "ReportStatus": ".report",
    "SkillcertError": ".errors",
    "StockReport": ".blanks",
    "Style": ".models",
    "Variant": ".tables",
    "WorkdayCalendar": ".workdays",
    "check_id": ".ids",
    "check_number": ".numbers",
    "export_blank_report": ".blanks",
    "export_report": ".report",
    "format_number": ".numbers",
    "import_results": ".importer",
    "institution_from_toml": ".filings",
    "parse_id": ".ids",
    "parse_number": ".numbers",
    "parse_period": ".blanks",
    "report_status": ".report",
}


__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)

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
