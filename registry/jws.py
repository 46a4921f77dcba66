"""Compact JWS (RFC 7515) as the project writes it: the QR credential, the key list, the status lists.

One way to write a token, whatever signs it: the header and the claims as compact UTF-8 JSON,
base64url without padding, and the signature over ``header.payload`` from the caller's signing
function (an institution's P-256 key through pyHanko's signers, or the publisher's Ed25519 key).
Reading goes through ``joserfc``, which checks the algorithm against the key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["b64url", "compact_jws"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_jws(header: Mapping[str, str], claims: Mapping[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """``header.payload.signature``; ``sign`` gets the ASCII signing input and returns the raw
    signature (for ES256 the 64-byte ``r || s``, for Ed25519 the 64-byte signature)."""
    signing_input = (
        b64url(json.dumps(dict(header), separators=(",", ":")).encode("ascii"))
        + "."
        + b64url(json.dumps(dict(claims), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    )
    return signing_input + "." + b64url(sign(signing_input.encode("ascii")))
