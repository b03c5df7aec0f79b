"""Issue 14, saved views: a link to one's view opens the room with the same camera, section and
visibility for whoever opens it (with their own credentials)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import (
    PreparedRoom,
    click_world,
    fly_closer,
    info,
    model_center,
    open_client,
    wait_js,
)
from tests.web.test_reviewers_view import fresh_room

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_view_link_opens_with_the_same_camera_section_and_visibility(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "View link")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    vic = web_server.token(room.project_id, "viewer", "Vic")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = None
    try:
        click_world(a, model_center(a))
        part = wait_js(a, "window.__vrcollab.info().selected")
        a.keyboard.press("h")
        a.click("[data-tool=section]")
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x - 40, y + 20)
        a.click("[data-tool=link]")
        link = wait_js(a, "window.__vrcollab.info().view_link")
        assert "token" not in link
        mine = info(a)
        # A viewer opens the link with their own token.
        b = open_client(browser, f"{link}&token={vic}&quality=low&name=Vic")
        wait_js(b, "window.__vrcollab.info().scene.clipping === 1")
        theirs = info(b)
        assert math.dist(theirs["camera"], mine["camera"]) < 1e-3
        assert theirs["own_view"]["hidden"] == [part]
        assert theirs["own_view"]["section"] == mine["own_view"]["section"]
        assert theirs["nodes"].get(part) is None  # nothing durable changed
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        if b is not None:
            b.context.close()
