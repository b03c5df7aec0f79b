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
    fresh_room,
    info,
    model_center,
    open_client,
    wait_js,
)

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


def test_section_box_travels_in_a_view_link_a_saved_view_and_a_shared_view(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Box link")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    vic = web_server.token(room.project_id, "viewer", "Vic")
    a = open_client(browser, room.url(rita, name="Rita"))
    c = open_client(browser, room.url(room.owner_token, name="Olga"))
    b = None
    try:
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x, y)
        part = a.evaluate("window.__vrcollab.centerHit().part")
        assert part
        a.evaluate(f"window.__vrcollab.select({part!r})")
        a.click("[data-tool=sectionbox]")
        a.click("[data-tool=section]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 7")  # plane + six box planes
        mine = info(a)
        box = mine["section_box"]
        assert info(c)["scene"]["clipping"] == 0  # one's own view until shared

        # The link opens at the same camera, section plane, box and visibility.
        a.click("[data-tool=link]")
        link = wait_js(a, "window.__vrcollab.info().view_link")
        b = open_client(browser, f"{link}&token={vic}&quality=low&name=Vic")
        wait_js(b, "window.__vrcollab.info().scene.clipping === 7")
        theirs = info(b)
        assert math.dist(theirs["camera"], mine["camera"]) < 1e-3
        assert theirs["own_view"]["section"] == mine["own_view"]["section"]
        assert theirs["section_box"]["min"] == box["min"]
        assert theirs["section_box"]["max"] == box["max"]
        assert theirs["section_box"]["handles"], "the opened box has its handles"
        assert not b.errors
        b.context.close()  # three browsers on a small machine: keep two
        b = None

        # A saved view keeps the box: Olga opens it from the list.
        a.click("[data-tool=views]")
        a.fill("#view-name", "Boxed")
        a.click("#view-save")
        c.click("[data-tool=views]")
        c.click("#views-list .saved-view .open")
        wait_js(c, "window.__vrcollab.info().scene.clipping === 7")
        assert info(c)["section_box"]["min"] == box["min"]
        c.click("[data-tool=showall]")
        wait_js(c, "window.__vrcollab.info().scene.clipping === 0")

        # "Show my view to everyone" (Rita presents): Olga takes over the box too.
        a.click("[data-tool=present]")
        wait_js(c, f"window.__vrcollab.info().presenter === '{mine['user_id']}'")
        a.click("[data-tool=share]")
        wait_js(c, "window.__vrcollab.info().scene.clipping === 7")
        assert info(c)["section_box"]["max"] == box["max"]
        assert info(c)["nodes"].get(part) is None  # nothing durable changed
        assert not a.errors
        assert not c.errors
    finally:
        a.context.close()
        c.context.close()
        if b is not None:
            b.context.close()
