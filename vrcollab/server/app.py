"""``create_app(settings) -> FastAPI``: composes the routers, the store, the room hub and the
one error handler.

Registration point for other parts: add a module path to :data:`ROUTER_MODULES`. Each module
exposes either ``router`` (an ``APIRouter``) or ``make_router(settings) -> APIRouter``. Routers
reach shared services through ``request.app.state``: ``settings``, ``store`` (auth domain and
room log, :class:`vrcollab.store.Store`) and ``hub`` (live rooms); authenticate with the
``vrcollab.server.api.current_user`` dependency. Every HTTP request passes
:class:`vrcollab.server.middleware.EdgeMiddleware` first (header count, declared body size,
non-finite JSON numbers, ``nosniff``).
"""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from vrcollab import __version__
from vrcollab.errors import (
    AuthError,
    BcfError,
    ConfigError,
    IngestError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    StoreError,
    VrcollabError,
)
from vrcollab.server.hub import RoomHub
from vrcollab.server.middleware import EdgeMiddleware
from vrcollab.settings import Settings
from vrcollab.store import Store, open_store
from vrcollab.sync.messages import PROTOCOL_VERSION

log = logging.getLogger("vrcollab.server")

#: Routers included by create_app, in order (add yours here with a one-line edit).
ROUTER_MODULES: list[str] = [
    "vrcollab.server.api",
    "vrcollab.server.ws",
    "vrcollab.server.web",
    "vrcollab.server.projects_api",
    "vrcollab.server.members_api",
    "vrcollab.server.sessions_api",
    "vrcollab.server.people_api",
    "vrcollab.server.webapp_api",
    "vrcollab.server.docs",
    "vrcollab.meetings.api",
]


def status_for(exc: VrcollabError) -> int:
    """HTTP status of a vrcollab error (an ``http_status`` attribute wins, e.g. quotas)."""
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, LimitExceededError):
        return 413
    if isinstance(exc, IngestError | BcfError):
        return 422
    if isinstance(exc, ConfigError | ProtocolError):
        return 400
    if isinstance(exc, StoreError):
        return 409 if exc.code == "conflict" else 500
    return 500


async def _error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VrcollabError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=status,
                        headers=headers)


def _router(module: str, settings: Settings) -> APIRouter:
    mod = importlib.import_module(module)
    make = getattr(mod, "make_router", None)
    if make is not None:
        router: APIRouter = make(settings)
        return router
    router = mod.router
    return router


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The vrcollab web app. ``store`` defaults to ``open_store(settings)`` (closed on
    shutdown only when opened here)."""
    settings = settings if settings is not None else Settings()
    own_store = store is None
    the_store: Store = store if store is not None else open_store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = RoomHub(the_store, settings)
        app.state.hub = hub
        hub.start()
        try:
            yield
        finally:
            await hub.shutdown()
            if own_store:
                the_store.close()

    app = FastAPI(title="vrcollab", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # /docs without a CDN: vrcollab.server.docs
    app.state.settings = settings
    app.state.store = the_store
    app.state.hub = RoomHub(the_store, settings)  # replaced by the lifespan's running hub
    app.add_exception_handler(VrcollabError, _error_handler)

    @app.get("/api/health", responses={503: {"description": "the store cannot write"}})
    def health() -> JSONResponse:
        """``ok`` when the store can take a write (a write lock on the database and a synced
        file in ``data_dir``); otherwise **503** with ``ok: false`` and the reason."""
        problem = store_write_problem(settings, the_store)
        body = {"ok": problem is None, "version": __version__, "protocol": PROTOCOL_VERSION,
                **app.state.hub.stats()}
        if problem is not None:
            log.error("health: the store cannot write: %s", problem)
            body["error"] = {"code": "store_unwritable", "message": problem}
        return JSONResponse(body, status_code=200 if problem is None else 503,
                            headers={"Cache-Control": "no-store"})

    for module in ROUTER_MODULES:
        app.include_router(_router(module, settings))
    app.add_middleware(EdgeMiddleware, settings=settings)
    return app


def store_write_problem(settings: Settings, store: Store) -> str | None:
    """Why the store cannot write now (None when it can): takes and releases the SQLite write
    lock (2 s at most) and writes, syncs and removes a small file in ``data_dir``."""
    path = getattr(store, "path", None)
    try:
        if isinstance(path, Path):
            db = sqlite3.connect(str(path), timeout=2.0, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            finally:
                db.close()
        if settings.database_url != "memory://" and Path(settings.data_dir).is_dir():
            probe = Path(settings.data_dir) / f".health-{os.getpid()}"
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * 4096)
                os.fsync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
    except (OSError, sqlite3.Error) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
