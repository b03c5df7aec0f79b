"""A room moved to a newer model version while a browser is in it (protocol R16): the client
drops the old levels, loads the new version's manifest and keeps the room's annotations."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.corpus import HOUSE, shared_model
from tests.server_process import ServerProcess
from tests.web.roomkit import canvas_is_rendered, info, open_client, prepare_room, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST = HOUSE


def _upload_next_version(http: httpx.Client, project_id: str, model_name: str) -> str:
    """Upload FZK-Haus as the next version of ``model_name``; wait until it is converted."""
    second = shared_model("ifc/AC20-FZK-Haus.ifc")  # or its committed zip
    with second.open("rb") as fh:
        res = http.post(f"/api/projects/{project_id}/models", params={"model": model_name},
                        files={"file": (second.name, fh, "application/octet-stream")})
    res.raise_for_status()
    up = res.json()
    assert up["version"]["number"] == 2
    deadline = time.monotonic() + 240
    while (job := http.get(f"/api/jobs/{up['job']['job_id']}").json())["status"] != "done":
        assert job["status"] != "failed", job
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    version_id: str = up["version"]["version_id"]
    return version_id


def test_room_switch_reloads_the_model_live(browser: Any, web_server: ServerProcess) -> None:
    room = prepare_room(web_server, FIRST)
    page = open_client(browser, room.url(room.owner_token, name="Ana"))
    try:
        before = info(page)["model"]
        assert room.version_id in before["manifest_url"]
        first_parts = before["parts"]
        auth = {"Authorization": f"Bearer {room.owner_token}"}
        with httpx.Client(base_url=room.base_url, headers=auth, timeout=60.0) as http:
            v2 = _upload_next_version(http, room.project_id, FIRST.stem)
            res = http.put(f"/api/rooms/{room.room_id}/model", json={"version_id": v2})
            assert res.status_code == 200, res.text

        wait_js(page, f"window.__vrcollab.info().model.manifest_url?.includes('{v2}') && "
                      "window.__vrcollab.info().model.full_detail", timeout=90)
        after = info(page)["model"]
        assert after["source_sha256"] != before["source_sha256"]
        assert after["parts"] != first_parts  # the new building's part index, not the old one
        assert info(page)["state"] == "online"
        assert canvas_is_rendered(page)
        assert page.errors == []

        # A client that joins now opens the new version straight away.
        late = open_client(browser, room.url(room.owner_token, name="Ben"))
        try:
            assert v2 in info(late)["model"]["manifest_url"]
        finally:
            late.context.close()
    finally:
        page.context.close()
