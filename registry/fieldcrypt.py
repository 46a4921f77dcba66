"""Personal data at rest: holders' names, ID numbers and photos, encrypted field by field.

Each value is sealed with AES-256-GCM under the registry's data key, with the field and the row
it belongs to as associated data (a ciphertext moved to another row or field does not open). A
text value is stored as ``enc1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``, a photo as
``SKE1`` ‖ key id ‖ nonce ‖ ciphertext ‖ tag. The key id is the first 8 hex digits of the key's
SHA-256: it names the key, it does not reveal it. Look-ups by ID number use a keyed hash
(HMAC-SHA256 under a key derived from the data key), never the clear value.

Why fields and not the whole file (SQLCipher): the same code has to protect a PostgreSQL
register, where the database server — and whoever administers it — must not read holders' data
either, and the audit log must carry no clear personal data: it records the very ciphertext the
table holds, so ``audit verify`` compares them without any key.

The keys live outside the database: ``<home>/keys/data-<key id>.key`` (32 random bytes as hex,
mode 0600) and ``<home>/keys/current`` naming the one that seals, written by :func:`new_data_key`;
all of them are kept — a rotation re-encrypts the
live register, but superseded versions and the audit log stay under the key they were written
with, so an older key is retired for writing, never deleted. ``SKILLCERT_DATA_KEY`` (64 hex
digits) may name the current key instead (a secrets store), with the folder holding the older ones.
A value without the ``enc1:`` prefix is clear text from a register made before encryption:
it reads as it is, and ``skillcert keys rotate`` encrypts it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import RegistryError

__all__ = ["FieldCipher", "is_sealed", "key_id", "load_cipher", "new_data_key"]

_TEXT = "enc1:"
_BLOB = b"SKE1"
KEY_ENV = "SKILLCERT_DATA_KEY"


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(value: str | bytes) -> bool:
    return value.startswith(_TEXT) if isinstance(value, str) else bytes(value[:4]) == _BLOB


def sealed_key_id(value: str | bytes) -> str | None:
    """The key id a stored value was sealed under (None: clear)."""
    if isinstance(value, str):
        return value[len(_TEXT) : len(_TEXT) + 8] if value.startswith(_TEXT) else None
    return bytes(value[4:12]).decode("ascii", "replace") if bytes(value[:4]) == _BLOB else None


class FieldUnreadable(RegistryError):
    """A stored value that does not open: altered in the database, or sealed under a key not here."""


@dataclass(frozen=True)
class FieldCipher:
    """The registry's data keys: ``current`` seals, every key opens what it sealed."""

    current: bytes
    keys: Mapping[str, bytes]  # key id -> key, the current one among them

    def __post_init__(self) -> None:
        if len(self.current) != 32:
            raise ValueError("a data key is 32 bytes")
        # made once: an AESGCM object and a look-up key per data key (≈ a third of a field's cost)
        object.__setattr__(self, "_aes", {kid: AESGCM(k) for kid, k in self.keys.items()} | {"": AESGCM(self.current)})
        object.__setattr__(self, "_lookup_keys", {kid: _lookup_key(k) for kid, k in self.keys.items()})
        object.__setattr__(self, "_current_lookup", _lookup_key(self.current))
        object.__setattr__(self, "_current_id", key_id(self.current))

    @property
    def current_id(self) -> str:
        return str(self.__dict__["_current_id"])

    def _gcm(self, kid: str, where: str) -> AESGCM:
        aes: AESGCM | None = self.__dict__["_aes"].get(kid)
        if aes is None:
            raise FieldUnreadable(
                f"{where}：以密钥 {kid} 加密，但该密钥不在密钥目录中；请放回该密钥文件（data-{kid}.key）",
                f"{where}: sealed under data key {kid}, which is not in the keys folder; put data-{kid}.key back",
            )
        return aes

    def _sealing(self) -> AESGCM:
        aes: AESGCM = self.__dict__["_aes"][""]
        return aes

    def seal_text(self, value: str, where: str) -> str:
        nonce = secrets.token_bytes(12)
        ct = self._sealing().encrypt(nonce, value.encode("utf-8"), where.encode("utf-8"))
        return f"{_TEXT}{self.current_id}:{base64.urlsafe_b64encode(nonce + ct).decode('ascii').rstrip('=')}"

    def open_text(self, stored: str, where: str) -> str:
        if not stored.startswith(_TEXT):
            return stored  # clear: written before the register was encrypted
        kid, _, body = stored[len(_TEXT) :].partition(":")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._gcm(kid, where).decrypt(raw[:12], raw[12:], where.encode("utf-8")).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise _altered(where) from e

    def seal_bytes(self, value: bytes, where: str) -> bytes:
        nonce = secrets.token_bytes(12)
        ct = self._sealing().encrypt(nonce, value, where.encode("utf-8"))
        return _BLOB + self.current_id.encode("ascii") + nonce + ct

    def open_bytes(self, stored: bytes, where: str) -> bytes:
        stored = bytes(stored)
        if stored[:4] != _BLOB:
            return stored
        kid = stored[4:12].decode("ascii", "replace")
        try:
            return self._gcm(kid, where).decrypt(stored[12:24], stored[24:], where.encode("utf-8"))
        except (InvalidTag, ValueError) as e:
            raise _altered(where) from e

    def lookup(self, value: str) -> str:
        """The keyed hash a column is searched by (same value, same hash, under the current key)."""
        return _lookup(self.__dict__["_current_lookup"], value)

    def lookups(self, value: str) -> list[str]:
        """The value's keyed hash under every key: rows a rotation has not reached yet still match."""
        return [_lookup(k, value) for k in self.__dict__["_lookup_keys"].values()]


def _lookup_key(key: bytes) -> bytes:
    return hmac.new(key, b"skillcert lookup v1", hashlib.sha256).digest()


def _lookup(lookup_key: bytes, value: str) -> str:
    return hmac.new(lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _altered(where: str) -> FieldUnreadable:
    return FieldUnreadable(
        f"{where}：加密数据无法解开（被改动，或密钥不符）；请运行 skillcert audit verify",
        f"{where}: the encrypted value does not open (altered, or not this key); run `skillcert audit verify`",
    )


def _parse_key(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise RegistryError(
            f"{source} 不是数据密钥（应为 64 位十六进制数字）", f"{source} is not a data key (64 hex digits expected)"
        )
    return key


def load_cipher(folder: Path | None, env: Mapping[str, str] | None = None) -> FieldCipher | None:
    """The data keys in ``folder``, the one ``folder/current`` names sealing (or the one
    ``SKILLCERT_DATA_KEY`` gives); None when there is none (a register in clear)."""
    env = os.environ if env is None else env
    keys: dict[str, bytes] = {}
    if folder is not None and folder.is_dir():
        for f in sorted(folder.glob("data-*.key")):
            key = _parse_key(f.read_text(encoding="ascii", errors="replace"), str(f))
            keys[key_id(key)] = key
    current: bytes | None = None
    if env.get(KEY_ENV):
        current = _parse_key(env[KEY_ENV], KEY_ENV)
        keys[key_id(current)] = current
    elif keys and folder is not None:
        pointer = folder / "current"
        kid = pointer.read_text(encoding="ascii").strip() if pointer.is_file() else ""
        if kid not in keys:
            if len(keys) > 1 or kid:
                raise RegistryError(
                    f"{folder}：无法确定当前数据密钥（current 文件缺失或指向不存在的密钥 {kid!r}）",
                    f"{folder}: cannot tell the current data key (the current file is missing or names "
                    f"a key that is not there: {kid!r})",
                )
            kid = next(iter(keys))
        current = keys[kid]
    return None if current is None else FieldCipher(current=current, keys=keys)


def new_data_key(folder: Path) -> str:
    """Write a new data key into ``folder`` (mode 0600) and make it the current one; its key id."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    kid = key_id(key)
    _write_private(folder / f"data-{kid}.key", key.hex().encode("ascii") + b"\n")
    _write_private(folder / "current", kid.encode("ascii") + b"\n")
    return kid


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
