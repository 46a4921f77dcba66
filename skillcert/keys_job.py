"""The data keys of a home: the first one, made with a new register, and the rotation job.

A new home (``skillcert init``, ``skillcert demo``) gets its first data key in
``$SKILLCERT_HOME/keys`` before the register is created, so no holder's name, ID number or photo
is ever written in clear. A register that already exists in clear is left as it is until
``skillcert keys rotate`` encrypts it (its first rotation).
"""

from __future__ import annotations

from collections.abc import Callable

from registry import Registry
from registry._keys_store import RotationResult
from registry.fieldcrypt import load_cipher, new_data_key

from .settings import Settings

__all__ = ["first_data_key", "rotate_keys"]


def first_data_key(s: Settings) -> str | None:
    """Make the home's first data key when it has none and its register does not exist yet."""
    if load_cipher(s.keys_dir) is not None:
        return None  # keys there already (or SKILLCERT_DATA_KEY names one)
    if s.registry_url is None and s.registry_path.exists():
        return None  # a register from before encryption: `keys rotate` encrypts it
    if s.registry_url is not None:
        with Registry.create(s.registry_url) as reg:  # (create: the schema may not be there yet)
            if sum(reg.certificates.counts().values()):
                return None  # a shared register in clear: `keys rotate` on one machine encrypts it
    return new_data_key(s.keys_dir)


def rotate_keys(
    s: Settings, reg: Registry, *, batch: int = 500, progress: Callable[[int], None] | None = None
) -> RotationResult:
    return reg.keys.rotate(s.keys_dir, actor=s.actor, batch=batch, progress=progress)
