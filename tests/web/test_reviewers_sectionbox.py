"""Issue 14, section box: six clipping planes around the selected element keep only what is
inside it (every pick lands in the box), a handle drag resizes it, and it is one's own view."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import (
    PreparedRoom,
    drag,
    fly_closer,
    fresh_room,
    info,
    model_center,
    open_client,
    wait_js,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

GRID = [(dx, dy) for dy in range(-240, 241, 60) for dx in range(-400, 401, 80)]


def picks(page: Any) -> list[list[float]]:
    """World points the precise pick finds on a grid around the middle of the view."""
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    out = []
    for dx, dy in GRID:
        hit = page.evaluate(f"window.__vrcollab.pickAt({w / 2 + dx}, {h / 2 + dy})")
        if hit:
            out.append(hit["point"])
    return out


def inside(p: list[float], box: list[list[float]], tol: float = 0.01) -> bool:
    return all(box[0][i] - tol <= p[i] <= box[1][i] + tol for i in range(3))


def test_section_box_keeps_only_the_selection_and_a_handle_resizes_it(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Section box")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = open_client(browser, room.url(room.owner_token, name="Olga"))
    try:
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x, y)
        part = a.evaluate("window.__vrcollab.centerHit().part")
        assert part
        a.evaluate(f"window.__vrcollab.select({part!r})")
        a.click("[data-tool=sectionbox]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 6")
        box = info(a)["section_box"]
        world = box["world"]
        got = picks(a)
        assert got, "the selected element is in view"
        assert all(inside(p, world) for p in got), [p for p in got if not inside(p, world)]
        assert a.evaluate("window.__vrcollab.centerHit().part") == part
        # The other person's view is not cut; without the box, the grid finds more than it.
        assert info(b)["scene"]["clipping"] == 0
        assert info(b)["own_view"].get("box") is None
        # Drag a face handle outward (one well apart from the others on screen).
        centre = [(world[0][i] + world[1][i]) / 2 for i in range(3)]
        cx, cy = a.evaluate(f"window.__vrcollab.project({centre})")
        screen = [a.evaluate(f"window.__vrcollab.project({h})") for h in box["handles"]]
        w, h = a.viewport_size["width"], a.viewport_size["height"]

        def usable(k: int) -> bool:
            hx, hy = screen[k]
            apart = all(math.dist(screen[k], s) > 30 for j, s in enumerate(screen) if j != k)
            on_canvas = a.evaluate(f"document.elementFromPoint({hx}, {hy})?.tagName") == "CANVAS"
            return (apart and math.dist(screen[k], (cx, cy)) > 30 and 40 < hx < w - 40
                    and 40 < hy < h - 40 and on_canvas)

        k = next((k for k in range(6) if usable(k)), None)
        assert k is not None, screen
        axis, side = k // 2, (-1 if k % 2 == 0 else 1)
        hx, hy = screen[k]
        d = math.dist((hx, hy), (cx, cy))
        drag(a, hx, hy, (hx - cx) / d * 50, (hy - cy) / d * 50)
        a.mouse.up()
        wait_js(a, "window.__vrcollab.info().section_box !== null")
        after = info(a)["section_box"]
        if side > 0:
            assert after["max"][axis] > box["max"][axis] + 1e-3, (box, after)
        else:
            assert after["min"][axis] < box["min"][axis] - 1e-3, (box, after)
        assert info(a)["selected"] == part, "dragging a handle does not click the model"
        # Off again: everything is drawn and picked.
        a.click("[data-tool=sectionbox]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 0")
        assert any(not inside(p, world) for p in picks(a))
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
