"""The floor a seal is measured against on this machine: one raw RSA-2048 signature (issue 18).

``openssl speed rsa2048`` is what the issue names; when the ``openssl`` command is missing the
same operation is timed through ``cryptography`` (the library the sealer signs with).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

__all__ = ["rsa2048_sign_ms"]


def rsa2048_sign_ms(seconds: int = 2) -> tuple[float, str]:
    """Milliseconds per RSA-2048 signature, and how it was measured."""
    exe = shutil.which("openssl")
    if exe is not None:
        try:
            out = subprocess.run(
                [exe, "speed", "-seconds", str(seconds), "rsa2048"],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            m = re.search(r"^rsa\s+2048 bits\s+([0-9.]+)s", out, re.MULTILINE)
            if m:
                return float(m.group(1)) * 1000, "openssl speed rsa2048"
        except (OSError, subprocess.SubprocessError):
            pass
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        key.sign(b"x" * 32, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    return (time.perf_counter() - t0) / n * 1000, "cryptography RSA-2048 sign"
