"""Holder downloads: the delivered PDF, encrypted under a key only the holder's code opens.

At issue time each holder gets a random **download code** (12 characters from a 31-letter
alphabet without look-alikes: ≈ 59 bits) printed on the institution's notice. The sealed PDF is
encrypted with AES-256-GCM under a key derived from the code with scrypt and a random salt;
the certificate number is bound in as associated data. Neither the code nor the key is kept
anywhere: the snapshot holds only ``salt ‖ nonce ‖ ciphertext``, so a stolen snapshot yields
no PDF and no name. scrypt makes each guess cost ≈ 10 ms and 4 MB; with 59 bits of code an
offline search is out of reach, and the sites rate-limit online guesses on top.
"""

from __future__ import annotations

import secrets
import unicodedata

from registry.errors import SkillcertError

__all__ = ["CODE_ALPHABET", "FOLDER", "decrypt_pdf", "encrypt_pdf", "new_download_code", "normalise_code"]

FOLDER = "downloads"  # <home>/downloads: where issue writes the encrypted PDFs and publish reads them

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed from paper
_CODE_LEN = 12
_MAGIC = b"SKDL1"
_SALT, _NONCE = 16, 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**12, 8, 1


def new_download_code() -> str:
    """``XXXX-XXXX-XXXX`` from :data:`CODE_ALPHABET` (cryptographically random)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(_CODE_LEN))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LEN, 4))


def normalise_code(code: str) -> str:
    """Full-width to half-width, upper case, without spaces and dashes; ``O`` read as ``0`` is not guessed."""
    return "".join(c for c in unicodedata.normalize("NFKC", code).upper() if c not in " -\u2010\u2011\u2013\u2014\t")


def _key(code: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(normalise_code(code).encode())


def _aad(number: str) -> bytes:
    return b"skillcert-download/1\x1f" + number.strip().upper().encode()


def encrypt_pdf(pdf: bytes, code: str, *, number: str) -> bytes:
    """``SKDL1 ‖ salt ‖ nonce ‖ AES-GCM(pdf)`` under the key scrypt derives from ``code``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(normalise_code(code)) != _CODE_LEN:
        raise SkillcertError("下载码格式不对", "a download code has 12 characters")
    salt, nonce = secrets.token_bytes(_SALT), secrets.token_bytes(_NONCE)
    return _MAGIC + salt + nonce + AESGCM(_key(code, salt)).encrypt(nonce, pdf, _aad(number))


def decrypt_pdf(blob: bytes, code: str, *, number: str) -> bytes | None:
    """The PDF, or ``None`` when the code (or the number) is wrong or the blob was altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _SALT + _NONCE + 16:
        return None
    body = blob[len(_MAGIC) :]
    salt, nonce, ct = body[:_SALT], body[_SALT : _SALT + _NONCE], body[_SALT + _NONCE :]
    code = normalise_code(code)
    if len(code) != _CODE_LEN or any(c not in CODE_ALPHABET for c in code):
        return None
    try:
        return AESGCM(_key(code, salt)).decrypt(nonce, ct, _aad(number))
    except InvalidTag:
        return None
