"""Picks on instanced copies (docs/tiles.md, the compact instance form: the node carries the
shared dequantisation scale, each copy a translation) are in world space: the triangle under a
page point holds the picked point, lies on the model, and the measure tool snaps to its
corners. The old client read the stored, quantised positions (model coords like
[0, 3603, 65535]) and refused a perpendicular measure as outside the model."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, info, model_center, open_client, prepare_room, wait_js
from tests.web.test_reviewers_measure import apart, near_corner, on_canvas, plane_distance

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import building_gen

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def doors_room(web_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> PreparedRoom:
    """A room on 100 copies of one door type (one instanced mesh in one tile)."""
    src = building_gen.generate_doors(100, tmp_path_factory.mktemp("doors") / "doors.ifc")
    return prepare_room(web_server, src)


def inside(p: list[float], tri: list[list[float]], tol: float = 1e-3) -> bool:
    """Whether ``p`` is on the triangle (within ``tol`` metres of its plane, inside its edges)."""
    if plane_distance(p, tri) > tol:
        return False
    u = [tri[1][i] - tri[0][i] for i in range(3)]
    v = [tri[2][i] - tri[0][i] for i in range(3)]
    w = [p[i] - tri[0][i] for i in range(3)]
    dot = lambda a, b: sum(a[i] * b[i] for i in range(3))  # noqa: E731
    uu, uv, vv, wu, wv = dot(u, u), dot(u, v), dot(v, v), dot(w, u), dot(w, v)
    den = uu * vv - uv * uv
    s, t = (vv * wu - uv * wv) / den, (uu * wv - uv * wu) / den
    eps = tol / math.sqrt(min(uu, vv))
    return s >= -eps and t >= -eps and s + t <= 1 + eps


def test_instanced_picks_are_world_triangles(browser: Any, doors_room: PreparedRoom) -> None:
    page = open_client(browser, doors_room.url(doors_room.owner_token, name="Olga"))
    try:
        world = info(page)["world"]
        lo = [world["center"][i] - world["size"][i] / 2 - 1e-3 for i in range(3)]
        hi = [world["center"][i] + world["size"][i] / 2 + 1e-3 for i in range(3)]
        x, y = page.evaluate(f"window.__vrcollab.project({model_center(page)})")
        faces = []
        for dy in range(-150, 151, 25):
            for dx in range(-300, 301, 25):
                f = page.evaluate(f"window.__vrcollab.faceAt([{x + dx}, {y + dy}])")
                if f is not None and on_canvas(page, x + dx, y + dy):
                    faces.append(f)
        instanced = [f for f in faces if f["instance"] is not None]
        assert len(instanced) >= 10, (len(faces), len(instanced))
        assert len({f["instance"] for f in instanced}) >= 3  # several copies, not just one
        for f in faces:
            assert inside(f["point"], f["world"]), f
            for c in f["model"]:
                assert all(lo[i] <= c[i] <= hi[i] for i in range(3)), (c, lo, hi)
        # The measure tool snaps to a corner of an instanced copy's triangle (world corner).
        page.click("[data-tool=measure]")
        snapped = False
        for f in instanced:
            centroid = [sum(v[i] for v in f["world"]) / 3 for i in range(3)]
            for w, m in zip(f["world"], f["model"], strict=True):
                if not apart(page, w, f["world"]):
                    continue
                px, py = near_corner(page, w, centroid)
                there = page.evaluate(f"window.__vrcollab.faceAt([{px}, {py}])")
                if not (there and any(math.dist(m, c) < 1e-6 for c in there["model"])):
                    continue
                page.mouse.move(px, py)
                wait_js(page, "(() => { const m = window.__vrcollab.info().measure; return m && "
                              "m.kind === 'vertex' && Math.hypot(...m.point.map("
                              f"(v, i) => v - {m}[i])) < 1e-6; }})()")
                snapped = True
                break
            if snapped:
                break
        assert snapped, "no instanced corner apart on screen"
        assert not page.errors
    finally:
        page.context.close()
