"""Issue 14, saved views in the room: A saves a named view (camera, section, a hidden part);
B opens it from the list and gets the same camera, section and visibility as their own view;
only A (or an editor) may delete it."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, fresh_room, info, open_client, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


def test_a_saved_view_opens_with_the_same_camera_section_and_visibility(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Saved views")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    carl = web_server.token(room.project_id, "reviewer", "Carl")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = open_client(browser, room.url(carl, name="Carl"))
    try:
        part = a.evaluate("window.__vrcollab.centerHit().part")
        assert part
        a.evaluate(f"window.__vrcollab.select({part!r})")
        a.click("[data-tool=hide]")
        a.click("[data-tool=section]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 1")
        mine = info(a)
        a.click("[data-tool=views]")
        a.fill("#view-name", "Cut at mid height")
        a.click("#view-save")
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().saved_views.length === 1")
        saved = wait_js(b, "window.__vrcollab.info().saved_views[0]")
        assert saved["name"] == "Cut at mid height"
        assert saved["hidden"] == 1
        # B's own view is untouched until B opens it.
        assert info(b)["own_view"]["hidden"] == []
        b.click("[data-tool=views]")
        assert b.locator(f".saved-view[data-view='{saved['id']}'] .delete").count() == 0
        b.click(f".saved-view[data-view='{saved['id']}'] .open")
        wait_js(b, f"window.__vrcollab.info().own_view.hidden.includes({part!r})")
        wait_js(b, "!window.__vrcollab.info().scene.flying")
        got = info(b)
        assert got["own_view"]["section"] == mine["own_view"]["section"]
        assert got["scene"]["clipping"] == 1
        assert math.dist(got["camera"], mine["camera"]) < 1e-3, (got["camera"], mine["camera"])
        assert info(b)["nodes"] == {}, "nothing changed for the room"
        # Rita deletes it: gone for both.
        a.click(f".saved-view[data-view='{saved['id']}'] .delete")
        wait_js(b, "window.__vrcollab.info().saved_views.length === 0")
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
