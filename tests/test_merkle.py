"""The audit Merkle tree against a plain recursive RFC 6962 reference, the published Certificate
Transparency vectors (transparency-dev/merkle ``testonly/constants.go``, ``proof/verify_test.go``),
and the level files."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import Registry
from registry.errors import RegistryError
from registry.events import SnapshotPublished
from registry.merkle import (
    EMPTY_ROOT,
    Checkpoint,
    FileNodes,
    MerkleTree,
    audit_leaf,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    tree_root,
    verify_consistency,
    verify_inclusion,
    write_levels,
)

# -- the reference: RFC 6962 §2.1 written out as recursion ------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def ref_mth(d: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n."""
    return ref_subproof(m, d, True)


MAX = 300
LEAVES = tuple(leaf_hash(f"entry {i}".encode()) for i in range(MAX))
OTHER = tuple(leaf_hash(f"other {i}".encode()) for i in range(MAX))  # a different log
BIG = MerkleTree()
BIG.extend(LEAVES)
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def tree_of(n: int) -> MerkleTree:
    t = MerkleTree()
    t.extend(LEAVES[:n])
    return t


def flip(proof: list[bytes], i: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ 8]) + out[i][1:]
    return out


# -- against the reference --------------------------------------------------------------------


@given(st.integers(0, MAX))
def test_root_equals_reference(n: int) -> None:
    assert tree_of(n).root() == ref_mth(LEAVES[:n]) == BIG.root(n)
    assert tree_of(n).size == n


def test_every_small_tree_every_index_and_old_size() -> None:
    for n in range(65):
        d = LEAVES[:n]
        t = tree_of(n)
        assert t.root() == ref_mth(d)
        for m in range(n):
            assert t.inclusion_proof(m) == ref_path(m, d) == BIG.inclusion_proof(m, n)
            assert verify_inclusion(LEAVES[m], m, n, ref_path(m, d), ref_mth(d))
        for old in range(1, n):
            assert t.consistency_proof(old) == ref_proof(old, d) == BIG.consistency_proof(old, n)
            assert verify_consistency(old, n, ref_mth(LEAVES[:old]), ref_mth(d), ref_proof(old, d))


@given(st.data())
def test_inclusion_proof_equals_reference_and_only_it_verifies(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, MAX), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    d, root = LEAVES[:n], ref_mth(LEAVES[:n])
    proof = tree_of(n).inclusion_proof(m, n)
    assert proof == ref_path(m, d) == BIG.inclusion_proof(m, n)
    assert verify_inclusion(LEAVES[m], m, n, proof, root)
    assert root_from_inclusion(LEAVES[m], m, n, proof) == root
    # wrong leaf, index, size, root; truncated, extended, altered proof
    assert not verify_inclusion(OTHER[m], m, n, proof, root)
    assert not verify_inclusion(LEAVES[m], m, n, proof, OTHER[0])
    assert not verify_inclusion(LEAVES[m], m, n, proof, EMPTY_ROOT)
    for wrong in {m - 1, m + 1, m ^ 2} - {m}:
        assert not verify_inclusion(LEAVES[m], wrong, n, proof, root)
    # (a wrong tree size is not tested here: RFC 6962 roots do not commit to the size, so some
    # sizes share a proof shape; the size comes from the signed checkpoint. See the CT probes.)
    if proof:
        assert not verify_inclusion(LEAVES[m], m, n, proof[:-1], root)
        assert not verify_inclusion(LEAVES[m], m, n, proof[1:], root)
        for i in range(len(proof)):
            assert not verify_inclusion(LEAVES[m], m, n, flip(proof, i), root)
    assert not verify_inclusion(LEAVES[m], m, n, [*proof, root], root)
    assert not verify_inclusion(LEAVES[m], m, n, [root, *proof], root)
    assert not verify_inclusion(LEAVES[m], m, n, [*proof, b""], root)


@given(st.data())
def test_consistency_proof_equals_reference_and_only_it_verifies(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, MAX), label="new size")
    old = data.draw(st.integers(0, n), label="old size")
    old_root, new_root = ref_mth(LEAVES[:old]), ref_mth(LEAVES[:n])
    proof = BIG.consistency_proof(old, n)
    assert proof == tree_of(n).consistency_proof(old)
    assert verify_consistency(old, n, old_root, new_root, proof)
    if old in (0, n):
        assert proof == []
        return
    assert proof == ref_proof(old, LEAVES[:n])
    # a different old tree of the same size, a wrong new root, swapped roots
    assert not verify_consistency(old, n, ref_mth(OTHER[:old]), new_root, proof)
    assert not verify_consistency(old, n, old_root, ref_mth(OTHER[:n]), proof)
    assert not verify_consistency(old, n, new_root, old_root, proof)
    assert not verify_consistency(old, n, old_root, new_root, [])
    assert not verify_consistency(old, n, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, n, old_root, new_root, [*proof, old_root])
    assert not verify_consistency(old, n, old_root, new_root, [proof[0], *proof])
    for i in range(len(proof)):
        assert not verify_consistency(old, n, old_root, new_root, flip(proof, i))
    for wrong_old in {old - 1, old + 1, old ^ 2} - {old, 0, n}:
        if 0 < wrong_old < n:
            assert not verify_consistency(wrong_old, n, old_root, new_root, proof)


@given(st.lists(st.integers(1, 40), max_size=12))
def test_append_and_extend_build_the_same_levels(chunks: list[int]) -> None:
    one, many = MerkleTree(), MerkleTree()
    pos = 0
    for c in chunks:
        for leaf in LEAVES[pos : pos + c]:
            one.append(leaf)
        many.extend(LEAVES[pos : pos + c])
        pos += c
    assert one.levels() == many.levels() == tree_of(min(pos, MAX)).levels()


def test_large_extend_matches_append() -> None:
    """Past the block size of the level-by-level build (4,096 parents per join)."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(20_003)]
    one, bulk, parts = MerkleTree(), MerkleTree(), MerkleTree()
    for leaf in leaves:
        one.append(leaf)
    bulk.extend(leaves)
    for a, b in [(0, 8191), (8191, 8193), (8193, 17_000), (17_000, 20_003)]:
        parts.extend(leaves[a:b])
    assert one.levels() == bulk.levels() == parts.levels()
    assert bulk.root(16_384) == bulk.node(14, 0) and bulk.root(20_003) == ref_mth(tuple(leaves))


def test_levels_store_only_complete_nodes() -> None:
    t = tree_of(13)
    assert [len(level) // 32 for level in t.levels()] == [13, 6, 3, 1]
    assert t.node(3, 0) == ref_mth(LEAVES[:8])
    assert t.node(1, 5) == ref_mth(LEAVES[10:12])
    with pytest.raises(IndexError):
        t.node(2, 3)


# -- the published Certificate Transparency vectors -------------------------------------------

CT_INPUTS = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
CT_INCLUSION = [  # (0-based index, size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def ct_tree() -> MerkleTree:
    t = MerkleTree()
    for data in CT_INPUTS:
        t.append(leaf_hash(data))
    return t


def test_ct_roots_and_nodes() -> None:
    t = ct_tree()
    assert EMPTY_ROOT.hex() == MerkleTree().root().hex() == CT_ROOTS[0]
    assert [t.root(n).hex() for n in range(9)] == CT_ROOTS
    assert [[level[i : i + 32].hex() for i in range(0, len(level), 32)] for level in t.levels()] == CT_NODES
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == CT_ROOTS[2]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_ct_inclusion(index: int, size: int, proof: list[str]) -> None:
    t, want = ct_tree(), [bytes.fromhex(p) for p in proof]
    leaf, root = leaf_hash(CT_INPUTS[index]), bytes.fromhex(CT_ROOTS[size])
    assert t.inclusion_proof(index, size) == want
    assert verify_inclusion(leaf, index, size, want, root)
    # the corruptions transparency-dev/merkle probes (proof/verify_test.go)
    probes = [
        (index - 1, size, leaf, want, root),
        (index + 1, size, leaf, want, root),
        (index ^ 2, size, leaf, want, root),
        (index, size * 2, leaf, want, root),
        (index, size // 2, leaf, want, root),
        (index, size, b"WrongLeaf", want, root),
        (index, size, leaf, want, EMPTY_ROOT),
        (index, size, leaf, want, SOME_HASH),
        (index, size, leaf, [*want, b""], root),
        (index, size, leaf, [*want, root], root),
        (index, size, leaf, [b"", *want], root),
        (index, size, leaf, [root, *want], root),
        (index, size, leaf, want[:-1], root),
        *[(index, size, leaf, flip(want, i), root) for i in range(len(want))],
    ]
    if len(want) > 1:
        probes.append((index, size, leaf, [want[0], SOME_HASH, *want[1:]], root))
    for i, n, lf, pf, rt in probes:
        assert not verify_inclusion(lf, i, n, pf, rt), (i, n)


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_ct_consistency(old: int, new: int, proof: list[str]) -> None:
    t, want = ct_tree(), [bytes.fromhex(p) for p in proof]
    r1, r2 = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert t.consistency_proof(old, new) == want
    assert verify_consistency(old, new, r1, r2, want)
    probes = [
        (old - 1, new, r1, r2, want),
        (old + 1, new, r1, r2, want),
        (old ^ 2, new, r1, r2, want),
        (old, new * 2, r1, r2, want),
        (old, new // 2, r1, r2, want),
        (old, new, b"WrongRoot", r2, want),
        (old, new, r1, b"WrongRoot", want),
        (old, new, r2, r1, want),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*want, b""]),
        (old, new, r1, r2, [*want, r1]),
        (old, new, r1, r2, [*want, r2]),
        (old, new, r1, r2, [b"", *want]),
        (old, new, r1, r2, [r1, *want]),
        (old, new, r1, r2, [r2, *want]),
        (old, new, r1, r2, [want[0], *want]),
        (old, new, r1, r2, want[:-1]),
        *[(old, new, r1, r2, flip(want, i)) for i in range(len(want))],
    ]
    for m, n, a, b, pf in probes:
        assert not verify_consistency(m, n, a, b, pf), (m, n)


def test_verifier_edge_cases() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)  # a one-leaf tree's root is its leaf
    assert not verify_inclusion(h, 0, 1, [], EMPTY_ROOT)
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 3)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(b"short", 0, 1, [], b"short")
    r1, r2 = bytes.fromhex(CT_ROOTS[1]), bytes.fromhex(CT_ROOTS[2])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, SOME_HASH, [])
    assert not verify_consistency(0, 5, SOME_HASH, SOME_HASH, [])  # the empty tree has one root
    assert not verify_consistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r1, [r1])
    assert not verify_consistency(2, 1, r2, r1, [])  # time travel
    assert not verify_consistency(1, 2, r1, r2, [])


def test_bad_arguments_are_refused() -> None:
    t = tree_of(10)
    with pytest.raises(ValueError):
        t.root(11)
    with pytest.raises(ValueError):
        t.inclusion_proof(10, 10)
    with pytest.raises(ValueError):
        t.consistency_proof(5, 11)
    with pytest.raises(ValueError):
        t.consistency_proof(6, 5)
    with pytest.raises(ValueError):
        t.append(b"x" * 31)
    with pytest.raises(ValueError):
        t.extend([LEAVES[0], b"x"])
    assert t.size == 10  # a refused extend adds nothing
    with pytest.raises(ValueError):
        MerkleTree().inclusion_proof(0, 0)


# -- level files ------------------------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, MAX), st.data())
def test_levels_round_trip_through_files(tmp_path: Path, n: int, data: st.DataObject) -> None:
    folder = tmp_path / "tree"  # one folder for every example: growth appends, shrinking replaces
    t = tree_of(n)
    write_levels(t, folder)
    assert sorted(p.name for p in folder.iterdir()) == [f"L{k:02d}.bin" for k in range(max(1, n.bit_length()))]
    with FileNodes(folder) as f:
        assert f.size == n
        assert MerkleTree.from_levels(f.levels(), check=True).levels() == t.levels()
        assert tree_root(f) == t.root()
        if n:
            m = data.draw(st.integers(0, n - 1), label="index")
            assert inclusion_proof(f, m) == t.inclusion_proof(m)
            old = data.draw(st.integers(0, n), label="old size")
            assert consistency_proof(f, old) == t.consistency_proof(old)
            assert Checkpoint.of(f, at="x", size=old) == Checkpoint.of(t, at="x", size=old)


def test_write_levels_appends_only_the_tail(tmp_path: Path) -> None:
    write_levels(tree_of(100), tmp_path)
    inode = os.stat(tmp_path / "L00.bin").st_ino
    with FileNodes(tmp_path) as before:
        write_levels(tree_of(250), tmp_path)
        assert os.stat(tmp_path / "L00.bin").st_ino == inode  # grown in place
        assert before.size == 100 and tree_root(before) == ref_mth(LEAVES[:100])  # an open reader keeps its size
    with FileNodes(tmp_path) as after:
        assert after.size == 250 and tree_root(after) == ref_mth(LEAVES[:250])
    other = MerkleTree()
    other.extend(OTHER[:260])
    write_levels(other, tmp_path)  # not a continuation: replaced, not appended
    assert os.stat(tmp_path / "L00.bin").st_ino != inode
    with FileNodes(tmp_path) as f:
        assert tree_root(f) == ref_mth(OTHER[:260])


def test_damaged_level_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(RegistryError):
        FileNodes(tmp_path)
    write_levels(tree_of(40), tmp_path)
    (tmp_path / "L02.bin").write_bytes((tmp_path / "L02.bin").read_bytes()[:-32])
    with pytest.raises(RegistryError) as e:
        FileNodes(tmp_path)
    assert "level 2" in e.value.en
    (tmp_path / "L05.bin").unlink()
    with pytest.raises(RegistryError):
        FileNodes(tmp_path)


def test_from_levels_checks_the_shape_and_optionally_the_hashes() -> None:
    levels = tree_of(21).levels()
    assert MerkleTree.from_levels(levels, check=True).root() == ref_mth(LEAVES[:21])
    with pytest.raises(ValueError):
        MerkleTree.from_levels(levels[:-1])
    with pytest.raises(ValueError):
        MerkleTree.from_levels([levels[0], levels[1][:-32], *levels[2:]])
    with pytest.raises(ValueError):
        MerkleTree.from_levels([])
    tampered = [levels[0], SOME_HASH + levels[1][32:], *levels[2:]]
    assert MerkleTree.from_levels(tampered).size == 21  # shape only by default
    with pytest.raises(ValueError):
        MerkleTree.from_levels(tampered, check=True)
    assert MerkleTree.from_levels([b""]).root() == EMPTY_ROOT


# -- the audit log and checkpoints ------------------------------------------------------------


def test_tree_over_the_registry_audit_log(reg: Registry) -> None:
    for i in range(5):
        reg.audit.record(str(i), SnapshotPublished(incremental=False, audit_seq=i, certificates=0), actor="test")
    entries = list(reg.audit.entries())
    tree = MerkleTree.from_audit_hashes(e.hash for e in entries)
    assert tree.size == len(entries) == reg.audit.head()[0]
    root = tree.root()
    for e in entries:
        leaf = audit_leaf(e.hash)
        assert leaf == leaf_hash(bytes.fromhex(e.hash))
        assert verify_inclusion(leaf, e.seq - 1, tree.size, tree.inclusion_proof(e.seq - 1), root)
    old = Checkpoint.of(tree, at="2026-03-02T09:00:00+00:00")
    reg.audit.record("5", SnapshotPublished(incremental=False, audit_seq=5, certificates=0), actor="test")
    tree.append(audit_leaf(reg.audit.head()[1]))
    proof = tree.consistency_proof(old.size)
    assert verify_consistency(old.size, tree.size, old.root_bytes, tree.root(), proof)


def test_checkpoint_body_is_canonical() -> None:
    cp = Checkpoint(size=8, root=CT_ROOTS[8], at="2026-03-02T09:00:00+00:00")
    assert cp.body() == (
        b'{"at":"2026-03-02T09:00:00+00:00","log":"skillcert-audit/1",'
        b'"root":"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328","size":8}'
    )
    assert Checkpoint.from_body(cp.body()) == cp
    assert Checkpoint.of(ct_tree(), at=cp.at) == cp
    assert Checkpoint(0, EMPTY_ROOT.hex(), "t") == Checkpoint.of(MerkleTree(), at="t")
    for body in [
        cp.body().replace(b",", b", "),
        cp.body().replace(b"skillcert-audit/1", b"other/1"),
        cp.body().replace(b'"size":8', b'"size":"8"'),
        cp.body().replace(b'"size":8', b'"size":true'),
        b"[]",
        b"\xff",
    ]:
        with pytest.raises(ValueError):
            Checkpoint.from_body(body)
    with pytest.raises(ValueError):
        Checkpoint(1, "AB" * 32, "t")
    with pytest.raises(ValueError):
        Checkpoint(-1, CT_ROOTS[1], "t")
