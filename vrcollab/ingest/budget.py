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
MAX_SSE = 512.0


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


def drawn(root: TileInfo, camera: Any, height_px: int, sse: float,
          fov_degrees: float = FOV_DEGREES) -> list[TileInfo]:
    """The tiles a REPLACE-refining client draws from ``camera`` at error target ``sse``."""
    import numpy as np

    k = height_px / (2.0 * np.tan(np.radians(fov_degrees) / 2))
    out: list[TileInfo] = []
    stack = [root]
    while stack:
        t = stack.pop()
        nearest = np.clip(camera, t.lo, t.hi)
        dist = max(float(np.linalg.norm(camera - nearest)), 1e-3)
        if not t.children or t.error * k / dist <= sse:
            out.append(t)
        else:
            stack.extend(t.children)
    return out


def tiles_report(root: TileInfo, lo: Any, hi: Any,
                 devices: tuple[Device, ...] = DEVICES) -> dict[str, dict[str, Any]]:
    """manifest ``devices`` of a tileset: the drawn cut per device at its (raised) sse."""
    camera, _ = initial_camera(lo, hi)
    out: dict[str, dict[str, Any]] = {}
    for dev in devices:
        height, sse = SCREENS.get(dev.name, (1080, 16.0))
        while True:
            cut = drawn(root, camera, height, sse)
            tris = sum(t.triangles for t in cut)
            if tris <= dev.triangles or sse >= MAX_SSE:
                break
            sse = min(sse * 1.5, MAX_SSE)
        calls = sum(t.draw_calls for t in cut)
        out[dev.name] = {
            "status": status(dev, tris, calls), "sse": round(sse, 3), "tiles": len(cut),
            "triangles": tris, "draw_calls": calls,
            "geometric_error": round(max(t.error for t in cut), 6),
            "budget_triangles": dev.triangles, "budget_draw_calls": dev.draw_calls,
        }
    return out
