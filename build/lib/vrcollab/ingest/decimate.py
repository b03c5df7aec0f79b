"""Decimation to a triangle budget, with interchangeable backends behind :func:`decimate`.

- ``meshoptimizer`` (default): one global pass over all parts at once, so the budget goes where
  the error is smallest; edge collapses only reuse existing vertices, so UVs and part identity
  survive, UV seams stay seams, and borders are locked first (unlocked only when the lock keeps
  the result far above the budget).
- ``fast-simplification`` and ``open3d`` (quadric decimation): per primitive, the budget shared
  in proportion to triangle counts; UVs are carried over from the nearest source vertex.

For the per-primitive backends, primitives above :data:`CLUSTER_ABOVE` triangles are first
reduced by Open3D vertex clustering (their quadric simplifiers would take too long and too much
memory there); meshoptimizer handles such inputs directly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np

from vrcollab.errors import ConfigError
from vrcollab.ingest.model import FloatArray, IndexArray, Model, Part, Primitive

Decimator = Literal["meshoptimizer", "fast-simplification", "open3d"]
DECIMATORS: tuple[Decimator, ...] = ("meshoptimizer", "fast-simplification", "open3d")
DEFAULT_DECIMATOR: Decimator = "meshoptimizer"
CLUSTER_ABOVE = 6_000_000
#: meshoptimizer stops before its error (relative to the largest extent) exceeds this.
MAX_ERROR = 0.01
#: A primitive is never reduced below this many triangles by the proportional backends.
MIN_TRIANGLES = 4


def decimate(
    model: Model, target: int, backend: Decimator = DEFAULT_DECIMATOR,
    max_error: float = MAX_ERROR,
) -> Model:
    """A copy of ``model`` with at most about ``target`` triangles in total.

    The meshoptimizer backend stops early rather than exceed ``max_error`` (relative to the
    model's largest extent), so a box is never collapsed into a sliver to meet a budget; the
    level then stays above its target and the budget report says so.
    """
    if backend not in DECIMATORS:
        raise ConfigError(f"unknown decimator {backend!r}; use one of {', '.join(DECIMATORS)}")
    if model.triangles <= target:
        return model
    if backend == "meshoptimizer":
        return _meshopt_global(model, target, max_error)
    return _proportional(model, target, backend)


# --- meshoptimizer: one global pass ----------------------------------------------------------


def _meshopt_global(model: Model, target: int, max_error: float) -> Model:
    import meshoptimizer as mo

    prims = [(pi, qi, prim) for pi, part in enumerate(model.parts)
             for qi, prim in enumerate(part.primitives)]
    sizes = np.array([len(p.vertices) for _, _, p in prims], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    verts = np.concatenate([p.vertices for _, _, p in prims]).astype(np.float32)
    index = np.concatenate([p.faces + starts[i] for i, (_, _, p) in enumerate(prims)])
    index = np.ascontiguousarray(index.reshape(-1), dtype=np.uint32)
    verts = np.ascontiguousarray(verts)
    lo = verts.min(axis=0)
    verts -= lo  # better float precision for far-away or large models
    best: np.ndarray | None = None
    for options in (mo.SIMPLIFY_LOCK_BORDER, 0):
        dest = np.zeros(len(index), dtype=np.uint32)
        count = mo.simplify(
            dest, index, verts, target_index_count=int(target) * 3, target_error=max_error,
            options=options,
        )
        if best is None or count < len(best):
            best = dest[:count]
        if count <= 1.5 * target * 3:
            break
    assert best is not None
    tris = best.reshape(-1, 3).astype(np.int64)
    owner = np.searchsorted(starts, tris[:, 0], side="right") - 1
    new_parts = [replace(part, primitives=list(part.primitives)) for part in model.parts]
    for i, (pi, qi, prim) in enumerate(prims):
        faces = tris[owner == i] - starts[i]
        new_parts[pi].primitives[qi] = _compact(prim, faces)
    return _drop_empty(model, new_parts)


def _compact(prim: Primitive, faces: IndexArray) -> Primitive:
    used = np.flatnonzero(np.bincount(faces.reshape(-1), minlength=len(prim.vertices)))
    remap = np.full(len(prim.vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    uv = prim.uv[used] if prim.uv is not None else None
    return prim.with_geometry(prim.vertices[used], remap[faces], uv)


def _drop_empty(model: Model, parts: list[Part]) -> Model:
    kept: list[Part] = []
    for part in parts:
        prims = [p for p in part.primitives if len(p.faces)]
        if prims:
            kept.append(replace(part, primitives=prims))
    return replace(model, parts=kept)


# --- per-primitive backends ------------------------------------------------------------------


def _budgets(counts: np.ndarray, target: int) -> np.ndarray:
    """Per-primitive targets, proportional to size, never below MIN_TRIANGLES."""
    floor = np.minimum(counts, MIN_TRIANGLES)
    ratio = target / max(int(counts.sum()), 1)
    for _ in range(4):
        budget = np.maximum(floor, np.floor(counts * ratio)).astype(np.int64)
        budget = np.minimum(budget, counts)
        total = int(budget.sum())
        if total <= target or ratio <= 1e-6:
            break
        ratio *= target / total
    return budget


def _proportional(model: Model, target: int, backend: Decimator) -> Model:
    counts = np.array([p.triangles for part in model.parts for p in part.primitives])
    budgets = iter(_budgets(counts, target))
    new_parts: list[Part] = []
    for part in model.parts:
        prims: list[Primitive] = []
        for prim in part.primitives:
            budget = int(next(budgets))
            if budget >= prim.triangles:
                prims.append(prim)
                continue
            v, f = simplify_arrays(prim.vertices, prim.faces, budget, backend)
            uv = _transfer_uv(prim, v) if prim.uv is not None else None
            prims.append(prim.with_geometry(v, f, uv))
        new_parts.append(replace(part, primitives=prims))
    return _drop_empty(model, new_parts)


def _transfer_uv(prim: Primitive, vertices: FloatArray) -> FloatArray | None:
    from scipy.spatial import cKDTree

    assert prim.uv is not None
    _, nearest = cKDTree(prim.vertices).query(vertices)
    return prim.uv[nearest]


def simplify_arrays(
    vertices: FloatArray, faces: IndexArray, target: int, backend: Decimator
) -> tuple[FloatArray, IndexArray]:
    """Simplify one mesh with ``backend``; returns new (vertices, faces)."""
    if len(faces) > CLUSTER_ABOVE and target < CLUSTER_ABOVE:
        vertices, faces = cluster(vertices, faces, CLUSTER_ABOVE // 2)
    if len(faces) <= target:
        return vertices, faces
    if backend == "open3d":
        import open3d as o3d

        mesh = o3d.geometry.TriangleMesh(
            o3d.utility.Vector3dVector(np.ascontiguousarray(vertices, dtype=np.float64)),
            o3d.utility.Vector3iVector(np.ascontiguousarray(faces, dtype=np.int32)),
        )
        out = mesh.simplify_quadric_decimation(target_number_of_triangles=int(target))
        return np.asarray(out.vertices, dtype=np.float64), np.asarray(out.triangles, np.int64)
    if backend == "fast-simplification":
        import fast_simplification

        ratio = 1.0 - target / len(faces)
        v, f = fast_simplification.simplify(
            np.ascontiguousarray(vertices, dtype=np.float32),
            np.ascontiguousarray(faces, dtype=np.int64),
            target_reduction=float(min(max(ratio, 0.0), 0.999)),
        )
        return np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)
    import meshoptimizer as mo

    index = np.ascontiguousarray(faces.reshape(-1), dtype=np.uint32)
    dest = np.zeros(len(index), dtype=np.uint32)
    base = vertices.min(axis=0)
    pos = np.ascontiguousarray(vertices - base, dtype=np.float32)
    n = mo.simplify(dest, index, pos, target_index_count=int(target) * 3, target_error=1.0)
    f = dest[:n].reshape(-1, 3).astype(np.int64)
    used = np.unique(f)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[f]


def cluster(vertices: FloatArray, faces: IndexArray, target: int) -> tuple[FloatArray, IndexArray]:
    """Open3D vertex clustering to roughly ``target`` triangles (for very large inputs)."""
    import open3d as o3d

    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    area = float(np.sum(np.linalg.norm(np.cross(
        vertices[faces[:, 1]] - vertices[faces[:, 0]],
        vertices[faces[:, 2]] - vertices[faces[:, 0]]), axis=1)) / 2)
    voxel = max(float(np.sqrt(2.0 * area / max(target, 1))), float(np.linalg.norm(hi - lo)) * 1e-6)
    mesh = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(np.ascontiguousarray(vertices, dtype=np.float64)),
        o3d.utility.Vector3iVector(np.ascontiguousarray(faces, dtype=np.int32)),
    )
    out = mesh.simplify_vertex_clustering(
        voxel_size=voxel, contraction=o3d.geometry.SimplificationContraction.Quadric
    )
    out.remove_degenerate_triangles()
    out.remove_unreferenced_vertices()
    return np.asarray(out.vertices, dtype=np.float64), np.asarray(out.triangles, dtype=np.int64)
