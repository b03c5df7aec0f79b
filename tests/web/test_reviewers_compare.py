"""Issue 14, compare versions in 3D: a second version of the house with one element moved, one
removed and one added shows them changed (orange), removed (a ghosted red box where it was)
and added (green), listed to step through; the colours are read back from the drawn pixels."""

from __future__ import annotations

import colorsys
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.corpus import shared_model
from tests.server_process import ServerProcess
from tests.web.roomkit import info, open_client, prepare_room, wait_js, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

MOVED = "20bTaetQDApP5w8egFxj13"  # beam "First" (ridge), moved 0.5 m
REMOVED = "2jTRqchjf7oB0yhQ6462T0"  # door "Haustuer"
COPIED = "3tCgZT92j6fw8fXgwCL3Jm"  # beam "Unterzug-1", copied 3 m aside as a new element
COLORS = {"added": "#2fbf71", "changed": "#f08c00", "removed": "#e03131"}  # src/colors.js


def second_version(src: Path, out: Path) -> str:
    """Write the house with MOVED moved, REMOVED removed and a copy of COPIED added; returns the
    new element's GlobalId."""
    pytest.importorskip("ifcopenshell")
    import ifcopenshell
    import ifcopenshell.api
    import ifcopenshell.util.element as element
    import ifcopenshell.util.placement as placement

    f = ifcopenshell.open(str(src))
    moved = f.by_guid(MOVED)
    m = placement.get_local_placement(moved.ObjectPlacement)
    m[0, 3] += 0.5  # the file's length unit is the metre
    ifcopenshell.api.run("geometry.edit_object_placement", f, product=moved, matrix=m, is_si=False)
    ifcopenshell.api.run("root.remove_product", f, product=f.by_guid(REMOVED))
    original = f.by_guid(COPIED)
    copy = ifcopenshell.api.run("root.copy_class", f, product=original)
    copy.Representation = element.copy_deep(f, original.Representation)  # copy_class shares none
    copy.Name = "Unterzug-copy"
    m = placement.get_local_placement(copy.ObjectPlacement)
    m[1, 3] += 3.0
    ifcopenshell.api.run("geometry.edit_object_placement", f, product=copy, matrix=m, is_si=False)
    f.write(str(out))
    return str(copy.GlobalId)


def upload_version(base_url: str, token: str, version_id: str, path: Path) -> str:
    """Upload ``path`` as the next version of ``version_id``'s model; wait until converted."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=60.0) as http:
        model_id = http.get(f"/api/versions/{version_id}").json()["model_id"]
        with path.open("rb") as fh:
            res = http.post(f"/api/models/{model_id}/versions",
                            files={"file": (path.name, fh, "application/octet-stream")})
        res.raise_for_status()
        up = res.json()
        deadline = time.monotonic() + 240
        while (job := http.get(f"/api/jobs/{up['job']['job_id']}").json())["status"] != "done":
            assert job["status"] != "failed", job
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        new_id: str = up["version"]["version_id"]
        return new_id


def hue_at_centre(page: Any) -> float:
    png = page.locator("#viewport canvas").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    r, g, b = img.getpixel((img.width // 2, img.height // 2))
    return colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 360


def hue(color: str) -> float:
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_compare_shows_moved_removed_and_added_elements_in_their_colours(
    browser: Any, web_server: ServerProcess, tmp_path: Path
) -> None:
    src = shared_model("ifc/AC20-FZK-Haus.ifc")
    if src.suffix == ".zip":  # the committed fixture: edit the IFC inside it
        with zipfile.ZipFile(src) as z:
            member = next(n for n in z.namelist() if n.lower().endswith(".ifc"))
            (tmp_path / "v1").mkdir()
            src = Path(z.extract(member, tmp_path / "v1"))
    room = prepare_room(web_server, src)  # its own project: the shared model keeps one version
    edited = tmp_path / "AC20-FZK-Haus.ifc"
    added_id = second_version(src, edited)
    v2 = upload_version(room.base_url, room.owner_token, room.version_id, edited)
    auth = {"Authorization": f"Bearer {room.owner_token}"}
    res = httpx.put(f"{room.base_url}/api/rooms/{room.room_id}/model", json={"version_id": v2},
                    headers=auth, timeout=60)
    res.raise_for_status()
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    page = open_client(browser, room.url(rita, name="Rita"))
    try:
        assert info(page)["model"]["tiles"], "the tiled (v2) path"
        page.click("[data-tool=compare]")
        cmp = wait_js(page, "window.__vrcollab.info().compare")
        # Against the previous version by default; exactly the three edits, each kind once.
        assert cmp["against"]["number"] == 1
        counts = cmp["counts"]
        assert (counts["added"], counts["changed"], counts["removed"]) == (1, 1, 1), cmp
        assert counts["unchanged"] > 20, cmp
        by_kind = {i["kind"]: i for i in cmp["items"]}
        assert by_kind["added"]["element_id"] == added_id
        assert by_kind["changed"]["element_id"] == MOVED
        assert by_kind["removed"]["element_id"] == REMOVED
        assert cmp["ghosts"] == 1
        assert page.locator("#compare-list .compare-row").count() == 3
        # Only the changes, then step to each: its colour is in the middle of the view.
        page.check("#compare-only")
        wait_js(page, "window.__vrcollab.info().compare.only")
        for kind in ("added", "changed", "removed"):
            n = info(page)["scene"]["rendered"]
            page.click(f"#compare-list .compare-row[data-kind={kind}]")
            wait_js(page, "!window.__vrcollab.info().scene.flying")
            wait_rendered(page, n)
            page.mouse.move(2, 2)  # no hover highlight
            n = info(page)["scene"]["rendered"]
            page.evaluate("window.__vrcollab.drawCalls()")
            wait_rendered(page, n)
            d = abs(hue_at_centre(page) - hue(COLORS[kind]))
            assert min(d, 360 - d) < 25, (kind, hue_at_centre(page), COLORS[kind])
        # Next steps through the list (wrapping); the room's state was never touched.
        page.click("#compare-next")
        wait_js(page, "window.__vrcollab.info().compare.current === 0")
        assert info(page)["nodes"] == {}
        page.click("#compare-close")
        wait_js(page, "window.__vrcollab.info().compare === null")
        assert not page.errors
    finally:
        page.context.close()
