"""``/docs`` works offline: Swagger UI and its assets come from this server, never a CDN
(rendered in a browser that may reach only this origin: ``tests/web/test_web_docs_offline.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.server_process import ServerProcess

URL_ATTR = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


def test_docs_page_names_only_local_assets(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "srv") as srv:
        html = httpx.get(srv.base_url + "/docs").text
        urls = URL_ATTR.findall(html)
        assert "/openapi.json" in urls
        assert {u for u in urls if u.startswith("/docs/assets/")} == {
            "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
            "/docs/assets/favicon-32x32.png"}
        for url in urls:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            assert httpx.get(srv.base_url + url).status_code == 200, url
        assert httpx.get(srv.base_url + "/docs/assets/package.json").status_code == 404
        assert httpx.get(srv.base_url + "/docs/assets/..%2Fpackage.json").status_code == 404
        assert httpx.get(srv.base_url + "/redoc").status_code == 404  # ReDoc needs a CDN
