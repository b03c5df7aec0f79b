"""Issue 14, 3D markup: A draws a polyline on the model (desktop: clicks, double-click to
finish) for the selected issue; it is a room record B sees in A's colour, exported as BCF Lines
of the topic's viewpoint and imported back; only its author (or an editor) may erase it."""

from __future__ import annotations

import asyncio
import io
import math
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.bcf.bcf_support import validate_bcf
from tests.server_process import ServerProcess
from tests.web.roomkit import (
    PreparedRoom,
    drop_annotation,
    fresh_room,
    info,
    model_center,
    open_client,
    wait_js,
)
from vrcollab.client import RoomClient

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def model_points(page: Any, n: int) -> list[tuple[float, float]]:
    """Page points where the precise pick finds the model, around (not on) its centre, where
    the issue pin sits."""
    cx, cy = page.evaluate(f"window.__vrcollab.project({model_center(page)})")
    out: list[tuple[float, float]] = []
    for dx, dy in [(-90, 30), (90, -30), (-60, -60), (60, 60), (-150, 0), (150, 0), (0, 90)]:
        x, y = cx + dx, cy + dy
        if page.evaluate(f"document.elementFromPoint({x}, {y})?.tagName") != "CANVAS":
            continue
        if page.evaluate(f"window.__vrcollab.pickAt({x}, {y})"):
            out.append((x, y))
        if len(out) == n:
            break
    return out


def bcf_lines(data: bytes) -> list[list[list[float]]]:
    """Every viewpoint's Lines in a BCF archive: [[start xyz], [end xyz]] each."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if not name.endswith(".bcfv"):
                continue
            root = etree.fromstring(zf.read(name))
            for line in root.iter("Line"):
                ends = []
                for tag in ("StartPoint", "EndPoint"):
                    p = line.find(tag)
                    assert p is not None
                    ends.append([float(p.findtext(k) or "nan") for k in ("X", "Y", "Z")])
                out.append(ends)
    return out


async def room_markups(room: PreparedRoom, token: str) -> dict[str, Any]:
    """The room's markup records, as a client joining now sees them."""
    async with RoomClient(room.base_url, room.room_id, token, name="Check") as c:
        return dict(c.mirror.state.markups)


def test_markup_is_drawn_seen_in_the_authors_colour_and_erased_by_the_author(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Markup")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    carl = web_server.token(room.project_id, "reviewer", "Carl")
    a = open_client(browser, room.url(rita, name="Rita", color="%232fbf71"))
    b = open_client(browser, room.url(carl, name="Carl"))
    try:
        # An issue first: markup drawn while it is selected belongs to it (BCF lines).
        ann = drop_annotation(a, "Check this edge", "markup shows where")
        a.click(f".ann[data-id='{ann['id']}'] .head")
        wait_js(a, f"window.__vrcollab.selectedAnnotation() === {ann['id']!r}")
        wait_js(a, "!window.__vrcollab.info().scene.flying")
        pts = model_points(a, 3)
        assert len(pts) == 3, pts
        a.click("[data-tool=markup]")
        a.mouse.click(*pts[0])
        a.mouse.click(*pts[1])
        wait_js(a, "window.__vrcollab.info().markup.drawing.points === 2")
        a.mouse.dblclick(*pts[2])
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().markup.items.length === 1")
        mine = info(a)["markup"]["items"][0]
        assert mine["points"] == 3
        assert mine["color"] == "#2fbf71"
        assert mine["author"] == info(a)["user_id"]
        assert mine["annotation_id"] == ann["id"]
        got = wait_js(b, "window.__vrcollab.info().markup.items[0]")
        assert got == mine
        # BCF 2.1 and 3.0: the topic's viewpoint has the pin needle and the markup's two
        # segments; importing the archive into another room brings the markup back.
        auth = {"Authorization": f"Bearer {room.owner_token}"}
        for version in ("2.1", "3.0"):
            res = httpx.get(f"{room.base_url}/api/rooms/{room.room_id}/bcf",
                            params={"version": version}, headers=auth, timeout=60)
            assert res.status_code == 200
            validate_bcf(res.content, version)  # the XSDs are committed (tests/fixtures/bcf)
            lines = bcf_lines(res.content)
            assert len(lines) == 3, lines
            assert math.dist(lines[1][1], lines[2][0]) < 1e-6, "one polyline, chained"
            other = fresh_room(room, f"Import {version}")
            imp = httpx.post(f"{room.base_url}/api/rooms/{other.room_id}/bcf",
                             content=res.content, headers=auth, timeout=60)
            assert imp.status_code == 200, imp.text
            with ThreadPoolExecutor(1) as pool:
                back = pool.submit(asyncio.run, room_markups(other, room.owner_token)).result(60)
            assert [len(m["points"]) for m in back.values()] == [3]
            assert [m["annotation_id"] for m in back.values()] == [ann["id"]]
            again = httpx.get(f"{room.base_url}/api/rooms/{other.room_id}/bcf",
                              params={"version": version}, headers=auth, timeout=60)
            assert len(bcf_lines(again.content)) == 3, "re-export repeats no line"
        # Carl (another reviewer) gets no Erase for Rita's markup, and the room refuses it.
        b.click("[data-tool=markup]")
        assert b.locator(f"#markup-list [data-markup='{mine['id']}']").count() == 1
        assert b.locator(f"#markup-list [data-markup='{mine['id']}'] .erase").count() == 0
        # Rita erases it: gone for both.
        a.click(f"#markup-list [data-markup='{mine['id']}'] .erase")
        wait_js(a, "window.__vrcollab.info().markup.items.length === 0")
        wait_js(b, "window.__vrcollab.info().markup.items.length === 0")
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
