"""The API reference at ``/docs`` without a CDN: Swagger UI served from this server.

FastAPI's built-in ``/docs`` page loads Swagger UI from a CDN, which a self-hosted server on a
LAN (or a headset on it) may not reach. The app turns it off (``docs_url=None``) and this router
serves the same page with the assets of the npm package ``swagger-ui-dist`` (a runtime
dependency of ``clients/web``), next to the web client's other vendor files.

Routes::

    GET /docs                    Swagger UI for /openapi.json
    GET /docs/assets/{name}      swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from vrcollab.errors import NotFoundError
from vrcollab.server.web import DEFAULT_ROOT

SWAGGER_DIST = DEFAULT_ROOT / "node_modules" / "swagger-ui-dist"
#: the files /docs loads, and their media types
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI for this server's OpenAPI schema, every asset from this origin."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="vrcollab API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png")


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    """One Swagger UI asset (404 unless listed in :data:`ASSETS` and installed)."""
    path: Path = SWAGGER_DIST / name
    if name not in ASSETS or not path.is_file():
        raise NotFoundError(f"no docs asset {name!r} (is clients/web/node_modules installed? "
                            "run ./dev setup)")
    return FileResponse(path, media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
