"""Holder photos in a snapshot: sealed under a key only the paper's QR code gives.

The QR landing shows the holder's photo, so that an employer holding the paper can compare the
face (the national query shows it too). The snapshot never holds a raw photo: each one is
a small JPEG (a larger or PNG photo is re-encoded at most 360 px) and sealed with AES-256-GCM under a key
derived by HKDF-SHA256 from the certificate's QR token (128 random bits printed only on the
paper), with the certificate number bound in as associated data. The publisher knows the
token (the registry holds it); a stolen snapshot, or the index secret, opens no photo.
"""

from __future__ import annotations

import io
import secrets

__all__ = ["PHOTO_MEDIA_TYPE", "open_photo", "seal_photo", "small_jpeg"]

PHOTO_MEDIA_TYPE = "image/jpeg"
_MAGIC = b"SKPH1"
_NONCE = 12
_MAX_PX = 360
_KEEP_BYTES = 64 * 1024


def small_jpeg(photo: bytes) -> bytes:
    """The photo for the web: a JPEG of at most 64 KB as it is (re-encoding costs ≈ 7 ms a photo,
    a full publish does every one); anything else re-encoded at most 360 px each way, RGB JPEG."""
    from PIL import Image

    if photo[:3] == b"\xff\xd8\xff" and len(photo) <= _KEEP_BYTES:
        return photo
    with Image.open(io.BytesIO(photo)) as src:
        im = src.convert("RGB")
        im.thumbnail((_MAX_PX, _MAX_PX))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=82, optimize=True)
    return buf.getvalue()


def _key(token: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"skillcert-photo/1").derive(
        token.strip().encode("utf-8")
    )


def _aad(number: str) -> bytes:
    return b"skillcert-photo/1\x1f" + "".join(number.split()).upper().encode("utf-8")


def seal_photo(jpeg: bytes, *, number: str, token: str) -> bytes:
    """``SKPH1 ‖ nonce ‖ AES-GCM(jpeg)`` under the key the QR token gives."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(_NONCE)
    return _MAGIC + nonce + AESGCM(_key(token)).encrypt(nonce, jpeg, _aad(number))


def open_photo(blob: bytes, *, number: str, token: str) -> bytes | None:
    """The JPEG, or ``None`` when the token (or the number) is wrong or the blob was altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _NONCE + 16 or not token.strip():
        return None
    body = blob[len(_MAGIC) :]
    try:
        return AESGCM(_key(token)).decrypt(body[:_NONCE], body[_NONCE:], _aad(number))
    except InvalidTag:
        return None
