"""Signature verifications that succeeded, remembered: the same answers without the same RSA work.

Checking one seal verifies about thirty signatures (the CMS signature, the timestamp's, every
certificate of both chains, each CRL and OCSP response) — most of them several times, since
pyHanko's signature validation, its timestamp validation and its AdES engine each build and check
the chains again, and every upload of the same institution's certificates checks the same CA
signatures again (issue 18). Whether a signature verifies is a function of its inputs only: the
signature bytes, the signed bytes, the public key, the signature algorithm with its parameters and
pyHanko's :class:`SignatureValidationContext` (the digest inferred from context, pre-hashed or
not). :func:`install` wraps ``pyhanko_certvalidator.sig_validate._validate_raw``, the one
function every pyHanko and certvalidator signature check ends in, with a bounded memo keyed by
the SHA-256 of all of those inputs, each length-prefixed: a verification that succeeded once is
not repeated; one that fails (or raises for any reason) is never remembered and fails again
each time, in pyHanko's own code.

Nothing else is remembered here: which certificate is trusted, revoked or valid at what time is
decided anew by pyHanko on every check.
"""

from __future__ import annotations

import hashlib
from threading import Lock
from typing import Any

__all__ = ["MEMO_SIZE", "install", "verified_key"]

MEMO_SIZE = 4096
_memo: set[bytes] = set()
_lock = Lock()
_original: Any = None


def _part(h: Any, data: bytes) -> None:
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)


def verified_key(
    signature: bytes, signed_data: bytes, public_key_info: Any, signature_algorithm: Any, context: Any
) -> bytes:
    """The memo key: SHA-256 over every input of the verification, each length-prefixed."""
    h = hashlib.sha256(b"skillcert sigmemo v1")
    _part(h, bytes(signature))
    _part(h, bytes(signed_data))
    _part(h, public_key_info.dump())
    _part(h, signature_algorithm.dump())
    kind = type(context)  # a frozen dataclass: its repr names every field and value
    _part(h, f"{kind.__module__}.{kind.__qualname__}:{context!r}".encode())
    return h.digest()


def _validate_raw(
    signature: bytes, signed_data: bytes, public_key_info: Any, signature_algorithm: Any, context: Any = None
) -> None:
    from pyhanko_certvalidator.sig_validate import DEFAULT_VALIDATION_CONTEXT

    if context is None:
        context = DEFAULT_VALIDATION_CONTEXT
    key = verified_key(signature, signed_data, public_key_info, signature_algorithm, context)
    if key in _memo:
        return
    _original(signature, signed_data, public_key_info, signature_algorithm, context)  # raises if it fails
    with _lock:
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        _memo.add(key)


def install() -> None:
    """Wrap pyHanko's raw signature verification (idempotent)."""
    global _original
    from pyhanko_certvalidator import sig_validate

    if _original is None:
        _original = sig_validate._validate_raw
        sig_validate._validate_raw = _validate_raw


def original() -> Any:
    """pyHanko's own function (for the comparison test)."""
    install()
    return _original
