"""The API of the offline checks: the signed key list, the JWKS, the credentials' status lists.

What a phone caches to check a QR code's signed payload without a network (``/api/v1/keys``,
the key list as the snapshot's publisher signed it), what a credential verifier fetches to check
a credential's signature (``/api/v1/institutions/{code}/jwks.json``, the institution's filed
P-256 keys) and its status (``/api/v1/status/{purpose}``, the signed Bitstring Status List), and
the publisher's own key (``/api/v1/jwks.json``). All of it is public and the same for everyone:
cached for a short while, like the snapshot it comes from.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._site import Site

__all__ = ["CACHE", "routes"]

CACHE = "public, max-age=60"  # a new snapshot is seen within a minute
_PURPOSES = ("revocation", "suspension")


def _problem(status: int, error: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"error": error, "zh": zh, "en": en}, status_code=status, headers={"cache-control": "no-store"})


def _public(data: Any) -> JSONResponse:
    return JSONResponse(data, headers={"cache-control": CACHE})


def routes(site: Site) -> list[Route]:
    async def keys(request: Request) -> Response:
        with site.snapshot.pinned() as snap:  # the list and its signer of one generation
            jws, publisher = snap.key_list(), snap.publisher_jwk()
        if not jws or not publisher:
            return _problem(404, "no_keys", "此快照没有密钥列表", "this snapshot carries no key list")
        return _public({"jws": jws, "publisher": publisher})

    async def jwks(request: Request) -> Response:
        publisher = site.snapshot.publisher_jwk()
        if not publisher:
            return _problem(404, "no_keys", "此快照没有发布者公钥", "this snapshot carries no publisher key")
        return _public({"keys": [publisher]})

    async def institution_jwks(request: Request) -> Response:
        from registry.qr_keys import key_from_dict

        inst = site.snapshot.institution(request.path_params["code"])
        if inst is None:
            return _problem(404, "not_found", "没有此机构代码", "no institution has this code")
        return _public({"keys": [key_from_dict(k).jwk() for k in inst.get("qr_keys", [])]})

    async def status(request: Request) -> Response:
        purpose = request.path_params["purpose"]
        jwt = site.snapshot.status_list(purpose) if purpose in _PURPOSES else None
        if not jwt:
            return _problem(404, "no_status_list", "没有此状态列表（revocation 或 suspension）", "no such status list")
        return Response(jwt, media_type="application/vc+jwt", headers={"cache-control": CACHE})

    return [
        Route("/keys", keys),
        Route("/jwks.json", jwks),
        Route("/institutions/{code}/jwks.json", institution_jwks),
        Route("/status/{purpose}", status),
    ]
