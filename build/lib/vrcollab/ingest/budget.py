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
