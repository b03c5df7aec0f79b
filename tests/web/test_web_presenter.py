"""Presenter, follow, gather, hide and section plane between two browsers."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, info, model_center, open_client, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_follow_presenter_gather_hide_and_section(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    reviewer = web_server.token(web_room.project_id, "reviewer", "Rita")
    a = open_client(browser, web_room.url(web_room.owner_token, name="Olga"))
    b = open_client(browser, web_room.url(reviewer, name="Rita"))
    try:
        a_session = info(a)["session_id"]
        # A presents; B follows the presenter and its camera takes A's viewpoint.
        a.click("[data-tool=present]")
        wait_js(b, f"window.__vrcollab.info().presenter === '{info(a)['user_id']}'")
        b.click("[data-tool=follow]")
        wait_js(a, "window.__vrcollab.info().participants.some("
                   f"(p) => p.following === '{a_session}')")
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        a.mouse.dblclick(x, y)  # fly closer: A's head moves, B's camera goes along
        wait_js(a, "!window.__vrcollab.info().scene.flying")
        target = a.evaluate("window.__vrcollab.info().camera")
        wait_js(b, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) < 0.05", timeout=60)
        b.click("[data-tool=follow]")  # stop following

        # B looks elsewhere; A gathers everyone: B flies to (just behind) A's viewpoint.
        b.click("[data-tool=home]")
        wait_js(b, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) > 1")
        a.click("[data-tool=gather]")
        wait_js(b, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) < 0.6", timeout=60)

        # A hides a part and cuts a section; B sees both.
        a.mouse.click(x - 70, y + 30)
        part = wait_js(a, "window.__vrcollab.info().selected")
        a.click("[data-tool=hide]")
        wait_js(b, f"window.__vrcollab.info().nodes[{part!r}]?.visible === false")
        a.click("[data-tool=section]")
        section = wait_js(b, "Object.values(window.__vrcollab.info().sections)[0]")
        assert section["enabled"] is True
        assert math.isfinite(section["offset"])
        assert b.evaluate("window.__vrcollab.info().scene.clipping") == 1
        # Reviewers may not change the section or hide parts.
        assert b.locator("[data-tool=section]").is_disabled()
        assert b.locator("[data-tool=hide]").is_disabled()
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
