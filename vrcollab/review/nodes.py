"""Node ids <-> IFC GlobalIds of a converted model (for BCF components of saved views)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def node_keys(names: list[Any], global_ids: list[Any]) -> list[str]:
    """Protocol node ids of the rows of a tiled element table (docs/tiles.md T6), as the web
    client derives them (``elementKeys`` in viewer/elements.js): the element's name when it is
    unique in the table, else its IFC GlobalId, else ``#<row>``; never two rows with one id."""
    count = max(len(names), len(global_ids))
    seen: dict[str, int] = {}
    for n in names:
        if isinstance(n, str) and n:
            seen[n] = seen.get(n, 0) + 1
    used: set[str] = set()
    keys = []
    for i in range(count):
        n = names[i] if i < len(names) else None
        g = global_ids[i] if i < len(global_ids) else None
        k = n if isinstance(n, str) and n and seen.get(n) == 1 else None
        if k is None or k in used:
            k = g if isinstance(g, str) and g and g not in used else f"#{i}"
        used.add(k)
        keys.append(k)
    return keys


def node_guids(manifest: Mapping[str, Any] | None,
               table: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Node id -> IFC GlobalId of a converted model: the manifest's ``parts`` (GLB ladder) or
    the element ``table`` (tiled layout, ``elements.json`` read by the caller)."""
    out: dict[str, str] = {}
    for part in (manifest or {}).get("parts") or []:
        if isinstance(part, Mapping) and part.get("node") and part.get("element_id"):
            out[str(part["node"])] = str(part["element_id"])
    cols = (table or {}).get("columns") or {}
    names, guids = list(cols.get("name") or []), list(cols.get("globalId") or [])
    for key, g in zip(node_keys(names, guids), guids + [None] * (len(names) - len(guids)),
                      strict=False):
        if isinstance(g, str) and g:
            out[key] = g
    return out
