"""Issue 14, snapshots: an issue made in the browser stores a PNG of the viewer; the panel shows
it, and the room's BCF 2.1 and 3.0 exports carry it (XSD-valid, decodes, not blank)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.bcf.bcf_support import validate_bcf
from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, drop_annotation, fresh_room, open_client, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_new_issue_stores_a_snapshot_that_bcf_exports_carry(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Snapshots")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    try:
        ann = drop_annotation(a, "Gap at the eaves", "see the picture")
        ref = wait_js(a, "window.__vrcollab.info().annotations.find("
                         f"(x) => x.id === '{ann['id']}')?.snapshot")
        assert ref["media_type"] == "image/png"
        # The panel shows it (fetched with the token into a blob: URL).
        a.click(f".ann[data-id='{ann['id']}'] .head")
        wait_js(a, f"document.getElementById('snap-{ann['id']}')?.naturalWidth > 0")
        auth = {"Authorization": f"Bearer {room.owner_token}"}
        for version in ("2.1", "3.0"):
            res = httpx.get(f"{room.base_url}/api/rooms/{room.room_id}/bcf",
                            params={"version": version}, headers=auth, timeout=60)
            assert res.status_code == 200
            validate_bcf(res.content, version)
            with zipfile.ZipFile(io.BytesIO(res.content)) as zf:
                shots = [zf.read(n) for n in zf.namelist() if n.endswith(".png")]
            assert len(shots) == 1
            img = Image.open(io.BytesIO(shots[0])).convert("RGB")
            assert img.width > 100
            assert img.height > 100
            small = img.resize((160, 100))
            colours = small.getcolors(maxcolors=160 * 100) or []
            background = max(colours)[1]
            off = sum(n for n, c in colours
                      if sum(abs(p - q) for p, q in zip(c, background, strict=True)) > 60)
            assert off > 160 * 100 * 0.05, "the snapshot shows only the background"
            # Imported into another room, the snapshot is kept and exported again as it was.
            other = fresh_room(room, f"Snapshot import {version}")
            imp = httpx.post(f"{room.base_url}/api/rooms/{other.room_id}/bcf",
                             content=res.content, headers=auth, timeout=60)
            assert imp.status_code == 200, imp.text
            assert imp.json()["imported"] == [ann["id"]]
            again = httpx.get(f"{room.base_url}/api/rooms/{other.room_id}/bcf",
                              params={"version": version}, headers=auth, timeout=60)
            validate_bcf(again.content, version)
            with zipfile.ZipFile(io.BytesIO(again.content)) as zf:
                back = [zf.read(n) for n in zf.namelist() if n.endswith(".png")]
            assert back == shots
        assert not a.errors
    finally:
        a.context.close()
