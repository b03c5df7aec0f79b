"""Per-device budgets and the report: which level each device loads, pass / warn / fail.

Numbers follow Meta's published guidance (DESIGN.md §3): WebXR on Quest stays under about
750k triangles and 100 draw calls; Quest 2 renders about 750k-1M triangles per frame natively,
Quest 3 about 1-2M. The phone budget (WebXR/AR on a mid-range phone) is our own choice: 300k
triangles and 50 draw calls. ``triangles``/``draw_calls`` are the pass budget; ``hard_*`` the
point after which the device is expected to drop frames (fail). In between: warn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Device:
    """A rendering budget."""

    name: str
    triangles: int
    draw_calls: int
    hard_triangles: int
    hard_draw_calls: int


DEVICES: tuple[Device, ...] = (
    Device("quest2", 500_000, 100, 1_000_000, 200),
    Device("quest3", 750_000, 100, 2_000_000, 250),
    Device("desktop", 10_000_000, 2_000, 50_000_000, 10_000),
    Device("phone", 300_000, 50, 750_000, 150),
)

#: The default level ladder below "full": (level name, triangle target).
LEVEL_TARGETS: tuple[tuple[str, int], ...] = (
    ("quest3", 750_000),
    ("quest2", 500_000),
    ("phone", 300_000),
)


@dataclass(frozen=True)
class LevelInfo:
    """What the report needs to know about a level."""

    name: str
    triangles: int
    draw_calls: int


@dataclass(frozen=True)
class DeviceReport:
    """The level a device should load and how it fits."""

    device: str
    level: str
    status: str
    triangles: int
    draw_calls: int
    budget_triangles: int
    budget_draw_calls: int

    def as_dict(self) -> dict[str, Any]:
        """Manifest form (without the device name, which is the key)."""
        d = asdict(self)
        d.pop("device")
        return d


def status(device: Device, triangles: int, draw_calls: int) -> str:
    """pass / warn / fail of a level on a device."""
    if triangles > device.hard_triangles or draw_calls > device.hard_draw_calls:
        return "fail"
    if triangles > device.triangles or draw_calls > device.draw_calls:
        return "warn"
    return "pass"


def choose(device: Device, levels: list[LevelInfo]) -> DeviceReport:
    """The finest level within the device's triangle budget (else the coarsest), rated."""
    fitting = [lv for lv in levels if lv.triangles <= device.triangles]
    best = fitting[0] if fitting else min(levels, key=lambda lv: lv.triangles)
    return DeviceReport(
        device=device.name, level=best.name,
        status=status(device, best.triangles, best.draw_calls),
        triangles=best.triangles, draw_calls=best.draw_calls,
        budget_triangles=device.triangles, budget_draw_calls=device.draw_calls,
    )


def report(levels: list[LevelInfo], devices: tuple[Device, ...] = DEVICES) -> list[DeviceReport]:
    """One row per device; ``levels`` finest first."""
    return [choose(d, levels) for d in devices]


# --- tiled models (docs/tiles.md T7) ----------------------------------------------------------

#: Per device: screen height in pixels and the default screen-space error target.
SCREENS: dict[str, tuple[int, float]] = {
    "quest2": (1832, 16.0), "quest3": (2064, 16.0), "desktop": (1080, 8.0), "phone": (1600, 24.0),
}
FOV_DEGREES = 60.0
VIEW_DIRECTION = (1.0, -1.0, 0.8)


@dataclass(frozen=True)
class TileInfo:
    """What the report needs of a tile: box, error, drawn triangles, draw calls, children."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    error: float
    triangles: int
    draw_calls: int
    children: tuple[TileInfo, ...] = ()


def initial_camera(lo: Any, hi: Any, fov_degrees: float = FOV_DEGREES) -> tuple[Any, float]:
    """Camera position of the fit-to-view start (box centre seen from VIEW_DIRECTION)."""
    import numpy as np

    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-3)
    d = np.asarray(VIEW_DIRECTION) / np.linalg.norm(VIEW_DIRECTION)
    dist = radius / np.sin(np.radians(fov_degrees) / 2)
    return (lo + hi) / 2 + d * dist, dist


def screen_error(t: TileInfo, camera: Any, k: float) -> float:
    """Screen-space error of ``t`` in pixels (``k`` = height_px / (2 tan(fov/2)))."""
    import numpy as np

    nearest = np.clip(camera, t.lo, t.hi)
    return t.error * k / max(float(np.linalg.norm(camera - nearest)), 1e-3)


def _k(height_px: int, fov_degrees: float) -> float:
    import numpy as np

    return height_px / (2.0 * np.tan(np.radians(fov_degrees) / 2))


def drawn(root: TileInfo, camera: Any, height_px: int, sse: float,
          fov_degrees: float = FOV_DEGREES) -> list[TileInfo]:
    """The tiles a REPLACE-refining client draws from ``camera`` at error target ``sse``."""
    k = _k(height_px, fov_degrees)
    out: list[TileInfo] = []
    stack = [root]
    while stack:
        t = stack.pop()
        if not t.children or screen_error(t, camera, k) <= sse:
            out.append(t)
        else:
            stack.extend(t.children)
    return out


def budget_cut(root: TileInfo, camera: Any, height_px: int, floor: float, budget: int,
               fov_degrees: float = FOV_DEGREES) -> tuple[list[TileInfo], float]:
    """The cut the web client settles at (clients/web/src/viewer/tilebudget.js): it starts at
    an infinite error target (the root alone), lowers it to just below the largest
    screen-space error on the frontier while that tile's children would still fit ``budget``
    triangles, raises it above the smallest refined one while the cut is over budget, never
    below ``floor``. Returns the cut and the error target (inf: the root alone)."""
    k = _k(height_px, fov_degrees)
    target, seen = float("inf"), set()
    for _ in range(4 * _count(root) + 4):
        cut = drawn(root, camera, height_px, target, fov_degrees)
        tris = sum(t.triangles for t in cut)
        nxt = target
        refined = [screen_error(t, camera, k) for t in _refined(root, {id(t) for t in cut})]
        if tris > budget and refined:
            nxt = max(floor, target, min(refined) * 1.01)
        else:
            open_ = [(e, t) for t in cut if t.children
                     for e in (screen_error(t, camera, k),) if e > floor]
            if open_:
                e, best = max(open_, key=lambda et: et[0])
                kids = sum(c.triangles for c in best.children)
                if tris - best.triangles + kids <= budget:
                    nxt = max(floor, e * 0.99)
            else:
                nxt = floor
        if nxt == target or nxt in seen:
            break
        seen.add(target)
        target = nxt
    cut = drawn(root, camera, height_px, target, fov_degrees)
    return cut, target


def _count(t: TileInfo) -> int:
    return 1 + sum(_count(c) for c in t.children)


def _refined(root: TileInfo, cut_ids: set[int]) -> list[TileInfo]:
    """Tiles above the cut (refined: replaced by their children)."""
    out: list[TileInfo] = []
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in cut_ids:
            continue
        out.append(t)
        stack.extend(t.children)
    return out


def tiles_report(root: TileInfo, lo: Any, hi: Any,
                 devices: tuple[Device, ...] = DEVICES) -> dict[str, dict[str, Any]]:
    """manifest ``devices`` of a tileset: per device, the cut the client draws at the start
    view with the device's error target ``sse`` as floor and its triangle budget (docs/tiles.md
    T7), rated against the budgets; ``error_target`` is where the budget settles it."""
    camera, _ = initial_camera(lo, hi)
    out: dict[str, dict[str, Any]] = {}
    for dev in devices:
        height, sse = SCREENS.get(dev.name, (1080, 16.0))
        cut, target = budget_cut(root, camera, height, sse, dev.triangles)
        tris = sum(t.triangles for t in cut)
        calls = sum(t.draw_calls for t in cut)
        out[dev.name] = {
            "status": status(dev, tris, calls), "sse": sse,
            "error_target": None if target == float("inf") else round(float(target), 3),
            "tiles": len(cut), "triangles": tris, "draw_calls": calls,
            "geometric_error": round(max(t.error for t in cut), 6),
            "budget_triangles": dev.triangles, "budget_draw_calls": dev.draw_calls,
        }
    return out
