"""The validation contexts of one check: the trust roots and the document's own DSS, parsed once.

:func:`sign.validate_pdf` judges each seal with two pyHanko validation contexts (the signer's, as
of the time its timestamp proves, and the timestamp's). Both are what pyHanko's
``DocumentSecurityStore.as_validation_context`` builds — the DSS's certificates, OCSP responses and
CRLs, the trust roots, no fetching, hard-fail — but the DSS is read and the roots are loaded once
per check instead of once per context (issue 18); each context gets its own lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .status import Trust

__all__ = ["dss_material", "validation_context"]


def dss_material(dss: Any) -> dict[str, list[Any]] | None:
    """The DSS's certificates, OCSP responses and CRLs, parsed once per check (what pyHanko's
    ``DocumentSecurityStore.as_validation_context`` reads, in the same order)."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.pdf_utils.decode_limits import DecodePurpose

    if dss is None:
        return None
    ocsps = [asn1_ocsp.OCSPResponse.load(r.get_object().read_data(DecodePurpose.OCSP_RESPONSE)) for r in dss.ocsps]
    crls = [asn1_crl.CertificateList.load(r.get_object().read_data(DecodePurpose.CRL)) for r in dss.crls]
    return {"other_certs": list(dss.load_certs()), "ocsps": ocsps, "crls": crls}


def validation_context(
    trust: Trust, roots: list[Any], dss: dict[str, list[Any]] | None, moment: datetime | None
) -> Any:
    """A validation context: the trust roots, plus the document's own DSS data judged at ``moment``
    (``dss``: :func:`dss_material`; each context gets its own lists of the same parsed objects)."""
    from pyhanko_certvalidator import ValidationContext

    if dss is not None:
        return ValidationContext(
            trust_roots=list(roots),
            other_certs=list(dss["other_certs"]),
            ocsps=list(dss["ocsps"]),
            crls=list(dss["crls"]),
            allow_fetching=False,
            moment=moment,
            best_signature_time=moment,
            retroactive_revinfo=True,
            revocation_mode="hard-fail",
        )
    if trust.online:
        return ValidationContext(trust_roots=list(roots), allow_fetching=True, revocation_mode="hard-fail")
    return ValidationContext(trust_roots=list(roots), allow_fetching=False, revocation_mode="soft-fail")
