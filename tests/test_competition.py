"""Competition certificates (``003_…``): a competition committee (竞赛组委会) files its
competition receipt (职业技能竞赛备案回执), carries the Beijing centre's competition seal, and
issues only within the competition's calendar year, in the committee's name."""

from __future__ import annotations

import json
import random
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from registry import Registry, import_results, institution_from_toml
from registry.errors import ImportRejected, Problem, RuleViolation
from registry.filings import institution_from_dict, institution_to_dict
from registry.models import (
    COMPETITION_SEAL_BOTTOM,
    COMPETITION_SEAL_TEXT,
    CompetitionFiling,
    Institution,
    InstitutionKind,
)
from registry.numbers import parse_number
from render import Renderer
from skillcert.demo import DEMO_DIR

from .conftest import DEMO_CODES, add_pending, filing
from .factory import id_number, name, photo_bytes, write_results
from .render_fixtures import page_chars, page_text, squash

DEMO_FILE = DEMO_DIR / "institution-competition.toml"
COMP = "S000011016001"
BJ = DEMO_CODES["beijing"]
IN_YEAR = date(2026, 11, 20)
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")  # an English sentence


# -- building filings ---------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | date):
        return str(v) if isinstance(v, int) else v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string


def to_toml(d: dict[str, Any]) -> str:
    """Enough TOML for a filing: top-level keys, then tables, then arrays of tables."""
    lines = [f"{k} = {_value(v)}" for k, v in d.items() if not isinstance(v, dict | list) or _plain_list(v)]
    for k, v in d.items():
        if isinstance(v, dict):
            lines += [f"[{k}]", *(f"{kk} = {_value(vv)}" for kk, vv in v.items())]
    for k, v in d.items():
        if isinstance(v, list) and not _plain_list(v):
            for item in v:
                lines += [f"[[{k}]]", *(f"{kk} = {_value(vv)}" for kk, vv in item.items())]
    return "\n".join(lines) + "\n"


def _plain_list(v: Any) -> bool:
    return isinstance(v, list) and not any(isinstance(x, dict) for x in v)


def demo_data() -> dict[str, Any]:
    return tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))


def problems_of(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(RuleViolation) as e:
        institution_from_toml(to_toml(data), source="comp.toml")
    assert "comp.toml" in e.value.zh and "comp.toml" in e.value.en
    return list(e.value.problems)


def assert_bilingual(problems: list[Problem], field: str) -> Problem:
    hits = [p for p in problems if p.field == field]
    assert hits, f"no problem names {field!r}: {[p.field for p in problems]}"
    p = hits[0]
    assert CJK.search(p.zh), p.zh
    assert ENGLISH.search(p.en), p.en
    return p


def competition() -> Institution:
    return institution_from_toml(DEMO_FILE.read_text(encoding="utf-8"), source=DEMO_FILE.name)


# -- 1. the filing ------------------------------------------------------------------------------


def test_demo_filing_parses_with_every_receipt_field() -> None:
    inst = competition()
    assert inst.kind is InstitutionKind.COMPETITION and inst.kind == "competition"
    assert inst.competition == CompetitionFiling(
        name="2026年北京市职业技能大赛",
        organiser="北京市总工会",
        level="市级决赛",
        contact="周明",
        year=2026,
        receipt_number="JSBA-2026-0017",
        receipt_date=date(2026, 4, 20),
        submitted_on=date(2026, 4, 8),
    )
    # the receipt is the committee's filing: its number and date stand in for filing_number/date
    assert (inst.filing_number, inst.filing_date) == ("JSBA-2026-0017", date(2026, 4, 20))
    assert inst.name_zh == "2026年北京市职业技能大赛组委会"
    (seal,) = inst.seals
    assert (seal.kind, seal.text, seal.bottom) == ("competition", COMPETITION_SEAL_TEXT, COMPETITION_SEAL_BOTTOM)
    assert seal.text + seal.bottom == "北京市职业技能鉴定管理中心竞赛专用章"
    assert inst.levels_for("电工", "") == {2, 3, 4} and inst.levels_for("焊工", "电焊工") == {2, 3}
    assert inst.competition.covers(date(2026, 1, 1)) and inst.competition.covers(date(2026, 12, 31))
    assert not inst.competition.covers(date(2027, 1, 1)) and not inst.competition.covers(date(2025, 12, 31))


def test_explicit_filing_number_and_defaults_for_seal_kind_and_bottom() -> None:
    d = demo_data()
    d["filing_number"], d["filing_date"] = "JZJBA-2026-0100", date(2026, 4, 22)
    d["seals"] = [{"text": COMPETITION_SEAL_TEXT, "activated_on": date(2026, 4, 20)}]  # kind and bottom omitted
    inst = institution_from_toml(to_toml(d))
    assert (inst.filing_number, inst.filing_date) == ("JZJBA-2026-0100", date(2026, 4, 22))
    assert inst.competition is not None and inst.competition.receipt_number == "JSBA-2026-0017"
    (seal,) = inst.seals
    assert (seal.kind, seal.bottom) == ("competition", "竞赛专用章")


def test_submitted_on_is_optional() -> None:
    d = demo_data()
    del d["competition"]["submitted_on"]
    inst = institution_from_toml(to_toml(d))
    assert inst.competition is not None and inst.competition.submitted_on is None


@pytest.mark.parametrize("key", ["name", "organiser", "level", "contact", "year", "receipt_number", "receipt_date"])
def test_each_missing_receipt_field_is_named(key: str) -> None:
    d = demo_data()
    del d["competition"][key]
    problems = problems_of(d)
    assert_bilingual(problems, f"competition.{key}")
    assert {p.field for p in problems} == {f"competition.{key}"}  # nothing else is blamed


def test_a_committee_without_its_receipt_lists_every_receipt_field() -> None:
    d = demo_data()
    del d["competition"]
    fields = {p.field for p in problems_of(d)}
    want = {"name", "organiser", "level", "contact", "year", "receipt_number", "receipt_date"}
    assert fields == {f"competition.{k}" for k in want}


BAD: list[tuple[str, Any, str]] = [
    # (what, change, the field the problem names)
    ("kind", {"kind": "contest"}, "kind"),
    ("year as words", {"competition.year": "明年"}, "competition.year"),
    ("year as a boolean", {"competition.year": True}, "competition.year"),
    ("year out of range", {"competition.year": 1999}, "competition.year"),
    ("year as a date", {"competition.year": date(2026, 1, 1)}, "competition.year"),
    ("receipt date format", {"competition.receipt_date": "2026/04/20"}, "competition.receipt_date"),
    ("receipt after the year", {"competition.receipt_date": date(2027, 1, 5)}, "competition.receipt_date"),
    ("submitted after the receipt", {"competition.submitted_on": date(2026, 4, 21)}, "competition.submitted_on"),
    ("name not text", {"competition.name": 5}, "competition.name"),
    ("blank organiser", {"competition.organiser": "   "}, "competition.organiser"),
    ("receipt not a table", {"competition": "JSBA-2026-0017"}, "competition"),
    ("not Beijing-filed", {"code": "S000044012001"}, "code"),
    ("not named as a committee", {"name_zh": "北京市总工会"}, "name_zh"),
    ("two-seal style", {"style": "style2"}, "style"),
    ("Guangdong style", {"style": "guangdong"}, "style"),
    ("filing after the year", {"filing_date": date(2027, 2, 1)}, "filing_date"),
    ("another seal text", {"seals.0.text": "2026年北京市职业技能大赛组委会"}, "seals[1].text"),
    ("another seal bottom", {"seals.0.bottom": "职业技能等级认定专用章"}, "seals[1].bottom"),
    ("an institution seal", {"seals.0.kind": "institution"}, "seals[1].kind"),
    ("no seal at all", {"seals": []}, "seals"),
]


@pytest.mark.parametrize(("what", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_each_invalid_field_is_named(what: str, change: dict[str, Any], field: str) -> None:
    d = demo_data()
    for path, value in change.items():
        *parents, last = path.split(".")
        target: Any = d
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[last] = value
    assert_bilingual(problems_of(d), field)


def test_an_evaluation_institution_may_not_carry_a_receipt() -> None:
    d = tomllib.loads(filing("beijing"))
    d["competition"] = demo_data()["competition"]
    assert_bilingual(problems_of(d), "competition")
    d["kind"] = "evaluation"
    del d["competition"]
    assert institution_from_toml(to_toml(d)).kind is InstitutionKind.EVALUATION


def test_the_model_pairs_the_kind_with_the_receipt() -> None:
    inst = competition()
    with pytest.raises(ValueError, match="competition"):
        Institution(**{**_fields(inst), "competition": None})
    beijing = institution_from_toml(filing("beijing"))
    with pytest.raises(ValueError, match="competition"):
        Institution(**{**_fields(beijing), "competition": inst.competition})


def _fields(inst: Institution) -> dict[str, Any]:
    names = [
        "code",
        "name_zh",
        "name_en",
        "parent_body",
        "filing_number",
        "filing_date",
        "style",
        "issuing_body_zh",
        "issuing_body_en",
        "seals",
        "scope",
        "status",
        "status_date",
        "merged_into",
        "one_modification_only",
        "kind",
        "competition",
    ]
    return {n: getattr(inst, n) for n in names}


# -- 2. the store -------------------------------------------------------------------------------


@pytest.fixture
def comp_reg(reg: Registry) -> Registry:
    reg.institutions.add(competition(), actor="test")
    return reg


def test_round_trip_through_the_store_and_dict(comp_reg: Registry) -> None:
    inst = competition()
    back = comp_reg.institutions.get(COMP)
    assert back == inst
    assert back.competition == inst.competition and back.kind is InstitutionKind.COMPETITION
    d = institution_to_dict(inst)
    assert d["kind"] == "competition" and isinstance(d["competition"], dict)
    assert d["competition"]["year"] == 2026 and d["competition"]["receipt_date"] == "2026-04-20"
    assert institution_from_dict(json.loads(json.dumps(d))) == inst
    # a re-filing keeps the receipt
    assert comp_reg.institutions.refile(inst, actor="test") == 2
    assert comp_reg.institutions.get(COMP).competition == inst.competition


def test_filings_from_before_competitions_load_as_evaluation(reg: Registry) -> None:
    beijing = reg.institutions.get(BJ)
    assert beijing.kind is InstitutionKind.EVALUATION and beijing.competition is None
    old = institution_to_dict(beijing)
    del old["kind"], old["competition"]  # what the store holds for a filing made before kinds existed
    loaded = institution_from_dict(old)
    assert loaded == beijing and loaded.kind is InstitutionKind.EVALUATION


def _counters(reg: Registry) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in reg.db.execute("SELECT * FROM number_counters ORDER BY institution_code, year, level")]


def _state(reg: Registry) -> tuple[Any, ...]:
    return (_counters(reg), reg.certificates.counts(), len(list(reg.audit.entries())))


def test_issuing_inside_the_competition_year(comp_reg: Registry) -> None:
    add_pending(comp_reg, 3, code=COMP, level=3, seed=21)
    got = comp_reg.certificates.issue(COMP, IN_YEAR, actor="t")
    parsed = [parse_number(n) for _, n in got]
    assert [p.serial for p in parsed] == [1, 2, 3]
    assert all(n.startswith(COMP + "263") for _, n in got)
    assert all(p.year == 2026 and p.level == 3 for p in parsed)
    last_day = comp_reg.certificates.issue(COMP, date(2026, 12, 31), actor="t")
    assert last_day == []  # nothing pending is fine on the last day of the year


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2027, 1, 4), ("2027-01-04", "2026")),  # after the year: 逾期不再办理
        (date(2026, 4, 19), ("2026-04-19",)),  # before the receipt (the filing date)
    ],
)
def test_issuing_outside_the_year_is_refused_and_burns_nothing(
    comp_reg: Registry, day: date, words: tuple[str, ...]
) -> None:
    add_pending(comp_reg, 2, code=COMP, level=3, seed=22)
    comp_reg.certificates.issue(COMP, IN_YEAR, actor="t", limit=1)
    before = _state(comp_reg)
    with pytest.raises(RuleViolation) as e:
        comp_reg.certificates.issue(COMP, day, actor="t")
    for w in words:
        assert w in e.value.zh and w in e.value.en
    assert CJK.search(e.value.zh) and "issue date" in e.value.en
    assert _state(comp_reg) == before  # no counter moved, no record changed, no audit entry
    more = comp_reg.certificates.issue(COMP, IN_YEAR, actor="t")
    assert [parse_number(n).serial for _, n in more] == [2]  # the next serial, none burnt


def test_the_refusal_names_the_competition_year(comp_reg: Registry) -> None:
    add_pending(comp_reg, 1, code=COMP, level=2, seed=23)
    with pytest.raises(RuleViolation) as e:
        comp_reg.certificates.issue(COMP, date(2027, 3, 1), actor="t")
    assert "竞赛" in e.value.zh and "2026 年" in e.value.zh
    assert "competition year 2026" in e.value.en and "2027-03-01" in e.value.en


def test_other_institutions_are_unaffected(comp_reg: Registry) -> None:
    add_pending(comp_reg, 2, code=BJ, level=5, seed=24)
    got = comp_reg.certificates.issue(BJ, date(2027, 1, 4), actor="t")
    assert [parse_number(n).year for _, n in got] == [2027, 2027]


# -- 3. importing results -----------------------------------------------------------------------


def _rows(n: int, occupation: str = "电工", job: str = "", level: str = "3", seed: int = 31) -> list[list[str]]:
    rng = random.Random(seed)
    return [[name(rng), "201", id_number(rng), occupation, job, level, "photos/p.jpg", ""] for _ in range(n)]


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    d = tmp_path / "batch"
    (d / "photos").mkdir(parents=True)
    (d / "photos" / "p.jpg").write_bytes(photo_bytes(3))
    return d


def test_import_applies_the_competition_scope(comp_reg: Registry, batch_dir: Path) -> None:
    rows = _rows(3) + _rows(1, level="5", seed=32) + _rows(1, "育婴员", seed=33) + _rows(1, "焊工", "电焊工", "2", 34)
    path = write_results(batch_dir / "r.csv", rows)
    dry = import_results(comp_reg, path, COMP, today=date(2026, 10, 1), actor="t", dry_run=True)
    assert {p.row: p.field for p in dry.problems} == {5: "职业技能等级 level", 6: "职业名称 occupation"}
    with pytest.raises(ImportRejected):
        import_results(comp_reg, path, COMP, today=date(2026, 10, 1), actor="t")
    good = write_results(batch_dir / "good.csv", _rows(3) + _rows(1, "焊工", "电焊工", "2", 34))
    rep = import_results(comp_reg, good, COMP, today=date(2026, 10, 1), actor="t")
    assert rep.rows == 4 and rep.by_level == {3: 3, 2: 1}
    got = comp_reg.certificates.issue(COMP, IN_YEAR, actor="t")
    assert len(got) == 4


def test_import_outside_the_competition_year_is_refused(comp_reg: Registry, batch_dir: Path) -> None:
    path = write_results(batch_dir / "r.csv", _rows(2) + _rows(1, "育婴员", seed=33))
    before = (comp_reg.certificates.counts(), len(list(comp_reg.audit.entries())))
    dry = import_results(comp_reg, path, COMP, today=date(2027, 1, 5), actor="t", dry_run=True)
    year = [p for p in dry.problems if p.row is None]
    assert len(year) == 1 and "2026" in year[0].zh and "2026" in year[0].en and "2027-01-05" in year[0].en
    assert [p.row for p in dry.problems if p.row is not None] == [4]  # the rows are still checked
    with pytest.raises(RuleViolation) as e:
        import_results(comp_reg, path, COMP, today=date(2027, 1, 5), actor="t")
    assert any("2026" in p.en for p in e.value.problems)
    assert (comp_reg.certificates.counts(), len(list(comp_reg.audit.entries()))) == before


# -- 4. rendering -------------------------------------------------------------------------------


def test_rendered_in_the_committees_name_with_the_competition_seal(comp_reg: Registry) -> None:
    add_pending(comp_reg, 1, code=COMP, level=3, seed=41)
    ((_, number),) = comp_reg.certificates.issue(COMP, IN_YEAR, actor="t")
    record = comp_reg.certificates.get(number)
    inst = comp_reg.institutions.get(COMP)
    with Renderer() as r:
        out = r.render(record, inst, photo=comp_reg.certificates.photo(record.photo_sha256))
    (box,) = out.seal_boxes
    assert box.text == COMPETITION_SEAL_TEXT
    red = "".join(c.text for c in page_chars(out.pdf) if c.red)
    assert red == "北京市职业技能鉴定管理中心竞赛专用章"  # the only seal, no institution seal of its own
    text = squash(page_text(out.pdf))
    assert "本证书由2026年北京市职业技能大赛组委会颁发" in text
    assert text.count("2026年北京市职业技能大赛组委会") >= 2  # the body text and the issuer line
    assert squash(inst.name_en) in text
    assert number in text and record.name in text
    assert out.record.institution_name == "2026年北京市职业技能大赛组委会"
    assert out.record.institution_code == COMP


@pytest.mark.system
def test_a_committee_seals_its_certificates_with_its_competition_key(tmp_path: Path) -> None:
    """The whole chain for a committee: ``pki demo`` files a key for its competition seal, ``issue``
    renders the seal in the institution's place and seals it with that key, and the file verifies."""
    from sign import DemoPki, PadesLevel, PkiServer, Trust, validate_pdf
    from skillcert.demo_job import run_demo
    from skillcert.pipeline import IssueOptions, issue_batch
    from skillcert.seals import setup_demo_pki
    from skillcert.settings import Settings

    env = {"SKILLCERT_HOME": str(tmp_path / "home"), "SKILLCERT_ACTOR": "test"}
    s = Settings.from_env(env)
    run_demo(s, today=IN_YEAR, issue=False)
    with Registry.open(s.registry_path) as reg:
        reg.institutions.add(competition(), actor="test")
        add_pending(reg, 2, code=COMP, level=3, seed=43)
        setup_demo_pki(s, reg)
        s = Settings.from_env(env)  # now with the demo PKI's TSA and root
        (spec,) = [i for i in reg.seals.identities() if i.institution_code == COMP and i.seal_kind != "qr"]
        assert spec.seal_kind == "competition"
        with PkiServer(DemoPki.at(s.home / "pki")):
            summary = issue_batch(
                reg,
                IssueOptions(
                    institution_code=COMP,
                    out_dir=tmp_path / "out",
                    issue_date=IN_YEAR,
                    level=PadesLevel.B_LTA,
                    workers=1,
                    tsa_url=s.tsa_url,
                    trust_roots=s.trust_roots,
                ),
                render_settings=s.render_settings(),
                actor="t",
            )
        assert summary.delivered == 2, summary
        filed = reg.seals.filed_fingerprints(COMP)
    for pdf in sorted((tmp_path / "out").glob("*.pdf")):
        st = validate_pdf(pdf.read_bytes(), Trust(roots=s.trust_roots, filed_fingerprints=filed))
        assert st.bottom_line.value == "valid", (pdf.name, st.as_dict())
