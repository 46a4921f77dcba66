"""What every handler shares: the open snapshot, language, rate limits, the upload check, headers."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.errors import SkillcertError
from search_index import CertificateView, PairKind, Snapshot
from search_index.downloads import decrypt_pdf
from search_index.privacy import norm
from sign import Trust

from ._redis_limits import SharedBuckets, SharedStore
from ._worker import CheckFailed, CheckPool
from .check import CheckReport, filed_fingerprints, judge, read_embedded
from .credential_check import check_credential, looks_like_credential
from .delivered import DeliveredCopies
from .ratelimit import Buckets, Limiter
from .sealed_document import DocumentReport, document_check, filed_signers, signer_fingerprints
from .settings import RateLimit, SiteSettings

__all__ = [
    "SECURITY_HEADERS",
    "SecurityHeaders",
    "Site",
    "Unreadable",
    "UploadTooLarge",
    "credential_of",
    "credential_response",
    "download_attempt",
    "lookup_two",
    "pdf_response",
]

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


# the pages of the offline QR check (and its service worker) run the site's own scripts, nothing else:
# no inline script, no other origin; every other page stays without JavaScript
SCRIPTED_CSP = (
    b"default-src 'none'; script-src 'self'; connect-src 'self'; worker-src 'self'; style-src 'self'; "
    b"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SCRIPTED_HEADERS = [(b"content-security-policy", SCRIPTED_CSP), *SECURITY_HEADERS[1:]]


def scripted(path: str) -> bool:
    """The paths whose responses may run the site's scripts: the QR landing, the offline shell, the worker."""
    return path.startswith("/c/") or path in ("/offline", "/sw.js")


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every response (no inline script anywhere;
    scripts only from the site itself, and only on the pages :func:`scripted` names)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = SCRIPTED_HEADERS if scripted(scope.get("path", "")) else SECURITY_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Proxies:
    """The trusted reverse proxies, as networks."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        import ipaddress

        self._nets = [ipaddress.ip_network(e, strict=False) for e in entries]

    def trusts(self, address: str) -> bool:
        import ipaddress

        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._nets)


class SiteRefusal(SkillcertError):
    """What the site says instead of a verdict (the one error base, with the HTTP status to send)."""

    status = 400


class UploadTooLarge(SiteRefusal):
    status = 413

    def __init__(self) -> None:
        super().__init__("上传的文件过大", "the uploaded file is too large")


class Unreadable(SiteRefusal):
    def __init__(self, zh: str, en: str, status: int = 422) -> None:
        super().__init__(zh, en)
        self.status = status


class Download(StrEnum):
    """How a holder's download attempt ended."""

    OK = "ok"  # the code opened the PDF
    FAIL = "fail"  # a wrong code, or no such certificate (the two cost the same)
    REVOKED = "revoked"  # the certificate is revoked: no download
    NONE = "none"  # issued, but no download was prepared
    LIMITED = "limited"  # too many attempts: wait


@dataclass(slots=True)
class Limits:
    lookup: Limiter
    qr: Limiter
    upload: Limiter
    download: Limiter
    code_client: Limiter
    code_certificate: Limiter


class Site:
    """The state of one worker process: its snapshot reader and its rate-limit tables."""

    def __init__(self, settings: SiteSettings) -> None:
        self.settings = settings
        self.snapshot = Snapshot(settings.snapshot_root, settings.secret)
        # [site] rate_limit_url: one limit for every worker of every node, counted in Redis
        store = SharedStore(settings.rate_limit_url, settings.secret) if settings.rate_limit_url else None
        self.shared_limits = store

        def bucket(limit: RateLimit, name: str) -> Limiter:
            return Buckets(limit) if store is None else SharedBuckets(name, limit, store)

        self.limits = Limits(
            lookup=bucket(settings.lookup_limit, "lookup"),
            qr=bucket(settings.qr_limit, "qr"),
            upload=bucket(settings.upload_limit, "upload"),
            download=bucket(settings.download_limit, "download"),
            code_client=bucket(settings.code_failures, "code_client"),
            code_certificate=bucket(settings.code_failures, "code_certificate"),
        )
        self._proxies = Proxies(settings.trusted_proxies)
        self._checks = asyncio.Semaphore(settings.check_concurrency)
        self.pool = CheckPool(settings.check_concurrency, settings.check_timeout_seconds, settings.check_memory_mb)
        self.delivered = DeliveredCopies()  # the fast path for delivered copies seen before

    def close(self) -> None:
        self.pool.close()
        self.snapshot.close()
        if self.shared_limits is not None:
            self.shared_limits.close()

    def health(self) -> dict[str, str]:
        """What ``/healthz`` adds after ``ok``: where the rate limits count (nothing: locally, by design)."""
        return self.shared_limits.health() if self.shared_limits is not None else {}

    def client(self, request: Request) -> str:
        """Who the rate limits count: the peer, or — only behind a trusted proxy — the right-most
        X-Forwarded-For hop that is not a trusted proxy (the left ones are the client's to write)."""
        peer = request.client.host if request.client else "?"
        if not self.settings.trust_forwarded_for or not self._proxies.trusts(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._proxies.trusts(hop):
                return hop
        return peer

    async def read_upload(self, request: Request) -> bytes:
        """The uploaded ``file`` field, held in memory only; too large → :class:`UploadTooLarge`."""
        limit = self.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
            raise UploadTooLarge
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise Unreadable(
                "请以 multipart/form-data 上传 file 字段", "upload the PDF as multipart/form-data field 'file'", 400
            )
        try:
            form = await request.form(max_files=1, max_fields=8, max_part_size=limit + 1)
        except Exception as e:  # starlette's MultiPartException, or a broken body
            if "size" in str(e).lower():
                raise UploadTooLarge from e
            raise Unreadable("上传内容格式不正确", "the upload is malformed", 400) from e
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise Unreadable("请选择一个 PDF 文件", "no file in the upload (multipart field 'file')", 400)
            data = await upload.read(limit + 1)
        finally:
            await form.close()
        if len(data) > limit:
            raise UploadTooLarge
        if not data:
            raise Unreadable("上传的文件是空的", "the uploaded file is empty", 400)
        return data

    async def check(self, data: bytes) -> CheckReport | DocumentReport:
        """The record and the seals checked in a worker process (bounded in time and memory),
        the snapshot look-ups here. A delivered copy seen before is answered from its memo
        (:mod:`verify.delivered`), with the register's side judged afresh. A credential (a JWT, a
        few KB) is checked here: a signature, two status lists and one look-up (:mod:`verify.credential_check`)."""
        if looks_like_credential(data):
            with self.snapshot.pinned() as snap:
                return check_credential(data, snap)
        with self.snapshot.pinned() as snap:
            fast = self.delivered.answer(data, hashlib.sha256(data).hexdigest(), snap, self.settings.trust_roots)
        if fast is not None:
            return fast
        try:
            async with asyncio.timeout(self.settings.check_timeout_seconds):
                await self._checks.acquire()  # wait for a free worker, but not for ever
        except TimeoutError as e:
            raise Unreadable("查验繁忙，请稍后再试", "the checker is busy; try again in a minute", 503) from e
        try:
            with self.snapshot.pinned() as snap:  # one generation for the keys and the verdict
                record = await self.pool.run(read_embedded, data)
                if record is None:  # no certificate record: the verdict on a document an institution sealed
                    fps = await self.pool.run(signer_fingerprints, data)
                    filed = filed_signers(snap, fps)
                    return await self.pool.run(document_check, data, self.settings.trust_roots, filed)
                trust = Trust(roots=self.settings.trust_roots, filed_fingerprints=filed_fingerprints(snap, record))
                seal = await self.delivered.seal(self.pool.run, data, record, trust, snap)
                return judge(data, record, seal, snap)
        except CheckFailed as e:
            raise _failed(e, self.settings.check_timeout_seconds) from e
        finally:
            self._checks.release()

    async def download(self, number: str, id_number: str, code: str) -> tuple[Download, bytes | None, Any]:
        """(outcome, pdf, view): see :class:`Download`.

        An unknown pair costs what a wrong code costs: the snapshot reads a random real download
        the same way, and the code is tried on it (bound to no number, so it always fails).
        """
        view, blob = self.snapshot.encrypted_download(number, id_number)
        if view is None:
            await run_in_threadpool(decrypt_pdf, blob or _DECOY_BLOB, code, number=f"{number}\x00unknown")
            return Download.FAIL, None, None
        if view.status == "revoked":
            return Download.REVOKED, None, view
        if blob is None:
            return Download.NONE, None, view
        pdf = await run_in_threadpool(decrypt_pdf, blob, code, number=number)
        return (Download.OK if pdf is not None else Download.FAIL), pdf, view

    @staticmethod
    def certificate_key(number: str, id_number: str) -> str:
        """A per-certificate key for the failure counter (never logged, never stored)."""
        key = f"{norm(number).replace(' ', '')}\x1f{norm(id_number).replace(' ', '')}"
        return hashlib.sha256(key.encode()).hexdigest()


def _failed(e: CheckFailed, seconds: float) -> Unreadable:
    """A check that could not finish is the file's doing (the queue wait is apart): a 4xx, never a 5xx."""
    if e.reason == "refused":
        return Unreadable(e.zh, e.en)
    if e.reason == "timeout":
        return Unreadable(
            f"文件过于复杂，{seconds:g} 秒内无法检查完毕；本系统签发的证书不会如此",
            f"the file is too complex to check within {seconds:g} s; no certificate we issue is",
        )
    return Unreadable(
        "文件解码后过大，无法检查；本系统签发的证书不会如此",
        "the file is too large to check once decoded; no certificate we issue is",
    )


def lookup_two(site: Site, fields: dict[str, str]) -> list[CertificateView]:
    """What the first pair the fields make (number+ID, number+name, name+ID) names: two of three,
    never one. A name + ID number gives every certificate of the person, newest first."""
    n, name, idn = fields.get("number", ""), fields.get("name", ""), fields.get("id_number", "")
    if n and idn:
        return site.snapshot.lookup_all_by_pair(PairKind.NUMBER_ID, n, idn)
    if n and name:
        return site.snapshot.lookup_all_by_pair(PairKind.NUMBER_NAME, n, name)
    return site.snapshot.lookup_all_by_pair(PairKind.NAME_ID, name, idn)


async def download_attempt(site: Site, client: str, fields: dict[str, str]) -> tuple[Download, bytes | None, int]:
    """Rate limits around :meth:`Site.download`: (LIMITED, None, retry) or (outcome, pdf, 0)."""
    lim = site.limits
    cert = site.certificate_key(fields["number"], fields["id_number"])
    retry = lim.download.take(client) or lim.code_client.retry_after(client) or lim.code_certificate.retry_after(cert)
    if retry:
        return Download.LIMITED, None, retry
    outcome, pdf, _ = await site.download(fields["number"], fields["id_number"], fields["code"])
    if outcome is Download.FAIL:  # count wrong codes per client and per certificate
        lim.code_client.take(client)
        lim.code_certificate.take(cert)
    return outcome, pdf, 0


def pdf_response(pdf: bytes, number: str) -> Response:
    safe = "".join(c for c in number.upper() if c.isalnum())[:22] or "certificate"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{safe}.pdf"', "cache-control": "no-store"},
    )


CREDENTIAL_ATTACHMENT = "credential.vc.jwt"  # the holder's credential, attached to the sealed PDF at issue


def credential_of(pdf: bytes) -> bytes | None:
    """The credential the decrypted PDF carries (``None``: a certificate issued before credentials)."""
    from render import record_bytes

    try:
        raw = record_bytes(pdf, CREDENTIAL_ATTACHMENT)
    except Exception:  # our own sealed file; anything odd in it means: no credential to give
        return None
    return raw.strip() if raw and raw.strip().startswith(b"eyJ") else None


def credential_response(credential: bytes, number: str) -> Response:
    safe = "".join(c for c in number.upper() if c.isalnum())[:22] or "certificate"
    return Response(
        credential,
        media_type="application/vc+jwt",
        headers={"content-disposition": f'attachment; filename="{safe}.vc.jwt"', "cache-control": "no-store"},
    )


_DECOY_BLOB = b"SKDL1" + bytes(16) + bytes(12) + bytes(32)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
