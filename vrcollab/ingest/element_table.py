"""The element table (docs/tiles.md T6): gzip-compressed columnar ``elements.json.gz`` (strings,
small columns, millimetre bounds), ``elements.hash`` geometry hashes (for the server) and
property-set chunks ``props/NNNN.json.gz`` loaded on demand, each set stored once per chunk."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vrcollab.ingest.scene import Element

CHUNK = 1024
VERSION = 2
TABLE_FILE, PROPS_PATTERN = "elements.json.gz", "props/{chunk}.json.gz"
HASH_FILE = "elements.hash"
#: files of the older uncompressed table (version 1), removed by a new conversion
OLD_FILES = ("elements.json", "elements.bin")
BOUNDS_UNIT = 0.001  # bounds are whole millimetres, rounded outwards
GZIP_MAGIC = b"\x1f\x8b"


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
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    path.write_bytes(packed)
    return len(packed)


def load_json(path: Path) -> Any:
    """A table file's JSON (gzip-compressed, or plain for version 1 tables)."""
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8"))


def bounds_columns(elements: list[Element]) -> dict[str, Any]:
    """Element boxes as whole millimetres from an origin (lo floored, size ceiled)."""
    if not elements:
        return {"origin": [0.0, 0.0, 0.0], "unit": BOUNDS_UNIT, "min": [[], [], []],
                "size": [[], [], []]}
    lo = np.array([e.lo for e in elements], dtype=np.float64)
    hi = np.array([e.hi for e in elements], dtype=np.float64)
    origin = np.floor(lo.min(axis=0) * 1000.0) / 1000.0
    qlo = np.floor((lo - origin) / BOUNDS_UNIT + 1e-6).astype(np.int64)
    qsize = np.ceil((hi - origin) / BOUNDS_UNIT - 1e-6).astype(np.int64) - qlo
    return {"origin": [float(x) for x in origin], "unit": BOUNDS_UNIT,
            "min": [[int(x) for x in qlo[:, k]] for k in range(3)],
            "size": [[int(x) for x in qsize[:, k]] for k in range(3)]}


def bounds_array(table: dict[str, Any]) -> npt.NDArray[np.float64]:
    """(count, 6) boxes ``minx, miny, minz, maxx, maxy, maxz`` (world frame) of a table."""
    b = table.get("bounds") or {}
    unit = float(b.get("unit") or BOUNDS_UNIT)
    origin = np.asarray(b.get("origin") or [0.0, 0.0, 0.0], dtype=np.float64)
    lo = np.asarray(b.get("min") or [[], [], []], dtype=np.float64).T * unit + origin
    size = np.asarray(b.get("size") or [[], [], []], dtype=np.float64).T * unit
    return np.concatenate([lo.reshape(-1, 3), (lo + size).reshape(-1, 3)], axis=1)


def _props_chunk(start: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows as lists of indices into the chunk's distinct ``[name, values]`` sets."""
    sets: list[list[Any]] = []
    seen: dict[str, int] = {}
    by_object: dict[tuple[str, int], int] = {}  # shared value dicts (one per type): dumped once
    out: list[list[int]] = []
    for row in rows:
        ids = []
        for name, values in row.items():
            k = by_object.get((name, id(values)))
            if k is None:
                key = json.dumps([name, values], sort_keys=True, ensure_ascii=False)
                k = seen.get(key)
                if k is None:
                    k = seen[key] = len(sets)
                    sets.append([name, values])
                by_object[(name, id(values))] = k
            ids.append(k)
        out.append(ids)
    return {"start": start, "count": len(rows), "sets": sets, "rows": out}


def write(elements: list[Element], outdir: Path) -> dict[str, Any]:
    """Write the table files into ``outdir``; returns the manifest ``elements`` entry."""
    classes, class_col = _index([e.ifc_class or "" for e in elements])
    containers, cont_col = _index([e.container for e in elements])
    table = {
        "version": VERSION, "count": len(elements), "containers": containers,
        "classes": classes,
        "columns": {
            "globalId": [e.global_id for e in elements],
            "name": [e.name for e in elements],
            "class": class_col,
            "container": cont_col,
            "triangles": [int(e.triangles) for e in elements],
        },
        "bounds": bounds_columns(elements),
    }
    size = _dump(outdir / TABLE_FILE, table)
    hashes = b"".join(bytes.fromhex(e.geometry_hash) if len(e.geometry_hash) == 64
                      else bytes(32) for e in elements)
    (outdir / HASH_FILE).write_bytes(hashes)
    size += len(hashes)
    (outdir / "props").mkdir(exist_ok=True)
    chunks = max(1, -(-len(elements) // CHUNK))
    for k in range(chunks):
        rows = [e.properties or {} for e in elements[k * CHUNK:(k + 1) * CHUNK]]
        size += _dump(outdir / PROPS_PATTERN.format(chunk=f"{k:04d}"),
                      _props_chunk(k * CHUNK, rows))
    return {"file": TABLE_FILE, "hashes": HASH_FILE, "encoding": "gzip",
            "count": len(elements),
            "props": PROPS_PATTERN, "chunk_size": CHUNK, "chunks": chunks, "bytes": size}


def _safe(name: str) -> str:
    if "\\" in name or name.startswith((".", "/")) or ".." in name.split("/"):
        raise ValueError(f"bad element table name {name!r}")
    return name


def read(outdir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The element table document of a v2 output directory (either table version)."""
    entry = manifest.get("elements") or {}
    name = str(entry.get("file") or TABLE_FILE)
    if "/" in name:
        raise ValueError(f"bad element table name {name!r}")
    data: dict[str, Any] = load_json(outdir / _safe(name))
    if "bounds" not in data and entry.get("bounds"):  # version 1: float32 elements.bin
        raw = np.fromfile(outdir / _safe(str(entry["bounds"])), dtype="<f4").reshape(-1, 6)
        data["bounds"] = {"origin": [0.0, 0.0, 0.0], "unit": 1.0,
                          "min": raw[:, :3].T.tolist(),
                          "size": (raw[:, 3:] - raw[:, :3]).T.tolist()}
    return data


def read_props(outdir: Path, manifest: dict[str, Any], chunk: int) -> list[dict[str, Any]]:
    """The property-set rows (one dict per element) of chunk number ``chunk``."""
    entry = manifest.get("elements") or {}
    pattern = str(entry.get("props") or PROPS_PATTERN)
    data = load_json(outdir / _safe(pattern.format(chunk=f"{chunk:04d}")))
    sets = data.get("sets")
    if sets is None:  # version 1 rows are the dicts themselves
        return list(data.get("rows") or [])
    return [{sets[k][0]: sets[k][1] for k in row} for row in data.get("rows") or []]


def props_path(index: int) -> str:
    """Relative path of the property chunk holding element ``index``."""
    return PROPS_PATTERN.format(chunk=f"{index // CHUNK:04d}")
