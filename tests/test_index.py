"""Privacy-limited snapshots: pair look-ups, no enumeration, no raw data, live updates."""

from __future__ import annotations

import base64
import csv
import json
import statistics
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from registry import Registry
from registry.errors import SkillcertError
from search_index import PairKind, Snapshot, publish
from skillcert.demo import DEMO_DIR
from skillcert.demo_job import DEMO_BATCHES, run_demo
from skillcert.settings import Settings


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("index")
    s = Settings.from_env({"SKILLCERT_HOME": str(root), "SKILLCERT_ACTOR": "t"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(s.registry_path) as reg:
        for code in ("S000011084012", "Y000111020001", "S000044012001"):
            reg.certificates.issue(code, date(2026, 11, 20), actor="t")
        publish(reg, root)
    yield root


@pytest.fixture(scope="module")
def certs(home: Path) -> list:  # type: ignore[type-arg]
    with Registry.open(home / "registry.sqlite") as reg:
        return list(reg.certificates.select())


@pytest.fixture
def snap(home: Path) -> Iterator[Snapshot]:
    s = Snapshot.open(home)
    yield s
    s.close()


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or "A" <= c <= "Z" else c for c in text)


def test_each_pair_finds_the_record_with_normalisation(snap: Snapshot, certs: list) -> None:  # type: ignore[type-arg]
    with_x = next(c for c in certs if c.id_number.endswith("X"))
    for c in (certs[0], with_x):
        for kind, a, b in [
            (PairKind.NUMBER_NAME, c.number, c.name),
            (PairKind.NUMBER_ID, c.number, c.id_number),
            (PairKind.NAME_ID, c.name, c.id_number),
        ]:
            view = snap.lookup_by_pair(kind, a, b)
            assert view is not None and view.occupation == c.occupation, kind
        # full-width digits, lower-case x, surrounding spaces
        view = snap.lookup_by_pair(PairKind.NUMBER_ID, f"  {_fullwidth(c.number)} ", c.id_number.lower())
        assert view is not None and view.id.endswith(c.id_number[-4:])
        assert view.name != c.name and "*" in view.name
        # a wrong second key finds nothing
        assert snap.lookup_by_pair(PairKind.NUMBER_NAME, c.number, c.name + "某") is None
        assert snap.lookup_by_pair(PairKind.NAME_ID, c.name, c.id_number[:-1] + "0") is None
        assert snap.lookup_by_qr(c.number, c.qr_token).status == "valid"  # type: ignore[union-attr]
        assert snap.lookup_by_qr(c.number, "wrong-token") is None
    with pytest.raises(SkillcertError):
        snap.lookup_by_pair(PairKind.NUMBER_NAME, certs[0].number, "  ")


def test_a_miss_costs_what_a_hit_costs(snap: Snapshot, certs: list) -> None:  # type: ignore[type-arg]
    hits, misses = [], []
    for i in range(4000):  # interleaved, so load on the machine affects both alike
        c = certs[i % len(certs)]
        name = c.name if i % 2 == 0 else c.name + "X"
        t = time.perf_counter_ns()
        found = snap.lookup_by_pair(PairKind.NUMBER_NAME, c.number, name)
        (hits if i % 2 == 0 else misses).append(time.perf_counter_ns() - t)
        assert (found is not None) == (i % 2 == 0)
    ratio = statistics.median(misses) / statistics.median(hits)
    assert 0.7 < ratio < 1.4, ratio


def test_no_raw_name_id_or_number_in_the_snapshot(home: Path, certs: list) -> None:  # type: ignore[type-arg]
    blob = b"".join(p.read_bytes() for p in (home / "snapshots").rglob("*") if p.is_file())
    raw: set[str] = set()
    for _, results in DEMO_BATCHES:
        with (DEMO_DIR / results).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                raw.update({row["姓名"], row["证件号码"]})
    raw.update(c.number for c in certs)
    raw.update(c.qr_token for c in certs)
    # (UTF-16 only for needles of 8 bytes or more: a 2-character name is 4 bytes in UTF-16, which
    # random ciphertext of a few MB contains by chance in a few per cent of runs)
    leaked = sorted(v for v in raw if v.encode("utf-8") in blob or (len(v) >= 4 and v.encode("utf-16-le") in blob))
    assert leaked == []
    assert len(raw) > 180


def test_incremental_revocation_seen_by_an_open_reader(home: Path, snap: Snapshot, certs: list) -> None:  # type: ignore[type-arg]
    c = certs[5]
    assert snap.lookup_by_pair(PairKind.NAME_ID, c.name, c.id_number).status == "valid"  # type: ignore[union-attr]
    with Registry.open(home / "registry.sqlite") as reg:
        reg.lifecycle.revoke(
            c.number,
            reason="以欺骗手段取得 obtained by fraud",
            on=date(2026, 11, 21),
            actor="t",
            benefits_cancelled=True,
            commitment_sha256=None,
        )
        t0 = time.monotonic()
        m = publish(reg, home, incremental=True)
    assert m.data["last_increment"] == 1
    deadline = t0 + 1.0
    while time.monotonic() < deadline:
        view = snap.lookup_by_pair(PairKind.NAME_ID, c.name, c.id_number)
        if view is not None and view.status == "revoked":
            break
        time.sleep(0.05)
    assert view is not None and view.status == "revoked" and view.status_date == "2026-11-21"
    assert time.monotonic() - t0 <= 1.0


def test_full_republish_switches_readers_without_restart(home: Path, snap: Snapshot) -> None:
    first = snap.manifest["id"]
    time.sleep(1.1)  # snapshot ids have one-second resolution
    with Registry.open(home / "registry.sqlite") as reg:
        m = publish(reg, home)
    time.sleep(0.6)
    snap.institution("S000011084012")
    assert snap.manifest["id"] == m.snapshot_id != first
    assert (home / "snapshots" / first).exists()  # the old one stays for readers that still have it


def test_manifest_is_signed_and_commits_to_the_audit_chain(home: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    m = json.loads((home / "snapshots" / "current" / "manifest.json").read_text())
    body = {k: v for k, v in m.items() if k not in ("signature", "public_key")}
    blob = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    Ed25519PublicKey.from_public_bytes(base64.b64decode(m["public_key"])).verify(base64.b64decode(m["signature"]), blob)
    with Registry.open(home / "registry.sqlite") as reg:
        assert m["audit_seq"] <= reg.audit.head()[0]
    assert m["certificates"] == 92 and m["institutions"] == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("明德", "S000011084012"),
        ("海淀 培训", "S000011084012"),
        ("白云 技师", "S000044012001"),
        ("广州", "S000044012001"),
        ("Huadian", "Y000111020001"),
        ("Y0001", "Y000111020001"),
        ("西城", "Y000111020001"),
        ("电焊工", "S000011084012"),
        ("汽车维修", "S000044012001"),
        ("明德培训", "S000011084012"),
    ],
)
def test_directory_search(snap: Snapshot, text: str, code: str) -> None:
    assert code in [i["code"] for i in snap.search_institutions(text)]


def test_directory_entry(snap: Snapshot) -> None:
    inst = snap.institution("y000111020001")
    assert (
        inst is not None
        and inst["style"] == "style2"
        and [s["kind"] for s in inst["seals"]] == ["institution", "issuing"]
    )
    assert inst["region_name"] == "北京市西城区" and inst["scope"]
    assert snap.search_institutions("不存在的机构") == [] and snap.institution("S999999999999") is None
