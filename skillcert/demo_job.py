"""The main job on embedded defaults: ``skillcert demo``.

Creates the registry under ``$SKILLCERT_HOME``, files the three demo institutions and
imports their sample batches. Running it again changes nothing (it is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from registry import Registry, import_results, institution_from_toml
from registry.errors import NotFound
from registry.tabular import open_table

from .demo import DEMO_DIR
from .settings import SETTINGS_TEMPLATE, Settings

__all__ = ["DEMO_BATCHES", "DemoResult", "run_demo"]

# (filing file, results file) per demo institution
DEMO_BATCHES: tuple[tuple[str, str], ...] = (
    ("institution-beijing.toml", "results.csv"),
    ("institution-ministry.toml", "results-y0001.csv"),
    ("institution-guangdong.toml", "results-gd.csv"),
)


@dataclass(slots=True)
class DemoResult:
    home: Path
    institutions: list[str] = field(default_factory=list)
    imported: dict[str, int] = field(default_factory=dict)  # institution code -> rows imported now
    already: list[str] = field(default_factory=list)  # what was there from an earlier run
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "home": str(self.home),
            "registry": str(self.home / "registry.sqlite"),
            "institutions": self.institutions,
            "imported": self.imported,
            "already": self.already,
            "counts": self.counts,
        }


def run_demo(s: Settings, *, today: date) -> DemoResult:
    s.home.mkdir(parents=True, exist_ok=True)
    if not s.settings_path.exists():
        s.settings_path.write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    result = DemoResult(s.home)
    with Registry.create(s.registry_path) as reg:
        for filing_name, results_name in DEMO_BATCHES:
            inst = institution_from_toml((DEMO_DIR / filing_name).read_text(encoding="utf-8"), source=filing_name)
            result.institutions.append(inst.code)
            try:
                reg.institution(inst.code)
                result.already.append(inst.code)
            except NotFound:
                reg.add_institution(inst, actor=s.actor)
            results = DEMO_DIR / results_name
            if reg.batch_for_source(inst.code, open_table(results).sha256) is not None:
                result.already.append(results_name)
                continue
            report = import_results(reg, results, inst.code, today=today, actor=s.actor)
            result.imported[inst.code] = report.rows
        result.counts = reg.counts()
    return result
