"""A complete demo PKI made with certomancer: root → intermediate → institution seal
certificates, a time-stamping authority, an OCSP responder and CRLs, served on 127.0.0.1.

For the demo and the tests only — never for real certificates. Keys are generated locally
(RSA-2048; ECDSA P-256 for a subject with ``ec``, an institution's QR and credential key); the layout on disk::

    pki/certomancer.yml   pki/keys/*.pem   pki/certs/*.pem   pki/p12/<label>.p12

OCSP responses are produced with whole-second times: NSS (poppler's ``pdfsig``) rejects
certomancer's microsecond times and would then treat a revoked certificate as good.

Every certificate gets a random 16-byte serial number, as real CAs issue them (CA/Browser
Forum baseline requirements: at least 64 random bits). certomancer would otherwise number
serials per issuer from 4096, so the intermediate CA and the first seal certificate would
share a serial — legal under RFC 5280, but verifiers that match the signer by serial alone
(endesive) then pick the wrong certificate.
"""

from __future__ import annotations

import errno
import secrets
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import PkiError

__all__ = ["DEMO_ISSUER_CN", "DemoPki", "PkiServer", "SealSubject", "extend_demo_pki", "free_port", "make_demo_pki"]

ARCH = "skillcert-demo"
DEMO_ISSUER_CN = "skillcert 演示中级证书 Demo Intermediate CA"  # the issuer of every demo seal certificate
_FMT = "%Y-%m-%dT%H:%M:%S+0000"


@dataclass(frozen=True, slots=True)
class SealSubject:
    label: str  # certificate label, e.g. "seal-S000011084012-institution"
    common_name: str  # the seal text, e.g. the institution's name
    organization: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    revoked_since: datetime | None = None
    ec: bool = False  # an ECDSA P-256 key (the QR and credential key) instead of RSA-2048


def random_serial() -> int:
    """A positive serial of exactly 16 bytes in DER: 2^120 ≤ n < 2^127 (top bit clear, so no sign byte)."""
    return (1 << 120) + secrets.randbelow((1 << 127) - (1 << 120))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key(path: Path, *, ec: bool = False) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec as ecdsa
    from cryptography.hazmat.primitives.asymmetric import rsa

    key: rsa.RSAPrivateKey | ecdsa.EllipticCurvePrivateKey = (
        ecdsa.generate_private_key(ecdsa.SECP256R1())
        if ec
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _leaf(issuer: str, subject: SealSubject, now: datetime) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "subject": subject.label,
        "subject-key": subject.label,
        "issuer": issuer,
        "validity": {
            "valid-from": (subject.valid_from or now - timedelta(days=30)).strftime(_FMT),
            "valid-to": (subject.valid_to or now + timedelta(days=5 * 365)).strftime(_FMT),
        },
        "extensions": [
            {
                "id": "key_usage",
                "critical": True,
                "smart-value": {
                    "schema": "key-usage",
                    "params": ["digital_signature"] if subject.ec else ["digital_signature", "non_repudiation"],
                },
            },
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [issuer]}},
            },
            {
                "id": "authority_information_access",
                "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": [issuer]}},
            },
        ],
    }
    if subject.revoked_since is not None:
        spec["revocation"] = {"revoked-since": subject.revoked_since.strftime(_FMT), "reason": "key_compromise"}
    return spec


@dataclass(frozen=True, slots=True)
class DemoPki:
    """A demo PKI on disk. ``p12(label)`` is a seal's PKCS#12 file (password ``password``)."""

    root: Path
    port: int
    password: bytes

    @property
    def config(self) -> Path:
        return self.root / "certomancer.yml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def p12(self, label: str) -> Path:
        return self.root / "p12" / f"{label}.p12"

    def cert_pem(self, label: str) -> Path:
        return self.root / "certs" / f"{label}.pem"

    @property
    def root_cert(self) -> Path:
        return self.cert_pem("root")

    def labels(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "p12").glob("*.p12"))

    def architecture(self) -> Any:
        from certomancer.registry import ArchLabel, CertomancerConfig

        cfg = CertomancerConfig.from_file(str(self.config), key_search_dir=str(self.root / "keys"))
        return cfg.get_pki_arch(ArchLabel(ARCH))

    @classmethod
    def at(cls, root: Path, *, password: bytes = b"skillcert-demo") -> DemoPki:
        import yaml

        if not (root / "certomancer.yml").is_file():
            raise PkiError(f"{root} 中没有演示 PKI", f"no demo PKI in {root}")
        prefix = yaml.safe_load((root / "certomancer.yml").read_text())["external-url-prefix"]
        return cls(root, int(prefix.rsplit(":", 1)[1]), password)


def make_demo_pki(
    root: Path,
    subjects: Iterable[SealSubject],
    *,
    port: int | None = None,
    password: bytes = b"skillcert-demo",
    now: datetime | None = None,
) -> DemoPki:
    """Create keys, the certomancer configuration, certificates and PKCS#12 files under ``root``."""
    import yaml

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    port = port or free_port()
    subjects = list(subjects)
    (root / "keys").mkdir(parents=True, exist_ok=True)
    ec = {s.label for s in subjects if s.ec}
    for label in ["root", "interm", "interm-ocsp", "tsa", *(s.label for s in subjects)]:
        if not (root / "keys" / f"{label}.pem").exists():
            _key(root / "keys" / f"{label}.pem", ec=label in ec)
    far = {
        "valid-from": (now - timedelta(days=3650)).strftime(_FMT),
        "valid-to": (now + timedelta(days=36500)).strftime(_FMT),
    }
    ca_usage = {
        "id": "key_usage",
        "critical": True,
        "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]},
    }
    certs: dict[str, Any] = {
        "root": {
            "subject": "root",
            "subject-key": "root",
            "issuer": "root",
            "authority-key": "root",
            "validity": far,
            "extensions": [{"id": "basic_constraints", "critical": True, "value": {"ca": True}}, ca_usage],
        },
        "interm": {
            "subject": "interm",
            "subject-key": "interm",
            "issuer": "root",
            "validity": far,
            "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True, "path-len-constraint": 0}},
                ca_usage,
                {
                    "id": "crl_distribution_points",
                    "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
                },
            ],
        },
        "interm-ocsp": {
            "subject": "interm-ocsp",
            "subject-key": "interm-ocsp",
            "issuer": "interm",
            "validity": far,
            "extensions": [
                {
                    "id": "key_usage",
                    "critical": True,
                    "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                },
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
        "tsa": {
            "subject": "tsa",
            "subject-key": "tsa",
            "issuer": "root",
            "validity": far,
            "extensions": [
                {
                    "id": "key_usage",
                    "critical": True,
                    "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                },
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                {
                    "id": "crl_distribution_points",
                    "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
                },
            ],
        },
    }
    entities: dict[str, Any] = {
        "root": {"common-name": "skillcert 演示根证书 Demo Root CA"},
        "interm": {"common-name": DEMO_ISSUER_CN},
        "interm-ocsp": {"common-name": "skillcert Demo OCSP Responder"},
        "tsa": {"common-name": "skillcert Demo Time Stamping Authority"},
    }
    for s in subjects:
        entities[s.label] = {"common-name": s.common_name, "organization-name": s.organization}
        certs[s.label] = _leaf("interm", s, now)
    serials: set[int] = set()
    for spec in certs.values():
        while (serial := random_serial()) in serials:  # ≈ 2^-127 per pair, but cheap to rule out
            pass
        serials.add(serial)
        spec["serial"] = serial
    config = {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {"demo": {"keys": {label: {"path": f"{label}.pem"} for label in entities}}},
        "pki-architectures": {
            ARCH: {
                "keyset": "demo",
                "entity-defaults": {"country-name": "CN", "organization-name": "skillcert demo PKI"},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"},
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }
    (root / "certomancer.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pki = DemoPki(root, port, password)
    _export(pki, list(certs), [s.label for s in subjects])
    return pki


def _export(pki: DemoPki, certs: list[str], p12s: list[str]) -> None:
    """Write these certificates' PEM files and these seals' PKCS#12 files from the configuration."""
    from asn1crypto import pem
    from certomancer.registry import CertLabel

    try:
        arch = pki.architecture()
        (pki.root / "certs").mkdir(exist_ok=True)
        (pki.root / "p12").mkdir(exist_ok=True)
        for label in certs:
            der = arch.get_cert(CertLabel(label)).dump()
            pki.cert_pem(label).write_bytes(pem.armor("CERTIFICATE", der))
        for label in p12s:
            pki.p12(label).write_bytes(arch.package_pkcs12(CertLabel(label), password=pki.password))
    except Exception as e:  # certomancer raises many kinds for a bad configuration
        raise PkiError(f"无法生成演示 PKI：{e}", f"cannot build the demo PKI: {e}") from e


def extend_demo_pki(pki: DemoPki, subjects: Iterable[SealSubject], *, now: datetime | None = None) -> list[str]:
    """Add seal certificates for the subjects the PKI does not have yet; return their labels.

    Everything already there stays byte for byte (same keys, serials, validity): certificates
    sealed before still chain to the same root, intermediate and OCSP/CRL services."""
    import os

    import yaml

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    config = yaml.safe_load(pki.config.read_text(encoding="utf-8"))
    arch = config["pki-architectures"][ARCH]
    keys = config["keysets"][arch["keyset"]]["keys"]
    serials = {int(c["serial"]) for c in arch["certs"].values()}
    added = []
    for s in subjects:
        if s.label in arch["certs"]:
            continue
        if not (pki.root / "keys" / f"{s.label}.pem").exists():
            _key(pki.root / "keys" / f"{s.label}.pem", ec=s.ec)
        keys[s.label] = {"path": f"{s.label}.pem"}
        arch["entities"][s.label] = {"common-name": s.common_name, "organization-name": s.organization}
        spec = _leaf("interm", s, now)
        while (serial := random_serial()) in serials:
            pass
        serials.add(serial)
        spec["serial"] = serial
        arch["certs"][s.label] = spec
        added.append(s.label)
    if added:
        tmp = pki.config.with_name(f".{pki.config.name}.part")
        tmp.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        os.replace(tmp, pki.config)
        _export(pki, added, added)
    return added


class PkiServer:
    """Serves the demo PKI's TSA, OCSP and CRLs on 127.0.0.1 in a background thread."""

    def __init__(self, pki: DemoPki, *, sock: socket.socket | None = None) -> None:
        from certomancer.integrations.animator import Animator, AnimatorArchStore
        from werkzeug.serving import make_server

        class _WholeSecondAnimator(Animator):
            def at_time(self, request: Any) -> datetime:
                moment: datetime = super().at_time(request)
                return moment.replace(microsecond=0)

        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log
        arch = pki.architecture()
        app = _WholeSecondAnimator(AnimatorArchStore({arch.arch_label: arch}), with_web_ui=False)
        self.pki = pki
        self._server = make_server("127.0.0.1", pki.port, app, threaded=True, fd=sock.fileno() if sock else None)
        if sock is not None:
            sock.close()  # the server has its own duplicate of the listening socket
        self._thread = threading.Thread(target=self._server.serve_forever, name="skillcert-pki", daemon=True)

    @classmethod
    def bound(cls, pki: DemoPki) -> PkiServer | None:
        """A server holding the PKI's port, or ``None`` when another process holds it (that process
        serves the same PKI: use it)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", pki.port))
            sock.listen(128)
        except OSError as e:
            sock.close()
            if e.errno == errno.EADDRINUSE:
                return None
            raise
        return cls(pki, sock=sock)

    def __enter__(self) -> PkiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
