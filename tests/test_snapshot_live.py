"""A running reader (and a running ``skillcert serve``) follows every publish, all parts together.

Cancel an institution, file a new one, file a new key, re-file, revoke — then publish, full or
incremental — and the reader that was open before answers from the new snapshot: the
directory, the filed fingerprints, the certificate records and the manifest switch together.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from registry import Registry, institution_from_toml
from registry._seals_store import IdentityRecord
from search_index import PairKind, Snapshot, publish
from skillcert.demo import DEMO_DIR
from skillcert.demo_job import run_demo
from skillcert.settings import Settings

from .serving import skillcert_serve

BEIJING, MINISTRY, GUANGDONG = "S000011084012", "Y000111020001", "S000044012001"
NEW_CODE = "S000011084077"
NEW_KEY = "ab" * 32
WAIT_S = 5.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo's 92 numbered certificates (not sealed) and a full snapshot."""
    root = tmp_path_factory.mktemp("live") / "home"
    s = Settings.from_env({"SKILLCERT_HOME": str(root), "SKILLCERT_ACTOR": "t"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(s.registry_path) as reg:
        for code in (BEIJING, MINISTRY, GUANGDONG):
            reg.certificates.issue(code, date(2026, 11, 20), actor="t")
        publish(reg, root)
    return root


@pytest.fixture
def home(built: Path, tmp_path: Path) -> Path:
    """A private copy per test: each one changes the registry and publishes."""
    dst = tmp_path / "home"
    shutil.copytree(built, dst, symlinks=True)
    return dst


def _new_filing() -> Any:
    text = (DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")
    return institution_from_toml(text.replace(BEIJING, NEW_CODE).replace("明德", "启航").replace("Mingde", "Qihang"))


def _refiled() -> Any:
    text = (DEMO_DIR / "institution-beijing.toml").read_text(encoding="utf-8")
    return institution_from_toml(text.replace("Mingde Vocational", "Mingde Renamed Vocational"))


def _new_key(code: str = BEIJING) -> IdentityRecord:
    return IdentityRecord(
        name="bj-new-key",
        institution_code=code,
        seal_kind="institution",
        kind="pkcs12",
        location={"path": "new.p12"},
        cert_pem="-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        fingerprint=NEW_KEY,
        not_after="2030-01-01T00:00:00+00:00",
        added_at="2026-11-21T09:00:00+00:00",
    )


def _change_directory(reg: Registry) -> None:
    reg.institutions.retire(MINISTRY, on=date(2026, 11, 21), reason="注销 cancelled", actor="t")
    reg.institutions.add(_new_filing(), actor="t")
    reg.seals.add_identity(_new_key(), actor="t")


def _until(check: Callable[[], bool], seconds: float = WAIT_S) -> float:
    """Poll ``check`` (bounded); the seconds it took, or fail."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > seconds:
            pytest.fail(f"not seen within {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - t0


def _fingerprints(inst: dict[str, Any] | None) -> set[str]:
    return {s["fingerprint"] for s in (inst or {}).get("signers", [])}


def _directory_switched(snap: Snapshot) -> bool:
    ministry = snap.institution(MINISTRY)
    return (
        ministry is not None
        and ministry["status"] == "cancelled"
        and snap.institution(NEW_CODE) is not None
        and NEW_CODE in [i["code"] for i in snap.search_institutions("启航")]
        and NEW_KEY in _fingerprints(snap.institution(BEIJING))
    )


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_open_reader_follows_directory_changes(home: Path, incremental: bool) -> None:
    snap = Snapshot.open(home)
    try:
        assert snap.institution(MINISTRY)["status"] == "active"  # type: ignore[index]
        assert snap.institution(NEW_CODE) is None and NEW_KEY not in _fingerprints(snap.institution(BEIJING))
        before = snap.manifest["audit_seq"]
        with Registry.open(home / "registry.sqlite") as reg:
            _change_directory(reg)
            cert = next(reg.certificates.select(institution_code=BEIJING))
            publish(reg, home, incremental=incremental)
        _until(lambda: _directory_switched(snap))
        assert snap.manifest["audit_seq"] > before
        # the certificate records carry the institution's filed keys of the same snapshot
        view = snap.lookup_by_pair(PairKind.NUMBER_NAME, cert.number or "", cert.name)
        assert view is not None and NEW_KEY in view.signer_fingerprints
    finally:
        snap.close()


def test_full_then_incremental_then_full(home: Path) -> None:
    """Each publish kind after the other: the open reader is right after every one."""
    snap = Snapshot.open(home)
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            certs = list(reg.certificates.select(institution_code=GUANGDONG))
            reg.institutions.retire(MINISTRY, on=date(2026, 11, 21), reason="注销 cancelled", actor="t")
            publish(reg, home)
            _until(lambda: snap.institution(MINISTRY)["status"] == "cancelled")  # type: ignore[index]
            reg.institutions.add(_new_filing(), actor="t")
            reg.lifecycle.revoke(
                certs[0].number or "",
                reason="以欺骗手段取得 fraud",
                on=date(2026, 11, 22),
                actor="t",
                benefits_cancelled=True,
                commitment_sha256=None,
            )
            publish(reg, home, incremental=True)
            _until(lambda: snap.institution(NEW_CODE) is not None)
            view = snap.lookup_by_qr(certs[0].number or "", certs[0].qr_token or "")
            assert view is not None and view.status == "revoked"
            reg.seals.add_identity(_new_key(GUANGDONG), actor="t")
            publish(reg, home)
            _until(lambda: NEW_KEY in _fingerprints(snap.institution(GUANGDONG)))
            assert snap.institution(NEW_CODE) is not None and snap.institution(MINISTRY)["status"] == "cancelled"  # type: ignore[index]
            assert snap.lookup_by_qr(certs[0].number or "", certs[0].qr_token or "").status == "revoked"  # type: ignore[union-attr]
    finally:
        snap.close()


def test_incremental_record_and_side_data_switch_together(home: Path) -> None:
    """An incremental publish is one commit: the first answer that shows the new record also
    shows the new manifest and directory — no waiting for a re-check interval."""
    snap = Snapshot.open(home)
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            c = next(reg.certificates.select(institution_code=BEIJING))
            reg.institutions.refile(_refiled(), actor="t")
            reg.lifecycle.revoke(
                c.number or "",
                reason="以欺骗手段取得 fraud",
                on=date(2026, 11, 22),
                actor="t",
                benefits_cancelled=True,
                commitment_sha256=None,
            )
            assert snap.institution(BEIJING) is not None  # the reader has just checked for news
            m = publish(reg, home, incremental=True)
        view = snap.lookup_by_pair(PairKind.NUMBER_ID, c.number or "", c.id_number)
        assert view is not None and view.status == "revoked"
        assert snap.manifest["audit_seq"] == m.data["audit_seq"]
        inst = snap.institution(BEIJING)
        assert inst is not None and "Renamed" in inst["name_en"]
        assert "Renamed" in view.institution_en  # the record was re-derived with the directory
        assert BEIJING in [i["code"] for i in snap.search_institutions("Renamed")]
    finally:
        snap.close()


def test_a_pinned_view_is_one_generation(home: Path) -> None:
    """``Snapshot.pinned()``: every read inside it comes from one generation, even across a publish."""
    snap = Snapshot.open(home)
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            c = next(reg.certificates.select(institution_code=MINISTRY))
            with snap.pinned() as view:
                reg.institutions.retire(MINISTRY, on=date(2026, 11, 21), reason="注销 cancelled", actor="t")
                reg.lifecycle.revoke(
                    c.number or "",
                    reason="以欺骗手段取得 fraud",
                    on=date(2026, 11, 22),
                    actor="t",
                    benefits_cancelled=True,
                    commitment_sha256=None,
                )
                publish(reg, home, incremental=True)
                assert view.lookup_by_qr(c.number or "", c.qr_token or "").status == "valid"  # type: ignore[union-attr]
                assert view.institution(MINISTRY)["status"] == "active"  # type: ignore[index]
            assert snap.lookup_by_qr(c.number or "", c.qr_token or "").status == "revoked"  # type: ignore[union-attr]
            assert snap.institution(MINISTRY)["status"] == "cancelled"  # type: ignore[index]
    finally:
        snap.close()


def test_old_generations_are_cleaned_up(home: Path) -> None:
    snap = Snapshot.open(home)
    try:
        with Registry.open(home / "registry.sqlite") as reg:
            for i in range(4):
                reg.seals.add_identity(_key_named(f"k{i}", f"{i:02x}" * 32), actor="t")
                publish(reg, home, incremental=True)
                assert f"{i:02x}" * 32 in _fingerprints(snap.institution(BEIJING))
        folder = (home / "snapshots" / "current").resolve()
        assert len([p for p in folder.iterdir() if p.name.startswith("directory-")]) <= 2
    finally:
        snap.close()


def _key_named(name: str, fingerprint: str) -> IdentityRecord:
    k = _new_key()
    return IdentityRecord(
        name=name,
        institution_code=k.institution_code,
        seal_kind=k.seal_kind,
        kind=k.kind,
        location=k.location,
        cert_pem=k.cert_pem,
        fingerprint=fingerprint,
        not_after=k.not_after,
        added_at=k.added_at,
    )


# -- a real ``skillcert serve`` process ----------------------------------------------------------


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def served(home: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``skillcert serve`` over ``home`` on a free port: its base URL and the environment."""
    with skillcert_serve(home, tmp_path) as srv:
        yield srv.base, srv.env


def _cli(env: dict[str, str], *args: str) -> Any:
    p = subprocess.run(
        [sys.executable, "-m", "skillcert", *args, "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


@pytest.mark.slow
def test_running_server_follows_cancel_file_refile_and_publish(
    served: tuple[str, dict[str, str]], home: Path, tmp_path: Path
) -> None:
    base, env = served
    api = f"{base}/api/v1"
    with Registry.open(home / "registry.sqlite") as reg:
        cert = next(reg.certificates.select(institution_code=GUANGDONG))
    qr = f"{api}/certificates/qr?number={cert.number}&t={cert.qr_token}"
    assert _get(f"{api}/institutions/{MINISTRY}")[1]["status"] == "active"
    assert _get(f"{api}/institutions/{NEW_CODE}")[0] == 404
    assert _get(qr)[1]["status"] == "valid"
    first = _get(f"{api}/snapshot")[1]["id"]

    # cancel one institution, file a new one and a new key; a full publish, all through the CLI
    new_toml = tmp_path / "new.toml"
    new_toml.write_text(
        (DEMO_DIR / "institution-beijing.toml")
        .read_text(encoding="utf-8")
        .replace(BEIJING, NEW_CODE)
        .replace("明德", "启航")
        .replace("Mingde", "Qihang"),
        encoding="utf-8",
    )
    _cli(env, "institution", "cancel", MINISTRY, "--on", "2026-11-21", "--reason", "注销 cancelled")
    _cli(env, "institution", "add", "--file", str(new_toml))
    with Registry.open(home / "registry.sqlite") as reg:
        reg.seals.add_identity(_new_key(), actor="t")
    full = _cli(env, "publish")

    def full_seen() -> bool:
        return (
            _get(f"{api}/snapshot")[1]["id"] == full["id"] != first
            and _get(f"{api}/institutions/{MINISTRY}")[1]["status"] == "cancelled"
            and _get(f"{api}/institutions/{NEW_CODE}")[0] == 200
            and NEW_KEY in _fingerprints(_get(f"{api}/institutions/{BEIJING}")[1])
            and NEW_CODE in [i["code"] for i in _get(f"{api}/institutions?q=Qihang")[1]["results"]]
        )

    _until(full_seen)

    # re-file (a new English name) and revoke one certificate; an incremental publish
    refiled = tmp_path / "refiled.toml"
    refiled.write_text(
        (DEMO_DIR / "institution-guangdong.toml").read_text(encoding="utf-8").replace("Baiyun", "Baiyun Renamed"),
        encoding="utf-8",
    )
    _cli(env, "institution", "refile", "--file", str(refiled))
    reason = "以欺骗手段取得 obtained by fraud"
    _cli(env, "revoke", cert.number or "", "--on", "2026-11-22", "--reason", reason, "--benefits-cancelled-confirmed")
    inc = _cli(env, "publish", "--incremental")
    assert inc["id"] == full["id"] and inc["generation"] > full["generation"]

    def incremental_seen() -> bool:
        snap = _get(f"{api}/snapshot")[1]
        body = _get(qr)[1]
        return (
            snap["generation"] == inc["generation"]
            and body["status"] == "revoked"
            and "Renamed" in body["record"]["institution_en"]
            and "Renamed" in _get(f"{api}/institutions/{GUANGDONG}")[1]["name_en"]
        )

    _until(incremental_seen)
    # and the audit proof of the revoked certificate is against the new checkpoint
    proof = _get(f"{api}/audit/proof?number={cert.number}&t={cert.qr_token}")[1]
    assert proof["checkpoint"]["size"] == inc["checkpoint"]["size"] and proof["entries"]
