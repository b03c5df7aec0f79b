"""The manifest of a converted model (``manifest.json``, docs/manifest.md and docs/tiles.md),
defined once: its format name and versions, the shape of its fields, and the readers every
consumer uses (the job runner, the room's model object, BCF's model frame, the element table).

Version 1 is the GLB ladder (``levels`` of files, ``parts``); version 2 is the tiled layout
(``tileset``, ``elements``; ``levels`` are tile depths). Both carry ``source``, ``units``,
``up_axis``, ``offset`` (the recentring offset, metres) and ``bounds`` (after recentring).
Readers never raise on a damaged manifest: they return the default (or None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict

FORMAT = "vrcollab-model"
LEVELS_VERSION = 1  # the GLB ladder (docs/manifest.md)
TILES_VERSION = 2  # the tiled layout (docs/tiles.md)
MANIFEST_VERSION = TILES_VERSION  # what a conversion writes by default

MANIFEST_FILE = "manifest.json"
TILESET_FILE = "tileset.json"
ELEMENTS_FILE = "elements.json.gz"  # element table version 2: gzip JSON, bounds inside
ELEMENT_BOUNDS_FILE = "elements.bin"  # element table version 1 only (float32 bounds)


class Source(TypedDict):
    """The uploaded file a model came from."""

    name: str
    sha256: str
    bytes: int
    format: str


class Bounds(TypedDict):
    """An axis-aligned box (after recentring), metres."""

    min: list[float]
    max: list[float]


class ElementsEntry(TypedDict, total=False):
    """Where a v2 manifest keeps its element table."""

    file: str
    bounds: str  # table version 1 only
    hashes: str
    encoding: str  # "gzip" (table version 2)
    count: int
    props: str
    chunk_size: int
    chunks: int
    bytes: int


#: Fields every manifest has (both versions); ``version`` says which of the rest it carries.
COMMON_FIELDS = ("format", "version", "source", "units", "up_axis", "offset", "bounds",
                 "levels", "devices", "decimator", "compression")
LEVELS_FIELDS = ("parts",)
TILES_FIELDS = ("tileset", "elements", "stats", "source_up_axis")


def manifest_version(manifest: Mapping[str, Any]) -> int:
    """The layout version (1 when absent or unreadable)."""
    try:
        return int(manifest.get("version") or LEVELS_VERSION)
    except (TypeError, ValueError):
        return LEVELS_VERSION


def is_tiled(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest describes the tiled layout (version 2 or later)."""
    return manifest_version(manifest) >= TILES_VERSION


def _vec3(value: Any) -> list[float] | None:
    if not isinstance(value, list | tuple) or len(value) < 3:
        return None
    try:
        out = [float(x) for x in value[:3]]
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(x) for x in out) else None


def manifest_bounds(manifest: Mapping[str, Any]) -> Bounds | None:
    """The model's box, or None when missing or malformed."""
    box = manifest.get("bounds")
    if not isinstance(box, Mapping):
        return None
    lo, hi = _vec3(box.get("min")), _vec3(box.get("max"))
    if lo is None or hi is None:
        return None
    return {"min": lo, "max": hi}


def manifest_offset(manifest: Mapping[str, Any]) -> Any:
    """The recentring offset as written (``(0, 0, 0)`` when absent); callers validate it."""
    return manifest.get("offset") or (0.0, 0.0, 0.0)


def elements_entry(manifest: Mapping[str, Any]) -> ElementsEntry:
    """The element-table entry of a v2 manifest (empty for v1)."""
    entry = manifest.get("elements")
    return dict(entry) if isinstance(entry, Mapping) else {}  # type: ignore[return-value]
