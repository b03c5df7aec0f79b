"""The element table (docs/tiles.md T6): columnar ``elements.json``, ``elements.bin`` bounds,
``elements.hash`` geometry hashes (for the server) and property-set chunks ``props/NNNN.json``
loaded on demand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vrcollab.ingest.scene import Element

CHUNK = 1024
TABLE_FILE, BOUNDS_FILE, PROPS_PATTERN = "elements.json", "elements.bin", "props/{chunk}.json"
HASH_FILE = "elements.hash"


def _index(values: list[str]) -> tuple[list[str], list[int]]:
    names: list[str] = []
    seen: dict[str, int] = {}
    out: list[int] = []
    for v in values:
        if not v:
            out.append(-1)
            continue
        if v not in seen:
            seen[v] = len(names)
            names.append(v)
        out.append(seen[v])
    return names, out


def _dump(path: Path, data: Any) -> int:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    path.write_bytes(raw)
    return len(raw)


def write(elements: list[Element], outdir: Path) -> dict[str, Any]:
    """Write the table files into ``outdir``; returns the manifest ``elements`` entry."""
    classes, class_col = _index([e.ifc_class or "" for e in elements])
    containers, cont_col = _index([e.container for e in elements])
    table = {
        "version": 1, "count": len(elements), "containers": containers, "classes": classes,
        "columns": {
            "globalId": [e.global_id for e in elements],
            "name": [e.name for e in elements],
            "class": class_col,
            "container": cont_col,
            "triangles": [int(e.triangles) for e in elements],
        },
    }
    size = _dump(outdir / TABLE_FILE, table)
    bounds = np.zeros((len(elements), 6), dtype="<f4")
    for i, e in enumerate(elements):
        bounds[i, :3], bounds[i, 3:] = e.lo, e.hi
    (outdir / BOUNDS_FILE).write_bytes(bounds.tobytes())
    size += bounds.nbytes
    hashes = b"".join(bytes.fromhex(e.geometry_hash) if len(e.geometry_hash) == 64
                      else bytes(32) for e in elements)
    (outdir / HASH_FILE).write_bytes(hashes)
    size += len(hashes)
    (outdir / "props").mkdir(exist_ok=True)
    chunks = max(1, -(-len(elements) // CHUNK))
    for k in range(chunks):
        rows = [e.properties or {} for e in elements[k * CHUNK:(k + 1) * CHUNK]]
        size += _dump(outdir / PROPS_PATTERN.format(chunk=f"{k:04d}"),
                      {"start": k * CHUNK, "count": len(rows), "rows": rows})
    return {"file": TABLE_FILE, "bounds": BOUNDS_FILE, "hashes": HASH_FILE,
            "count": len(elements),
            "props": PROPS_PATTERN, "chunk_size": CHUNK, "chunks": chunks, "bytes": size}


def read(outdir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The ``elements.json`` document of a v2 output directory."""
    entry = manifest.get("elements") or {}
    name = str(entry.get("file") or TABLE_FILE)
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"bad element table name {name!r}")
    data: dict[str, Any] = json.loads((outdir / name).read_text(encoding="utf-8"))
    return data


def props_path(index: int) -> str:
    """Relative path of the property chunk holding element ``index``."""
    return PROPS_PATTERN.format(chunk=f"{index // CHUNK:04d}")
