"""``/docs`` works offline: Swagger UI and its assets come from this server, never a CDN."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, CHROMIUM_ARGS

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


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_swagger_ui_renders_with_every_request_to_this_origin(tmp_path: Path,
                                                              playwright: Any) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.skip("needs /usr/bin/chromium and node")
    with ServerProcess(tmp_path / "srv") as srv:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            page = browser.new_page()
            origin = urlsplit(srv.base_url).netloc
            elsewhere: list[str] = []

            def route(r: object) -> None:
                url = r.request.url  # type: ignore[attr-defined]
                if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin:
                    elsewhere.append(url)
                    r.abort()  # type: ignore[attr-defined]  # offline: nothing else answers
                else:
                    r.continue_()  # type: ignore[attr-defined]

            page.route("**/*", route)
            page.goto(srv.base_url + "/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
            assert page.inner_text(".swagger-ui .info .title").startswith("vrcollab")
            assert page.title() == "vrcollab API"
            page.wait_for_selector(".opblock-summary-path", timeout=60_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/api/projects/{project_id}/models" in p.replace("\u200b", "")
                       for p in paths)
            assert elsewhere == []
        finally:
            browser.close()
