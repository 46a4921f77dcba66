"""A SoftHSM2 token holding a demo PKI key and its certificate, for the PKCS#11 tests.

SoftHSM2 reads ``SOFTHSM2_CONF`` once per process, when its module is first initialised: a
second token folder in the same process is invisible. Each test that needs a token makes one in
its own ``tmp_path``; tests after the first use it from a subprocess (see ``test_qr_issue``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sign import DemoPki

__all__ = ["MODULE", "PIN", "token_with"]

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "1234"


def token_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, softhsm: str, pki: DemoPki, cert: str, *, label: str, chain: bool
) -> None:
    """A fresh token ``label`` under ``tmp_path`` with ``cert``'s key and certificate (and with
    ``chain``, its CA certificates) from ``pki``; ``SOFTHSM2_CONF`` and the PIN variable set."""
    if not MODULE.exists():
        pytest.fail(f"{MODULE} missing although softhsm2-util is installed")
    conf = tmp_path / "softhsm2.conf"
    (tmp_path / "tokens").mkdir()
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [softhsm, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "4321"],
        check=True,
        capture_output=True,
    )
    certomancer = str(Path(sys.executable).parent / "certomancer")
    subprocess.run(
        [
            certomancer, "--config", str(pki.config), "--key-root", str(pki.root / "keys"), "alch", "skillcert-demo",
            "--module", str(MODULE), "--token-label", label, "--pin", PIN, "--cert", cert,
            *(["--include-chain"] if chain else []),
        ],
        check=True,
        capture_output=True,
        env=os.environ,
    )  # fmt: skip
    monkeypatch.setenv("SKILLCERT_PKCS11_PIN", PIN)
