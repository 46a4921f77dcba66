"""Hostile input for the site: a fuzzed upload stream, and the API against its own OpenAPI document."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from .conftest import DemoHome
from .serving import generous_app


def _app(demo_home: DemoHome) -> Any:
    return generous_app(demo_home.home, check_timeout_seconds=1.8)


def _mutants(good: bytes, n: int, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Random bytes, truncated and mutated valid PDFs."""
    for i in range(n):
        kind = i % 5
        if kind == 0:
            yield "random", rng.randbytes(rng.randint(0, 4000))
        elif kind == 1:
            yield "random-pdf-header", b"%PDF-1.7\n" + rng.randbytes(rng.randint(0, 4000))
        elif kind == 2:
            yield "truncated", good[: rng.randint(0, len(good))]
        elif kind == 3:
            data = bytearray(good)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield "bytes-mutated", bytes(data)
        else:
            data = bytearray(good)
            a = rng.randrange(len(data))
            b = min(len(data), a + rng.randint(1, 5000))
            if rng.random() < 0.5:
                del data[a:b]
            else:
                data[a:a] = rng.choice([b"endobj", b"<<", b">>", b"xref", b"startxref 0", b"%%EOF", b"/Length 99999"])
            yield "spliced", bytes(data)


@pytest.mark.slow
def test_fuzzed_uploads_never_5xx_and_never_run_out_of_time(demo_home: DemoHome) -> None:
    good = demo_home.pdfs[0].read_bytes()
    rng = random.Random(20261201)
    seen: dict[str, dict[int, int]] = {}
    slowest = 0.0
    with TestClient(_app(demo_home), raise_server_exceptions=False) as c:
        for kind, data in _mutants(good, 500, rng):
            t = time.perf_counter()
            r = c.post("/api/v1/check", files={"file": ("f.pdf", data, "application/pdf")})
            took = time.perf_counter() - t
            slowest = max(slowest, took)
            assert r.status_code < 500, (kind, r.status_code, r.text[:300])
            body = r.json()
            # judged, not cut off: no mutant of a genuine file needs the worker's time limit
            assert "too complex to check" not in str(body.get("en", "")), (kind, round(took, 2), body)
            assert "bottom_line" in body or ("zh" in body and "en" in body), body
            if r.status_code == 200 and body["bottom_line"] == "valid" and data != good:
                # only bytes outside what the seals sign changed (padding, the DSS); the record still matches
                checks = {c["check"]: c["outcome"] for c in body["checks"]}
                assert checks["integrity"] == checks["record_match"] == "pass", kind
            seen.setdefault(kind, {}).setdefault(r.status_code, 0)
            seen[kind][r.status_code] += 1
    assert set(seen) == {"random", "random-pdf-header", "truncated", "bytes-mutated", "spliced"}
    assert sum(sum(v.values()) for v in seen.values()) == 500
    print(f"fuzzed uploads: slowest answer {slowest:.2f} s")


@pytest.mark.slow
def test_api_matches_its_openapi_document(demo_home: DemoHome) -> None:
    """schemathesis generates requests for every operation; each response must match the document."""
    from hypothesis import given
    from schemathesis.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app(demo_home))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14  # with the offline checks' keys, JWKS and status lists

    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: Any) -> None:
            # a multipart upload of schema-valid bytes is rarely a PDF: 422 is the documented answer there
            excluded = [positive_data_acceptance] if case.path == "/api/v1/check" else []
            case.call_and_validate(excluded_checks=excluded)

        conforms()
