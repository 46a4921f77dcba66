"""The OpenAPI 3.0 document of ``/api/v1/`` (served at ``/api/v1/openapi.json``; a test checks
that the responses match it)."""

from __future__ import annotations

from typing import Any

from ._openapi_offline import OFFLINE_PATHS, OFFLINE_SCHEMAS

__all__ = ["PUBLIC_RECORD_FIELDS", "openapi_document"]

_S = {"type": "string"}
_NS = {"type": "string", "nullable": True}
_PROBLEM = {
    "type": "object",
    "required": ["error", "zh", "en"],
    "properties": {"error": _S, "zh": _S, "en": _S, "retry_after": {"type": "integer"}},
}
_CHECK = {
    "type": "object",
    "required": ["check", "outcome", "zh", "en"],
    "properties": {
        "check": _S,
        "outcome": {"type": "string", "enum": ["pass", "fail", "not_applicable", "unknown"]},
        "zh": _S,
        "en": _S,
    },
}
_RECORD: dict[str, Any] = {
    "type": "object",
    "description": "The masked record: no full name, ID number or certificate number.",
    "additionalProperties": False,  # nothing else: verify.public_record builds it field by field
    "properties": {
        "name": {"type": "string", "example": "张*三"},
        "id": {"type": "string", "example": "1101**********002X"},
        "id_type": _S,
        "id_type_zh": _S,
        "occupation": _S,
        "job": _S,
        "level": {"type": "integer", "minimum": 1, "maximum": 5},
        "level_zh": _S,
        "level_en": _S,
        "issue_date": _NS,
        "institution_code": _S,
        "institution_zh": _S,
        "institution_en": _S,
        "style": _S,
        # replaced: what an old paper's QR token gives after a reissue (补发), with replaced_on/replaced_how
        "status": {"type": "string", "enum": ["valid", "revoked", "suspended", "replaced"]},
        "status_date": _NS,
        "status_reason": _NS,
        "version": {"type": "integer"},
        "pdf_sha256": {"type": "array", "items": _S},
        "signer_fingerprints": {"type": "array", "items": _S},
        "replaced_on": _NS,
        "replaced_how": _S,
        "versions": {  # what created each later version: a correction (更正) or a reissue (补发), and when
            "type": "array",
            "items": {
                "type": "object",
                "required": ["version", "how", "on"],
                "additionalProperties": False,
                "properties": {
                    "version": {"type": "integer"},
                    "how": {"type": "string", "enum": ["correct", "reissue"]},
                    "on": _S,
                },
            },
        },
    },
}
# what the API may say of a certificate: the fields of verify.public_record.PublicRecord (a test holds them equal);
# every one is always there but replaced_how (only on what an old paper's QR token gives)
PUBLIC_RECORD_FIELDS: tuple[str, ...] = tuple(_RECORD["properties"])
_RECORD["required"] = [k for k in PUBLIC_RECORD_FIELDS if k != "replaced_how"]
_CERT_RESULT = {
    "type": "object",
    "required": ["found", "status", "record"],
    "properties": {
        "found": {"type": "boolean"},
        "status": _NS,
        "status_zh": _S,
        "status_en": _S,
        "record": {"allOf": [{"$ref": "#/components/schemas/MaskedRecord"}], "nullable": True},
        "certificates": {  # /query only: every certificate the pair names (a name + ID: all of a person's)
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "found": {"type": "boolean"},
                    "status": _NS,
                    "status_zh": _S,
                    "status_en": _S,
                    "record": {"$ref": "#/components/schemas/MaskedRecord"},
                },
            },
        },
    },
}
_CHECK_RESULT = {
    "type": "object",
    "required": ["bottom_line", "checks", "zh", "en"],
    "properties": {
        # "sealed": a document an institution sealed with its filed key, not a register certificate
        "bottom_line": {
            "type": "string",
            "enum": ["valid", "invalid", "revoked", "replaced", "suspended", "unknown", "sealed"],
        },
        # sealed_document: a file without a certificate record; credential: a .vc.jwt
        "kind": {"type": "string", "enum": ["sealed_document", "credential"]},
        "institution_name": _NS,
        "sealed_at": _NS,
        "other_signers": {"type": "array", "items": _S},
        "zh": _S,
        "en": _S,
        "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
        "record": {"allOf": [{"$ref": "#/components/schemas/MaskedRecord"}], "nullable": True},
        "institution_code": _NS,
        "signatures": {"type": "array", "items": {"type": "object"}},
        "replaced": {  # an old version's file: when and how (reissue 补发 / correct 更正) it was superseded
            "type": "object",
            "nullable": True,
            "properties": {"on": _S, "how": {"type": "string", "enum": ["reissue", "correct", ""]}},
        },
    },
}
_INSTITUTION = {
    "type": "object",
    "required": ["code", "name_zh", "name_en", "status", "scope", "seals"],
    "properties": {
        "code": _S,
        "name_zh": _S,
        "name_en": _S,
        "status": {"type": "string", "enum": ["active", "cancelled", "merged"]},
        "scope": {"type": "array", "items": {"type": "object"}},
        "seals": {"type": "array", "items": {"type": "object"}},
        "signers": {"type": "array", "items": {"type": "object"}},
    },
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _problems(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad request",
        403: "wrong code",
        404: "not found",
        410: "revoked",
        413: "too large",
        422: "unreadable PDF",
        429: "rate limited (see Retry-After)",
        503: "check timed out",
    }
    return {str(c): {"description": text[c], "content": _json("Problem")} for c in codes}


# at least one character the site does not strip: Python's str.strip() also takes \x1c-\x1f and \x85,
# which a JSON Schema (ECMA) \s does not
_KEY = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "[^\\s\\x1c-\\x1f\\x85]"}
_KEYS_BODY = {
    "type": "object",
    "properties": {"number": _KEY, "name": _KEY, "id_number": _KEY},
    "additionalProperties": False,
    "anyOf": [
        {"required": ["number", "name"]},
        {"required": ["number", "id_number"]},
        {"required": ["name", "id_number"]},
    ],
    "description": "Two of the three keys (SPEC §5); one alone is refused.",
}
_DOWNLOAD_BODY = {
    "type": "object",
    "required": ["number", "id_number", "code"],
    "properties": {
        "number": _KEY,
        "id_number": _KEY,
        "code": _KEY,
        "format": {"type": "string", "enum": ["pdf", "credential"]},  # the credential: the PDF's .vc.jwt
    },
    "additionalProperties": False,
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "skillcert verification API",
            "version": "1",
            "description": "Verify occupational skill level certificates (职业技能等级证书) against a published "
            "snapshot. Every error is {error, zh, en}.",
        },
        "paths": {
            "/api/v1/certificates/qr": {
                "get": {
                    "summary": "The certificate a QR code points to (number + token)",
                    "parameters": [
                        {"name": "number", "in": "query", "required": True, "schema": _S},
                        {"name": "t", "in": "query", "required": True, "schema": _S},
                    ],
                    "responses": {
                        "200": {"description": "result", "content": _json("CertificateResult")},
                        **_problems(429),
                    },
                }
            },
            "/api/v1/query": {
                "post": {
                    "summary": "Look up with two of three keys",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _KEYS_BODY},
                            "application/x-www-form-urlencoded": {"schema": _KEYS_BODY},
                        },
                    },
                    "responses": {
                        "200": {"description": "result", "content": _json("CertificateResult")},
                        **_problems(400, 429),
                    },
                }
            },
            "/api/v1/check": {
                "post": {
                    "summary": "Check an uploaded certificate PDF (seals and register) or credential (.vc.jwt)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "verdict", "content": _json("CheckResult")},
                        **_problems(400, 413, 422, 429, 503),
                    },
                }
            },
            "/api/v1/download": {
                "post": {
                    "summary": "The holder downloads the sealed PDF with the code from the notice",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _DOWNLOAD_BODY},
                            "application/x-www-form-urlencoded": {"schema": _DOWNLOAD_BODY},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the PDF",
                            "content": {
                                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                "application/vc+jwt": {"schema": {"type": "string"}},
                            },
                        },
                        **_problems(400, 403, 404, 410, 429),
                    },
                }
            },
            "/api/v1/institutions": {
                "get": {
                    "summary": "Search the institution directory",
                    "parameters": [
                        {"name": "q", "in": "query", "required": False, "schema": _S},
                        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "matches",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["query", "results"],
                                        "properties": {
                                            "query": _S,
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Institution"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        **_problems(400),
                    },
                }
            },
            "/api/v1/institutions/{code}": {
                "get": {
                    "summary": "One institution's filing, scope, status, seals and signer certificates",
                    "parameters": [{"name": "code", "in": "path", "required": True, "schema": _S}],
                    "responses": {"200": {"description": "filing", "content": _json("Institution")}, **_problems(404)},
                }
            },
            "/api/v1/audit/checkpoint": {
                "get": {
                    "summary": "The signed Merkle checkpoint (RFC 6962 tree head) of the registry's audit log",
                    "responses": {
                        "200": {"description": "checkpoint", "content": _json("Checkpoint")},
                        **_problems(404),
                    },
                }
            },
            "/api/v1/audit/proof": {
                "get": {
                    "summary": "Inclusion proofs of a certificate's audit entries (needs the QR pair)",
                    "parameters": [
                        {"name": "number", "in": "query", "required": True, "schema": _S},
                        {"name": "t", "in": "query", "required": True, "schema": _S},
                    ],
                    "responses": {
                        "200": {
                            "description": "proofs",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["checkpoint", "entries"],
                                        "properties": {
                                            "checkpoint": {"$ref": "#/components/schemas/Checkpoint"},
                                            "entries": {"type": "array", "items": {"type": "object"}},
                                        },
                                    }
                                }
                            },
                        },
                        **_problems(404, 429),
                    },
                }
            },
            "/api/v1/audit/consistency": {
                "get": {
                    "summary": "A consistency proof from an earlier log size to the current checkpoint",
                    "parameters": [
                        {"name": "old", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 0}}
                    ],
                    "responses": {
                        "200": {
                            "description": "proof",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["old_size", "checkpoint", "proof"],
                                        "properties": {
                                            "old_size": {"type": "integer"},
                                            "checkpoint": {"$ref": "#/components/schemas/Checkpoint"},
                                            "proof": {"type": "array", "items": _S},
                                        },
                                    }
                                }
                            },
                        },
                        **_problems(400, 404),
                    },
                }
            },
            "/api/v1/snapshot": {
                "get": {
                    "summary": "The signed manifest of the snapshot being served",
                    "responses": {
                        "200": {
                            "description": "manifest",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            **OFFLINE_PATHS,
        },
        "components": {
            "schemas": {
                **OFFLINE_SCHEMAS,
                "Problem": _PROBLEM,
                "Check": _CHECK,
                "MaskedRecord": _RECORD,
                "CertificateResult": _CERT_RESULT,
                "CheckResult": _CHECK_RESULT,
                "Institution": _INSTITUTION,
                "Checkpoint": {
                    "type": "object",
                    "required": ["log", "size", "root", "at", "public_key", "signature"],
                    "properties": {
                        "log": _S,
                        "size": {"type": "integer"},
                        "root": _S,
                        "at": _S,
                        "public_key": _S,
                        "signature": _S,
                    },
                },
            }
        },
    }
