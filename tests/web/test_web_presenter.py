"""Presenter, follow, gather, hide and section plane between two browsers."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import (
    PreparedRoom,
    fly_closer,
    fresh_room,
    info,
    model_center,
    open_client,
    wait_js,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_follow_presenter_gather_hide_and_section(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    # A room of its own: earlier tests leave hidden parts and sections in the shared room, and
    # a double-click on a hidden part flies nowhere.
    room = fresh_room(web_room, "Presenter")
    reviewer = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(room.owner_token, name="Olga"))
    b = open_client(browser, room.url(reviewer, name="Rita"))
    try:
        a_session = info(a)["session_id"]
        size = info(a)["world"]["size"]
        scale = max(1.0, math.hypot(*size) / 40)  # the avatar scale (app.js)
        # A presents; B follows the presenter and its camera takes A's viewpoint.
        a.click("[data-tool=present]")
        wait_js(b, f"window.__vrcollab.info().presenter === '{info(a)['user_id']}'")
        b.click("[data-tool=follow]")
        wait_js(a, "window.__vrcollab.info().participants.some("
                   f"(p) => p.following === '{a_session}')")
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        start = a.evaluate("window.__vrcollab.info().camera")
        target = fly_closer(a, x, y, start)  # A's head moves, B's camera goes along
        # Issue 14: the follower sits just behind the presenter's head (not inside it), and the
        # presenter's avatar is hidden while followed: B sees the model in the middle.
        wait_js(b, "Math.abs(Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) - 1.6 * {scale}) < 0.3 * {scale}", timeout=60)
        wait_js(b, f"window.__vrcollab.info().avatars.find((x) => x.session_id === '{a_session}')"
                   "?.hidden === 'followed'")
        assert b.evaluate("window.__vrcollab.centerHit().first") == "model"
        b.click("[data-tool=follow]")  # stop following

        # B looks elsewhere; A gathers everyone: B flies to (just behind) A's viewpoint.
        b.click("[data-tool=home]")
        wait_js(b, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) > 1")
        a.click("[data-tool=gather]")
        wait_js(b, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) < 0.6", timeout=60)

        # A hides a part and cuts a section: for A only (issue 14: own view by default) until
        # A shows the view to everyone; then B sees both, as durable room state.
        a.mouse.click(x - 70, y + 30)
        part = wait_js(a, "window.__vrcollab.info().selected")
        a.click("[data-tool=hide]")
        a.click("[data-tool=section]")
        assert a.evaluate("window.__vrcollab.info().scene.clipping") == 1
        assert info(a)["own_view"]["hidden"] == [part]
        assert b.evaluate("window.__vrcollab.info().scene.clipping") == 0
        assert info(b)["nodes"].get(part, {}).get("visible") is not False
        a.click("[data-tool=share]")
        wait_js(b, f"window.__vrcollab.info().nodes[{part!r}]?.visible === false")
        section = wait_js(b, "Object.values(window.__vrcollab.info().sections)[0]")
        assert section["enabled"] is True
        assert math.isfinite(section["offset"])
        wait_js(b, "window.__vrcollab.info().scene.clipping === 1")
        # Reviewers may hide and section for themselves (no longer greyed out); moving parts
        # stays locked and says why.
        assert not b.locator("[data-tool=section]").is_disabled()
        assert not b.locator("[data-tool=hide]").is_disabled()
        assert b.locator("[data-tool=move]").get_attribute("aria-disabled") == "true"
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()

