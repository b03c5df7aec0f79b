"""``create_app(settings) -> FastAPI``: the composition root of the server.

It builds the one services container (:func:`vrcollab.server.services.open_services`: settings,
store, live rooms, catalog, assets, jobs), registers the one lifespan
(:func:`vrcollab.server.services.lifespan`), the error handlers (:mod:`.errors_http`) and the
routers, each included explicitly below. To add a router, import its module here and include it
in :func:`_include_routers`. Routes reach the services through :mod:`vrcollab.server.deps`
(``ServicesDep``, ``StoreDep``, ``CurrentUser`` ...). Every HTTP request passes
:class:`vrcollab.server.middleware.EdgeMiddleware` first (header count, declared body size,
non-finite JSON numbers, ``nosniff``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from vrcollab import __version__
from vrcollab.server import (
    assets_api,
    bcf_api,
    docs,
    jobs_api,
    members_api,
    models_api,
    people_api,
    projects_api,
    sessions_api,
    snapshots_api,
    versions_api,
    web,
    webapp_api,
    ws,
)
from vrcollab.server.deps import BEARER
from vrcollab.server.errors_http import install_error_handlers
from vrcollab.server.middleware import EdgeMiddleware
from vrcollab.server.schemas import HealthOut
from vrcollab.server.services import Services, lifespan, open_services
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.sync.messages import PROTOCOL_VERSION

log = logging.getLogger("vrcollab.server")


def _include_routers(app: FastAPI, settings: Settings) -> None:
    """Every router of the server, in order (REST, websocket, web app, API docs)."""
    app.include_router(projects_api.router)
    app.include_router(ws.router)
    app.include_router(web.make_router(settings))
    bearer = [Depends(BEARER)]  # documents the scheme on routes that read the token inline
    for catalog_router in (models_api.router, jobs_api.router, assets_api.router,
                           versions_api.router, bcf_api.router, snapshots_api.router):
        app.include_router(catalog_router, prefix="/api", dependencies=bearer)
    app.include_router(members_api.router)
    app.include_router(sessions_api.make_router(settings))
    app.include_router(people_api.router)
    app.include_router(webapp_api.router, dependencies=bearer)
    app.include_router(docs.router)


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI operation id: its function name (``list_projects``, ``get_room``)."""
    return route.name


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The vrcollab web app. ``store`` defaults to ``open_store(settings)`` (closed on
    shutdown only when opened here)."""
    settings = settings if settings is not None else Settings()
    services: Services = open_services(settings, store=store)
    app = FastAPI(title="vrcollab", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # /docs without a CDN: vrcollab.server.docs
                  generate_unique_id_function=operation_id)
    app.state.services = services
    install_error_handlers(app)

    @app.get("/api/health", response_model=None, tags=["health"], responses={
        200: {"model": HealthOut},
        503: {"model": HealthOut, "description": "the store cannot write"}})
    def health() -> JSONResponse:
        """``ok`` when the store can take a write (a write lock on the database and a synced
        file in ``data_dir``); otherwise **503** with ``ok: false`` and the reason."""
        problem = store_write_problem(settings, services.store)
        body = {"ok": problem is None, "version": __version__, "protocol": PROTOCOL_VERSION,
                **services.hub.stats()}
        if problem is not None:
            log.error("health: the store cannot write: %s", problem)
            body["error"] = {"code": "store_unwritable",
                             "message": "the store cannot take a write (see the server log)"}
        return JSONResponse(body, status_code=200 if problem is None else 503,
                            headers={"Cache-Control": "no-store"})

    _include_routers(app, settings)
    app.add_middleware(EdgeMiddleware, settings=settings)
    return app


def store_write_problem(settings: Settings, store: Store) -> str | None:
    """Why the store cannot write now (None when it can): takes and releases the SQLite write
    lock (2 s at most) and writes, syncs and removes a small file in ``data_dir``; a store with
    its own ``write_problem()`` (Postgres: reachable, writable primary) is asked first."""
    own_probe = getattr(store, "write_problem", None)
    if callable(own_probe) and (found := own_probe()) is not None:
        return str(found)
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
