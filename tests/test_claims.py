"""Leases by which several issue runs share one batch (``reg.claims``), on both engines: disjoint
claims, a lapsed lease taken over, and a delivery recorded once — never by a run that lost its
lease, never twice for one version."""

from __future__ import annotations

import time
from datetime import date

import pytest

from registry import Registry
from registry.errors import DeliveryTaken

from .conftest import DEMO_CODES, add_pending

BJ, GD = DEMO_CODES["beijing"], DEMO_CODES["guangdong"]
DAY = date(2026, 3, 2)


def _deliver(reg: Registry, cid: int, *, claim: str | None, sha: str = "a" * 64) -> None:
    c = reg.certificates.by_id(cid)
    reg.seals.mark_delivered(
        cid, c.version, pdf_sha256=sha, file_name=f"{c.number}.pdf", level="B-B", actor="t", claim=claim
    )


def _issued(reg: Registry, n: int, code: str = BJ) -> list[int]:
    add_pending(reg, n, code=code)
    reg.certificates.issue(code, DAY, actor="t")
    return list(reg.seals.undelivered_ids(code))


def test_two_runs_claim_disjoint_shares_of_one_batch(reg: Registry) -> None:
    ids = _issued(reg, 10)
    add_pending(reg, 2, code=GD, seed=9)
    reg.certificates.issue(GD, DAY, actor="t")
    a = reg.claims.claim(BJ, "run-a", limit=4, lease_seconds=60)
    b = reg.claims.claim(BJ, "run-b", limit=4, lease_seconds=60)
    rest = reg.claims.claim(BJ, "run-a", limit=4, lease_seconds=60)
    assert a == ids[:4] and b == ids[4:8] and rest == ids[8:]  # oldest first, nothing twice
    assert reg.claims.claim(BJ, "run-c", limit=4, lease_seconds=60) == []  # all held
    assert reg.claims.others_live(BJ, "run-a") == frozenset(b)
    assert reg.claims.pending_elsewhere(BJ, "run-b") == 6
    for cid in b:
        _deliver(reg, cid, claim="run-b")
    assert reg.claims.pending_elsewhere(BJ, "run-a") == 0  # delivered: nothing left to wait for
    reg.claims.release("run-a")
    assert reg.claims.claim(BJ, "run-c", limit=10, lease_seconds=60) == a + rest  # freed at once
    assert len(reg.claims.claim(GD, "run-c", limit=10, lease_seconds=60)) == 2  # another institution's


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_record(reg: Registry) -> None:
    ids = _issued(reg, 3)
    assert reg.claims.claim(BJ, "dead", limit=3, lease_seconds=0.3) == ids
    assert reg.claims.claim(BJ, "alive", limit=3, lease_seconds=60) == []
    time.sleep(0.5)
    assert reg.claims.others_live(BJ, "alive") == frozenset()  # nobody's work in progress any more
    assert reg.claims.claim(BJ, "alive", limit=3, lease_seconds=60) == ids
    seq = reg.audit.head()
    with pytest.raises(DeliveryTaken) as e:  # the slow run comes back after its lease ran out
        _deliver(reg, ids[0], claim="dead")
    assert "租约" in e.value.zh and "lease" in e.value.en
    assert reg.audit.head() == seq and reg.seals.delivery(ids[0]) is None  # nothing written
    _deliver(reg, ids[0], claim="alive")
    assert reg.seals.delivery(ids[0]) is not None


def test_renewing_keeps_a_lease_alive(reg: Registry) -> None:
    ids = _issued(reg, 2)
    reg.claims.claim(BJ, "slow", limit=2, lease_seconds=0.6)
    for _ in range(3):
        time.sleep(0.3)
        reg.claims.renew("slow", 0.6)
    assert reg.claims.claim(BJ, "other", limit=2, lease_seconds=60) == []
    assert reg.claims.others_live(BJ, "other") == frozenset(ids)


def test_one_delivery_per_version(reg: Registry) -> None:
    ids = _issued(reg, 1)
    _deliver(reg, ids[0], claim=None)
    with pytest.raises(DeliveryTaken) as e:  # a second file for the same version
        _deliver(reg, ids[0], claim=None, sha="b" * 64)
    assert "另一次签发" in e.value.zh and "another issue run" in e.value.en
    assert [d.pdf_sha256 for d in reg.seals.deliveries(ids[0])] == ["a" * 64]


def test_release_all_voids_what_a_killed_run_held(reg: Registry) -> None:
    """On SQLite the issue lock guarantees no other live run: its leases need not be waited out."""
    ids = _issued(reg, 2)
    reg.claims.claim(BJ, "killed", limit=2, lease_seconds=3600)
    reg.claims.release_all(BJ)
    assert reg.claims.claim(BJ, "next", limit=2, lease_seconds=60) == ids
