"""A browser joins a room whose welcome is paged (protocol R6: ``welcome_part`` frames) and
shows every imported topic and comment (125 topics, 375 comments: the default import cap is
500 ops)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.server.test_hostile import bcf_archive
from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, open_client, wait_js
from vrcollab.client import ws_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_paged_welcome_in_the_browser(browser: Any, web_server: ServerProcess,
                                      web_room: PreparedRoom) -> None:
    auth = {"Authorization": f"Bearer {web_room.owner_token}"}
    with httpx.Client(base_url=web_server.base_url, headers=auth, timeout=120) as http:
        room = http.post(f"/api/versions/{web_room.version_id}/rooms", json={"name": "big"})
        assert room.status_code == 201
        room_id = room.json()["room_id"]
        r = http.post(f"/api/rooms/{room_id}/bcf", content=bcf_archive(125, 3, "lorem " * 160),
                      headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
    url = f"{ws_url(web_server.base_url, room_id)}?token={web_room.owner_token}"
    with connect(url, max_size=2**20) as ws:  # the state really is paged
        ws.send(json.dumps({"type": "hello", "v": 1, "client_id": "probe"}))
        assert json.loads(ws.recv())["parts"] > 1
    big = dataclasses.replace(web_room, room_id=room_id)
    page = open_client(browser, big.url(web_room.owner_token, name="Olga"))
    try:
        assert page.evaluate("window.__vrcollab.info().stats.welcomes") == 1
        wait_js(page, "window.__vrcollab.info().annotations.length === 125")
        comments = page.evaluate("window.__vrcollab.info().annotations"
                                 ".reduce((n, a) => n + a.comments.length, 0)")
        assert comments == 375
        assert page.evaluate("window.__vrcollab.info().state") == "online"
        assert not page.errors
    finally:
        page.context.close()
