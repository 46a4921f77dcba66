"""The main job on embedded defaults: ``skillcert demo``.

Creates the registry under ``$SKILLCERT_HOME``, files the three demo institutions, imports
their sample batches, makes a demo PKI (certomancer) with one seal key per filed seal, serves
its TSA/OCSP/CRL on 127.0.0.1 while it issues and seals every certificate (at the settings'
level, B-LTA by default) into ``out/`` (with a download notice per holder in ``out/notices/``), and publishes the snapshot the
verification site serves. Running it again changes nothing (it is idempotent and resumes an
interrupted run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from registry import Registry, import_results, institution_from_toml
from registry.errors import NotFound
from registry.tabular import open_table
from render import embedded_record
from search_index import publish
from sign import PadesLevel, PkiServer

from .demo import DEMO_DIR
from .keys_job import first_data_key
from .pipeline import IssueOptions, issue_batch
from .seals import setup_demo_pki
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
    issued: dict[str, int] = field(default_factory=dict)  # institution code -> PDFs delivered now
    out_dir: Path | None = None
    example: str | None = None  # one certificate's PDF
    example_url: str | None = None  # its QR landing page
    snapshot: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "home": str(self.home),
            "registry": str(self.home / "registry.sqlite"),
            "institutions": self.institutions,
            "imported": self.imported,
            "already": self.already,
            "counts": self.counts,
            "issued": self.issued,
            "out": str(self.out_dir) if self.out_dir else None,
            "example_pdf": self.example,
            "example_url": self.example_url,
            "snapshot": self.snapshot,
        }


def run_demo(
    s: Settings, *, today: date, out_dir: Path | None = None, workers: int = 1, issue: bool = True
) -> DemoResult:
    s.home.mkdir(parents=True, exist_ok=True)
    if not s.settings_path.exists():
        s.settings_path.write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    result = DemoResult(s.home)
    first_data_key(s)
    with Registry.create(s.registry_location, keys=s.keys_dir) as reg:
        for filing_name, results_name in DEMO_BATCHES:
            inst = institution_from_toml((DEMO_DIR / filing_name).read_text(encoding="utf-8"), source=filing_name)
            result.institutions.append(inst.code)
            try:
                reg.institutions.get(inst.code)
                result.already.append(inst.code)
            except NotFound:
                reg.institutions.add(inst, actor=s.actor)
            results = DEMO_DIR / results_name
            if reg.certificates.batch_for_source(inst.code, open_table(results).sha256) is not None:
                result.already.append(results_name)
                continue
            report = import_results(reg, results, inst.code, today=today, actor=s.actor)
            result.imported[inst.code] = report.rows
        if issue:
            pki = setup_demo_pki(s, reg)
            s2 = Settings.from_env({"SKILLCERT_HOME": str(s.home), "SKILLCERT_ACTOR": s.actor})
            result.out_dir = out_dir or s.home / "out"
            with PkiServer(pki):
                for code in result.institutions:
                    opts = IssueOptions(
                        institution_code=code,
                        out_dir=result.out_dir,
                        issue_date=today,
                        level=PadesLevel(s2.seal_level),
                        workers=workers,
                        tsa_url=s2.tsa_url,
                        trust_roots=s2.trust_roots,
                        downloads_dir=s.downloads_dir,
                    )
                    summary = issue_batch(reg, opts, render_settings=s.render_settings(), actor=s.actor)
                    result.issued[code] = summary.delivered + summary.recovered
            first = next(iter(sorted(result.out_dir.glob("*.pdf"))), None)
            result.example = str(first) if first else None
            if first is not None:
                record = embedded_record(first.read_bytes())
                result.example_url = record.qr_url if record else None
            current = s.home / "snapshots" / "current" / "manifest.json"
            manifest = publish(
                reg,
                s.home,
                incremental=current.exists(),
                actor=s.actor,
                downloads_dir=s.downloads_dir,
                site_url=s.site_url,
            )
            result.snapshot = str(manifest.path)
        result.counts = reg.certificates.counts()
    return result
