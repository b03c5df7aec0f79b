"""The web client's main-thread work while a tiled model streams (issue 9), in a real browser
on a real converted building: the element table is decoded in a worker (elementworker.js:
gunzip, JSON parse, node ids, key index, typed columns handed over by transfer) and reads back
row for row what the server wrote; idle frames are not drawn (render on demand, tiles traversed
only while they stream or a frame is drawn); a software renderer gets no MSAA."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.corpus import shared_model
from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, info, open_client, prepare_room, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def tiled_room(web_server: ServerProcess) -> PreparedRoom:
    room = prepare_room(web_server, shared_model("ifc/AC20-FZK-Haus.ifc"))
    manifest = _get(room, room.manifest_url).json()
    if manifest.get("version") != 2:
        pytest.skip("needs the v2 tiled writer")
    return room


def _get(room: PreparedRoom, url: str) -> httpx.Response:
    res = httpx.get(urljoin(room.base_url, url),
                    headers={"Authorization": f"Bearer {room.owner_token}"})
    res.raise_for_status()
    return res


def _expected_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows the client must read from the table file (docs/tiles.md T6: node id = the name
    when unique, else the GlobalId, else #row)."""
    c = table["columns"]
    n = table["count"]
    names, gids = c.get("name") or [None] * n, c.get("globalId") or [None] * n
    counts: dict[str, int] = {}
    for v in names:
        if isinstance(v, str) and v:
            counts[v] = counts.get(v, 0) + 1
    used: set[str] = set()
    rows = []
    for i in range(n):
        k = names[i] if isinstance(names[i], str) and names[i] and counts[names[i]] == 1 else None
        if k is None or k in used:
            g = gids[i]
            k = g if isinstance(g, str) and g and g not in used else f"#{i}"
        used.add(k)
        cls, cont = c["class"][i], c["container"][i]
        rows.append({
            "index": i, "key": k, "element_id": gids[i], "name": names[i],
            "ifc_class": table["classes"][cls] if cls >= 0 else None,
            "container": table["containers"][cont] if cont >= 0 else None,
            "geometry_hash": None, "triangles": c["triangles"][i],
        })
    return rows


def test_element_table_decoded_in_worker(browser: Any, tiled_room: PreparedRoom) -> None:
    manifest = _get(tiled_room, tiled_room.manifest_url).json()
    spec = manifest["elements"]
    assert spec["encoding"] == "gzip"
    raw = _get(tiled_room, urljoin(tiled_room.manifest_url, spec["file"])).content
    expected = _expected_rows(json.loads(gzip.decompress(raw)))
    assert len(expected) > 50

    page = open_client(browser, tiled_room.url(tiled_room.owner_token, name="Wes"))
    try:
        tiles = wait_js(page, "(() => { const t = window.__vrcollab.info().model.tiles;"
                              " return t.element_table ? t : null; })()")
        assert tiles["element_table_decoded_in"] == "worker", tiles
        assert tiles["element_table_decode_ms"] is not None
        # Every row through its node id (the worker's key index) equals the file's row.
        got = page.evaluate("(keys) => keys.map((k) => window.__vrcollab.element(k))",
                            [r["key"] for r in expected])
        assert got == expected
        assert page.evaluate("window.__vrcollab.element('no such element')") is None
        assert not page.errors
    finally:
        page.context.close()


def test_idle_view_draws_no_frames(browser: Any, tiled_room: PreparedRoom) -> None:
    # quality=high asks for MSAA; a software renderer (SwiftShader here) does without.
    page = open_client(browser, tiled_room.url(tiled_room.owner_token, name="Ida", quality="high"))
    try:
        assert info(page)["model"]["tiles"]["quality"] == "low"
        wait_js(page, "(() => { const b = window.__vrcollab.info().model.tiles.bvh;"
                      " return b.built > 0 && b.pending === 0; })()", timeout=60)
        # Settled: nothing streams, nothing moves, so no frame is drawn.
        deadline = time.monotonic() + 30
        while True:
            before = info(page)["scene"]["rendered"]
            page.wait_for_timeout(1500)
            after = info(page)["scene"]["rendered"]
            if after == before:
                break
            assert time.monotonic() < deadline, f"still drawing frames: {before} -> {after}"
        # A camera move draws again.
        c = info(page)["world"]["center"]
        page.evaluate("([c]) => window.__vrcollab.placeCamera("
                      "[c[0] + 20, c[1] + 15, c[2] + 20], c)", [c])
        wait_js(page, f"window.__vrcollab.info().scene.rendered > {after}")
        assert not page.errors
    finally:
        page.context.close()
