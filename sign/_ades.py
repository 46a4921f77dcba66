"""The ETSI EN 319 102-1 verdict on one seal, as pyHanko's AdES engine gives it.

This is the engine behind ``pyhanko sign adesverify``, set up the same way: the given trust roots
only, revocation information required for every certificate of the chain (``REQUIRE_REVINFO``),
the document's DSS and document timestamps as evidence (``ades_lta_validation``). Offline it
fetches nothing (``LOCAL_ONLY``, ``NEVER_FETCH``); with ``online`` it may fetch what the file
lacks. Difference analysis is left to our own, stricter policy (:mod:`._changes`).

Its indication (``PASSED`` · ``INDETERMINATE`` · ``FAILED``) and sub-indication are reported with
each seal and bind the bottom line: our verdict is never more lenient than this one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["AdesVerdict", "ades_verdict"]

# pyHanko logs each failed validation step with its traceback at ERROR; with no handler of the
# application's, Python's last-resort handler would print those to a user's terminal. What they
# say reaches the user as the verdict's message instead.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class AdesVerdict:
    indication: str  # PASSED · INDETERMINATE · FAILED
    subindication: str  # e.g. OK, REVOKED_NO_POE, TRY_LATER, NO_CERTIFICATE_CHAIN_FOUND
    message: str = ""

    @property
    def label(self) -> str:
        return self.indication if self.subindication in ("", "OK") else f"{self.indication}/{self.subindication}"


def _spec(roots: list[Any], online: bool) -> Any:
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        LocalKnowledge,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.authority import CertTrustAnchor
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy, FreshnessReqType
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[CertTrustAnchor(r) for r in roots]),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness=None, freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION
        ),
    )
    gathering = RevocationInfoGatheringSpec(
        online_fetching_rule=RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
        if online
        else RevinfoOnlineFetchingRule.LOCAL_ONLY,
        certificate_fetching_rule=CertificateFetchingRule.FOLLOW_ONLINE_RULE
        if online
        else CertificateFetchingRule.NEVER_FETCH,
    )
    return PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=policy, revinfo_gathering_policy=gathering, local_knowledge=LocalKnowledge()
        ),
        diff_policy=None,
    )


def ades_verdict(sig: Any, roots: list[Any], *, online: bool = False) -> AdesVerdict:
    """``ades_lta_validation`` of one embedded signature, as an indication and sub-indication."""
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    result = asyncio.run(ades_lta_validation(sig, _spec(roots, online), timing_info=ValidationTimingInfo.now()))
    sub = result.ades_subindic
    indication, name = str(sub.status.name), str(getattr(sub, "name", sub))
    current = result.api_status
    if indication != "PASSED" and current is not None and current.bottom_line:
        # pyHanko runs past signature validation even after validation at the current time
        # PASSED (its own TODO), and reports that step's failure — NO_POE for a B-LT file, which
        # has no document timestamp to prove when its validation data existed. EN 319 102-1
        # §5.6.3 returns PASSED here, and so does ``pyhanko sign adesverify`` (the current-time
        # result: intact, trusted, not revoked); the past step's finding is kept in the message.
        return AdesVerdict("PASSED", "OK", f"at the current time; past validation: {indication}/{name}")
    if indication == "PASSED":  # pyHanko may still say why a later step "did not improve" on it
        return AdesVerdict(indication, name)
    return AdesVerdict(indication, name, str(result.failure_msg or "")[:200])
