"""sign/_sigmemo.py remembers only signature verifications that succeeded, keyed by every input:
a changed byte of the signature, the signed data, the key, the algorithm or pyHanko's context never
reuses a remembered success, and a failure is never remembered (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, keys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sign import _sigmemo

from .conftest import DemoHome


def _spki(key: rsa.RSAPrivateKey) -> Any:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return keys.PublicKeyInfo.load(der)


def _algo(name: str) -> Any:
    return algos.SignedDigestAlgorithm({"algorithm": name})


@pytest.fixture(scope="module")
def material() -> dict[str, Any]:
    k1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    k2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = b"tbsCertificate, or signed attributes"
    return {
        "k1": k1,
        "k2": k2,
        "data": data,
        "sig": k1.sign(data, padding.PKCS1v15(), hashes.SHA256()),
    }


def test_a_success_is_remembered_and_every_change_fails_again(material: dict[str, Any]) -> None:
    from pyhanko_certvalidator import sig_validate
    from pyhanko_certvalidator.sig_validate import DEFAULT_VALIDATION_CONTEXT, SignatureValidationContext

    _sigmemo.install()
    assert sig_validate._validate_raw is _sigmemo._validate_raw
    original = _sigmemo.original()
    validator = sig_validate.DefaultSignatureValidator()
    sig, data, spki1, spki2 = material["sig"], material["data"], _spki(material["k1"]), _spki(material["k2"])
    sha256 = _algo("sha256_rsa")
    _sigmemo._memo.clear()
    for _ in range(2):  # the second time from the memo
        validator.validate_signature(sig, data, spki1, sha256)
    assert _sigmemo.verified_key(sig, data, spki1, sha256, DEFAULT_VALIDATION_CONTEXT) in _sigmemo._memo
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    prehashed = SignatureValidationContext(prehashed=True)
    wrong = [
        (flipped, data, spki1, sha256, DEFAULT_VALIDATION_CONTEXT),  # another signature
        (sig, data + b"!", spki1, sha256, DEFAULT_VALIDATION_CONTEXT),  # other signed bytes
        (sig, data, spki2, sha256, DEFAULT_VALIDATION_CONTEXT),  # another key
        (sig, data, spki1, _algo("sha384_rsa"), DEFAULT_VALIDATION_CONTEXT),  # another digest
        (sig, data, spki1, sha256, prehashed),  # the data taken as a digest
    ]
    remembered = set(_sigmemo._memo)
    for args in wrong:
        for _ in range(2):  # failing once is not remembered: it fails again, in pyHanko's code
            with pytest.raises((InvalidSignature, ValueError)):
                validator.validate_signature(*args)
            with pytest.raises((InvalidSignature, ValueError)):
                original(*args)
        assert _sigmemo.verified_key(*args) not in _sigmemo._memo
    assert set(_sigmemo._memo) == remembered


def test_the_memo_is_bounded(material: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pyhanko_certvalidator.sig_validate import DEFAULT_VALIDATION_CONTEXT

    _sigmemo.install()
    monkeypatch.setattr(_sigmemo, "MEMO_SIZE", 3)
    _sigmemo._memo.clear()
    k1 = material["k1"]
    for i in range(7):
        data = b"message %d" % i
        sig = k1.sign(data, padding.PKCS1v15(), hashes.SHA256())
        _sigmemo._validate_raw(sig, data, _spki(k1), _algo("sha256_rsa"), DEFAULT_VALIDATION_CONTEXT)
        assert len(_sigmemo._memo) <= 3
    _sigmemo._memo.clear()


def _impostor_root(real: Path, out: Path) -> Path:
    """A self-signed root with the real root's subject, serial and validity, but another key."""
    cert = x509.load_pem_x509_certificate(real.read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.subject)
        .public_key(key.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    out.write_bytes(fake.public_bytes(serialization.Encoding.PEM))
    return out


def test_a_remembered_chain_does_not_trust_another_root(demo_home: DemoHome, tmp_path: Path) -> None:
    """Validate a delivered file (every CA signature now remembered), then the same file under a root
    with the same name and another key: nothing remembered makes it trusted."""
    from sign import BottomLine, Outcome, Trust, validate_pdf

    root = demo_home.home / "pki" / "certs" / "root.pem"
    pdf = sorted((demo_home.home / "out").glob("*.pdf"))[0].read_bytes()
    good = validate_pdf(pdf, Trust(roots=(root,)))
    assert good.bottom_line is not BottomLine.INVALID
    assert _sigmemo._memo  # the check went through the memo
    impostor = _impostor_root(root, tmp_path / "impostor.pem")
    assert (
        x509.load_pem_x509_certificate(impostor.read_bytes()).subject
        == x509.load_pem_x509_certificate(root.read_bytes()).subject
    )
    for _ in range(2):
        bad = validate_pdf(pdf, Trust(roots=(impostor,)))
        assert bad.bottom_line is BottomLine.INVALID
        chain = [c for c in bad.checks if c.name == "chain"]
        assert chain and all(c.outcome is Outcome.FAIL for c in chain)
        assert any(c.name == "ades" and c.outcome is not Outcome.PASS for c in bad.checks)
    again = validate_pdf(pdf, Trust(roots=(root,)))
    assert again == good
