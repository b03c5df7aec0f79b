"""The web client shows a BCF import's original author as a label, never as the author
(issue 8, item 3; docs/api.md "BCF")."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, info, open_client, wait_js
from vrcollab.bcf.exchange import export_annotations

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_imported_author_is_a_label(browser: Any, web_server: ServerProcess,
                                    web_room: PreparedRoom) -> None:
    owner = {"Authorization": f"Bearer {web_room.owner_token}"}
    room = httpx.post(f"{web_server.base_url}/api/versions/{web_room.version_id}/rooms",
                      json={"name": "BCF"}, headers=owner).json()
    prepared = dataclasses.replace(web_room, room_id=room["room_id"])
    rita = web_server.token(web_room.project_id, "reviewer", "Rita")
    archive = export_annotations([{
        "id": "forged", "position": [0.0, 0.0, 0.0], "title": "Sign-off",
        "text": "Approved by the owner", "author": "Olivia Owner", "created": 1_700_000_000.0,
        "comments": [{"id": "c1", "author": "Olivia Owner", "text": "Yes",
                      "created": 1_700_000_010.0}]}])
    r = httpx.post(f"{web_server.base_url}/api/rooms/{room['room_id']}/bcf", content=archive,
                   headers={"Authorization": f"Bearer {rita}",
                            "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    page = open_client(browser, prepared.url(web_room.owner_token, name="Olga"))
    try:
        ann = wait_js(page, "window.__vrcollab.info().annotations.find((x) => x.id === 'forged')")
        assert ann["imported_from"] == {"source": "bcf", "author": "Olivia Owner"}
        assert ann["author"] != info(page)["user_id"]
        meta = page.locator("[data-id='forged'] .meta").text_content() or ""
        assert "(imported from Olivia Owner)" in meta
        assert not meta.startswith("Olivia Owner")
        page.click("[data-id='forged']")
        who = page.locator("[data-id='forged'] .comment .who").first.text_content() or ""
        assert "(imported from Olivia Owner)" in who
        assert page.errors == []
    finally:
        page.context.close()
