"""``skillcert publish --to DIR`` and ``skillcert snapshot adopt``: a node takes only a snapshot
signed by the pinned publisher key, whole and unaltered, newer than what it serves — and a
running site switches to it. Then the attacks: a tampered file, a manifest re-signed by another
key, an older snapshot replayed, links and path traversal in the file list."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from search_index.distribute import DISTRIBUTION, canonical
from skillcert.cli import cli

from .serving import skillcert_serve

ROOT = Path(__file__).resolve().parent.parent
BEIJING = "S000011084012"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A publisher home with the demo's numbered certificates (not sealed) and a full snapshot."""
    from registry import Registry
    from search_index import publish
    from skillcert.demo_job import run_demo
    from skillcert.settings import Settings

    root = tmp_path_factory.mktemp("dist") / "home"
    s = Settings.from_env({"SKILLCERT_HOME": str(root), "SKILLCERT_ACTOR": "t"})
    run_demo(s, today=date(2026, 11, 20), issue=False)
    with Registry.open(s.registry_path) as reg:
        reg.certificates.issue(BEIJING, date(2026, 11, 20), actor="t")
        publish(reg, root)
    return root


class World:
    """A publisher home, an export folder and one node home (with the index secret and pinned key)."""

    def __init__(self, built: Path, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "publisher"
        shutil.copytree(built, self.home, symlinks=True)
        self.dist = tmp / "dist"
        self.node = tmp / "node"
        self.node.mkdir()
        shutil.copy(self.home / "index.secret", self.node / "index.secret")
        self.pub = tmp / "publisher.pub"
        self.revoked = 0
        assert self.run("snapshot", "key", "--out", str(self.pub)).exit_code == 0

    def run(self, *args: str, home: Path | None = None) -> Result:
        env = {"SKILLCERT_HOME": str(home or self.home), "SKILLCERT_ACTOR": "t"}
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    def publish(self, *extra: str) -> Path:
        r = self.run("publish", "--to", str(self.dist), "--json", *extra)
        assert r.exit_code == 0, r.output
        return Path(json.loads(r.stdout)["exported"])

    def adopt(self, src: Path, *, key: Path | None = None) -> Result:
        return self.run(
            "snapshot", "adopt", str(src), "--into", str(self.node), "--publisher-key", str(key or self.pub), "--json"
        )

    def served(self) -> dict[str, Any]:
        from search_index import Snapshot

        snap = Snapshot.open(self.node)
        try:
            return snap.manifest
        finally:
            snap.close()

    def revoke_one(self) -> None:
        from registry import Registry

        with Registry.open(self.home / "registry.sqlite") as reg:
            numbers = [c.number for c in reg.certificates.select(institution_code=BEIJING)]
        self.revoked += 1
        r = self.run("revoke", str(numbers[self.revoked]), "--reason", "测试 test", "--benefits-cancelled-confirmed")
        assert r.exit_code == 0, r.output


@pytest.fixture
def world(built: Path, tmp_path: Path) -> World:
    return World(built, tmp_path)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _resign(folder: Path, key: Any, *, claim: str | None = None, edit: Any = None) -> None:
    """Re-sign ``folder``'s file list (and the manifest in it) with ``key``, after ``edit(doc)``."""
    from cryptography.hazmat.primitives import serialization

    doc = json.loads((folder / DISTRIBUTION).read_text(encoding="utf-8"))
    if edit is not None:
        edit(doc)
    pub = base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    for part in (doc["manifest"], doc):
        part["public_key"] = claim or pub
        part["signature"] = base64.b64encode(key.sign(canonical(part))).decode()
    (folder / DISTRIBUTION).write_text(json.dumps(doc), encoding="utf-8")


def _publisher_key(world: World) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((world.home / "publisher.key").read_bytes(), password=None)


def _refused(r: Result, code: int, *words: str) -> None:
    assert r.exit_code == code, r.output
    assert "错误：快照被拒绝" in r.output or "不比" in r.output or "older" in r.output, r.output
    for w in words:
        assert w in r.output, r.output


def _untouched(world: World, before: dict[str, Any]) -> None:
    assert world.served() == before
    assert not list((world.node / "snapshots").glob(".adopting-*"))


# -- the way that works ---------------------------------------------------------------------------
def test_publish_to_exports_a_signed_copy_a_node_adopts(world: World) -> None:
    export = world.publish()
    assert (world.dist / "latest").resolve() == export
    listed = json.loads((export / DISTRIBUTION).read_text(encoding="utf-8"))
    assert {f["path"] for f in listed["files"]} >= {"certs.sqlite", "downloads.sqlite", "manifest.json"}
    assert any(f["path"].startswith("directory-1/") for f in listed["files"])
    assert not (export / "certs.sqlite-wal").exists()  # one file: the backup API's copy
    r = world.adopt(world.dist / "latest")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["changed"] is True and out["snapshot"] == listed["snapshot"]
    assert world.served() == listed["manifest"]
    # the node looks certificates up in its own copy (the index secret it holds)
    assert (world.node / "snapshots" / "current").resolve().parent == world.node / "snapshots"
    again = world.adopt(export)
    assert again.exit_code == 0 and json.loads(again.stdout)["changed"] is False


def test_a_running_site_switches_to_each_adopted_snapshot(world: World) -> None:
    assert world.adopt(world.publish()).exit_code == 0
    with skillcert_serve(world.node, world.tmp) as site:

        def served() -> dict[str, Any]:
            with urllib.request.urlopen(f"{site.base}/api/v1/snapshot", timeout=10) as r:
                return dict(json.loads(r.read()))

        first = served()
        world.revoke_one()
        second = world.publish("--incremental")
        assert world.adopt(second).exit_code == 0
        new = json.loads((second / DISTRIBUTION).read_text(encoding="utf-8"))["manifest"]
        deadline = time.monotonic() + 30
        while served().get("generation") != new["generation"]:
            assert time.monotonic() < deadline, served()
            time.sleep(0.2)
        assert served()["audit_seq"] == new["audit_seq"] > first["audit_seq"]
        third = world.publish()  # a full publish: a new snapshot id
        assert world.adopt(third).exit_code == 0
        full = json.loads((third / DISTRIBUTION).read_text(encoding="utf-8"))["manifest"]
        while served().get("id") != full["id"]:
            assert time.monotonic() < deadline + 30, served()
            time.sleep(0.2)
    # snapshots taken before the previous one are removed; the previous stays for running readers
    kept = sorted(p.name for p in (world.node / "snapshots").iterdir() if p.is_dir() and not p.is_symlink())
    assert kept == sorted([f"{new['id']}-g{new['generation']}", f"{full['id']}-g{full['generation']}"])


# -- attacks -----------------------------------------------------------------------------------
def test_a_tampered_file_is_refused(world: World) -> None:
    export = world.publish()
    assert world.adopt(export).exit_code == 0
    before = world.served()
    world.revoke_one()
    newer = world.publish("--incremental")
    for victim in ("certs.sqlite", "directory-1/institutions.json", "manifest.json"):
        bad = _copy(newer, world.tmp / f"bad-{victim.replace('/', '-')}")
        path = bad / victim
        if not path.exists():
            continue
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        _refused(world.adopt(bad), 17, victim, "altered")
        _untouched(world, before)
    grown = _copy(newer, world.tmp / "grown")  # one byte more: the size the list signs
    with (grown / "certs.sqlite").open("ab") as f:
        f.write(b"\0")
    _refused(world.adopt(grown), 17, "certs.sqlite")
    missing = _copy(newer, world.tmp / "missing")
    (missing / "downloads.sqlite").unlink()
    _refused(world.adopt(missing), 17, "downloads.sqlite")
    _untouched(world, before)
    assert world.adopt(newer).exit_code == 0  # the genuine one still goes in


def test_a_list_re_signed_by_another_key_is_refused(world: World) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    export = world.publish()
    other = Ed25519PrivateKey.generate()
    foreign = _copy(export, world.tmp / "foreign")
    _resign(foreign, other)
    _refused(world.adopt(foreign), 17, "another key", "pinned")
    # the other key's signature, claiming to be the pinned key's: the signature does not hold
    claimed = _copy(export, world.tmp / "claimed")
    pinned = json.loads((export / DISTRIBUTION).read_text(encoding="utf-8"))["public_key"]
    _resign(claimed, other, claim=pinned)
    _refused(world.adopt(claimed), 17, "not valid")
    # an edited list with the signature left as it was
    edited = _copy(export, world.tmp / "edited")
    doc = json.loads((edited / DISTRIBUTION).read_text(encoding="utf-8"))
    doc["manifest"]["certificates"] += 1
    (edited / DISTRIBUTION).write_text(json.dumps(doc), encoding="utf-8")
    _refused(world.adopt(edited), 17, "not valid")
    assert not (world.node / "snapshots" / "current").exists()
    # a node that pinned the other key refuses the genuine snapshot
    wrong_pin = world.tmp / "other.pub"
    wrong_pin.write_text(base64.b64encode(other.public_key().public_bytes_raw()).decode())
    _refused(world.adopt(export, key=wrong_pin), 17, "another key")


def test_an_older_snapshot_replayed_is_refused(world: World) -> None:
    old = world.publish()
    world.revoke_one()
    new = world.publish("--incremental")
    assert world.adopt(new).exit_code == 0
    before = world.served()
    r = world.adopt(old)
    assert r.exit_code == 17, r.output
    assert "older snapshot is refused" in r.output and "拒绝旧快照" in r.output
    _untouched(world, before)
    # even with `current` pointed back by hand at nothing, the node remembers what it took
    (world.node / "snapshots" / "current").unlink()
    assert world.adopt(old).exit_code == 17
    # an old snapshot re-signed to look new is a signature problem, not a new snapshot
    fake = _copy(old, world.tmp / "fake")
    _resign(fake, _publisher_key(world), edit=lambda d: d.update(audit_seq=d["audit_seq"] + 100))
    _refused(world.adopt(fake), 17, "disagree")


def test_a_rewritten_history_is_refused_whatever_its_sequence(world: World, built: Path) -> None:
    """Two registers from one past (a backup restored, then other changes, published with the same
    key): the second's snapshot has the higher sequence but its audit log is not the continuation."""
    assert world.adopt(world.publish()).exit_code == 0
    world.revoke_one()
    assert world.adopt(world.publish("--incremental")).exit_code == 0
    before = world.served()
    fork = World(built, world.tmp / "fork")
    fork.revoke_one()
    fork.revoke_one()
    fork.revoke_one()
    forked = fork.publish()
    assert json.loads((forked / DISTRIBUTION).read_text())["audit_seq"] > before["audit_seq"]
    _refused(world.adopt(forked), 17, "history was rewritten", "历史被改写")
    _untouched(world, before)
    world.revoke_one()  # the genuine continuation still goes in
    assert world.adopt(world.publish()).exit_code == 0


def test_a_database_that_does_not_hold_the_signed_manifest_is_refused(world: World) -> None:
    """A list signed over the wrong certs.sqlite (an exporter's bug): the copy's own manifest decides."""
    import hashlib

    old = world.publish()
    world.revoke_one()
    new = world.publish("--incremental")
    mixed = _copy(new, world.tmp / "mixed")
    shutil.copy(old / "certs.sqlite", mixed / "certs.sqlite")
    data = (mixed / "certs.sqlite").read_bytes()

    def point_at_old_db(doc: dict[str, Any]) -> None:
        entry = next(f for f in doc["files"] if f["path"] == "certs.sqlite")
        entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())

    _resign(mixed, _publisher_key(world), edit=point_at_old_db)
    _refused(world.adopt(mixed), 17, "not the signed one")


def test_links_and_traversal_in_the_file_list_are_refused(world: World, tmp_path: Path) -> None:
    export = world.publish()
    key = _publisher_key(world)  # a publisher whose list is hostile (a bug, or a stolen key)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret of the node\n")
    digest = __import__("hashlib").sha256(outside.read_bytes()).hexdigest()
    for path in ("../outside.txt", "/etc/passwd", "audit/../../outside.txt", ".hidden", "directory-1//x", "x.txt"):
        bad = _copy(export, world.tmp / f"trav-{abs(hash(path))}")
        _resign(bad, key, edit=lambda d, p=path: d["files"].append({"path": p, "size": 19, "sha256": digest}))
        _refused(world.adopt(bad), 17, "not allowed")
    # a path through a listed file (a file and a folder at once)
    clash = _copy(export, world.tmp / "clash")
    through = "directory-1/institutions.json/x"
    _resign(clash, key, edit=lambda d: d["files"].append({"path": through, "size": 19, "sha256": digest}))
    _refused(world.adopt(clash), 17, through)
    # a listed file replaced by a link (to a file with the very bytes the list signs)
    linked = _copy(export, world.tmp / "linked")
    real = linked / "manifest.json"
    (tmp_path / "m.json").write_bytes(real.read_bytes())
    real.unlink()
    real.symlink_to(tmp_path / "m.json")
    _refused(world.adopt(linked), 17, "manifest.json", "link")
    # a linked folder on the way to a listed file
    folder = _copy(export, world.tmp / "linkdir")
    shutil.move(folder / "audit", tmp_path / "audit-elsewhere")
    (folder / "audit").symlink_to(tmp_path / "audit-elsewhere")
    _refused(world.adopt(folder), 17, "audit/", "link")
    # distribution.json itself a link
    lst = _copy(export, world.tmp / "linklist")
    shutil.move(lst / DISTRIBUTION, tmp_path / "list.json")
    (lst / DISTRIBUTION).symlink_to(tmp_path / "list.json")
    _refused(world.adopt(lst), 17, DISTRIBUTION)
    assert not (world.node / "snapshots" / "current").exists()
    # a file the list does not name is not copied
    extra = _copy(export, world.tmp / "extra")
    (extra / "evil.txt").write_text("x")
    assert world.adopt(extra).exit_code == 0
    current = (world.node / "snapshots" / "current").resolve()
    assert not (current / "evil.txt").exists() and not list(current.rglob("*.part"))


def test_a_node_without_its_index_secret_or_with_a_bad_key_file(world: World) -> None:
    export = world.publish()
    (world.node / "index.secret").unlink()
    r = world.adopt(export)
    assert r.exit_code == 1 and "index.secret" in r.output
    shutil.copy(world.home / "index.secret", world.node / "index.secret")
    junk = world.tmp / "junk.pub"
    junk.write_text("not a key")
    r = world.adopt(export, key=junk)
    assert r.exit_code == 17 and "Ed25519" in r.output
    # the publisher's private key file pins the same public key (accepted; the node needs only the .pub)
    assert world.adopt(export, key=world.home / "publisher.key").exit_code == 0


# -- the README section ------------------------------------------------------------------------------
def _section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Several verification nodes")
    return readme[start : readme.index("\n## ", start + 5)]


def test_readme_section_shell_runs(built: Path, tmp_path: Path) -> None:
    """Every ```sh block of the section runs in bash, in order, from a publisher's folder."""
    home = tmp_path / "skillcert-data"
    shutil.copytree(built, home, symlinks=True)
    blocks = re.findall(r"```sh\n(.*?)```", _section(), flags=re.S)
    assert len(blocks) >= 2
    env = {**os.environ, "SKILLCERT_HOME": str(home), "SKILLCERT_ACTOR": "readme"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    taken = []
    for block in [*blocks, blocks[-1]]:  # the block "for every publish" twice: a second publish goes in too
        r = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, (block, r.stdout, r.stderr)
        taken.append((tmp_path / "node" / "snapshots" / "current").resolve())
    assert (taken[-1] / "certs.sqlite").is_file() and "已采用 adopted" in r.stdout
    assert taken[-1] != taken[-2]


def test_readme_section_settings_are_what_the_site_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcert.serving import site_settings
    from skillcert.settings import Settings

    block = re.findall(r"```toml\n(.*?)```", _section(), flags=re.S)[0]
    (tmp_path / "settings.toml").write_text(block, encoding="utf-8")
    (tmp_path / "index.secret").write_bytes(b"k" * 32)
    monkeypatch.delenv("SKILLCERT_RATE_LIMIT_URL", raising=False)
    s = site_settings(Settings.from_env({"SKILLCERT_HOME": str(tmp_path)}))
    assert s.rate_limit_url is not None and s.rate_limit_url.startswith("redis://")
    shown = re.findall(r"```text\n(ok\n.*?)```", _section(), flags=re.S)
    assert shown and all(re.fullmatch(r"ok(\n[a-z_]+: \S+)+\n", text) for text in shown)
