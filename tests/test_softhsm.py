"""A batch sealed with a key inside SoftHSM2 through PKCS#11 (system test)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from registry import Registry, institution_from_toml
from sign import DemoPki, PadesLevel, Pkcs11Identity, PkiServer, SealSubject, Trust, make_demo_pki, validate_pdf
from skillcert.demo import DEMO_DIR
from skillcert.pipeline import IssueOptions, issue_batch
from skillcert.seals import file_identity
from skillcert.settings import Settings

from .softhsm import MODULE, token_with


@pytest.mark.system
@pytest.mark.slow
def test_batch_sealed_in_softhsm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_program: Callable[[str], str]
) -> None:
    softhsm = require_program("softhsm2-util")
    pki: DemoPki = make_demo_pki(
        tmp_path / "pki", [SealSubject("hsm-seal", "北京市海淀区明德职业技能培训学校", "明德")]
    )
    token_with(tmp_path, monkeypatch, softhsm, pki, "hsm-seal", label="skillcert", chain=True)

    s = Settings.from_env({"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "t"})
    with Registry.create(s.registry_path) as reg:
        reg.institutions.add(institution_from_toml((DEMO_DIR / "institution-beijing.toml").read_text()), actor="t")
        from registry import import_results

        import_results(reg, DEMO_DIR / "results.csv", "S000011084012", today=date(2026, 11, 20), actor="t")
        file_identity(
            reg,
            name="hsm",
            institution_code="S000011084012",
            seal_kind="institution",
            actor="t",
            identity=Pkcs11Identity(module=MODULE, token_label="skillcert", key_label="hsm-seal"),
        )
        with PkiServer(pki):
            summary = issue_batch(
                reg,
                IssueOptions(
                    institution_code="S000011084012",
                    out_dir=tmp_path / "out",
                    issue_date=date(2026, 11, 20),
                    level=PadesLevel.B_LTA,
                    workers=1,
                    tsa_url=pki.tsa_url,
                    trust_roots=(pki.root_cert,),
                ),
                render_settings=s.render_settings(),
                actor="t",
            )
        filed = reg.seals.filed_fingerprints("S000011084012")
    assert summary.delivered == 60
    for path in sorted((tmp_path / "out").glob("*.pdf"))[:20]:
        st = validate_pdf(path.read_bytes(), Trust(roots=(pki.root_cert,), filed_fingerprints=filed))
        assert st.bottom_line.value == "valid", st.as_dict()
