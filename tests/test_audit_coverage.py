"""What `audit verify` covers beyond the certificate rows: QR tokens, photo bytes, serial counters
against the issued-number register, and the log's tail against the signed checkpoints and the
published manifest. Each attack is made as a forger with the registry file would make it: plain
SQL on the real SQLite file, triggers dropped where they are in the way."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry import Registry
from registry.audit import GENESIS, AuditEntry
from registry.events import SnapshotPublished
from registry.merkle import Checkpoint
from registry.published import PublishedManifest, public_key_from_pem
from search_index import publish
from skillcert.cli import cli

from .conftest import DEMO_CODES, TODAY, add_pending
from .factory import photo_bytes

pytestmark = pytest.mark.sqlite_only  # edits the SQLite file behind the store; PostgreSQL: tests/test_postgres.py

BJ = DEMO_CODES["beijing"]


def _raw(reg: Registry) -> sqlite3.Connection:
    return sqlite3.connect(reg.path)


def _issue(reg: Registry, n: int, *, seed: int = 7) -> list[str]:
    add_pending(reg, n, seed=seed)
    return [num for _, num in reg.certificates.issue(BJ, TODAY, actor="t")]


def _cid(raw: sqlite3.Connection, number: str) -> int:
    return int(raw.execute("SELECT certificate_id FROM issued_numbers WHERE number = ?", (number,)).fetchone()[0])


def _problems(reg: Registry, **kw: Any) -> list[tuple[str, str]]:
    report = reg.audit.verify(**kw)
    assert not report.ok
    return list(report.problems)


def _find(problems: list[tuple[str, str]], needle: str) -> tuple[str, str]:
    hit = [p for p in problems if needle in p[1]]
    assert hit, f"{needle!r} not in {problems}"
    return hit[0]


def _cli_verify(reg: Registry, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict[str, Any]]:
    """`skillcert audit verify --json` with the registry's folder as the home."""
    monkeypatch.setenv("SKILLCERT_HOME", str(reg.path.parent))
    monkeypatch.setenv("SKILLCERT_ACTOR", "t")
    r = CliRunner().invoke(cli, ["audit", "verify", "--json", *args], catch_exceptions=False)
    return r.exit_code, json.loads(r.stdout)


def _publish(reg: Registry) -> int:
    """Publish under the registry's folder (its home); the size of the checkpoint it signed."""
    publish(reg, reg.path.parent, actor="t")
    return reg.audit.checkpoints()[-1].size


def _delete_tail(raw: sqlite3.Connection, after_seq: int) -> None:
    raw.execute("DROP TRIGGER IF EXISTS audit_append_only_delete")
    raw.execute("DELETE FROM audit WHERE seq > ?", (after_seq,))
    raw.commit()


# -- the four attacks of issue 11 item 8, each through the library and the CLI -------------------


def _edit_qr_token(reg: Registry) -> tuple[str, list[str]]:
    numbers = _issue(reg, 3)
    raw = _raw(reg)
    token = raw.execute("SELECT qr_token FROM certificates WHERE id = ?", (_cid(raw, numbers[1]),)).fetchone()[0]
    raw.execute("UPDATE certificates SET qr_token = 'forged-token' WHERE id = ?", (_cid(raw, numbers[1]),))
    raw.commit()
    return f"certificates[{numbers[1]}].qr_token", [token, "forged-token"]  # neither token is ever printed


def _replace_photo(reg: Registry) -> tuple[str, list[str]]:
    numbers = _issue(reg, 2)
    raw = _raw(reg)
    sha = reg.certificates.get(numbers[0]).photo_sha256
    raw.execute("UPDATE photos SET data = ? WHERE sha256 = ?", (photo_bytes(99), sha))
    raw.commit()
    return f"photos[{sha[:16]}", [numbers[0]]


def _move_counter_up(reg: Registry) -> tuple[str, list[str]]:
    _issue(reg, 3)
    raw = _raw(reg)
    raw.execute("UPDATE number_counters SET last_serial = last_serial + 5")  # the trigger lets it go up
    raw.commit()
    return f"number_counters[{BJ}/2026/5]", ["000004", "000008"]


def _delete_after_checkpoint(reg: Registry) -> tuple[str, list[str]]:
    """Publish, revoke one, then take the revocation (and the publish entry) back out of the log."""
    numbers = _issue(reg, 2)
    size = _publish(reg)
    reg.lifecycle.revoke(
        numbers[0], reason="数据有误", on=TODAY, actor="t", benefits_cancelled=True, commitment_sha256=None
    )
    raw = _raw(reg)
    _delete_tail(raw, size)
    raw.execute("UPDATE certificates SET status = 'valid' WHERE id = ?", (_cid(raw, numbers[0]),))
    raw.commit()
    assert reg.audit.verify_chain() is None and reg.audit.head()[0] == size  # chain and checkpoint size agree
    return f"checkpoint {size}", [f"#{size}"]  # zh: 检查点 {size}


ATTACKS: dict[str, Callable[[Registry], tuple[str, list[str]]]] = {
    "qr_token": _edit_qr_token,
    "photo": _replace_photo,
    "counter": _move_counter_up,
    "tail": _delete_after_checkpoint,
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_named(reg: Registry, monkeypatch: pytest.MonkeyPatch, attack: str) -> None:
    where, words = ATTACKS[attack](reg)
    where_zh = where.replace("checkpoint", "检查点")
    zh, en = _find(_problems(reg), where)
    assert where_zh in zh  # both languages name the row
    for w in words:
        if attack == "qr_token":
            assert w not in zh + en  # a token is a credential: only its digest is shown
        else:
            assert w in en and w in zh
    code, body = _cli_verify(reg, monkeypatch)
    assert code == 14 and body["ok"] is False
    assert any(where in p["en"] and where_zh in p["zh"] for p in body["problems"]), body["problems"]


def test_untouched_registry_verifies_through_the_cli(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = _issue(reg, 3)
    _publish(reg)
    reg.lifecycle.revoke(
        numbers[0], reason="数据有误", on=TODAY, actor="t", benefits_cancelled=True, commitment_sha256=None
    )
    _publish(reg)
    report = reg.audit.verify()
    assert report.ok, report.problems
    code, body = _cli_verify(reg, monkeypatch)
    assert code == 0, body["problems"]
    assert body["manifest"] and body["trusted_key"] and body["head"] == reg.audit.head()[1]


def test_a_gap_in_the_register_is_named(reg: Registry) -> None:
    _move_counter_up(reg)
    (number,) = _issue(reg, 1, seed=8)
    assert number.endswith("000009")  # the store itself continued after the moved counter
    zh, en = _find(_problems(reg), "missing")
    assert "000004" in en and "000008" in en and "000004" in zh


def test_issue_event_carries_only_a_digest_of_the_token(reg: Registry) -> None:
    numbers = _issue(reg, 1)
    c = reg.certificates.get(numbers[0])
    assert c.qr_token
    (issue,) = [e for e in reg.audit.entries(entity="certificate", key=str(c.id)) if e.action == "issue"]
    assert c.qr_token not in json.dumps(issue.after)
    assert issue.after["qr_token_sha256"] == hashlib.sha256(c.qr_token.encode()).hexdigest()


def test_older_issue_events_without_a_token_digest_still_verify(reg: Registry) -> None:
    """A registry written before issue events carried the digest: nothing to compare, nothing wrong."""
    _issue(reg, 2)
    raw = _raw(reg)
    raw.execute("DROP TRIGGER audit_append_only_update")
    raw.execute("UPDATE audit SET after = json_remove(after, '$.qr_token_sha256') WHERE action = 'issue'")
    prev = GENESIS
    for r in raw.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        e = AuditEntry.from_row(r)
        h = hashlib.sha256(prev.encode() + e.body().encode()).hexdigest()
        raw.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, e.seq))
        prev = h
    raw.commit()
    report = reg.audit.verify()
    assert report.ok, report.problems


def test_missing_photo_row_is_named(reg: Registry) -> None:
    numbers = _issue(reg, 1)
    sha = reg.certificates.get(numbers[0]).photo_sha256
    raw = _raw(reg)
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("DELETE FROM photos WHERE sha256 = ?", (sha,))
    raw.commit()
    _, en = _find(_problems(reg), f"photos[{sha[:16]}")
    assert numbers[0] in en and "absent" in en


# -- the log against the signed checkpoints and the published manifest ---------------------------


def _two_publishes_then_roll_back(reg: Registry) -> tuple[int, int]:
    """Publish, revoke, publish again; then delete the newest checkpoint and every entry after the
    first publish's own entry, and un-revoke: the registry alone is self-consistent again."""
    numbers = _issue(reg, 2)
    first = _publish(reg)
    reg.lifecycle.revoke(
        numbers[0], reason="数据有误", on=TODAY, actor="t", benefits_cancelled=True, commitment_sha256=None
    )
    second = _publish(reg)
    raw = _raw(reg)
    raw.execute("DROP TRIGGER checkpoints_kept")
    raw.execute("DELETE FROM checkpoints WHERE size > ?", (first,))
    _delete_tail(raw, first + 1)
    raw.execute("UPDATE certificates SET status = 'valid' WHERE id = ?", (_cid(raw, numbers[0]),))
    raw.commit()
    return first, second


def _manifest(reg: Registry) -> PublishedManifest:
    return PublishedManifest.load(reg.path.parent / "snapshots" / "current")


def test_deleted_checkpoint_and_tail_are_found_against_the_manifest(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_publishes_then_roll_back(reg)
    assert reg.audit.head()[0] == first + 1 >= reg.audit.checkpoints()[-1].size
    problems = _problems(reg, manifest=_manifest(reg))
    zh, en = _find(problems, "manifest")
    assert f"{first + 1}" in en and f"{second}" in en and f"{second}" in zh
    _find(problems, f"checkpoint {second}")  # the manifest's checkpoint is gone from the registry
    code, body = _cli_verify(reg, monkeypatch)
    assert code == 14 and any("manifest" in p["en"] for p in body["problems"])


def test_log_regrown_past_the_manifest_head_is_found(reg: Registry) -> None:
    _, second = _two_publishes_then_roll_back(reg)
    for i in range(4):  # fresh entries through the store itself, so the log is longer than the manifest's
        reg.audit.record(str(i), SnapshotPublished(incremental=True, audit_seq=0, certificates=0), actor="t")
    assert reg.audit.head()[0] > second
    _, en = _find(_problems(reg, manifest=_manifest(reg)), f"#{second}")
    assert "rewritten" in en and "manifest" in en


def test_resigned_checkpoints_need_the_publishers_key(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """History rewritten, the chain recomputed and every checkpoint re-signed with a key of the forger's."""
    _issue(reg, 2)
    _publish(reg)
    raw = _raw(reg)
    raw.execute("DROP TRIGGER audit_append_only_update")
    raw.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 3")
    prev = GENESIS
    for r in raw.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        e = AuditEntry.from_row(r)
        h = hashlib.sha256(prev.encode() + e.body().encode()).hexdigest()
        raw.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, e.seq))
        prev = h
    raw.commit()
    forger = Ed25519PrivateKey.generate()
    pub = base64.b64encode(
        forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    raw.execute("DROP TRIGGER checkpoints_fixed")
    for cp in reg.audit.checkpoints():
        root = reg.audit.tree(cp.size).root().hex()
        sig = base64.b64encode(forger.sign(Checkpoint(cp.size, root, cp.signed_at).body())).decode()
        raw.execute(
            "UPDATE checkpoints SET root = ?, public_key = ?, signature = ? WHERE size = ?", (root, pub, sig, cp.size)
        )
    raw.commit()
    assert reg.audit.verify().ok  # self-consistent: only a key held elsewhere can tell
    publisher = public_key_from_pem((reg.path.parent / "publisher.key").read_bytes())
    _find(_problems(reg, trusted_keys=(publisher,)), "not the publisher's")
    _find(_problems(reg, manifest=_manifest(reg)), "history was rewritten")
    code, body = _cli_verify(reg, monkeypatch)
    assert code == 14 and any("not the publisher's" in p["en"] for p in body["problems"])


def test_publishing_elsewhere_needs_that_publishers_key(
    reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _issue(reg, 1)
    _publish(reg)
    elsewhere = tmp_path / "site"
    publish(reg, elsewhere, actor="t")  # its own publisher.key
    code, body = _cli_verify(reg, monkeypatch)
    assert code == 14 and any("another publisher key" in p["en"] for p in body["problems"])
    code, body = _cli_verify(reg, monkeypatch, "--publisher-key", str(elsewhere / "publisher.key"))
    assert code == 0, body["problems"]
    code, body = _cli_verify(reg, monkeypatch, "--manifest", str(elsewhere / "snapshots" / "current"))
    assert code == 0 and body["manifest"].endswith("current"), body["problems"]


def test_an_edited_manifest_is_refused(reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _issue(reg, 1)
    _publish(reg)
    data = json.loads((reg.path.parent / "snapshots" / "current" / "manifest.json").read_text(encoding="utf-8"))
    data["audit_seq"] = 3
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data), encoding="utf-8")
    zh, en = _find(_problems(reg, manifest=PublishedManifest.load(forged)), "signature")
    assert "manifest" in en and "清单" in zh
    code, body = _cli_verify(reg, monkeypatch, "--manifest", str(forged))
    assert code == 14 and body["manifest"] == str(forged)


def test_manifest_that_is_not_one_is_a_bilingual_error(reg: Registry, tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text("[]", encoding="utf-8")
    from registry.errors import SkillcertError

    with pytest.raises(SkillcertError) as e:
        PublishedManifest.load(bad)
    assert "清单" in e.value.diagnostics() and "manifest" in e.value.diagnostics()
