"""Seal identities for the application: filing them, loading them in workers, the demo PKI."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry import Registry
from registry._seals_store import IdentityRecord
from registry.errors import SkillcertError
from registry.models import InstitutionStatus
from render import RenderedPdf, SealBox
from sign import (
    DemoPki,
    Pkcs11Identity,
    Pkcs12Identity,
    PkiServer,
    SealBoxSpec,
    SealSubject,
    cert_fingerprint,
    load_signer,
    make_demo_pki,
)
from sign.pki import extend_demo_pki
from sign.qr_key import QR_SEAL_KIND, EcSigner, load_ec_signer

from .settings import Settings

__all__ = [
    "DEMO_PASSWORD_ENV",
    "IdentitySpec",
    "boxes_of",
    "file_identity",
    "identity_spec",
    "qr_signer",
    "qr_spec",
    "seal_box_spec",
    "seal_services",
    "setup_demo_pki",
    "signers_for",
]

DEMO_PASSWORD_ENV = "SKILLCERT_DEMO_P12_PASSWORD"
DEMO_PASSWORD = b"skillcert-demo"


def seal_box_spec(box: SealBox) -> SealBoxSpec:
    """One of the renderer's seal boxes as the sealer takes it: the one conversion between the
    two (render and sign do not know each other; the application joins them here)."""
    return SealBoxSpec(box.kind, box.page, box.rect_pt)


def boxes_of(rendered: RenderedPdf) -> list[SealBoxSpec]:
    """The renderer's seal boxes of ``rendered``, in order, as the sealer takes them."""
    return [seal_box_spec(b) for b in rendered.seal_boxes]


@dataclass(frozen=True, slots=True)
class IdentitySpec:
    """How a worker process loads a signer (no secret inside: secrets come from the environment)."""

    seal_kind: str
    identity: Pkcs12Identity | Pkcs11Identity


def identity_spec(rec: IdentityRecord) -> IdentitySpec:
    loc = rec.location
    if loc.get("password_env") == DEMO_PASSWORD_ENV:  # demo keys only: their password is public by design
        os.environ.setdefault(DEMO_PASSWORD_ENV, DEMO_PASSWORD.decode())
    if rec.kind == "pkcs12":
        return IdentitySpec(
            rec.seal_kind,
            Pkcs12Identity(path=Path(loc["path"]), password_env=loc.get("password_env", "SKILLCERT_P12_PASSWORD")),
        )
    return IdentitySpec(
        rec.seal_kind,
        Pkcs11Identity(
            module=Path(loc["module"]),
            token_label=loc["token_label"],
            key_label=loc["key_label"],
            cert_label=loc.get("cert_label"),
            pin_env=loc.get("pin_env", "SKILLCERT_PKCS11_PIN"),
        ),
    )


def signers_for(specs: list[IdentitySpec]) -> dict[str, Any]:
    """The PAdES signers of the seals (the QR key is no seal: :func:`qr_signer` loads it)."""
    return {s.seal_kind: load_signer(s.identity) for s in specs if s.seal_kind != QR_SEAL_KIND}


def qr_spec(specs: list[IdentitySpec]) -> IdentitySpec | None:
    """The QR and credential key among an institution's identities, if one is filed."""
    return next((s for s in specs if s.seal_kind == QR_SEAL_KIND), None)


def qr_signer(spec: IdentitySpec | None) -> EcSigner | None:
    """Load the QR key (once per process, like the sealer's keys); ``None`` without one."""
    return None if spec is None else load_ec_signer(spec.identity)


def file_identity(
    reg: Registry,
    *,
    name: str,
    institution_code: str,
    seal_kind: str,
    identity: Pkcs12Identity | Pkcs11Identity,
    actor: str,
    secret: bytes | None = None,
) -> IdentityRecord:
    """Load the identity once (proves the password/PIN works), then file its certificate."""
    from asn1crypto import pem

    signer = load_signer(identity, secret=secret)
    if seal_kind == QR_SEAL_KIND:
        EcSigner(signer)  # refuses (bilingual NotP256) a key that is not ECDSA P-256
    cert = signer.signing_cert
    if isinstance(identity, Pkcs12Identity):
        kind, loc = "pkcs12", {"path": str(identity.path.absolute()), "password_env": identity.password_env}
    else:
        kind = "pkcs11"
        loc = {
            "module": str(identity.module),
            "token_label": identity.token_label,
            "key_label": identity.key_label,
            "cert_label": identity.cert_label or identity.key_label,
            "pin_env": identity.pin_env,
        }
    rec = IdentityRecord(
        name=name,
        institution_code=institution_code,
        seal_kind=seal_kind,
        kind=kind,
        location=loc,
        cert_pem=pem.armor("CERTIFICATE", cert.dump()).decode(),
        fingerprint=cert_fingerprint(cert),
        not_after=cert.not_valid_after.isoformat(),
        added_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    reg.seals.add_identity(rec, actor=actor)
    return rec


def setup_demo_pki(s: Settings, reg: Registry) -> DemoPki:
    """A demo PKI under ``$SKILLCERT_HOME/pki`` with one seal key per filed seal and one QR and
    credential key (ECDSA P-256, ``<code>-qr``) per institution, filed as identities.

    Run again after more institutions (or seals) were filed, it adds their keys and files them;
    what was there stays as it was."""
    root = s.home / "pki"
    os.environ.setdefault(DEMO_PASSWORD_ENV, DEMO_PASSWORD.decode())
    subjects = []
    for inst in reg.institutions.all():
        for seal in inst.seals:
            subjects.append(SealSubject(f"{inst.code}-{seal.kind}", seal.text, inst.name_zh))
        if inst.status is InstitutionStatus.ACTIVE:  # its QR and credential key (a cancelled one files none)
            qr = f"{inst.code}-{QR_SEAL_KIND}"
            subjects.append(SealSubject(qr, f"{inst.name_zh} 二维码签名", inst.name_zh, ec=True))
    if all(subj.ec for subj in subjects):
        raise SkillcertError("没有已备案的机构印章", "no filed institution seals to make keys for")
    if (root / "certomancer.yml").is_file():  # made before: add keys for institutions filed since
        pki = DemoPki.at(root, password=DEMO_PASSWORD)
        extend_demo_pki(pki, subjects)
    else:
        pki = make_demo_pki(root, subjects, password=DEMO_PASSWORD)
    filed = {i.name for i in reg.seals.identities()}
    for subj in subjects:
        if subj.label in filed:
            continue
        code, kind = subj.label.split("-", 1)
        file_identity(
            reg,
            name=subj.label,
            institution_code=code,
            seal_kind=kind,
            identity=Pkcs12Identity(path=pki.p12(subj.label), password_env=DEMO_PASSWORD_ENV),
            actor=s.actor,
        )
    return pki


def seal_services(s: Settings) -> AbstractContextManager[object]:
    """The demo PKI's TSA/OCSP/CRL on 127.0.0.1 while sealing, when the settings use the demo PKI.

    Production settings name their own TSA; then nothing is started.
    """
    pki_dir = s.home / "pki"
    if not (pki_dir / "certomancer.yml").is_file():
        return nullcontext()
    pki = DemoPki.at(pki_dir, password=DEMO_PASSWORD)
    if s.tsa_url is None or not s.tsa_url.startswith(pki.url):
        return nullcontext()
    return _shared_demo_services(pki, pki_dir / ".services.lock")


@contextmanager
def _shared_demo_services(pki: DemoPki, users: Path) -> Iterator[None]:
    """The demo PKI served for the block — by this process, or by another run already serving it.

    Several runs on one machine (two ``skillcert issue`` runs sharing a batch, an issue and a
    renew) use one server on the PKI's fixed port (its URLs are inside the certificates). Each
    holds a shared ``flock`` on ``users`` while it seals; the process whose server it is waits,
    before stopping it, until it can take the lock alone — no other run is sealing with it. A run
    arriving while a server stops waits for the lock, then finds the port free and serves it
    itself. Only the port decides who serves (``PkiServer.bound``), so two runs starting at the
    same moment never collide on it. (``skillcert pki serve`` also answers on the port, for as
    long as it runs.)"""
    fd = os.open(users, os.O_RDWR | os.O_CREAT, 0o600)
    server: PkiServer | None = None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        server = PkiServer.bound(pki)  # None: another process serves the port
        if server is not None:
            server.__enter__()
        yield
    finally:
        if server is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # every other run using this server has finished sealing
            server.stop()
        os.close(fd)  # releases the lock (the kernel does it on any exit, even SIGKILL)
