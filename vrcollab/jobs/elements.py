"""Per-element geometry fingerprints of a converted version, for re-anchoring annotations.

Version 2 outputs (docs/tiles.md) keep these in the element table (``elements.json``: GlobalId,
name; ``elements.hash``: 32-byte SHA-256 per element), read by :func:`table_parts`. Each part
is keyed twice: by its IFC GlobalId (when it has one) and by ``node:<glTF node name>`` (v2: the
element name), so annotations anchored by ``element_id`` or by ``node_id`` can both be looked
up.

The value is the manifest part's ``geometry_hash`` when the ingest pipeline provides one (compared
exactly). Otherwise it is a fingerprint read from the finest GLB without decoding any buffer:
``"box:<triangles>|<tolerance>|<minx,miny,minz,maxx,maxy,maxz>"``, the part's triangle count and
its bounding box in original coordinates (accessor min/max through the node transforms, plus the
manifest ``offset``, so recentring a changed model is not a change). Positions are quantised on
one grid for the whole model, so the same element can move by up to a grid step between versions
whose overall bounds differ: :func:`same_geometry` compares boxes within the larger of the two
versions' tolerances (a few grid steps, at least 1 mm) instead of bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib

MIN_TOLERANCE_M = 1e-3
ASSUMED_POSITION_BITS = 14  # the pipeline's default; the manifest does not record it
GRID_STEPS = 3.0


def element_keys(part: dict[str, Any]) -> list[str]:
    """The lookup keys of a manifest part: its IFC GlobalId and ``node:<name>``."""
    keys = []
    if part.get("element_id"):
        keys.append(str(part["element_id"]))
    if part.get("node"):
        keys.append(f"node:{part['node']}")
    return keys


def annotation_key(annotation: dict[str, Any]) -> str | None:
    """The element key an annotation is anchored to (``element_id``, else ``node_id``)."""
    if annotation.get("element_id"):
        return str(annotation["element_id"])
    if annotation.get("node_id"):
        return f"node:{annotation['node_id']}"
    return None


def table_parts(outdir: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The element table of a v2 output (docs/tiles.md T6) as manifest-v1-like part rows
    (``node`` = element name, ``element_id`` = GlobalId, ``geometry_hash``)."""
    from vrcollab.ingest import element_table

    entry = manifest.get("elements") or {}
    table = element_table.read(outdir, manifest)
    cols = table.get("columns") or {}
    classes = table.get("classes") or []
    count = int(table.get("count") or 0)

    def col(key: str) -> list[Any]:
        values = list(cols.get(key) or [])
        return values + [None] * (count - len(values))

    cls = [classes[c] if isinstance(c, int) and 0 <= c < len(classes) else None
           for c in col("class")]
    hashes: list[str | None] = [None] * count
    hname = str(entry.get("hashes") or "")
    if hname and "/" not in hname and "\\" not in hname and not hname.startswith("."):
        raw = (outdir / hname).read_bytes()
        if len(raw) == 32 * count:
            hashes = [raw[32 * i:32 * i + 32].hex() for i in range(count)]
    return [{"node": n, "element_id": g, "ifc_class": c, "triangles": t, "geometry_hash": h}
            for n, g, c, t, h in zip(col("name"), col("globalId"), cls, col("triangles"),
                                     hashes, strict=True)]


def element_hashes(outdir: Path, result: Any = None) -> dict[str, str]:
    """Element key -> geometry fingerprint for the conversion output in ``outdir``
    (manifest v1 parts, or the v2 element table)."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    if int(manifest.get("version") or 1) >= 2:
        parts: list[dict[str, Any]] = table_parts(outdir, manifest)
    else:
        parts = list(manifest.get("parts") or [])
    if parts and all(p.get("geometry_hash") for p in parts):
        given: dict[str, list[str]] = {}
        for p in parts:
            for k in element_keys(p):
                given.setdefault(k, []).append(str(p["geometry_hash"]))
        return {k: "+".join(sorted(v)) for k, v in given.items()}
    levels = manifest.get("levels") or []
    if not levels:
        return {}
    offset = np.asarray(manifest.get("offset") or [0.0, 0.0, 0.0], dtype=np.float64)
    tolerance = _tolerance(manifest)
    boxes = node_boxes(outdir / levels[0]["file"])
    out: dict[str, list[tuple[int, list[float]]]] = {}
    for part in parts:
        box = boxes.get(str(part.get("node")))
        coords = [] if box is None else [float(v) for v in box + np.concatenate([offset, offset])]
        for key in element_keys(part):
            out.setdefault(key, []).append((int(part.get("triangles") or 0), coords))
    return {k: "+".join(_box_text(t, tolerance, c) for t, c in sorted(v, key=_order))
            for k, v in out.items()}


def _order(item: tuple[int, list[float]]) -> tuple[int, list[int]]:
    return item[0], [round(x * 100) for x in item[1]]  # stable across grid-step jitter


def _box_text(triangles: int, tolerance: float, coords: list[float]) -> str:
    return f"box:{triangles}|{tolerance:.6g}|" + ",".join(f"{x:.5f}" for x in coords)


def _tolerance(manifest: dict[str, Any]) -> float:
    bounds = manifest.get("bounds") or {}
    try:
        extent = max(float(b) - float(a) for a, b in zip(bounds["min"], bounds["max"],
                                                          strict=True))
    except (KeyError, TypeError, ValueError):
        extent = 0.0
    quantised = "quantization" in str(manifest.get("compression", "quantization")).lower()
    step = extent / (2**ASSUMED_POSITION_BITS - 1) if quantised else 0.0
    return max(MIN_TOLERANCE_M, GRID_STEPS * step)


def same_geometry(a: str, b: str) -> bool:
    """Whether two fingerprints describe the same geometry (boxes within tolerance)."""
    if a == b:
        return True
    pa, pb = a.split("+"), b.split("+")
    if len(pa) != len(pb) or not all(x.startswith("box:") for x in (*pa, *pb)):
        return False
    for x, y in zip(pa, pb, strict=True):
        tx, tolx, cx = x[4:].split("|")
        ty, toly, cy = y[4:].split("|")
        if tx != ty:
            return False
        vx = [float(v) for v in cx.split(",") if v]
        vy = [float(v) for v in cy.split(",") if v]
        tol = max(float(tolx), float(toly))
        if len(vx) != len(vy) or any(abs(p - q) > tol for p, q in zip(vx, vy, strict=True)):
            return False
    return True


def _local_matrix(node: pygltflib.Node) -> np.ndarray:
    if node.matrix:
        return np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
    t = np.asarray(node.translation or [0, 0, 0], dtype=np.float64)
    x, y, z, w = node.rotation or [0, 0, 0, 1]
    s = np.asarray(node.scale or [1, 1, 1], dtype=np.float64)
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    m = np.eye(4)
    m[:3, :3] = r * s
    m[:3, 3] = t
    return m


def _dequantize(values: list[float], accessor: pygltflib.Accessor) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if accessor.normalized:
        scale = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}.get(
            accessor.componentType, 1.0
        )
        arr = arr / scale
        if accessor.componentType in (5120, 5122):
            arr = np.maximum(arr, -1.0)
    return arr


def node_boxes(glb: Path) -> dict[str, np.ndarray]:
    """Node name -> world-space AABB ``[minx, miny, minz, maxx, maxy, maxz]`` of its meshes."""
    gltf = pygltflib.GLTF2().load(str(glb))
    if gltf is None:
        return {}
    boxes: dict[str, np.ndarray] = {}
    roots: list[int] = []
    for scene in gltf.scenes or []:
        roots.extend(scene.nodes or [])
    stack = [(i, np.eye(4)) for i in roots]
    while stack:
        index, parent = stack.pop()
        node = gltf.nodes[index]
        world = parent @ _local_matrix(node)
        if node.mesh is not None and node.name:
            box = _mesh_box(gltf, node.mesh, world)
            if box is not None:
                old = boxes.get(node.name)
                boxes[node.name] = box if old is None else np.concatenate(
                    [np.minimum(old[:3], box[:3]), np.maximum(old[3:], box[3:])]
                )
        stack.extend((child, world) for child in node.children or [])
    return boxes


def _mesh_box(gltf: pygltflib.GLTF2, mesh_index: int, world: np.ndarray) -> np.ndarray | None:
    lows, highs = [], []
    for prim in gltf.meshes[mesh_index].primitives:
        acc_index = prim.attributes.POSITION
        if acc_index is None:
            continue
        acc = gltf.accessors[acc_index]
        if not acc.min or not acc.max:
            continue
        lo, hi = _dequantize(acc.min, acc), _dequantize(acc.max, acc)
        corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
        pts = (world @ corners.T).T[:, :3]
        lows.append(pts.min(axis=0))
        highs.append(pts.max(axis=0))
    if not lows:
        return None
    return np.concatenate([np.min(lows, axis=0), np.max(highs, axis=0)])
