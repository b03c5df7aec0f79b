"""Serves the WebXR client (``clients/web``): the app shell, its ES modules and a whitelist of
vendor files from ``clients/web/node_modules`` (three.js build and addons, the iwer runtime,
three-mesh-bvh, 3d-tiles-renderer).

Routes::

    GET /                      app shell (room picker, or the room in the URL)
    GET /r/{room_id}           app shell opened straight into a room (``?invite=`` / ``?token=``)
    GET /app/{path}            the client's own files (src/, styles.css, icons)
    GET /vendor/{pkg}/{path}   whitelisted vendor files (three, iwer, three-mesh-bvh,
                               3d-tiles-renderer, @webxr-input-profiles/assets profiles)

Everything the page loads comes from here: no CDN. The shell carries a strict
Content-Security-Policy (scripts only from this origin plus the hashed import map), so even a
rendering bug cannot run injected script.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vrcollab.errors import NotFoundError
from vrcollab.settings import Settings
from vrcollab.voice.service import voice_csp

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "clients" / "web"

MIME_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",  # UMD/CommonJS builds for the BVH worker
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".glb": "model/gltf-binary",
}

#: Vendor packages and the sub-paths of each that the browser may fetch.
VENDOR_WHITELIST: dict[str, tuple[str, ...]] = {
    # three.cjs: the BVH worker's copy (import maps do not reach workers).
    "three": ("build/three.module.js", "build/three.core.js", "build/three.cjs", "examples/jsm/"),
    "iwer": ("build/iwer.module.js",),
    "uqr": ("dist/index.mjs",),  # QR codes of invites (web app)
    # BVH raycasting (hover, picking, XR rays); one self-contained ES module.
    "three-mesh-bvh": ("build/index.module.js", "build/index.umd.cjs"),
    # 3D Tiles streaming: the ES build's entry points and their hashed chunks (.js only: the
    # MIME whitelist drops source maps).
    "3d-tiles-renderer": ("build/",),
    # WebXR input profiles (controller and hand models, profile JSON): XRControllerModelFactory
    # and XRHandModelFactory load them from here instead of their CDN default (docs/headset.md).
    "@webxr-input-profiles": ("assets/dist/profiles/",),
}

#: Client paths served under /app/.
APP_WHITELIST: tuple[str, ...] = ("src/", "styles.css", "icons/")

_ROOM_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)

APP_CACHE = "no-cache"
VENDOR_CACHE = "public, max-age=86400"


def _csp(import_map_hash: str) -> str:
    """Content-Security-Policy of the app shell."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'wasm-unsafe-eval' 'sha256-{import_map_hash}'",
            "worker-src 'self' blob:",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "connect-src 'self' blob: data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def resolve_whitelisted(root: Path, rel: str, allowed: tuple[str, ...]) -> Path:
    """Map a URL sub-path to a file under ``root``; NotFoundError unless whitelisted and present."""
    if not rel or "\x00" in rel or "\\" in rel:
        raise NotFoundError("no such file")
    parts = rel.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise NotFoundError("no such file")
    if not any(rel == a or (a.endswith("/") and rel.startswith(a)) for a in allowed):
        raise NotFoundError("no such file")
    path = (root / rel).resolve()
    base = root.resolve()
    if base not in path.parents or not path.is_file():
        raise NotFoundError("no such file")
    if path.suffix.lower() not in MIME_TYPES:
        raise NotFoundError("no such file")
    return path


@dataclass
class _Cached:
    body: bytes
    etag: str


@dataclass
class WebAssets:
    """Reads (and caches by mtime) the client's files."""

    root: Path
    _cache: dict[Path, tuple[float, _Cached]] = field(default_factory=dict)

    def read(self, path: Path) -> _Cached:
        mtime = path.stat().st_mtime
        hit = self._cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        body = path.read_bytes()
        item = _Cached(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        self._cache[path] = (mtime, item)
        return item

    def shell(self) -> tuple[_Cached, str]:
        """The index.html and its CSP."""
        item = self.read(self.root / "index.html")
        match = _IMPORT_MAP.search(item.body.decode("utf-8"))
        inline = match.group(1) if match else ""
        digest = base64.b64encode(hashlib.sha256(inline.encode("utf-8")).digest()).decode()
        return item, _csp(digest)


def _respond(request: Request, item: _Cached, media: str, cache: str) -> Response:
    headers = {
        "ETag": item.etag,
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == item.etag:
        return Response(status_code=304, headers=headers)
    return Response(content=item.body, media_type=media, headers=headers)


def _media(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "text/plain"


def _not_found(err: NotFoundError) -> Response:
    return Response(content=str(err), status_code=404, media_type="text/plain; charset=utf-8")


def web_router(root: Path | None = None, settings: Settings | None = None) -> APIRouter:
    """The router serving the web client from ``root`` (default: the repo's clients/web); with
    ``settings``, the page's CSP also allows the configured Janus API (docs/voice.md)."""
    assets = WebAssets((root or DEFAULT_ROOT).resolve())
    router = APIRouter(include_in_schema=False)

    def shell(request: Request) -> Response:
        item, csp = assets.shell()
        if settings is not None:
            csp = voice_csp(csp, settings)
        resp = _respond(request, item, MIME_TYPES[".html"], APP_CACHE)
        resp.headers["Content-Security-Policy"] = csp
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    @router.get("/")
    def index(request: Request) -> Response:
        return shell(request)

    @router.get("/r/{room_id}")
    def room_page(room_id: str, request: Request) -> Response:
        if not _ROOM_ID.match(room_id):
            return _not_found(NotFoundError("no such room"))
        return shell(request)

    @router.get("/app/{rel:path}")
    def app_file(rel: str, request: Request) -> Response:
        try:
            path = resolve_whitelisted(assets.root, rel, APP_WHITELIST)
        except NotFoundError as err:
            return _not_found(err)
        return _respond(request, assets.read(path), _media(path), APP_CACHE)

    @router.get("/vendor/{pkg}/{rel:path}")
    def vendor_file(pkg: str, rel: str, request: Request) -> Response:
        allowed = VENDOR_WHITELIST.get(pkg)
        if allowed is None:
            return _not_found(NotFoundError("no such package"))
        try:
            path = resolve_whitelisted(assets.root / "node_modules" / pkg, rel, allowed)
        except NotFoundError as err:
            return _not_found(err)
        return _respond(request, assets.read(path), _media(path), VENDOR_CACHE)

    return router


def make_router(settings: Settings) -> APIRouter:
    """Registration hook for :func:`vrcollab.server.app.create_app`."""
    return web_router(settings=settings)
