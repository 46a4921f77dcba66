"""The JSON API under ``/api/v1/`` — the same checks as the pages, as data (OpenAPI in :mod:`verify.openapi`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from search_index import SnapshotRecord

from . import offline_api
from ._site import (
    Site,
    Unreadable,
    UploadTooLarge,
    credential_of,
    credential_response,
    download_attempt,
    lookup_two,
    pdf_response,
)
from .check import VERDICT_TEXT, Verdict
from .openapi import openapi_document
from .public_record import public_record

__all__ = ["problem", "routes"]


def problem(status: int, error: str, zh: str, en: str, **extra: Any) -> JSONResponse:
    headers = {"cache-control": "no-store"}
    if "retry_after" in extra:
        headers["retry-after"] = str(extra["retry_after"])
    return JSONResponse({"error": error, "zh": zh, "en": en, **extra}, status_code=status, headers=headers)


def _limited(retry: int) -> JSONResponse:
    return problem(
        429, "rate_limited", "请求过于频繁，请稍后再试", "too many requests, try again later", retry_after=retry
    )


def _certificate(view: SnapshotRecord | None) -> dict[str, Any]:
    """A look-up's answer; its record is the public one (``MaskedRecord``), never what the snapshot stores."""
    if view is None:
        return {"found": False, "status": None, "record": None}
    rec = public_record(view)
    status = rec.status
    zh, en = VERDICT_TEXT.get(Verdict(status), ("", "")) if status in Verdict._value2member_map_ else ("", "")
    return {"found": True, "status": status, "status_zh": zh, "status_en": en, "record": rec.as_json()}


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"cache-control": "no-store"})


async def _body(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """A JSON object or a urlencoded form with only ``allowed`` string fields (else ``ValueError``)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        raw = await request.body()
        if len(raw) > 16 * 1024:
            raise ValueError("body too large")
        try:
            data = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError("the body is not JSON") from e
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        items = list(data.items())
    elif ctype.startswith("application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=0, max_fields=len(allowed))
        except Exception as e:  # starlette's limits on fields
            raise ValueError(str(e)) from e
        items = list(form.multi_items())
    else:
        raise ValueError("send application/json or application/x-www-form-urlencoded")
    unknown = sorted({k for k, _ in items} - set(allowed))
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(unknown)}")
    if len({k for k, _ in items}) != len(items) or not all(isinstance(v, str) for _, v in items):
        raise ValueError("each field once, as a string")
    return {k: str(v).strip() for k, v in items}


def routes(site: Site) -> list[Route]:
    async def qr(request: Request) -> Response:
        retry = site.limits.qr.take(site.client(request))
        if retry:
            return _limited(retry)
        number, token = request.query_params.get("number", ""), request.query_params.get("t", "")
        return _json(_certificate(site.snapshot.lookup_by_qr(number, token)))

    async def query(request: Request) -> Response:
        try:
            body = await _body(request, ("number", "name", "id_number"))
        except ValueError as e:
            return problem(400, "bad_request", "请求格式不正确", f"malformed request: {e}")
        fields = {k: body.get(k, "") for k in ("number", "name", "id_number")}
        if sum(1 for v in fields.values() if v) < 2:
            return problem(
                400,
                "two_of_three",
                "请提供证书编号、姓名、证件号码中的两项",
                "give two of the three keys: number, name, id_number",
            )
        retry = site.limits.lookup.take(site.client(request))
        if retry:
            return _limited(retry)
        views = lookup_two(site, fields)
        # "record" is the newest certificate (as before); "certificates" lists all a name + ID names
        return _json({**_certificate(views[0] if views else None), "certificates": [_certificate(v) for v in views]})

    async def check(request: Request) -> Response:
        retry = site.limits.upload.take(site.client(request))
        if retry:
            return _limited(retry)
        try:
            report = await site.check(await site.read_upload(request))
        except UploadTooLarge:
            mb = site.settings.max_upload_bytes // (1024 * 1024)
            return problem(413, "too_large", f"文件过大（上限 {mb} MB）", f"the file is too large (limit {mb} MB)")
        except Unreadable as e:
            return problem(e.status, "unreadable" if e.status == 422 else "bad_request", e.zh, e.en)
        return _json(report.as_dict())

    async def download(request: Request) -> Response:
        try:
            body = await _body(request, ("number", "id_number", "code", "format"))
        except ValueError as e:
            return problem(400, "bad_request", "请求格式不正确", f"malformed request: {e}")
        fields = {k: body.get(k, "") for k in ("number", "id_number", "code")}
        wanted = body.get("format") or "pdf"
        if wanted not in ("pdf", "credential"):
            return problem(400, "bad_request", "format 应为 pdf 或 credential", "format must be pdf or credential")
        if not all(fields.values()):
            return problem(400, "need_all", "请提供证书编号、证件号码和下载码", "give number, id_number and code")
        outcome, pdf, retry = await download_attempt(site, site.client(request), fields)
        if outcome == "limited":
            return _limited(retry)
        if outcome == "ok" and pdf is not None and wanted == "credential":
            credential = await run_in_threadpool(credential_of, pdf)
            if credential is None:
                return problem(
                    404,
                    "no_credential",
                    "该证书签发时尚未提供电子凭证",
                    "this certificate was issued before credentials were offered",
                )
            return credential_response(credential, fields["number"])
        if outcome == "ok" and pdf is not None:
            return pdf_response(pdf, fields["number"])
        return {
            "fail": problem(
                403, "wrong_code", "证书编号、证件号码或下载码不正确", "number, ID number or code is wrong"
            ),
            "revoked": problem(410, "revoked", "证书已撤销，不再提供下载", "the certificate was revoked"),
            "none": problem(
                404, "no_download", "该证书没有可下载的电子文件", "no electronic file for this certificate"
            ),
        }[outcome]

    async def institutions(request: Request) -> Response:
        q = request.query_params.get("q", "").strip()[:100]
        try:
            limit = max(1, min(50, int(request.query_params.get("limit", "20"))))
        except ValueError:
            return problem(400, "bad_request", "limit 应为整数", "limit must be an integer")
        found = site.snapshot.search_institutions(q, limit=limit) if q else []
        return _json({"query": q, "results": found})

    async def institution(request: Request) -> Response:
        inst = site.snapshot.institution(request.path_params["code"])
        if inst is None:
            return problem(404, "not_found", "没有此机构代码", "no institution has this code")
        return _json(inst)

    async def snapshot(request: Request) -> Response:
        return _json(site.snapshot.manifest)

    async def checkpoint(request: Request) -> Response:
        cp = site.snapshot.checkpoint()
        if cp is None:
            return problem(404, "no_checkpoint", "此快照没有审计检查点", "this snapshot carries no audit checkpoint")
        return _json(cp)

    async def audit_proof(request: Request) -> Response:
        retry = site.limits.qr.take(site.client(request))
        if retry:
            return _limited(retry)
        found = site.snapshot.audit_inclusion(request.query_params.get("number", ""), request.query_params.get("t", ""))
        if found is None:
            return problem(
                404, "not_found", "没有找到（需要证书编号和二维码令牌）", "not found (give the number and the QR token)"
            )
        return _json(found)

    async def consistency(request: Request) -> Response:
        raw = request.query_params.get("old", "")
        if not raw.isdigit():
            return problem(400, "bad_request", "old 应为非负整数", "old must be a non-negative integer")
        found = site.snapshot.audit_consistency(int(raw))
        if found is None:
            return problem(404, "not_found", "没有该大小的日志前缀", "no log prefix of that size")
        return _json(found)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    return [
        Route("/certificates/qr", qr),
        Route("/query", query, methods=["POST"]),
        Route("/check", check, methods=["POST"]),
        Route("/download", download, methods=["POST"]),
        Route("/institutions", institutions),
        Route("/institutions/{code}", institution),
        Route("/snapshot", snapshot),
        Route("/audit/checkpoint", checkpoint),
        Route("/audit/proof", audit_proof),
        Route("/audit/consistency", consistency),
        Route("/openapi.json", openapi),
        *offline_api.routes(site),
    ]
