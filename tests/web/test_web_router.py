"""The router that serves the client: whitelists, MIME types, caching, the CSP."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from vrcollab.server.web import web_router


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(web_router())
    return TestClient(app)


def test_shell_at_root_and_room_links(client: TestClient) -> None:
    for path in ("/", "/r/r_abc123", "/r/room-1?invite=xyz"):
        res = client.get(path)
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/html")
        assert '<script type="importmap">' in res.text
    assert client.get("/r/bad%20room").status_code == 404
    assert client.get("/r/a/b").status_code == 404


def test_csp_allows_exactly_the_inline_import_map(client: TestClient) -> None:
    res = client.get("/")
    csp = res.headers["content-security-policy"]
    inline = re.search(r'<script type="importmap">(.*?)</script>', res.text, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp
    assert res.headers["x-content-type-options"] == "nosniff"


def test_app_and_vendor_files_with_types_and_caching(client: TestClient) -> None:
    js = client.get("/app/src/main.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "no-cache"
    assert client.get("/app/styles.css").headers["content-type"].startswith("text/css")
    three = client.get("/vendor/three/build/three.module.js")
    assert three.status_code == 200
    assert three.headers["cache-control"].startswith("public, max-age=")
    etag = three.headers["etag"]
    assert client.get("/vendor/three/build/three.module.js",
                      headers={"If-None-Match": etag}).status_code == 304
    addon = client.get("/vendor/three/examples/jsm/libs/meshopt_decoder.module.js")
    assert addon.status_code == 200
    assert client.get("/vendor/iwer/build/iwer.module.js").status_code == 200
    assert client.get("/vendor/three-mesh-bvh/build/index.module.js").status_code == 200
    tiles = client.get("/vendor/3d-tiles-renderer/build/index.three.js")
    assert tiles.status_code == 200
    assert tiles.headers["content-type"].startswith("text/javascript")
    # WebXR input profiles (controller / hand models), self-hosted for the CDN-less page.
    profiles = "/vendor/@webxr-input-profiles/assets/dist/profiles"
    listing = client.get(f"{profiles}/profilesList.json")
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("application/json")
    assert "meta-quest-touch-plus" in listing.json()
    glb = client.get(f"{profiles}/generic-hand/left.glb")
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"


@pytest.mark.parametrize("path", [
    "/vendor/three/package.json",
    "/vendor/@webxr-input-profiles/assets/package.json",
    "/vendor/@webxr-input-profiles/motion-controllers/dist/motion-controllers.module.js",
    "/vendor/three/src/Three.js",
    "/vendor/yjs/dist/yjs.mjs",
    "/vendor/three-mesh-bvh/package.json",
    "/vendor/three-mesh-bvh/src/index.js",
    "/vendor/3d-tiles-renderer/package.json",
    "/vendor/3d-tiles-renderer/build/index.r3f.js.map",
    "/vendor/three/examples/jsm/../../package.json",
    "/vendor/three/examples/jsm/%2e%2e/%2e%2e/package.json",
    "/app/package.json",
    "/app/tools/mock_room.mjs",
    "/app/test/room.test.mjs",
    "/app/src/../package.json",
    "/app/src/.hidden.js",
    "/app/node_modules/three/build/three.module.js",
])
def test_everything_else_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
