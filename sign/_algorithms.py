"""Which signature algorithms a seal may use: a whitelist, checked before anything else is trusted.

pyHanko verifies the mathematics of a signature but accepts pairings the standards forbid (an
Ed448 signature over a SHA-256 digest, say). A seal is judged against this list as part of its
``integrity`` check: a digest of the SHA-2 or SHA-3 family; RSA of at least 2048 bits, PKCS#1 v1.5
or PSS; ECDSA on P-256, P-384 or P-521; Ed25519 with SHA-512 and Ed448 with SHAKE256 (RFC 8419).
The same list applies to the timestamp token's signer.
"""

from __future__ import annotations

from typing import Any

__all__ = ["algorithm_problem"]

_DIGESTS = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})
_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_MIN_RSA_BITS = 2048
# signature algorithm -> (key family, the digest its name fixes, or None)
_SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "rsassa_pkcs1v15": ("rsa", None),
    "rsassa_pss": ("rsa", None),
    "rsaes_pkcs1v15": ("rsa", None),  # how some signers label PKCS#1 v1.5 signatures
    "sha256_rsa": ("rsa", "sha256"),
    "sha384_rsa": ("rsa", "sha384"),
    "sha512_rsa": ("rsa", "sha512"),
    "sha3_256_rsa": ("rsa", "sha3_256"),
    "sha3_384_rsa": ("rsa", "sha3_384"),
    "sha3_512_rsa": ("rsa", "sha3_512"),
    "ecdsa": ("ec", None),
    "sha256_ecdsa": ("ec", "sha256"),
    "sha384_ecdsa": ("ec", "sha384"),
    "sha512_ecdsa": ("ec", "sha512"),
    "sha3_256_ecdsa": ("ec", "sha3_256"),
    "sha3_384_ecdsa": ("ec", "sha3_384"),
    "sha3_512_ecdsa": ("ec", "sha3_512"),
    "ed25519": ("ed25519", "sha512"),
    "ed448": ("ed448", "shake256"),
}


def algorithm_problem(signer_info: Any, cert: Any) -> tuple[str, str] | None:
    """``None`` when the signer info's algorithms are allowed with ``cert``'s key, else (zh, en)."""
    try:
        digest = str(signer_info["digest_algorithm"]["algorithm"].native)
        algorithm = str(signer_info["signature_algorithm"]["algorithm"].native)
        key = cert.public_key
        family = str(key.algorithm)
    except (KeyError, ValueError, TypeError, AttributeError):
        return "签名算法无法识别", "the signature's algorithms cannot be read"
    entry = _SIGNATURE_ALGORITHMS.get(algorithm)
    if entry is None:
        return f"不允许的签名算法 {algorithm}", f"signature algorithm {algorithm} is not allowed"
    wanted_family, fixed_digest = entry
    if family != wanted_family:
        return (
            f"签名算法 {algorithm} 与 {family} 密钥不匹配",
            f"signature algorithm {algorithm} does not match the {family} key",
        )
    if fixed_digest is not None and digest != fixed_digest:
        return (
            f"{algorithm} 签名不允许使用摘要算法 {digest}",
            f"a {algorithm} signature may not use the digest {digest}",
        )
    if fixed_digest is None and digest not in _DIGESTS:
        return f"不允许的摘要算法 {digest}", f"digest algorithm {digest} is not allowed"
    if family == "rsa" and int(key.bit_size) < _MIN_RSA_BITS:
        return (
            f"RSA 密钥只有 {key.bit_size} 位（至少 {_MIN_RSA_BITS} 位）",
            f"the RSA key has only {key.bit_size} bits (at least {_MIN_RSA_BITS} required)",
        )
    if family == "ec":
        curve = key.curve
        name = str(curve[1]) if isinstance(curve, tuple) else str(curve)
        if name not in _CURVES:
            return f"不允许的椭圆曲线 {name}", f"elliptic curve {name} is not allowed"
    return None
