"""Poses as small integer vectors, so a recording can store them delta-encoded.

A pose (protocol R12: head, hands, laser) becomes :data:`WIDTH` integers: a flag word saying
which parts are present, then positions in millimetres and quaternions / directions in 1e-4
units. Consecutive samples of one person differ by small numbers, which zlib compresses well.
The laser's ``node_id`` is not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

POS_SCALE = 1000.0  # millimetres
UNIT_SCALE = 10000.0  # quaternion and direction components

F_LEFT, F_RIGHT, F_LASER, F_HIT = 1, 2, 4, 8
# flags | head p q | left p q | right p q | laser origin dir hit
WIDTH = 1 + 7 + 7 + 7 + 9
_ZERO7 = [0] * 7


def _pq(part: Any) -> list[int] | None:
    if not isinstance(part, Mapping):
        return None
    p, q = part.get("p"), part.get("q")
    if not isinstance(p, Sequence) or not isinstance(q, Sequence) or len(p) != 3 or len(q) != 4:
        return None
    return [round(float(x) * POS_SCALE) for x in p] + [round(float(x) * UNIT_SCALE) for x in q]


def quantize(pose: Mapping[str, Any]) -> list[int] | None:
    """The integer vector of a pose, or None when it has no head."""
    head = _pq(pose.get("head"))
    if head is None:
        return None
    flags = 0
    left, right = _pq(pose.get("left")), _pq(pose.get("right"))
    flags |= F_LEFT if left is not None else 0
    flags |= F_RIGHT if right is not None else 0
    laser = pose.get("laser")
    ray = [0] * 9
    if isinstance(laser, Mapping):
        try:
            origin = [round(float(x) * POS_SCALE) for x in laser["origin"]]
            direction = [round(float(x) * UNIT_SCALE) for x in laser["dir"]]
            hit = laser.get("hit")
            hit_v = [round(float(x) * POS_SCALE) for x in hit] if hit is not None else [0, 0, 0]
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if len(origin) == 3 and len(direction) == 3 and len(hit_v) == 3:
                flags |= F_LASER | (F_HIT if hit is not None else 0)
                ray = origin + direction + hit_v
    return [flags, *head, *(left or _ZERO7), *(right or _ZERO7), *ray]


def _part(v: Sequence[int], at: int) -> dict[str, list[float]]:
    return {"p": [x / POS_SCALE for x in v[at:at + 3]],
            "q": [x / UNIT_SCALE for x in v[at + 3:at + 7]]}


def dequantize(v: Sequence[int]) -> dict[str, Any]:
    """The pose object (R12 shape) of a vector made by :func:`quantize`."""
    flags = v[0]
    laser = None
    if flags & F_LASER:
        laser = {"origin": [x / POS_SCALE for x in v[22:25]],
                 "dir": [x / UNIT_SCALE for x in v[25:28]],
                 "hit": [x / POS_SCALE for x in v[28:31]] if flags & F_HIT else None,
                 "node_id": None}
    return {"head": _part(v, 1), "left": _part(v, 8) if flags & F_LEFT else None,
            "right": _part(v, 15) if flags & F_RIGHT else None, "laser": laser}


def delta(prev: Sequence[int] | None, cur: Sequence[int]) -> list[int]:
    """``cur - prev`` element-wise (``cur`` itself when there is no previous sample)."""
    if prev is None:
        return list(cur)
    return [c - p for c, p in zip(cur, prev, strict=True)]


def undelta(prev: Sequence[int] | None, d: Sequence[int]) -> list[int]:
    """Inverse of :func:`delta`."""
    if prev is None:
        return list(d)
    return [p + x for p, x in zip(prev, d, strict=True)]
