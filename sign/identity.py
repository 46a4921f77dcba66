"""Signing identities: a PKCS#12 file or a key in an HSM through PKCS#11.

Secrets never come from the command line: the PKCS#12 password and the PKCS#11 PIN are read
from environment variables (or given by the caller, e.g. after a prompt). The parsed key is
kept for the life of the signer (one per worker process): stock ``SimpleSigner`` re-parses it
for every signature, which was half of the time per document. Both kinds of signer also build
the signing-certificate attribute once instead of per signature (see ``_fastsign``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IdentityError

__all__ = ["Pkcs11Identity", "Pkcs12Identity", "SigningIdentity", "cert_fingerprint", "load_signer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pkcs12Identity:
    path: Path
    password_env: str = "SKILLCERT_P12_PASSWORD"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pkcs11Identity:
    module: Path
    token_label: str
    key_label: str
    cert_label: str | None = None
    pin_env: str = "SKILLCERT_PKCS11_PIN"


SigningIdentity = Pkcs12Identity | Pkcs11Identity
_SESSIONS: dict[tuple[str, str], Any] = {}  # (module, token label) -> open, logged-in session


def cert_fingerprint(cert: Any) -> str:
    """SHA-256 of the certificate's DER, hex (how filings and verifiers name a key)."""
    return hashlib.sha256(cert.dump()).hexdigest()


def _secret(env: str, given: bytes | None, what_zh: str, what_en: str) -> bytes:
    if given is not None:
        return given
    value = os.environ.get(env)
    if value is None:
        raise IdentityError(
            f"请在环境变量 {env} 中提供{what_zh}", f"set the {what_en} in the environment variable {env}"
        )
    return value.encode()


@functools.cache
def _pkcs11_signer_class() -> type[Any]:
    """``PKCS11Signer`` with the signed attributes that never change built once (``_fastsign``)."""
    from pyhanko.sign.pkcs11 import PKCS11Signer

    from ._fastsign import CachedAttributesMixin

    class CachedAttributesPkcs11Signer(CachedAttributesMixin, PKCS11Signer):
        pass

    return CachedAttributesPkcs11Signer


def load_signer(identity: SigningIdentity, *, secret: bytes | None = None) -> Any:
    """A pyHanko signer for the identity (load once per worker process; never pickle it)."""
    if isinstance(identity, Pkcs12Identity):
        from pyhanko.sign.signers import SimpleSigner

        password = _secret(identity.password_env, secret, "PKCS#12 密码", "PKCS#12 password")
        if not identity.path.is_file():
            raise IdentityError(f"找不到 PKCS#12 文件 {identity.path}", f"PKCS#12 file not found: {identity.path}")
        from cryptography.hazmat.primitives.serialization import pkcs12

        problem = ""
        try:  # first with cryptography: pyHanko's loader logs a traceback and returns None on a bad password
            private_key, _, _ = pkcs12.load_key_and_certificates(identity.path.read_bytes(), password)
            if private_key is None:
                problem = "no private key in the file"
        except (ValueError, TypeError, OSError) as e:
            problem = str(e) or type(e).__name__
        base = None if problem else SimpleSigner.load_pkcs12(str(identity.path), passphrase=password)
        if base is None:
            raise IdentityError(
                f"无法打开 {identity.path.name}（密码错误或文件损坏）",
                f"cannot open {identity.path.name} (wrong password or damaged file): {problem or 'unreadable'}",
            )
        from ._fastsign import CachedKeySigner

        return CachedKeySigner(
            signing_cert=base.signing_cert,
            signing_key=base.signing_key,
            cert_registry=base.cert_registry,
            signature_mechanism=base.signature_mechanism,
        )
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11 as p11

    pin = _secret(identity.pin_env, secret, "PKCS#11 PIN", "PKCS#11 PIN").decode()
    key = (str(identity.module), identity.token_label)
    try:
        session = _SESSIONS.get(key)
        if session is None:  # PKCS#11 logs in once per token and process: share the session
            session = p11.open_pkcs11_session(
                str(identity.module), token_criteria=TokenCriteria(label=identity.token_label), user_pin=pin
            )
            _SESSIONS[key] = session
        return _pkcs11_signer_class()(
            session,
            key_label=identity.key_label,
            cert_label=identity.cert_label or identity.key_label,
            other_certs_to_pull=None,  # the chain stored on the token, for path building and embedding
            use_raw_mechanism=True,  # SoftHSM2 rejects combined hash-and-sign ECDSA (FIELD-NOTES)
        )
    except Exception as e:  # python-pkcs11 raises token- and module-specific errors
        raise IdentityError(
            f"无法打开 PKCS#11 令牌 {identity.token_label}：{type(e).__name__} {e}",
            f"cannot open PKCS#11 token {identity.token_label}: {type(e).__name__} {e}",
        ) from e
