"""A Merkle tree over the audit log, per RFC 6962 §2.1 / RFC 9162 §2.1: tree heads, inclusion
proofs and consistency proofs, and the checkpoint body a signature commits to.

The leaf of audit entry ``seq`` (leaf index ``seq - 1``) is ``leaf_hash`` of its chain hash
bytes. The chain hash already commits to the entry and to every entry before it, and it is never
published, so a published leaf hash or proof says nothing about the entry's personal data.

Only complete, aligned subtrees are stored: level ``k`` is the concatenation of the 32-byte
hashes of nodes ``j`` covering leaves ``[j·2^k, (j+1)·2^k)``. Such a node never changes once it
exists, so every level is append-only, a tree of ``n`` leaves stores under ``2n`` hashes, and
the hash of any other subtree (the right edge of a tree whose size is not a power of two) is
folded on the fly from at most ``log2 n`` stored nodes. The proof functions read nodes through
:class:`NodeSource`, implemented by :class:`MerkleTree` (in memory) and :class:`FileNodes`
(``os.pread`` on the level files ``L00.bin``, ``L01.bin``, ... written by :func:`write_levels`),
so a proof is answered without loading the levels.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Protocol

from .atomic import fsync_dir, write_atomic
from .errors import RegistryError

__all__ = [
    "EMPTY_ROOT",
    "LOG_ID",
    "Checkpoint",
    "FileNodes",
    "MerkleTree",
    "NodeSource",
    "audit_leaf",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
    "write_levels",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 6962 §2.1)
LOG_ID = "skillcert-audit/1"
_LEAF, _NODE = b"\x00", b"\x01"
_LEVEL_FILE = re.compile(r"L(\d{2})\.bin")
_BLOCK = 4096  # parents hashed per join while growing a level


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 ‖ d): the hash of one leaf (RFC 6962 §2.1)."""
    return sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an inner node (RFC 6962 §2.1)."""
    return sha256(_NODE + left + right).digest()


def audit_leaf(entry_hash_hex: str) -> bytes:
    """The leaf hash of an audit entry: ``leaf_hash`` of the bytes of its chain hash."""
    return sha256(_LEAF + bytes.fromhex(entry_hash_hex)).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _need_hash(h: bytes, what: str) -> None:
    if len(h) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(h)}")


# -- reading nodes -------------------------------------------------------------------------


class NodeSource(Protocol):
    """Complete aligned subtree hashes: ``node(k, j)`` covers leaves ``[j·2^k, (j+1)·2^k)``."""

    def count(self, level: int) -> int:
        """How many nodes level ``level`` holds (``size >> level``; level 0 = the leaves)."""
        ...

    def node(self, level: int, index: int) -> bytes:
        """The 32-byte hash of node ``index`` at ``level``."""
        ...


def _subtree(src: NodeSource, start: int, n: int) -> bytes:
    """MTH(D[start:start+n]) for a range the RFC recursion produces (``start`` aligned), n > 0.

    The RFC's split at the largest power of two below ``n`` makes the left part a complete
    node every time, so the range is its complete nodes for the set bits of ``n``, highest
    first, folded from the right.
    """
    if start & ((1 << (n.bit_length() - 1)) - 1):
        raise ValueError(f"range [{start}, {start + n}) is not aligned as in the RFC 6962 recursion")
    parts: list[bytes] = []
    for k in range(n.bit_length() - 1, -1, -1):
        if n >> k & 1:
            parts.append(src.node(k, start >> k))
            start += 1 << k
    h = parts.pop()
    while parts:
        h = sha256(_NODE + parts.pop() + h).digest()
    return h


def _check_size(src: NodeSource, size: int) -> None:
    if not 0 <= size <= src.count(0):
        raise ValueError(f"tree size {size} out of range 0..{src.count(0)}")


def tree_root(src: NodeSource, size: int | None = None) -> bytes:
    """MTH(D[0:size]), the Merkle Tree Hash of the first ``size`` leaves (RFC 6962 §2.1)."""
    size = src.count(0) if size is None else size
    _check_size(src, size)
    return _subtree(src, 0, size) if size else EMPTY_ROOT


def inclusion_proof(src: NodeSource, index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[0:size]), the audit path of leaf ``index``, leaf to root (RFC 6962 §2.1.1)."""
    size = src.count(0) if size is None else size
    _check_size(src, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} out of range for tree size {size}")
    path: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            path.append(_subtree(src, start + k, n - k))
            n = k
        else:
            path.append(_subtree(src, start, k))
            start, m, n = start + k, m - k, n - k
    path.reverse()
    return path


def consistency_proof(src: NodeSource, old_size: int, new_size: int | None = None) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) = SUBPROOF(m, D[n], true) (RFC 6962 §2.1.2).

    Empty when ``old_size`` is 0 or equal to ``new_size`` (nothing to prove).
    """
    new_size = src.count(0) if new_size is None else new_size
    _check_size(src, new_size)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} out of range 0..{new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, n, m, whole = 0, new_size, old_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(_subtree(src, start + k, n - k))
            n = k
        else:
            proof.append(_subtree(src, start, k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        proof.append(_subtree(src, start, m))
    proof.reverse()
    return proof


# -- the tree ------------------------------------------------------------------------------


class MerkleTree:
    """An append-only Merkle tree holding its complete subtree nodes, level by level."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    @classmethod
    def from_audit_hashes(cls, hashes: Iterable[str]) -> MerkleTree:
        """The tree over audit entries given by their chain hashes (hex), in ``seq`` order."""
        tree = cls()
        tree.extend(audit_leaf(h) for h in hashes)
        return tree

    @classmethod
    def from_levels(cls, levels: Sequence[bytes], *, check: bool = False) -> MerkleTree:
        """Reload the tree from :meth:`levels` (or the level files). The node counts are always
        checked; ``check=True`` also recomputes every inner node from the leaves."""
        if not levels:
            raise ValueError("no levels: an empty tree has one empty level")
        size = len(levels[0]) // HASH_SIZE
        expected = max(1, size.bit_length())
        if len(levels) != expected:
            raise ValueError(f"a tree of {size} leaves has {expected} levels, got {len(levels)}")
        for k, level in enumerate(levels):
            if len(level) != (size >> k) * HASH_SIZE:
                raise ValueError(f"level {k} holds {len(level)} bytes, expected {(size >> k) * HASH_SIZE}")
        tree = cls()
        if check:
            tree._levels[0] += levels[0]
            tree._grow()
            if any(tree._levels[k] != levels[k] for k in range(1, expected)):
                raise ValueError("the inner nodes do not match the leaves")
        else:
            tree._levels = [bytearray(level) for level in levels]
        return tree

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def __len__(self) -> int:
        return self.size

    def count(self, level: int) -> int:
        return len(self._levels[level]) // HASH_SIZE if level < len(self._levels) else 0

    def node(self, level: int, index: int) -> bytes:
        if not 0 <= index < self.count(level):
            raise IndexError(f"no node {index} at level {level}")
        return bytes(self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def levels(self) -> list[bytes]:
        """A copy of every level (level 0 = the leaf hashes): what a snapshot stores."""
        return [bytes(level) for level in self._levels]

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; each level that reaches an even count gets the new parent."""
        _need_hash(leaf, "a leaf hash")
        levels = self._levels
        levels[0] += leaf
        k = 0
        while not (len(levels[k]) // HASH_SIZE) & 1:
            if k + 1 == len(levels):
                levels.append(bytearray())
            levels[k + 1] += sha256(_NODE + levels[k][-2 * HASH_SIZE :]).digest()
            k += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add many leaf hashes, then build the new parents level by level (all or nothing)."""
        level0 = self._levels[0]
        start = len(level0)
        try:
            for leaf in leaves:
                _need_hash(leaf, "a leaf hash")
                level0 += leaf
        except BaseException:
            del level0[start:]
            raise
        self._grow()

    def _grow(self) -> None:
        """Add every parent whose two children exist, level by level, in blocks."""
        levels, k, pair = self._levels, 0, 2 * HASH_SIZE
        while len(levels[k]) >= pair:
            if k + 1 == len(levels):
                levels.append(bytearray())
            child, parent = levels[k], levels[k + 1]
            end = len(child) // pair * pair
            for block in range(len(parent) * 2, end, _BLOCK * pair):
                stop = min(end, block + _BLOCK * pair)
                parent += b"".join([sha256(_NODE + child[i : i + pair]).digest() for i in range(block, stop, pair)])
            k += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all by default), RFC 6962 §2.1."""
        return tree_root(self, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]), RFC 6962 §2.1.1."""
        return inclusion_proof(self, index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]), RFC 6962 §2.1.2."""
        return consistency_proof(self, old_size, new_size)


# -- level files ---------------------------------------------------------------------------


def _level_path(folder: Path, k: int) -> Path:
    return folder / f"L{k:02d}.bin"


def _append_tail(path: Path, data: bytes | bytearray) -> bool:
    """Append what ``path`` lacks of ``data`` when it holds a prefix of it (checked by its last
    node); False if it does not (then the caller replaces the file)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        have = os.fstat(fd).st_size
        if have % HASH_SIZE or have > len(data):
            return False
        if have and os.pread(fd, HASH_SIZE, have - HASH_SIZE) != data[have - HASH_SIZE : have]:
            return False
        while have < len(data):
            have += os.pwrite(fd, data[have:], have)  # a copy of the tail only
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def write_levels(tree: MerkleTree, folder: Path, *, append: bool = True) -> None:
    """Write the tree's levels as ``folder/L00.bin``, ``L01.bin``, ...

    A file that already holds a prefix of its level gets only the new tail (``append``);
    any other file is replaced atomically (temporary file, fsync, rename). The top level is
    written first and ``L00.bin`` last, so a reader that takes its size from ``L00.bin``
    always finds the upper nodes it needs. Level files beyond the tree's height are removed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    levels = tree._levels  # written as they are, not copied (64 MB at a million leaves)
    for path in folder.iterdir():
        m = _LEVEL_FILE.fullmatch(path.name)
        if m and int(m.group(1)) >= len(levels):
            path.unlink()
    for k in range(len(levels) - 1, -1, -1):
        path = _level_path(folder, k)
        if not (append and _append_tail(path, levels[k])):
            write_atomic(path, levels[k], sync_dir=False)  # one fsync of the folder below
    fsync_dir(folder)


class FileNodes:
    """A :class:`NodeSource` over the level files in ``folder``, read with ``os.pread``.

    The size is fixed when opened (from ``L00.bin``), so appends by a later
    :func:`write_levels` do not change what an open reader proves. Close when done.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fds: list[int] = []
        try:
            self._fds.append(os.open(_level_path(folder, 0), os.O_RDONLY))
            self.size = os.fstat(self._fds[0]).st_size // HASH_SIZE
            for k in range(1, max(1, self.size.bit_length())):
                fd = os.open(_level_path(folder, k), os.O_RDONLY)
                self._fds.append(fd)
                if os.fstat(fd).st_size < (self.size >> k) * HASH_SIZE:
                    raise ValueError(f"level {k} is shorter than a tree of {self.size} leaves needs")
        except (OSError, ValueError) as e:
            self.close()
            raise RegistryError(
                f"审计日志默克尔树文件 {folder} 不完整：{e}",
                f"the audit Merkle tree files in {folder} are incomplete: {e}",
            ) from e

    def count(self, level: int) -> int:
        return self.size >> level if level < len(self._fds) else 0

    def node(self, level: int, index: int) -> bytes:
        if not 0 <= index < self.count(level):
            raise IndexError(f"no node {index} at level {level}")
        data = os.pread(self._fds[level], HASH_SIZE, index * HASH_SIZE)
        if len(data) != HASH_SIZE:
            raise RegistryError(
                f"审计日志默克尔树文件 {self.folder} 被截断",
                f"the audit Merkle tree files in {self.folder} are truncated",
            )
        return data

    def levels(self) -> list[bytes]:
        """Every level, read whole (for :meth:`MerkleTree.from_levels`)."""
        return [os.pread(fd, (self.size >> k) * HASH_SIZE, 0) for k, fd in enumerate(self._fds)]

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> FileNodes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- verifiers (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------------------------------


def _hashes(proof: Sequence[bytes]) -> bool:
    return all(len(p) == HASH_SIZE for p in proof)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to, or None if the proof has the wrong shape
    (RFC 9162 §2.1.3.2 steps 1-4)."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or not _hashes(proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = sha256(_NODE + p + r).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(_NODE + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``?
    (RFC 9162 §2.1.3.2)"""
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Does ``proof`` show the tree of ``old_size`` with ``old_root`` is a prefix of the tree of
    ``new_size`` with ``new_root``? (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and
    equal roots; old size 0 needs an empty proof and the empty-tree root."""
    if not 0 <= old_size <= new_size or not _hashes(proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(_NODE + c + fr).digest()
            sr = sha256(_NODE + c + sr).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha256(_NODE + sr + c).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# -- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head's data: the log has ``size`` entries with root ``root`` (hex) at ``at``."""

    size: int
    root: str
    at: str

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"checkpoint size {self.size} is negative")
        if not re.fullmatch(r"[0-9a-f]{64}", self.root):
            raise ValueError("checkpoint root must be 64 lowercase hex digits")

    @classmethod
    def of(cls, src: NodeSource, *, at: str, size: int | None = None) -> Checkpoint:
        """The checkpoint of the first ``size`` leaves (all by default) of a tree."""
        size = src.count(0) if size is None else size
        return cls(size, tree_root(src, size).hex(), at)

    @classmethod
    def from_body(cls, body: bytes) -> Checkpoint:
        """Parse :meth:`body` bytes back (they must be exactly canonical, of this log)."""
        try:
            d = json.loads(body.decode("utf-8"))
            cp = cls(d["size"], d["root"], d["at"])
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a checkpoint body: {e}") from e
        if type(d["size"]) is not int or not isinstance(d["at"], str) or cp.body() != body:
            raise ValueError("not a canonical skillcert-audit/1 checkpoint body")
        return cp

    @property
    def root_bytes(self) -> bytes:
        return bytes.fromhex(self.root)

    def body(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces, UTF-8) of size, root, time and log: the bytes signed."""
        d = {"at": self.at, "log": LOG_ID, "root": self.root, "size": self.size}
        return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
