"""``create_app(settings) -> FastAPI``: composes the routers, the store, the room hub and the
one error handler.

Registration point for other parts: add a module path to :data:`ROUTER_MODULES`. Each module
exposes either ``router`` (an ``APIRouter``) or ``make_router(settings) -> APIRouter``. Routers
reach shared services through ``request.app.state``: ``settings``, ``store`` (auth domain and
room log, :class:`vrcollab.store.Store`) and ``hub`` (live rooms); authenticate with the
``vrcollab.server.api.current_user`` dependency.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
    "vrcollab.server.docs",
]


def status_for(exc: VrcollabError) -> int:
    """HTTP status of a vrcollab error."""
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

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": __version__, "protocol": PROTOCOL_VERSION,
                **app.state.hub.stats()}

    for module in ROUTER_MODULES:
        app.include_router(_router(module, settings))
    return app
