"""pyHanko signers that keep what is the same for every signature (private to :mod:`sign`).

Two costs of the stock signers are paid again for each document although nothing changes:

* ``SimpleSigner.sign_raw`` re-parses the private key (``load_der_private_key`` with RSA
  consistency checks, ≈ 36 ms for RSA-2048). :class:`CachedKeySigner` parses it once. (It must
  match the mechanism as pyHanko does: the algorithm's name is ``sha256_rsa``, not
  ``rsassa_pkcs1v15``; matching on the name sent every signature back to the stock path.)
* The ESS signing-certificate-v2 attribute (RFC 5035: hash, issuer name and serial of the
  signing certificate) is rebuilt from Python values. asn1crypto re-encodes a value built that
  way every time its bytes are asked for (it stays "mutated" for good, and each level asks its
  children at least twice), so a fresh ten-level value like this one costs time exponential in
  its depth: ≈ 8 of 13 ms per signature, when building the CMS SignerInfo asks for its bytes
  again and again. :class:`CachedAttributesMixin` builds it once per certificate with pyHanko's
  own function and re-parses it from its DER, which encodes at no cost; the bytes signed and
  embedded are identical.

Written against pyHanko 0.38 (pinned ``<0.39``): ``Signer._signed_attr_providers`` is the
hook pyHanko itself uses to gather the signed attributes. Were it renamed, the override would
simply not be called: slower, never different.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asn1crypto import tsp, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

__all__ = ["CachedAttributesMixin", "CachedKeySigner"]


class _FixedAttribute(CMSAttributeProvider):
    """A signed attribute whose value is built in advance."""

    def __init__(self, attribute_type: str, value: Any) -> None:
        self.attribute_type = attribute_type
        self.value = value

    async def build_attr_value(self, dry_run: bool = False) -> Any:
        return self.value


class CachedAttributesMixin(Signer):
    """Puts in the signing-certificate-v2 attribute built once per signing certificate.

    Mix in before the concrete signer class: ``class S(CachedAttributesMixin, SimpleSigner)``.
    """

    _signing_cert_v2: tuple[x509.Certificate, tsp.SigningCertificateV2] | None = None

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Iterator[CMSAttributeProvider]:
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if type(provider) is SigningCertificateV2Provider:
                yield _FixedAttribute(provider.attribute_type, self._cached_signing_cert_v2(provider.signing_cert))
            else:
                yield provider

    def _cached_signing_cert_v2(self, cert: x509.Certificate) -> tsp.SigningCertificateV2:
        cached = self._signing_cert_v2
        if cached is None or cached[0] is not cert:
            # what SigningCertificateV2Provider builds (SHA-256 of the certificate), parsed back from DER
            value = tsp.SigningCertificateV2.load(as_signing_certificate_v2(cert).dump())
            self._signing_cert_v2 = cached = (cert, value)
        return cached[1]


class CachedKeySigner(CachedAttributesMixin, SimpleSigner):
    """A ``SimpleSigner`` that parses its private key once and caches its constant attributes.

    ``sign_raw`` dispatches on the signature mechanism as pyHanko does
    (``SignedDigestAlgorithm.signature_algo``: ``sha256_rsa`` is PKCS#1 v1.5); any other
    mechanism or key type goes to the stock implementation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mechanism.signature_algo
        except ValueError:
            algo = mechanism["algorithm"].native
        key = self._key
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algo == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pss, hash_algo = process_pss_params(mechanism["parameters"])
            return key.sign(data, pss, hash_algo)
        if algo == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if (algo == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey)) or (
            algo == "ed448" and isinstance(key, ed448.Ed448PrivateKey)
        ):
            return key.sign(data)
        return bytes(super().sign_raw(data, digest_algorithm))
