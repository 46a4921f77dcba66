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
import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["PHOTO_MEDIA_TYPE", "OpenedPhotos", "open_photo", "seal_photo", "small_jpeg"]

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


class OpenedPhotos:
    """The photos a reader opened lately, each under what opened it: a bounded LRU.

    The key a caller gives must name the generation and the QR key (the keyed hash of number and
    token), so only the paper's token finds an entry, and a new generation never sees an old one's
    photo; the caller looks the record up (and checks its status) first on every request, as
    without the cache. A hit saves the key derivation and the decryption. At most ``max_bytes``
    of photos (and ``max_entries``) are kept; the least recently used go first.
    """

    def __init__(self, *, max_bytes: int = 16 * 1024 * 1024, max_entries: int = 1024) -> None:
        self._max_bytes, self._max_entries = max_bytes, max_entries
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0

    def open(self, key: Hashable, blob: bytes, *, number: str, token: str) -> bytes | None:
        """:func:`open_photo`, or what it gave for ``key`` before."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        photo = open_photo(blob, number=number, token=token)
        if photo is None or len(photo) > self._max_bytes:
            return photo
        with self._lock:
            if key not in self._kept:
                self._kept[key] = photo
                self._bytes += len(photo)
                while self._bytes > self._max_bytes or len(self._kept) > self._max_entries:
                    self._bytes -= len(self._kept.popitem(last=False)[1])
        return photo
