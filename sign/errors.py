"""Errors of the signing side (subclasses of the one base in ``registry.errors``)."""

from __future__ import annotations

from registry.errors import ExitCode, SkillcertError

__all__ = ["IdentityError", "PkiError", "SealError"]


class SealError(SkillcertError):
    """A PDF could not be sealed (signer, timestamp or revocation data unavailable)."""

    exit_code = ExitCode.SEAL_FAILED


class IdentityError(SealError):
    """A signing identity cannot be loaded (wrong password, missing token or key)."""


class PkiError(SealError):
    """The demo PKI could not be created or served."""
