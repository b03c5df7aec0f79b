"""Issue 14, measure: A measures between two snapped corners of a known triangle of the model;
the measurement is a room record and B sees the same distance within 1 mm, also while a
section plane cuts the model."""

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


def near_corner(page: Any, corner: list[float], centroid: list[float]) -> tuple[float, float]:
    """A page point a few pixels from a corner, toward the triangle's inside."""
    cx, cy = page.evaluate(f"window.__vrcollab.project({corner})")
    gx, gy = page.evaluate(f"window.__vrcollab.project({centroid})")
    d = math.hypot(gx - cx, gy - cy)
    k = min(5.0, d * 0.3) / d
    return cx + (gx - cx) * k, cy + (gy - cy) * k


def apart(page: Any, corner: list[float], others: list[list[float]], px: float = 18.0) -> bool:
    """Whether a corner is on screen at least ``px`` from the triangle's other corners (so the
    12 px vertex snap, 5 px off the corner, cannot take a neighbour)."""
    c = page.evaluate(f"window.__vrcollab.project({corner})")
    return all(math.dist(c, page.evaluate(f"window.__vrcollab.project({o})")) >= px
               for o in others if o != corner)


def on_canvas(page: Any, x: float, y: float) -> bool:
    return bool(page.evaluate(f"document.elementFromPoint({x}, {y})?.tagName") == "CANVAS")


def test_snapped_measurement_is_seen_by_the_other_within_a_millimetre(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Measure")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(room.owner_token, name="Olga"))
    b = open_client(browser, room.url(rita, name="Rita"))
    try:
        # Fly close to the model so that a triangle is large on screen.
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x, y)
        # The section plane (A's own) is on: measuring works on what is drawn.
        a.click("[data-tool=section]")
        wait_js(a, "window.__vrcollab.info().scene.clipping === 1")
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        clip = a.evaluate("window.__vrcollab.info().own_view.section")
        # A triangle with two drawn corners that are themselves visible where we click (the
        # section cuts corners away, nearer parts may cover others): those are the known points.
        picked: list[tuple[list[float], tuple[float, float]]] = []
        offsets = [(dx, dy) for dy in range(-180, 181, 30) for dx in range(-240, 241, 40)]
        for dx, dy in offsets:
            f = a.evaluate(f"window.__vrcollab.faceAt([{x + dx}, {y + dy}])")
            if f is None:
                continue
            centroid = [sum(v[i] for v in f["world"]) / 3 for i in range(3)]
            picked = []
            for w, m in zip(f["world"], f["model"], strict=True):
                # Beyond the cut (along the section's normal) is not drawn: not a known point.
                if sum(m[i] * clip["normal"][i] for i in range(3)) > clip["offset"] - 1e-4:
                    continue
                if not apart(a, w, f["world"]):
                    continue
                px, py = near_corner(a, w, centroid)
                under = a.evaluate(f"document.elementFromPoint({px}, {py})?.tagName")
                if under != "CANVAS":  # under a control (section slider, help, ...)
                    continue
                there = a.evaluate(f"window.__vrcollab.faceAt([{px}, {py}])")
                if there and any(math.dist(m, c) < 1e-6 for c in there["model"]):
                    picked.append((m, (px, py)))
            if len(picked) >= 2:
                break
        assert len(picked) >= 2, "no triangle with two visible corners on screen"
        a.click("[data-tool=measure]")
        for corner, (px, py) in picked[:2]:
            a.mouse.move(px, py)  # the hover marker snaps to the corner
            wait_js(a, "(() => { const m = window.__vrcollab.info().measure; return m && "
                       "m.kind === 'vertex' && Math.hypot(...m.point.map("
                       f"(v, i) => v - {corner}[i])) < 1e-6; }})()")
            a.mouse.click(px, py)
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().measurements.length === 1")
        expected = math.dist(picked[0][0], picked[1][0])
        got = wait_js(b, "window.__vrcollab.info().measurements[0]")
        assert abs(got["length"] - expected) < 1e-3, (got, expected)
        assert got["label"] == f"{expected:.3f} m"
        assert [m["id"] for m in info(a)["measurements"]] == [got["id"]]
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()


def plane_distance(point: list[float], tri: list[list[float]]) -> float:
    """Distance from a point to the plane of a triangle (model space)."""
    u = [tri[1][i] - tri[0][i] for i in range(3)]
    v = [tri[2][i] - tri[0][i] for i in range(3)]
    n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
    length = math.sqrt(sum(c * c for c in n))
    return abs(sum((point[i] - tri[0][i]) * n[i] for i in range(3))) / length


def test_perpendicular_distance_from_a_corner_to_a_face(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Perpendicular")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = open_client(browser, room.url(room.owner_token, name="Olga"))
    try:
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x, y)
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        # A visible corner of one triangle, and a face (another plane) somewhere else on screen.
        corner: tuple[list[float], tuple[float, float]] | None = None
        face: tuple[list[list[float]], tuple[float, float]] | None = None
        offsets = [(dx, dy) for dy in range(-180, 181, 30) for dx in range(-240, 241, 40)]
        for dx, dy in offsets:
            f = a.evaluate(f"window.__vrcollab.faceAt([{x + dx}, {y + dy}])")
            if f is None:
                continue
            if corner is None:
                centroid = [sum(v[i] for v in f["world"]) / 3 for i in range(3)]
                for w, m in zip(f["world"], f["model"], strict=True):
                    if not apart(a, w, f["world"]):
                        continue
                    px, py = near_corner(a, w, centroid)
                    if not on_canvas(a, px, py):
                        continue
                    there = a.evaluate(f"window.__vrcollab.faceAt([{px}, {py}])")
                    if there and any(math.dist(m, c) < 1e-6 for c in there["model"]):
                        corner = (m, (px, py))
                        break
            elif plane_distance(corner[0], f["model"]) > 0.05 and on_canvas(a, x + dx, y + dy):
                face = (f["model"], (x + dx, y + dy))
                break
        assert corner is not None, "no visible corner on screen"
        assert face is not None, "no second face on screen"
        a.click("[data-tool=measure]")
        a.select_option("#measure-kind", "perpendicular")
        px, py = corner[1]
        a.mouse.move(px, py)
        wait_js(a, "(() => { const m = window.__vrcollab.info().measure; return m && "
                   "m.kind === 'vertex' && Math.hypot(...m.point.map("
                   f"(v, i) => v - {corner[0]}[i])) < 1e-6; }})()")
        a.mouse.click(px, py)
        fx, fy = face[1]
        a.mouse.move(fx, fy)
        wait_js(a, "window.__vrcollab.info().measure?.kind === 'foot'")
        a.mouse.click(fx, fy)
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().measurements.length === 1")
        expected = plane_distance(corner[0], face[0])
        got = wait_js(b, "window.__vrcollab.info().measurements[0]")
        assert abs(got["length"] - expected) < 1e-3, (got, expected)
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()


def tri_area(t: list[list[float]]) -> float:
    u = [t[1][i] - t[0][i] for i in range(3)]
    v = [t[2][i] - t[0][i] for i in range(3)]
    n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
    return math.sqrt(sum(c * c for c in n)) / 2


def angle_at(a: list[float], b: list[float], c: list[float]) -> float:
    u = [a[i] - b[i] for i in range(3)]
    v = [c[i] - b[i] for i in range(3)]
    dot = sum(u[i] * v[i] for i in range(3))
    return math.degrees(math.acos(dot / (math.dist(a, b) * math.dist(c, b))))


def test_angle_between_three_snapped_corners_and_area_of_a_face(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Angle and area")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    b = open_client(browser, room.url(room.owner_token, name="Olga"))
    try:
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        fly_closer(a, x, y)
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        # Three points on the model, well apart on screen; the angle is computed from the
        # points the tool snapped to (read back while hovering), whatever they snapped to.
        spots = [(x + dx, y + dy) for dx, dy in ((-120, 60), (0, -40), (120, 60), (-60, -100),
                                                  (80, 110), (-160, 0), (160, 0))]
        spots = [p for p in spots if on_canvas(a, *p)
                 and a.evaluate(f"window.__vrcollab.pickAt({p[0]}, {p[1]})")]
        assert len(spots) >= 3, spots
        face = None
        for px, py in spots:
            f = a.evaluate(f"window.__vrcollab.faceAt([{px}, {py}])")
            if f is not None:
                face = (f, (px, py))
                break
        assert face is not None
        a.click("[data-tool=measure]")
        a.select_option("#measure-kind", "angle")
        points = []
        for k, (px, py) in enumerate(spots[:3]):
            a.mouse.move(px, py)
            prev = points[-1] if points else [1e9, 1e9, 1e9]  # the hover at this spot, not the last
            m = wait_js(a, "(() => { const m = window.__vrcollab.info().measure; return m && "
                           f"m.started === {'true' if k else 'false'} && Math.hypot(...m.point.map("
                           f"(v, i) => v - {prev}[i])) > 1e-6 ? m : null; }})()")
            points.append(m["point"])
            a.mouse.click(px, py)
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().measurements.length === 1")
        expected = angle_at(points[0], points[1], points[2])
        got = wait_js(b, "window.__vrcollab.info().measurements[0]")
        assert got["kind"] == "angle"
        assert abs(got["value"] - expected) < 0.05, (got, expected)
        assert got["label"] == f"{expected:.1f}°"
        # Area: the planar face under the click holds at least the clicked triangle.
        a.select_option("#measure-kind", "area")
        fx, fy = face[1]
        a.mouse.move(fx, fy)
        a.mouse.click(fx, fy)
        wait_js(a, "window.__vrcollab.info().pending === 0 && "
                   "window.__vrcollab.info().measurements.length === 2")
        area = wait_js(b, "window.__vrcollab.info().measurements.find((m) => m.kind === 'area')")
        assert area["value"] >= tri_area(face[0]["model"]) - 1e-6, (area, face[0])
        assert area["label"] == f"{area['value']:.3f} m²"
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
