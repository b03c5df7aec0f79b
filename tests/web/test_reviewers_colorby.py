"""Issue 14, colour by property: colouring by IFC class paints each element in its legend colour
(read back from the drawn pixels), for the one who chose it only until shared."""

from __future__ import annotations

import colorsys
import io
from typing import Any

import pytest
from PIL import Image

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, fresh_room, info, open_client, wait_js, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def hue(rgb: tuple[int, int, int]) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 360


def centre_pixel(page: Any) -> tuple[int, int, int]:
    png = page.locator("#viewport canvas").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    px: tuple[int, int, int] = img.getpixel((img.width // 2, img.height // 2))
    return px


def test_colour_by_ifc_class_paints_the_expected_elements(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Colour by")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = open_client(browser, room.url(room.owner_token, name="Olga"))
    try:
        assert info(a)["model"]["tiles"], "the tiled (v2) path: the element table"
        hit = a.evaluate("window.__vrcollab.centerHit()")
        assert hit["first"] == "model"
        assert hit["ifc_class"]
        before = centre_pixel(a)
        a.click("[data-tool=colorby]")
        n = info(a)["scene"]["rendered"]
        a.select_option("#colorby-key", "ifc_class")
        legend = wait_js(a, "window.__vrcollab.info().color_legend")
        wait_rendered(a, n)
        rows = {r["value"]: r for r in legend["legend"]}
        assert hit["ifc_class"] in rows
        assert sum(r["count"] for r in rows.values()) == info(a)["model"]["parts"]
        expected = rows[hit["ifc_class"]]["color"]
        rgb = tuple(int(expected[i:i + 2], 16) for i in (1, 3, 5))
        after = centre_pixel(a)
        assert after != before
        d = abs(hue(after) - hue(rgb))  # type: ignore[arg-type]
        assert min(d, 360 - d) < 30, (after, expected)
        # The legend lists the values with their colours; the other person's view is unchanged.
        assert a.locator("#colorby-legend .row").count() == min(16, len(rows))
        assert info(b)["color_legend"] is None
        assert b.evaluate("window.__vrcollab.centerHit().first") == "model"
        # Presenting, Rita shows her view: Olga gets the same colours (protocol R23).
        a.click("[data-tool=present]")
        wait_js(b, f"window.__vrcollab.info().presenter === '{info(a)['user_id']}'")
        a.click("[data-tool=share]")
        coloured = sum(r["count"] for r in rows.values())
        wait_js(b, f"window.__vrcollab.info().own_view.colors === {coloured}")
        a.select_option("#colorby-key", "")
        wait_js(a, "window.__vrcollab.info().color_legend === null")
        assert not a.errors
    finally:
        a.context.close()
        b.context.close()
