"""``/docs`` renders Swagger UI in a browser that may reach nothing but this server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.server_process import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_swagger_ui_renders_with_every_request_to_this_origin(tmp_path: Path,
                                                              browser: Any) -> None:
    with ServerProcess(tmp_path / "srv") as srv:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            origin = urlsplit(srv.base_url).netloc
            elsewhere: list[str] = []

            def route(r: Any) -> None:
                url = r.request.url
                if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin:
                    elsewhere.append(url)
                    r.abort()  # offline: nothing else answers
                else:
                    r.continue_()

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
            ctx.close()
