"""The OpenAPI paths of the offline checks (:mod:`verify.offline_api`), merged into :mod:`verify.openapi`."""

from __future__ import annotations

from typing import Any

__all__ = ["OFFLINE_PATHS", "OFFLINE_SCHEMAS"]

_S = {"type": "string"}
_PROBLEM_404 = {
    "404": {
        "description": "not found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
_JWK = {
    "type": "object",
    "required": ["kty", "kid"],
    "properties": {"kty": _S, "crv": _S, "x": _S, "y": _S, "kid": _S, "alg": _S, "use": _S},
}
_JWKS = {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": _JWK}}}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


OFFLINE_SCHEMAS: dict[str, Any] = {"Jwk": _JWK, "Jwks": _JWKS}

OFFLINE_PATHS: dict[str, Any] = {
    "/api/v1/keys": {
        "get": {
            "summary": "The signed key list: every filed QR key, for checking QR codes offline",
            "description": "A compact JWS (alg Ed25519) signed by the snapshot's publisher key, and that key "
            "as a JWK. Its payload says when it was issued: what it proves is that a paper's data is "
            "authentic, not that it was not revoked since.",
            "responses": {
                "200": {
                    "description": "the key list",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["jws", "publisher"],
                                "properties": {"jws": _S, "publisher": {"$ref": "#/components/schemas/Jwk"}},
                            }
                        }
                    },
                },
                **_PROBLEM_404,
            },
        }
    },
    "/api/v1/jwks.json": {
        "get": {
            "summary": "The publisher's Ed25519 key (it signs the key list and the status lists)",
            "responses": {"200": {"description": "JWK set", "content": _json("Jwks")}, **_PROBLEM_404},
        }
    },
    "/api/v1/institutions/{code}/jwks.json": {
        "get": {
            "summary": "An institution's filed P-256 keys (QR payloads and credentials, ES256)",
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": _S}],
            "responses": {"200": {"description": "JWK set", "content": _json("Jwks")}, **_PROBLEM_404},
        }
    },
    "/api/v1/status/{purpose}": {
        "get": {
            "summary": "The credentials' Bitstring Status List (a BitstringStatusListCredential as a JWT)",
            "parameters": [
                {
                    "name": "purpose",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["revocation", "suspension"]},
                }
            ],
            "responses": {
                "200": {"description": "the signed status list", "content": {"application/vc+jwt": {"schema": _S}}},
                **_PROBLEM_404,
            },
        }
    },
}
