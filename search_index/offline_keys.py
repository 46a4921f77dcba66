"""The signed key list: every filed QR key, for checking QR codes and credentials offline.

Published with each snapshot generation (its meta rows, so it switches with the records) and
served at ``/api/v1/keys``: a compact JWS (``alg: Ed25519``, RFC 9864) signed with the publisher's Ed25519
key — the key that signs the manifests — over::

    {"format": "skillcert/keys/1", "snapshot": ..., "generation": ..., "issued_at": ...,
     "site": ..., "keys": [{"kid", "x", "y", "fingerprint", "institution_code",
     "institution_name", "institution_status", "not_after", "retired_at"}, ...]}

A phone caches it (the site's service worker) and ``skillcert verify-qr --keys FILE`` reads it;
both check the signature, and both can say how old it is: a key list tells that the data on a
paper is authentic, not that it was not revoked since ``issued_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.errors import SkillcertError
from registry.jws import compact_jws
from registry.qr_keys import EcPublicKey, key_from_dict

from .status_list import publisher_jwk

__all__ = ["FORMAT", "KeyList", "KeyListError", "key_list_jws", "read_key_list"]

FORMAT = "skillcert/keys/1"
_MAX = 4 * 1024 * 1024


class KeyListError(SkillcertError):
    """A key list that is not one a publisher signed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyList:
    keys: tuple[EcPublicKey, ...]
    issued_at: str
    snapshot: str
    generation: int
    site: str
    publisher_kid: str
    institutions: dict[str, dict[str, str]]  # code -> {"name", "status"}


def key_list_jws(
    institutions: Iterable[dict[str, Any]], key: Any, *, snapshot: str, generation: int, site: str, now: datetime
) -> str:
    """The signed key list of the institutions' public records (``institution_public``)."""
    keys = []
    for inst in institutions:
        for k in inst.get("qr_keys", []):
            keys.append(
                {
                    **k,
                    "institution_code": inst["code"],
                    "institution_name": inst.get("name_zh", ""),
                    "institution_status": inst.get("status", ""),
                }
            )
    body = {
        "format": FORMAT,
        "snapshot": snapshot,
        "generation": generation,
        "issued_at": now.isoformat(timespec="seconds"),
        "site": site.rstrip("/"),
        "keys": keys,
    }
    header = {"alg": "Ed25519", "typ": "JWT", "kid": publisher_jwk(key)["kid"]}
    return compact_jws(header, body, key.sign)


def read_key_list(text: str, publisher: dict[str, str] | None = None) -> KeyList:
    """Check a key list's signature (against ``publisher``, a JWK, or the one it names in a
    ``{"jws": ..., "publisher": ...}`` file as ``/api/v1/keys`` serves it) and read it."""
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import OKPKey

    raw = text.strip()
    if len(raw) > _MAX:
        raise KeyListError("密钥列表过大", "the key list is too large")
    if raw.startswith("{"):
        try:
            wrapped = json.loads(raw)
            raw, publisher = str(wrapped["jws"]), publisher or wrapped["publisher"]
        except (ValueError, KeyError, TypeError) as e:
            raise KeyListError("不是密钥列表文件", f"not a key list file ({e})") from e
    if publisher is None:
        raise KeyListError("没有发布者公钥，无法核对密钥列表", "no publisher key to check the key list against")
    try:
        jwk: dict[str, str | list[str]] = dict(publisher)
        obj = jws.deserialize_compact(raw, OKPKey.import_key(jwk), algorithms=["Ed25519"])
        body = json.loads(obj.payload)
    except (JoseError, ValueError, TypeError) as e:
        raise KeyListError(
            "密钥列表的签名无效（被改动或不是发布者签发）", f"the key list's signature is invalid ({e})"
        ) from e
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise KeyListError("密钥列表的格式不被认识", "the key list is not in a format this version reads")
    try:
        keys = tuple(key_from_dict(k) for k in body["keys"])
        insts = {
            str(k["institution_code"]): {
                "name": str(k.get("institution_name", "")),
                "status": str(k.get("institution_status", "")),
            }
            for k in body["keys"]
        }
        return KeyList(
            keys=keys,
            issued_at=str(body["issued_at"]),
            snapshot=str(body["snapshot"]),
            generation=int(body["generation"]),
            site=str(body["site"]),
            publisher_kid=str(publisher.get("kid", "")),
            institutions=insts,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise KeyListError("密钥列表缺少字段", f"the key list lacks a field ({e})") from e
