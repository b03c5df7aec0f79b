"""Issue 14, what a second participant runs into: nobody's view is covered by an avatar (start
framings apart, follow from behind with the followed avatar hidden), hide and section are a
person's own view until shared on purpose, and offline authors show by name (membership)."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

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
from vrcollab.client import RoomClient

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


def centre_shows_model(page: Any) -> bool:
    """The middle of the screenshot is neither the flat background nor an avatar's visor."""
    png = page.locator("#viewport canvas").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    centre = img.crop((w * 45 // 100, h * 45 // 100, w * 55 // 100, h * 55 // 100))
    corner = img.getpixel((2, 2))
    pixels = list(centre.getdata())
    background = sum(1 for p in pixels
                     if sum(abs(a - b) for a, b in zip(p, corner, strict=True)) < 30)
    visor = sum(1 for p in pixels if max(p) < 24)  # the visor is #0b0f14
    return background < len(pixels) * 0.5 and visor < len(pixels) * 0.2


def assert_clear_view(page: Any) -> None:
    hit = page.evaluate("window.__vrcollab.centerHit()")
    assert hit["first"] == "model", hit
    assert centre_shows_model(page)


def test_three_people_start_apart_and_follow_without_a_visor_in_view(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Three people")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    carl = web_server.token(room.project_id, "reviewer", "Carl")
    a = open_client(browser, room.url(room.owner_token, name="Olga"))
    b = open_client(browser, room.url(rita, name="Rita"))
    c = open_client(browser, room.url(carl, name="Carl"))
    pages = [a, b, c]
    try:
        for p in pages:
            wait_js(p, "window.__vrcollab.info().avatars.filter((x) => x.head).length === 2")
        cams = [info(p)["camera"] for p in pages]
        size = info(a)["world"]["size"]
        spread = max(size) * 0.2
        for i in range(3):
            for j in range(i + 1, 3):
                d = sum((u - v) ** 2 for u, v in zip(cams[i], cams[j], strict=True)) ** 0.5
                assert d > spread, (i, j, d)  # distinct framings, nobody inside a head
        for p in pages:
            assert_clear_view(p)

        # Rita presents and flies close to the model; Carl follows her: he looks over her
        # shoulder, her avatar is hidden for him, and his view centre is the model.
        b.click("[data-tool=present]")
        wait_js(c, f"window.__vrcollab.info().presenter === '{info(b)['user_id']}'")
        x, y = b.evaluate(f"window.__vrcollab.project({model_center(b)})")
        fly_closer(b, x, y)
        c.click("[data-tool=follow]")
        b_session = info(b)["session_id"]
        wait_js(c, f"window.__vrcollab.info().avatars.find((x) => x.session_id === '{b_session}')"
                   "?.hidden === 'followed'")
        target = b.evaluate("window.__vrcollab.info().camera")
        wait_js(c, "Math.hypot(...window.__vrcollab.info().camera.map("
                   f"(v, i) => v - {target}[i])) < 4", timeout=60)
        wait_js(c, "window.__vrcollab.centerHit().first === 'model'")
        assert centre_shows_model(c)
        # Olga follows Rita too: both followers see the model, not each other's or Rita's head.
        a.click("[data-tool=follow]")
        wait_js(a, f"window.__vrcollab.info().avatars.find((x) => x.session_id === '{b_session}')"
                   "?.hidden === 'followed'")
        wait_js(a, "window.__vrcollab.centerHit().first === 'model'")
        for p in pages:
            assert_clear_view(p)
        for p in pages:
            assert not p.errors, p.errors
    finally:
        for p in pages:
            p.context.close()


def test_reviewer_hides_and_sections_for_themself_then_shares_on_purpose(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Own view")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(room.owner_token, name="Olga"))
    b = open_client(browser, room.url(rita, name="Rita"))
    try:
        click_world(b, model_center(b))
        part = wait_js(b, "window.__vrcollab.info().selected")
        b.keyboard.press("h")  # H works for a reviewer: hidden for Rita only
        wait_js(b, f"window.__vrcollab.info().own_view.hidden.includes({part!r})")
        b.click("[data-tool=section]")
        wait_js(b, "window.__vrcollab.info().scene.clipping === 1")
        assert info(b)["pending"] == 0
        assert info(b)["nodes"].get(part) is None  # nothing was sent to the room
        assert info(a)["scene"]["clipping"] == 0
        assert info(a)["own_view"]["hidden"] == []
        assert info(a)["nodes"].get(part) is None

        # Rita may not show her view before presenting: she is told why (no silent no-op). A
        # locked tool is aria-disabled, which Playwright will not click unless forced.
        b.click("[data-tool=share]", force=True)
        wait_js(b, "document.getElementById('toast').textContent.includes('Present')")
        # A locked tool says why too.
        b.click("[data-tool=move]", force=True)
        wait_js(b, "document.getElementById('toast').textContent.includes('editor role')")

        # Rita presents and shows her view on purpose: Olga takes it over (her own view).
        b.click("[data-tool=present]")
        wait_js(a, f"window.__vrcollab.info().presenter === '{info(b)['user_id']}'")
        b.click("[data-tool=share]")
        wait_js(a, f"window.__vrcollab.info().own_view.hidden.includes({part!r})")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 1")
        assert info(a)["own_view"]["section"]["offset"] == info(b)["own_view"]["section"]["offset"]
        # It was ephemeral: the room's durable state did not change; "Show all" undoes it.
        assert info(a)["nodes"].get(part) is None
        a.click("[data-tool=showall]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 0")
        assert info(a)["own_view"]["hidden"] == []
        assert info(b)["scene"]["clipping"] == 1  # Rita's own view stays
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()


async def _offline_issue(room: PreparedRoom, token: str) -> None:
    async with RoomClient(room.base_url, room.room_id, token, name="Dora") as c:
        await c.op("annotation.create", annotation={
            "id": "a-offline", "position": [0.0, 0.0, 0.0], "title": "Railing too low"})


def test_offline_author_shows_by_name_and_assignees_come_from_members(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Offline author")
    dora = web_server.token(room.project_id, "reviewer", "Dora")
    # Dora files an issue and leaves before anyone else opens the room.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _offline_issue(room, dora)).result(60)
    a = open_client(browser, room.url(room.owner_token, name="Olga"))
    try:
        wait_js(a, "window.__vrcollab.info().members.some((m) => m.name === 'Dora')")
        meta = a.locator(".ann[data-id='a-offline'] .meta")
        wait_js(a, "document.querySelector(\".ann[data-id='a-offline'] .meta\")"
                   "?.textContent.includes('Dora')")
        assert "u_" not in meta.inner_text()
        a.click(".ann[data-id='a-offline'] .head")
        picker = a.locator(".ann[data-id='a-offline'] select.assignee")
        options = picker.locator("option").all_inner_texts()
        assert "Dora" in options
        picker.select_option("Dora")
        wait_js(a, "window.__vrcollab.info().annotations.find((x) => x.id === 'a-offline')"
                   ".assignee === 'Dora'")
        assert not a.errors
    finally:
        a.context.close()
