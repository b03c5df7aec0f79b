"""Readers for tiled outputs (docs/tiles.md), independent of the writer's code paths."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from vrcollab.ingest.compress import decode_glb, read_glb

GLTF_TO_WORLD = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # (x, y, z) -> (x, -z, y)
COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
              5126: np.float32}
WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def accessor(doc: dict[str, Any], blob: bytes, index: int) -> np.ndarray:
    """Accessor data (as stored, not normalised) of an uncompressed GLB."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = np.dtype(COMPONENTS[acc["componentType"]])
    width = WIDTH[acc["type"]]
    stride = view.get("byteStride") or dtype.itemsize * width
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    return np.ndarray((acc["count"], width), dtype=dtype, buffer=blob, offset=start,
                      strides=(stride, dtype.itemsize)).copy()


def _trs(node: dict[str, Any]) -> np.ndarray:
    m = np.eye(4)
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
    x, y, z, w = node.get("rotation", [0, 0, 0, 1])
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    m[:3, :3] = r * np.asarray(node.get("scale", [1, 1, 1]), dtype=np.float64)
    m[:3, 3] = node.get("translation", [0, 0, 0])
    return m


def tile_points(glb: bytes) -> dict[int, np.ndarray]:
    """Global element index -> its vertices in the world frame (Z-up), from one tile."""
    doc, blob = read_glb(decode_glb(glb))
    table_view = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0][
        "properties"]["element"]["values"]
    view = doc["bufferViews"][table_view]
    elements = np.frombuffer(blob, dtype="<u4", count=view["byteLength"] // 4,
                             offset=view.get("byteOffset", 0))
    out: dict[int, list[np.ndarray]] = {}
    scene = doc["scenes"][doc.get("scene", 0)]
    stack = [(k, np.eye(4)) for k in scene["nodes"]]
    while stack:
        k, parent = stack.pop()
        node = doc["nodes"][k]
        base = parent @ _trs(node)
        stack += [(c, base) for c in node.get("children", [])]
        if "mesh" not in node:
            continue
        inst = (node.get("extensions") or {}).get("EXT_mesh_gpu_instancing")
        mats: list[tuple[np.ndarray, int | None]] = [(base, None)]
        if inst:
            a = inst["attributes"]
            t = accessor(doc, blob, a["TRANSLATION"])
            n = len(t)  # ROTATION and SCALE are optional (identity; the node carries them)
            r = accessor(doc, blob, a["ROTATION"]) if "ROTATION" in a else np.tile(
                [0.0, 0.0, 0.0, 1.0], (n, 1))
            s = accessor(doc, blob, a["SCALE"]) if "SCALE" in a else np.ones((n, 3))
            f = accessor(doc, blob, a["_FEATURE_ID_0"])
            mats = [(base @ _trs({"translation": list(map(float, t[k])),
                                  "rotation": list(map(float, r[k])),
                                  "scale": list(map(float, s[k]))}), int(f[k, 0]))
                    for k in range(len(t))]
        for prim in doc["meshes"][node["mesh"]]["primitives"]:
            pos = accessor(doc, blob, prim["attributes"]["POSITION"]).astype(np.float64)
            # only the vertices the primitive draws (accessors may be shared by primitives)
            used = np.unique(accessor(doc, blob, prim["indices"])[:, 0]) if "indices" in prim \
                else np.arange(len(pos))
            pos = pos[used]
            fids = None
            if "_FEATURE_ID_0" in prim["attributes"]:
                fids = accessor(doc, blob, prim["attributes"]["_FEATURE_ID_0"])[used, 0].astype(
                    int)
            for m, fid in mats:
                world = (pos @ m[:3, :3].T + m[:3, 3]) @ GLTF_TO_WORLD.T
                if fid is not None:
                    out.setdefault(int(elements[fid]), []).append(world)
                else:
                    assert fids is not None
                    for u in np.unique(fids):
                        out.setdefault(int(elements[u]), []).append(world[fids == u])
    return {k: np.concatenate(v) for k, v in out.items()}


def tiles(outdir: Path) -> list[Path]:
    """The tile GLBs of an output directory."""
    return sorted((outdir / "tiles").glob("*.glb"))


def element_bounds(outdir: Path) -> np.ndarray:
    """The element table's bounds as (n, 6) (min xyz, max xyz; world frame)."""
    from vrcollab.ingest import element_table

    manifest = load_json(outdir / "manifest.json")
    return element_table.bounds_array(element_table.read(outdir, manifest))


def load_json(path: Path) -> Any:
    """A JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def glb_json_bytes(data: bytes) -> int:
    """Length of a GLB's JSON chunk."""
    return int(struct.unpack_from("<I", data, 12)[0])
