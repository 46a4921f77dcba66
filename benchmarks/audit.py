"""Benchmark: the audit log at 1,000,000 events with its RFC 6962 Merkle tree (``registry.merkle``).

Method, all in one process on one fresh registry in a temporary folder:

1. Append. ``--events`` synthetic audit events (certificate issue / status events with a small
   ``after`` document, as the store writes them) go through the store's own batching path:
   ``reg.db.write()`` (one ``BEGIN IMMEDIATE`` transaction) and ``registry.audit.AuditWriter``
   (canonical JSON, ``sha256(prev ‖ body)`` chain, ``executemany`` every 2,000), ``--batch``
   events per transaction. After each commit the batch's chain hashes go into the Merkle tree
   (``MerkleTree.extend`` of ``audit_leaf``), timed apart. Printed: events/s for the chained
   SQLite append, the tree append, and both. Per-leaf ``MerkleTree.append`` is timed too.
2. Checkpoint. The root of all leaves from the built tree (median of many calls; the size is not
   a power of two, so the right edge is folded on the fly), ``write_levels`` to files, and the time
   to build the tree from the audit table: ``SELECT hash FROM audit ORDER BY seq`` + extend, and
   for comparison through the public ``reg.audit.entries()`` (which parses every entry).
3. Proofs. Inclusion proofs for 10,000 random indices from the in-memory tree and from
   ``FileNodes`` (``os.pread`` on the level files, the page cache warm after writing), then
   ``verify_inclusion``: median time per proof and proof size (hashes × 32 bytes). Consistency
   proofs from 1,000 random old sizes to the full size, and their verification.
4. Full verification: ``reg.audit.verify_chain()`` over every entry, plus recomputing the
   Merkle root from scratch out of the table (read hashes, leaf hashes, inner nodes, root).

Peak RSS is the process's ``ru_maxrss``. The machine is shared: the load average is printed at
the start and the end. Figures are printed with their targets beside; nothing is asserted.

    ./run bench audit [--events 1000000] [--batch 10000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry import Registry  # noqa: E402
from registry.audit import AuditWriter  # noqa: E402
from registry.merkle import (  # noqa: E402
    FileNodes,
    MerkleTree,
    audit_leaf,
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
    write_levels,
)

ACTIONS = ("issue", "issue", "issue", "deliver", "report", "revoke")


def events(n: int, rng: random.Random) -> Iterator[tuple[str, str, str, object, object]]:
    """(action, entity, key, before, after) shaped like the store's certificate events."""
    for i in range(1, n + 1):
        action = rng.choice(ACTIONS)
        cid = str(rng.randrange(1, n + 1))
        if action == "issue":
            after: dict[str, object] = {"number": f"S00001108401226{i:08d}", "status": "valid", "on": "2026-11-22"}
            yield action, "certificate", cid, {"status": "pending"}, after
        elif action == "revoke":
            after = {"status": "revoked", "on": "2026-11-22", "reason": "证书信息有误 data error"}
            yield action, "certificate", cid, {"status": "valid"}, after
        else:
            yield action, "certificate", cid, None, {"sha256": f"{rng.getrandbits(256):064x}"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_us(fn: Callable[[int], object], args: list[int]) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000, help="events per write transaction")
    ap.add_argument("--proofs", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="50,000 events")
    ap.add_argument("--dir", type=Path, default=None, help="where the temporary registry goes")
    a = ap.parse_args()
    n = 50_000 if a.quick else a.events
    rng = random.Random(n)
    print(f"audit benchmark: {n:,} events, {a.batch:,} per transaction; load average {os.getloadavg()}")

    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        d = Path(tmp)
        reg = Registry.create(d / "registry.sqlite")
        base = reg.audit.head()[0]  # the empty registry has no entries; kept general

        # 1. append ------------------------------------------------------------------------
        tree = MerkleTree()
        t_sql = t_tree = 0.0
        gen = events(n, rng)
        left = n
        while left:
            k = min(a.batch, left)
            left -= k
            hashes: list[str] = []
            t0 = time.perf_counter()
            with reg.db.write("bench") as tx:
                audit = AuditWriter(tx, tx.at, "bench")
                for _ in range(k):
                    action, entity, key, before, after = next(gen)
                    audit.add(action, entity, key, before, after)
                    hashes.append(audit.prev)
                audit.flush()
            t1 = time.perf_counter()
            tree.extend(audit_leaf(h) for h in hashes)
            t_tree += time.perf_counter() - t1
            t_sql += t1 - t0
        assert tree.size == n + base
        db_mb = (d / "registry.sqlite").stat().st_size / 1e6
        rss_append = peak_rss_mb()

        level0 = tree.levels()[0]
        t0 = time.perf_counter()
        one_by_one = MerkleTree()
        for i in range(0, len(level0), 32):
            one_by_one.append(level0[i : i + 32])
        t_append1 = time.perf_counter() - t0
        assert one_by_one.root() == tree.root()
        del one_by_one, level0

        print("1. append")
        print(f"  chained audit entries into SQLite    {n / t_sql:10,.0f} events/s   ({t_sql:.2f} s)")
        print(f"  Merkle tree (audit_leaf + extend)    {n / t_tree:10,.0f} events/s   ({t_tree:.2f} s)")
        print(f"  both                                 {n / (t_sql + t_tree):10,.0f} events/s   target >= 20,000")
        print(f"  Merkle tree, append() per leaf hash  {n / t_append1:10,.0f} leaves/s   ({t_append1:.2f} s)")
        print(
            f"  registry size {db_mb:,.0f} MB; tree {sum(map(len, tree.levels())) / 1e6:.1f} MB in {len(tree.levels())} levels"
        )

        # 2. checkpoint --------------------------------------------------------------------
        size = tree.size
        reps = 2000
        t0 = time.perf_counter()
        for _ in range(reps):
            root = tree.root()
        t_root = (time.perf_counter() - t0) / reps
        t0 = time.perf_counter()
        rebuilt = MerkleTree.from_audit_hashes(r[0] for r in reg.db.execute("SELECT hash FROM audit ORDER BY seq"))
        t_build_sql = time.perf_counter() - t0
        assert rebuilt.root() == root
        del rebuilt
        t0 = time.perf_counter()
        via_api = MerkleTree.from_audit_hashes(e.hash for e in reg.audit.entries())
        t_build_api = time.perf_counter() - t0
        assert via_api.root() == root
        del via_api
        folder = d / "merkle"
        t0 = time.perf_counter()
        write_levels(tree, folder)
        t_write = time.perf_counter() - t0
        files_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print("2. checkpoint")
        print(f"  root of {size:,} leaves (built tree)   {t_root * 1e6:10.1f} µs")
        print(f"  build tree from the audit table      {t_build_sql:10.2f} s   (SELECT hash + extend)")
        print(f"  build tree via audit_entries()       {t_build_api:10.2f} s   (parses every entry)")
        print(
            f"  write_levels (fsync)                 {t_write:10.2f} s   {files_mb:.1f} MB in {len(list(folder.iterdir()))} files"
        )

        # 3. proofs ------------------------------------------------------------------------
        idx = [rng.randrange(size) for _ in range(a.proofs)]
        proofs = {i: tree.inclusion_proof(i) for i in idx}
        t_mem = median_us(lambda i: tree.inclusion_proof(i), idx)
        with FileNodes(folder) as files:
            t_open = median_us(lambda _: FileNodes(folder).close(), list(range(200)))
            t_file = median_us(lambda i: inclusion_proof(files, i), idx)
            assert all(inclusion_proof(files, i) == proofs[i] for i in idx[:500])
            t_file_root = median_us(lambda _: tree_root(files), list(range(200)))
            olds = [rng.randrange(1, size) for _ in range(1000)]
            cons = {m: consistency_proof(files, m) for m in olds}
            t_cons_file = median_us(lambda m: consistency_proof(files, m), olds)
        leaf_of = {i: tree.node(0, i) for i in idx}
        t_verify = median_us(lambda i: verify_inclusion(leaf_of[i], i, size, proofs[i], root), idx)
        assert all(verify_inclusion(leaf_of[i], i, size, proofs[i], root) for i in idx)
        lens = [len(p) for p in proofs.values()]
        t_cons = median_us(lambda m: tree.consistency_proof(m), olds)
        old_roots = {m: tree.root(m) for m in olds}
        t_cons_verify = median_us(lambda m: verify_consistency(m, size, old_roots[m], root, cons[m]), olds)
        assert all(verify_consistency(m, size, old_roots[m], root, cons[m]) for m in olds)
        clens = [len(p) for p in cons.values()]
        print(f"3. proofs (median of {a.proofs:,} random leaves; consistency: 1,000 random old sizes)")
        print(
            f"  inclusion proof size                 {statistics.median(lens) * 32:10.0f} B   "
            f"({min(lens)}-{max(lens)} hashes × 32)"
        )
        print(f"  inclusion proof, in-memory tree      {t_mem:10.1f} µs   target <= 1,000 µs")
        print(f"  inclusion proof, FileNodes (pread)   {t_file:10.1f} µs   target <= 1,000 µs")
        print(f"  FileNodes open + close               {t_open:10.1f} µs;  root from files {t_file_root:.1f} µs")
        print(f"  verify_inclusion                     {t_verify:10.1f} µs")
        print(
            f"  consistency proof size               {statistics.median(clens) * 32:10.0f} B   "
            f"({min(clens)}-{max(clens)} hashes × 32)"
        )
        print(f"  consistency proof, memory / files    {t_cons:10.1f} µs / {t_cons_file:.1f} µs")
        print(f"  verify_consistency                   {t_cons_verify:10.1f} µs")

        # 4. full verification -------------------------------------------------------------
        tree = MerkleTree()  # free the built tree before the from-scratch pass
        proofs.clear()
        cons.clear()
        t0 = time.perf_counter()
        broken = reg.audit.verify_chain()
        t_chain = time.perf_counter() - t0
        t0 = time.perf_counter()
        fresh = MerkleTree.from_audit_hashes(r[0] for r in reg.db.execute("SELECT hash FROM audit ORDER BY seq"))
        again = fresh.root()
        t_merkle = time.perf_counter() - t0
        assert broken is None and again == root
        print(f"4. full verification of {size:,} events")
        print(f"  verify_audit_chain()                 {t_chain:10.2f} s")
        print(f"  Merkle root from scratch             {t_merkle:10.2f} s")
        print(f"  both                                 {t_chain + t_merkle:10.2f} s   target <= 60 s")
        print(f"peak RSS {peak_rss_mb():,.0f} MB (after the append phase {rss_append:,.0f} MB)")
        print(f"load average at the end {os.getloadavg()}")
        reg.close()


if __name__ == "__main__":
    main()
