"""PAdES seals and their validation. Imports only ``registry``.

- :func:`load_signer` — a PKCS#12 file or a PKCS#11 key, loaded once per worker;
- :class:`Sealer` — signs a rendered PDF at each seal box (B-B, B-T, B-LT, B-LTA);
- :func:`validate_pdf` — a frozen :class:`SealStatus`: bottom line and each check;
- :func:`make_demo_pki` / :class:`PkiServer` — a certomancer demo PKI served on 127.0.0.1.
"""

from __future__ import annotations

from .errors import IdentityError, PkiError, SealError
from .identity import Pkcs11Identity, Pkcs12Identity, cert_fingerprint, load_signer
from .pki import DemoPki, PkiServer, SealSubject, make_demo_pki
from .seal import PadesLevel, SealBoxSpec, Sealer, SealOptions
from .status import BottomLine, Check, Outcome, SealStatus, Trust, UnreadablePdf
from .validate import validate_pdf

__all__ = [
    "BottomLine",
    "Check",
    "DemoPki",
    "IdentityError",
    "Outcome",
    "PadesLevel",
    "Pkcs11Identity",
    "Pkcs12Identity",
    "PkiError",
    "PkiServer",
    "SealBoxSpec",
    "SealError",
    "SealOptions",
    "SealStatus",
    "SealSubject",
    "Sealer",
    "Trust",
    "UnreadablePdf",
    "cert_fingerprint",
    "load_signer",
    "make_demo_pki",
    "validate_pdf",
]
