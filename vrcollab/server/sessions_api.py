"""Browser sessions: sign-in links, invite links turned into members, sign out, and the pages
of the web app (``clients/web/webapp.html``).

Routes::

    GET  /signin?code=...     one-time sign-in link -> held in an HttpOnly cookie, 303 to /signin
    POST /api/session/signin  spend the held code -> session cookie (the page's button)
    GET  /join?invite=...     invite link -> held in an HttpOnly cookie, 303 to /join
    GET  /join?code=...       the same for a short code (what an invite's QR code opens)
    GET  /join, /projects, /projects/{id}, /welcome   the web app's pages
    GET  /api/session          who the browser is (sets the CSRF cookie)
    GET  /api/session/invite   the invite this browser holds (project, role) or 404
    POST /api/session/join     redeem the held invite or a typed code -> member + session
    POST /api/session/signout  end this browser's session

Opening a link never spends it: a chat app's link preview or a mail scanner fetching the URL
neither signs in nor uses up an invite; the page's button does (a CSRF-checked POST).
Secrets never stay in a URL: links redirect at once to a path without them, every page says
``Referrer-Policy: no-referrer``, and the access log drops query strings
(:func:`install_log_scrubber`). Failed sign-ins and invite uses are limited per address
(``Settings.auth_max_failures`` per ``auth_failure_window_s``; 429 ``rate_limited``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from vrcollab.errors import AuthError, NotFoundError, RequestError, VrcollabError
from vrcollab.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    check_csrf,
    cookie_value,
    invite_of,
    redeem_invite,
    secret_key,
)
from vrcollab.server.deps import get_settings, get_store, guarded
from vrcollab.server.schemas import (
    HeldInviteOut,
    JoinOut,
    SessionOut,
    SignInOut,
    SignOutOut,
)
from vrcollab.server.web import DEFAULT_ROOT, MIME_TYPES, WebAssets, _csp, _respond
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import User
from vrcollab.store.identity import InviteRecord, normalise_code

INVITE_COOKIE = "vrc_invite"
INVITE_COOKIE_SECONDS = 3600
CODE_MARK = "code:"  # an invite cookie holding a short code (from /join?code=) not a token
SIGNIN_COOKIE = "vrc_signin"
SIGNIN_COOKIE_SECONDS = 600
PAGES = ("/projects", "/welcome")


# --- access log ------------------------------------------------------------------------------


class _QueryScrubber(logging.Filter):
    """Drops the query string from uvicorn access-log lines (tokens, invites, codes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install_log_scrubber() -> None:
    """Install the filter on ``uvicorn.access`` once."""
    log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _QueryScrubber) for f in log.filters):
        log.addFilter(_QueryScrubber())


# --- cookies -----------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    settings = get_settings(request)
    return request.url.scheme == "https" or settings.public_url.startswith("https:")


def set_session(response: Response, request: Request, token: str) -> None:
    """The session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and a CSRF cookie."""
    secure = _secure(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_SECONDS), httponly=True,
                        secure=secure, samesite="lax", path="/")
    ensure_csrf(response, request, force=True)


def ensure_csrf(response: Response, request: Request, *, force: bool = False) -> str:
    """The double-submit CSRF cookie (readable by the page, SameSite=Strict)."""
    current = cookie_value(request.headers.get("cookie", ""), CSRF_COOKIE)
    if current and not force:
        return current
    value = secrets.token_urlsafe(24)
    response.set_cookie(CSRF_COOKIE, value, max_age=int(SESSION_SECONDS), httponly=False,
                        secure=_secure(request), samesite="strict", path="/")
    return value


def session_user(request: Request, store: Store) -> User | None:
    """The signed-in user of this browser (session cookie only), or None."""
    token = cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE)
    if not token:
        return None
    try:
        return store.resolve_token(token, time.time())
    except AuthError:
        return None


def new_session(store: Store, request: Request, user: User) -> str:
    """A session token for the browser (expires with the cookie)."""
    agent = request.headers.get("user-agent", "")[:80]
    return store.create_token(user.user_id, expires_at=time.time() + SESSION_SECONDS,
                              kind="session", label=agent)


# --- pages -------------------------------------------------------------------------------------


def _page(request: Request, assets: WebAssets) -> Response:
    item = assets.read(assets.root / "webapp.html")
    text = item.body.decode("utf-8")
    start = text.find('<script type="importmap">')
    inline = ""
    if start >= 0:
        inline = text[start + len('<script type="importmap">'):text.find("</script>", start)]
    digest = base64.b64encode(hashlib.sha256(inline.encode("utf-8")).digest()).decode()
    resp = _respond(request, item, MIME_TYPES[".html"], "no-cache")
    resp.headers["Content-Security-Policy"] = _csp(digest)
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _redirect(url: str) -> RedirectResponse:
    resp = RedirectResponse(url, status_code=303)
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp


class JoinIn(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    code: str | None = Field(default=None, max_length=40, description="short typed code")


def _user_json(store: Store, user: User) -> dict[str, Any]:
    account = store.get_account(user.user_id)
    return {"user_id": user.user_id, "name": user.name, "admin": account.admin,
            "create_projects": account.admin or account.create_projects}


def make_router(settings: Settings) -> APIRouter:
    """Registration hook for :func:`vrcollab.server.app.create_app`."""
    del settings
    install_log_scrubber()
    assets = WebAssets(DEFAULT_ROOT.resolve())
    router = APIRouter(include_in_schema=True, tags=["sessions"])

    def page(request: Request) -> Response:
        return _page(request, assets)

    for path in PAGES:
        router.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    router.add_api_route("/projects/{project_id}", page, methods=["GET"],
                         include_in_schema=False)

    @router.get("/signin", include_in_schema=False)
    def signin_page(request: Request, code: str = "") -> Response:
        if not code:
            resp = _page(request, assets)
            ensure_csrf(resp, request)
            return resp
        resp = _redirect("/signin")
        resp.set_cookie(SIGNIN_COOKIE, code[:200], max_age=SIGNIN_COOKIE_SECONDS, httponly=True,
                        secure=_secure(request), samesite="lax", path="/")
        ensure_csrf(resp, request)
        return resp

    @router.post("/api/session/signin", response_model=None,
                 responses={200: {"model": SignInOut}})
    def signin(request: Request) -> JSONResponse:
        """Spend the one-time sign-in code this browser holds (from ``/signin?code=``) and
        start a session. CSRF-checked; failures are rate-limited."""
        store = get_store(request)
        check_csrf("POST", request.headers, get_settings(request).allowed_origins)
        code = cookie_value(request.headers.get("cookie", ""), SIGNIN_COOKIE)
        with guarded(request, "signin"):
            if not code:
                raise AuthError("no sign-in link in this browser: open the link again",
                                code="bad_signin")
            user = store.get_user(store.use_signin_code(code, time.time()))
        previous = cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE)
        if previous:  # switching accounts: the replaced session ends too
            store.revoke_token(previous)
        resp = JSONResponse({"user": _user_json(store, user)})
        set_session(resp, request, new_session(store, request, user))
        resp.delete_cookie(SIGNIN_COOKIE, path="/")
        return resp

    @router.get("/join", include_in_schema=False)
    def join_page(request: Request, invite: str = "", code: str = "") -> Response:
        if not invite and not code:
            resp = _page(request, assets)
            ensure_csrf(resp, request)
            return resp
        store = get_store(request)
        key = secret_key(get_settings(request))
        try:
            with guarded(request, "invite"):
                if invite:
                    invite_of(store, key, token=invite[:2000], now=time.time())
                else:
                    invite_of(store, key, code=code[:40], now=time.time())
        except VrcollabError as exc:
            return _redirect(f"/join?error={exc.code}")
        resp = _redirect("/join")
        held = invite[:2000] if invite else CODE_MARK + normalise_code(code[:40])
        resp.set_cookie(INVITE_COOKIE, held, max_age=INVITE_COOKIE_SECONDS, httponly=True,
                        secure=_secure(request), samesite="lax", path="/")
        ensure_csrf(resp, request)
        return resp

    @router.get("/api/session", response_model=None, responses={200: {"model": SessionOut}})
    def session(request: Request) -> JSONResponse:
        """This browser: ``signed_in`` and the user, account and projects (any origin may not
        read it: same-origin only, as every /api answer without CORS)."""
        store = get_store(request)
        user = session_user(request, store)
        body: dict[str, Any] = {"signed_in": user is not None}
        if user is not None:
            body["user"] = _user_json(store, user)
            body["projects"] = store.memberships(user.user_id)
        resp = JSONResponse(body, headers={"Cache-Control": "no-store"})
        ensure_csrf(resp, request)
        return resp

    def _held_invite(request: Request, store: Store, code: str | None) -> InviteRecord:
        key = secret_key(get_settings(request))
        if code:
            return invite_of(store, key, code=code, now=time.time())
        held = cookie_value(request.headers.get("cookie", ""), INVITE_COOKIE)
        if not held:
            raise NotFoundError("no invite in this browser: open the invite link or type a code")
        if held.startswith(CODE_MARK):
            return invite_of(store, key, code=held[len(CODE_MARK):], now=time.time())
        return invite_of(store, key, token=held, now=time.time())

    @router.get("/api/session/invite", response_model=HeldInviteOut)
    def held_invite(request: Request) -> dict[str, Any]:
        """The invite this browser holds: project name, role, expiry (no secret)."""
        store = get_store(request)
        inv = _held_invite(request, store, None)
        project = store.get_project(inv.project_id)
        return {"project_id": inv.project_id, "project_name": project.name, "role": inv.role,
                "expires_at": inv.expires_at}

    @router.post("/api/session/join", response_model=None, status_code=201,
                 responses={201: {"model": JoinOut}})
    def join(body: JoinIn, request: Request) -> JSONResponse:
        """Redeem the held invite (or ``code``): the signed-in person joins the project (no
        second account), or a new member called ``name`` gets a session. CSRF-checked."""
        store = get_store(request)
        check_csrf("POST", request.headers, get_settings(request).allowed_origins)
        user = session_user(request, store)
        if user is None and not (body.name or "").strip():
            raise RequestError("type your name to join")
        now = time.time()
        with guarded(request, "invite"):
            inv = _held_invite(request, store, body.code)
            user, _, created = redeem_invite(store, inv, now, name=body.name, user=user,
                                             via="code" if body.code else "link")
        rooms = [{"room_id": r.room_id, "name": r.name} for r in store.list_rooms(inv.project_id)]
        resp = JSONResponse({"user": _user_json(store, user), "project_id": inv.project_id,
                             "role": store.get_role(inv.project_id, user.user_id),
                             "rooms": rooms, "new_user": created}, status_code=201)
        if created or cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE) is None:
            set_session(resp, request, new_session(store, request, user))
        resp.delete_cookie(INVITE_COOKIE, path="/")
        return resp

    @router.post("/api/session/signout", response_model=None,
                 responses={200: {"model": SignOutOut}})
    def signout(request: Request) -> JSONResponse:
        """End this browser's session (the token is revoked, the cookies cleared)."""
        store = get_store(request)
        token = cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE)
        if token:
            check_csrf("POST", request.headers, get_settings(request).allowed_origins)
            store.revoke_token(token)
        resp = JSONResponse({"signed_in": False})
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    return router
