"""The verification site: ``create_app(settings) -> Starlette``.

Pages (Chinese by default, ``?lang=en`` switches and is remembered in a cookie), plain HTML
without JavaScript: the QR landing ``/c/{number}?t=``, the two-of-three query ``/query``, the
PDF or credential upload check ``/check``, the holder download ``/download`` (the PDF or its
credential), the institution directory ``/institutions``. The one script is the QR landing's
offline check (``static/offline.js``: the signed fragment checked in the browser) with its service
worker (``/sw.js``) and the shell it keeps (``/offline``) for a scan without a network. The JSON API is in :mod:`verify.api`. Handlers parse, call the core, return
a template; the site never opens the registry, only a published snapshot.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from registry.tables import ID_TYPES, LEVELS

from . import api
from ._site import (
    STATIC,
    TEMPLATES,
    SecurityHeaders,
    Site,
    Unreadable,
    UploadTooLarge,
    credential_of,
    credential_response,
    download_attempt,
    lookup_two,
    pdf_response,
)
from ._templates import environment
from .check import VERDICT_TEXT, Verdict
from .i18n import MESSAGES, translator
from .present import Messages, beijing_iso, beijing_time, check_groups, seal_lines
from .sealed_document import DocumentReport
from .settings import SiteSettings

if TYPE_CHECKING:
    from search_index.reader import Landing

__all__ = ["create_app"]


# the filter for templates: the same few times (a snapshot's) on most pages, converted once
_bj = functools.lru_cache(maxsize=256)(beijing_time)
# a photo the snapshot kept opened (the same bytes on the next scan) is base64-encoded once
_b64 = functools.lru_cache(maxsize=128)(base64.b64encode)
# where the QR landing's parts go: "<" never survives escaping, so only our own Markup prints these
_SLOT = re.compile("<\x00(switch|main)\x00>")
_PHOTO = "<\x00photo\x00>"


def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    return "en" if request.cookies.get("lang") == "en" else "zh"


def _switch_url(request: Request, lang: str) -> str:
    """The same page in the other language: a query-only relative link (``?…lang=en``), which a
    browser resolves against the current page — never the path, so ``//evil.example/x`` cannot
    become an off-site link."""
    query = "&".join(
        p
        for p in request.scope.get("query_string", b"").decode("latin-1").split("&")
        if p and not p.startswith("lang=")
    )
    return f"?{query + '&' if query else ''}lang={lang}"


_OFFLINE_LABELS = (
    "number",
    "name",
    "id_number",
    "id_type",
    "occupation",
    "level",
    "issue_date",
    "institution",
    "colon",
    "beijing_time",
)


def _offline_words(lang: str) -> dict[str, Any]:
    """What ``static/offline.js`` shows, in the page's language (a JSON block in the page: no inline script)."""
    i = 1 if lang == "en" else 0
    words: dict[str, Any] = {k: v[i] for k, v in MESSAGES.items() if k.startswith("offline_") or k in _OFFLINE_LABELS}
    words["levels"] = {str(lv.code): lv.en if lang == "en" else lv.zh for lv in LEVELS.values()}
    words["id_types"] = {it.code: it.en if lang == "en" else it.zh for it in ID_TYPES.values()}
    return words


class Pages:
    def __init__(self, site: Site) -> None:
        self.site = site
        # one environment per language, its words folded into the templates (verify/_templates.py)
        self._templates: dict[str, Jinja2Templates] = {}
        for lang in ("zh", "en"):
            env = environment(TEMPLATES, lang)
            env.filters["bj"] = _bj  # an ISO time (UTC) in Beijing time, for people
            self._templates[lang] = Jinja2Templates(env=env)
        self.templates = self._templates["zh"]
        # what every page of one language shares, made once
        self._lang_ctx: dict[str, dict[str, Any]] = {
            lang: {
                "lang": lang,
                "t": translator(lang),
                "T": Messages(lang),  # the same words as attributes: cheaper in a template than t()
                "verdict_text": {v.value: VERDICT_TEXT[v][1 if lang == "en" else 0] for v in Verdict},
                "level_names": {lv.code: lv.en if lang == "en" else lv.zh for lv in LEVELS.values()},
                "offline_words": _offline_words(lang),
            }
            for lang in ("zh", "en")
        }
        for lang, ctx in self._lang_ctx.items():  # partials that say the same on every page: rendered once
            env = self._templates[lang].env
            # attributes, not keys: Jinja2 tries ``fragments.paper`` as an attribute first (a dict raises)
            ctx["fragments"] = SimpleNamespace(
                **{n: Markup(env.get_template(f"_{n}.html").render(ctx)) for n in ("paper", "print_hint", "offline")}
            )
        # the QR landing outside its main block (verify.app.Pages.landing_page), per language and generation
        self._frames: dict[tuple[Any, ...], list[bytes | str]] = {}
        self._frame_of = {
            lang: t.env.from_string('{% extends "landing.html" %}{% block main %}{{ main }}{% endblock %}')
            for lang, t in self._templates.items()
        }
        self._landing = {lang: t.env.get_template("landing.html") for lang, t in self._templates.items()}
        self._landing_ctx = {  # the globals too: the page's context is made as the template's own (shared)
            lang: {**self._landing[lang].globals, **ctx, "operator": site.settings.operator}
            for lang, ctx in self._lang_ctx.items()
        }

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        lang = _lang(request)
        ctx = {
            **self._lang_ctx[lang],
            "switch_url": _switch_url(request, "en" if lang == "zh" else "zh"),
            "operator": self.site.settings.operator,
            **context,
        }
        if "manifest" not in ctx:  # a page that read one generation passes that generation's
            ctx["manifest"] = self.site.snapshot.manifest
        resp = self._templates[lang].TemplateResponse(request, name, ctx, status_code=status)
        resp.headers["cache-control"] = "no-store"
        if request.query_params.get("lang") in ("zh", "en"):
            resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return resp

    def limited(self, request: Request, retry: int) -> Response:
        resp = self.error(request, 429, "too_many", retry=retry)
        resp.headers["retry-after"] = str(retry)
        return resp

    def error(self, request: Request, status: int, key: str, *, retry: int = 0, **values: Any) -> Response:
        t = translator(_lang(request))
        message = t(key, **values)
        return self.render(request, "error.html", status, message=message, retry=retry)

    # --- pages ---------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        return self.render(request, "index.html")

    async def landing(self, request: Request) -> Response:
        retry = self.site.limits.qr.take(self.site.client(request))
        if retry:
            return self.limited(request, retry)
        number = request.path_params["number"]
        token = request.query_params.get("t", "")
        found = self.site.snapshot.landing_by_qr(number, token)  # one look-up, one generation
        return self.landing_page(request, found)

    def _frame(self, lang: str, manifest: dict[str, Any]) -> list[bytes | str]:
        """landing.html around its main block: literal bytes and the slots ``switch`` (the language
        link's URL) and ``main``. ``base.html`` makes the rest of the language, the operator and the
        manifest alone, so it is rendered once per language and generation (the manifest's own keys)."""
        key = (lang, *(manifest.get(k) for k in ("signature", "id", "generation", "updated_at", "built_at")))
        frame = self._frames.get(key)
        if frame is None:
            slot = {"switch_url": Markup("<\x00switch\x00>"), "main": Markup("<\x00main\x00>")}
            ctx = {**self._lang_ctx[lang], "operator": self.site.settings.operator, "manifest": manifest, **slot}
            parts = _SLOT.split(self._frame_of[lang].render(ctx))
            frame = [p if i % 2 else p.encode() for i, p in enumerate(parts)]
            if len(self._frames) >= 8:  # old generations
                self._frames.clear()
            self._frames[key] = frame
        return frame

    def landing_page(self, request: Request, found: Landing) -> Response:
        """What ``render(request, "landing.html", …)`` sends, made cheaper: the frame made once (above),
        the main block rendered alone, the photo's base64 put in as bytes (never through the template)."""
        lang = _lang(request)
        ctx = {
            **self._landing_ctx[lang],
            "view": found.record,
            "inst": found.institution,
            "manifest": found.manifest,
            "photo": Markup(_PHOTO) if found.photo else None,  # only for a valid certificate
            **_checked(),
        }
        template = self._landing[lang]
        before, _, after = "".join(template.blocks["main"](template.new_context(ctx, shared=True))).partition(_PHOTO)
        main = before.encode() + _b64(found.photo) + after.encode() if found.photo else before.encode()
        slots = {"switch": escape(_switch_url(request, "en" if lang == "zh" else "zh")).encode(), "main": main}
        body = b"".join(slots[p] if isinstance(p, str) else p for p in self._frame(lang, found.manifest))
        resp = Response(body, media_type="text/html")
        resp.raw_headers.append((b"cache-control", b"no-store"))
        if request.query_params.get("lang") in ("zh", "en"):
            resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return resp

    async def offline(self, request: Request) -> Response:
        """The shell the service worker keeps: the offline check alone, for a QR code scanned without a network."""
        return self.render(request, "offline.html")

    async def query(self, request: Request) -> Response:
        if request.method == "GET" and not request.query_params.get("number") and not request.query_params.get("name"):
            return self.render(request, "query.html", form={}, asked=False)
        form: dict[str, str] = dict(await request.form()) if request.method == "POST" else dict(request.query_params)  # type: ignore[arg-type]
        fields = {k: str(form.get(k, "")).strip() for k in ("number", "name", "id_number")}
        filled = [k for k, v in fields.items() if v]
        if len(filled) < 2:
            return self.render(request, "query.html", 400, form=fields, asked=True, need_two=True)
        retry = self.site.limits.lookup.take(self.site.client(request))
        if retry:
            return self.limited(request, retry)
        views = lookup_two(self.site, fields)
        return self.render(request, "query.html", form=fields, asked=True, views=views, **_checked())

    async def check_form(self, request: Request) -> Response:
        return self.render(request, "check.html", report=None)

    async def check(self, request: Request) -> Response:
        retry = self.site.limits.upload.take(self.site.client(request))
        if retry:
            return self.limited(request, retry)
        try:
            data = await self.site.read_upload(request)
            report = await self.site.check(data)
        except UploadTooLarge:
            return self.error(request, 413, "too_large", n=self.site.settings.max_upload_bytes // (1024 * 1024))
        except Unreadable as e:
            reason = e.en if _lang(request) == "en" else e.zh
            return self.render(request, "check.html", e.status, report=None, problem=reason)
        if isinstance(report, DocumentReport):  # a sealed document, not a certificate: its own verdict
            return self.render(request, "check.html", report=None, document=report, **_checked())
        inst = self.site.snapshot.institution(report.institution_code) if report.institution_code else None
        return self.render(
            request,
            "check.html",
            report=report,
            inst=inst,
            groups=check_groups(report),
            seals=seal_lines(report),
            **_checked(),
        )

    async def download(self, request: Request) -> Response:
        if request.method == "GET":
            return self.render(request, "download.html", form={})
        form = await request.form()
        fields = {k: str(form.get(k, "") or "").strip() for k in ("number", "id_number", "code")}
        wanted = "credential" if str(form.get("format", "") or "") == "credential" else "pdf"
        if not all(fields.values()):
            return self.render(
                request, "download.html", 400, form={**fields, "format": wanted}, problem="download_need_all"
            )
        outcome, pdf, status = await download_attempt(self.site, self.site.client(request), fields)
        if outcome == "limited":
            return self.limited(request, status)
        fields.pop("code")
        if outcome == "ok" and pdf is not None:
            if wanted == "pdf":
                return pdf_response(pdf, fields["number"])
            credential = await run_in_threadpool(credential_of, pdf)
            if credential is not None:
                return credential_response(credential, fields["number"])
            return self.render(
                request, "download.html", 404, form={**fields, "format": wanted}, problem="download_no_credential"
            )
        problem = {"fail": "download_fail", "revoked": "download_revoked", "none": "download_none"}[outcome]
        code = {"fail": 403, "revoked": 410, "none": 404}[outcome]
        return self.render(request, "download.html", code, form={**fields, "format": wanted}, problem=problem)

    async def institutions(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()[:100]
        found = self.site.snapshot.search_institutions(q, limit=50) if q else []
        return self.render(request, "institutions.html", q=q, found=found)

    async def institution(self, request: Request) -> Response:
        inst = self.site.snapshot.institution(request.path_params["code"])
        if inst is None:
            return self.error(request, 404, "inst_not_found")
        return self.render(request, "institution.html", inst=inst)


def _checked() -> dict[str, Any]:
    """When the result was made, for the page and its print: Beijing time and machine-readable,
    both to the second (so made once a second, not on every request)."""
    now = datetime.now(UTC).replace(microsecond=0)
    last = _last_checked
    if last[0] != now:
        last[:] = [now, {"checked_at": beijing_time(now), "checked_iso": beijing_iso(now)}]
    return dict(last[1])


_last_checked: list[Any] = [None, {}]  # [the second, what _checked gave for it]


async def healthz(request: Request) -> Response:
    """``ok``, then ``key: value`` lines: with shared limits, ``limits: shared`` or ``limits: local``
    (Redis does not answer: each worker counts alone until it does)."""
    extra = request.app.state.site.health()
    return PlainTextResponse("\n".join(["ok", *(f"{k}: {v}" for k, v in extra.items())]))


async def service_worker(request: Request) -> Response:
    """``static/sw.js`` at the root, so that its scope is the whole site (``/c/…`` included)."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"service-worker-allowed": "/", "cache-control": "no-cache"},
    )


def create_app(settings: SiteSettings) -> Starlette:
    """The site over ``settings.snapshot_root`` (a new snapshot is picked up without restart)."""
    site = Site(settings)
    pages = Pages(site)

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return api.problem(404, "not_found", "页面不存在", "not found")
        return pages.error(request, 404, "not_found")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 400)
        if request.url.path.startswith("/api/"):
            return api.problem(status, "http_error", "请求有误", str(getattr(exc, "detail", "error")))
        return pages.error(request, status, "bad_request")

    async def server_error(request: Request, exc: Exception) -> Response:
        # never a stack trace, never personal data; the log line names only the path template
        if request.url.path.startswith("/api/"):
            return api.problem(500, "internal", "服务器内部错误", "internal error")
        return HTMLResponse("<!doctype html><title>500</title><p>服务器内部错误 / internal error</p>", status_code=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        site.pool.start()
        yield
        site.close()

    routes = [
        Route("/", pages.home),
        Route("/healthz", healthz),
        Route("/c/{number}", pages.landing),
        Route("/offline", pages.offline),
        Route("/sw.js", service_worker),
        Route("/query", pages.query, methods=["GET", "POST"]),
        Route("/check", pages.check_form, methods=["GET"]),
        Route("/check", pages.check, methods=["POST"]),
        Route("/download", pages.download, methods=["GET", "POST"]),
        Route("/institutions", pages.institutions),
        Route("/institutions/{code}", pages.institution),
        Mount("/api/v1", routes=api.routes(site)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: not_found, HTTPException: http_error, 500: server_error},
        lifespan=lifespan,
    )
    app.state.site = site
    return app
