"""The revocation list of the credentials: a W3C Bitstring Status List, published with each snapshot.

Two lists, ``revocation`` and ``suspension`` (a suspension can be lifted, a revocation cannot):
bit ``i`` (the first bit is the most significant bit of the first byte, as the specification
says) is 1 when the certificate with register serial ``i`` is revoked, or suspended. The list is at least
131,072 bits long (the specification's minimum, 16 KB, for group privacy) and grows in whole
bytes to cover the highest serial; ``encodedList`` is the GZIP of the bits, base64url, with the
multibase prefix ``u``. It is itself a credential (``BitstringStatusListCredential``) as a JWT,
signed with the publisher's Ed25519 key (``alg: Ed25519``, RFC 9864), whose public key the site gives at
``/api/v1/jwks.json``; the snapshot keeps both in its meta rows, so it switches with the records.
"""

from __future__ import annotations

import base64
import functools
import gzip
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from registry.errors import SkillcertError
from registry.jws import b64url as _b64url
from registry.jws import compact_jws

__all__ = [
    "MIN_BITS",
    "StatusListError",
    "decode_bits",
    "encode_bits",
    "publisher_jwk",
    "read_status_list",
    "revoked",
    "status_list_jwt",
]

MIN_BITS = 131_072
_MAX_ENCODED = 8 * 1024 * 1024


class StatusListError(SkillcertError):
    """A status list that cannot be read."""


def encode_bits(revoked_indexes: Iterable[int], *, highest: int = 0) -> str:
    """The ``encodedList`` with the bits of ``revoked_indexes`` set."""
    idx = sorted(set(revoked_indexes))
    size = max(MIN_BITS, ((max([highest, *idx], default=0) // 8) + 1) * 8)
    bits = bytearray(size // 8)
    for i in idx:
        if i < 0:
            raise ValueError("a status list index is never negative")
        bits[i // 8] |= 0x80 >> (i % 8)
    return "u" + _b64url(gzip.compress(bytes(bits), compresslevel=9, mtime=0))


def decode_bits(encoded: str) -> bytes:
    if not encoded.startswith("u") or len(encoded) > _MAX_ENCODED:
        raise StatusListError("状态列表的编码无效", "the status list's encoding is invalid")
    try:
        text = encoded[1:]
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        d = gzip.GzipFile(fileobj=io.BytesIO(packed))
        return d.read(16 * 1024 * 1024)  # bounded: a list of 128 M certificates at most
    except (ValueError, OSError, EOFError) as e:
        raise StatusListError("状态列表无法解压", "the status list cannot be decompressed") from e


def revoked(bits: bytes, index: int) -> bool:
    if index < 0 or index >= len(bits) * 8:
        raise StatusListError(f"状态列表中没有序号 {index}", f"the status list has no index {index}")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def publisher_jwk(key: Any) -> dict[str, str]:
    """The publisher's Ed25519 public key as a JWK (``kid``: its first 8 bytes of SHA-256, base64url)."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(pub),
        "kid": _b64url(hashlib.sha256(pub).digest()[:8]),
        "alg": "Ed25519",
        "use": "sig",
    }


def status_list_jwt(site: str, purpose: str, encoded: str, key: Any, *, now: datetime) -> str:
    """The ``BitstringStatusListCredential`` of ``purpose`` (``revocation`` or ``suspension``) for
    ``encoded``, signed with the publisher key."""
    site = site.rstrip("/")
    url = f"{site}/api/v1/status/{purpose}"
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": site,
        "validFrom": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
        "iss": site,
        "iat": int(now.timestamp()),
    }
    jwk = publisher_jwk(key)
    header = {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": jwk["kid"]}
    return compact_jws(header, vc, key.sign)


def read_status_list(token: str | None, publisher: dict[str, str] | None, purpose: str) -> bytes:
    """The bits of a status list JWT of ``purpose``, after checking the publisher's signature
    (``publisher``: the JWK the snapshot carries). Raises :class:`StatusListError`.

    A generation's two lists are read once and kept (the last few tokens), so a check of a
    credential costs a bit look-up, not a signature check and a decompression."""
    if not token or not publisher:
        raise StatusListError("此快照没有状态列表", "this snapshot carries no status list")
    return _read_cached(token, tuple(sorted(publisher.items())), purpose)


@functools.lru_cache(maxsize=8)
def _read_cached(token: str, publisher: tuple[tuple[str, str], ...], purpose: str) -> bytes:
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import OKPKey

    try:
        jwk: dict[str, str | list[str]] = dict(publisher)
        obj = jws.deserialize_compact(token, OKPKey.import_key(jwk), algorithms=["Ed25519"])
        subject = json.loads(obj.payload)["credentialSubject"]
        if subject.get("statusPurpose") != purpose:
            raise ValueError(f"the list is for {subject.get('statusPurpose')!r}")
        encoded = str(subject["encodedList"])
    except (JoseError, ValueError, KeyError, TypeError) as e:
        raise StatusListError("状态列表的签名无效", f"the status list's signature is invalid ({e})") from e
    return decode_bits(encoded)
