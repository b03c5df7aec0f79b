"""Repair: validate, units to metres, weld, drop degenerate/duplicate faces, fix winding, recentre.

All functions are pure (arrays in, arrays out). Welding uses a tolerance relative to the model's
bounding-box diagonal, so CAD triangle soups (STL) become connected meshes before decimation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vrcollab.errors import ConfigError, InvalidGeometryError
from vrcollab.ingest.model import FloatArray, IndexArray, Model, Part, Primitive

UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001, "um": 1e-6, "km": 1000.0,
              "in": 0.0254, "ft": 0.3048, "yd": 0.9144}
#: Weld tolerance as a fraction of the bounding-box diagonal.
WELD_RELATIVE = 1e-6
#: Recentre when the model's centre is further than this from the origin (metres) ...
RECENTRE_DISTANCE = 1000.0
#: ... or further than this many bounding-box diagonals.
RECENTRE_DIAGONALS = 10.0
#: Formats whose winding is defined (glTF: counter-clockwise) or produced by a CAD kernel.
WINDING_KNOWN = frozenset({"ifc", "step", "glb", "gltf"})
#: Winding is made consistent for primitives up to this many triangles (bounded work).
MAX_WINDING_TRIANGLES = 2_000_000


def validate(model: Model, name: str) -> None:
    """Raise :class:`InvalidGeometryError` for non-finite values, bad indices or no triangles."""
    for part in model.parts:
        for prim in part.primitives:
            v, f = prim.vertices, prim.faces
            if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
                raise InvalidGeometryError(f"{name}: part {part.name!r} has malformed arrays")
            if len(f) and (f.min() < 0 or f.max() >= len(v)):
                raise InvalidGeometryError(
                    f"{name}: part {part.name!r} has face indices outside 0..{len(v) - 1}"
                )
            finite: np.ndarray = np.asarray(np.isfinite(v).all(axis=1))
            if not finite.all() and len(f) and not finite[f].all():
                raise InvalidGeometryError(
                    f"{name}: part {part.name!r} has non-finite vertex coordinates"
                )
    if model.triangles == 0:
        raise InvalidGeometryError(f"{name}: no triangles (empty file or points only)")


def unit_scale(model: Model, units: str | None) -> float:
    """Metres per source unit: the override, else the file's units, else mm for STL, else m."""
    if units is not None:
        key = units.strip().lower()
        if key not in UNIT_SCALE:
            raise ConfigError(f"unknown unit {units!r}; use one of {', '.join(UNIT_SCALE)}")
        return UNIT_SCALE[key]
    if model.units_known:
        return model.scale
    return 0.001 if model.source_format == "stl" else 1.0


def unique_1d(values: IndexArray) -> tuple[IndexArray, IndexArray]:
    """(first index of each distinct value in sorted order, inverse), by one stable sort."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = sorted_values[1:] != sorted_values[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new].astype(np.int64), inverse


def used_vertices(faces: IndexArray, count: int) -> IndexArray:
    """Sorted indices of the vertices ``faces`` refers to."""
    return np.flatnonzero(np.bincount(faces.reshape(-1), minlength=count))


def unique_rows(keys: IndexArray) -> tuple[IndexArray, IndexArray]:
    """(first index of each distinct row, inverse) for an integer array of shape (n, k).

    Rows are packed into one int64 when their value ranges fit (the common case), which
    makes this a 1-D sort instead of numpy's much slower ``unique(axis=0)``.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys = keys - keys.min(axis=0)
    spans = keys.max(axis=0) + 1
    bits = [int(x).bit_length() for x in spans]
    if sum(bits) <= 63:
        packed = np.zeros(len(keys), dtype=np.int64)
        for col, b in enumerate(bits):
            packed = (packed << b) | keys[:, col]
        first, inverse = unique_1d(packed)
    else:
        order = np.lexsort(keys.T[::-1])
        sorted_keys = keys[order]
        new = np.ones(len(keys), dtype=bool)
        new[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
        group = np.cumsum(new) - 1
        inverse = np.empty(len(keys), dtype=np.int64)
        inverse[order] = group
        first = order[new]
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def weld(
    vertices: FloatArray, faces: IndexArray, uv: FloatArray | None, tolerance: float
) -> tuple[FloatArray, IndexArray, FloatArray | None]:
    """Merge vertices closer than ``tolerance`` (and with equal UVs) and drop unused ones."""
    used = used_vertices(faces, len(vertices))
    if len(used) < len(vertices):
        remap = np.full(len(vertices), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        vertices, faces = vertices[used], remap[faces]
        uv = uv[used] if uv is not None else None
    if tolerance > 0:
        key = np.round((vertices - vertices.min(axis=0)) / tolerance).astype(np.int64)
        if uv is not None:
            key = np.hstack([key, np.round(uv * 1e6).astype(np.int64)])
        first, inverse = unique_rows(key)
        vertices = vertices[first]
        uv = uv[first] if uv is not None else None
        faces = inverse[faces]
    return vertices, faces, uv


def clean_faces(vertices: FloatArray, faces: IndexArray, area_eps: float) -> IndexArray:
    """Drop faces with repeated indices, (near) zero area, or duplicating another face."""
    f = faces
    ok = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0])
    f = f[ok]
    if len(f) == 0:
        return f
    cross = np.cross(vertices[f[:, 1]] - vertices[f[:, 0]], vertices[f[:, 2]] - vertices[f[:, 0]])
    area2 = np.einsum("ij,ij->i", cross, cross)
    f = f[area2 > area_eps * area_eps]
    if len(f) == 0:
        return f
    keep, _ = unique_rows(np.sort(f, axis=1))
    return f[np.sort(keep)]


def fix_winding(vertices: FloatArray, faces: IndexArray) -> IndexArray:
    """Make face winding consistent across each connected piece (trimesh's traversal)."""
    if len(faces) > MAX_WINDING_TRIANGLES or len(faces) < 2:
        return faces
    import trimesh

    mesh = trimesh.Trimesh(vertices, faces, process=False, validate=False)
    try:
        trimesh.repair.fix_winding(mesh)
    except Exception:
        return faces
    return np.asarray(mesh.faces, dtype=np.int64)


def repair(
    model: Model,
    name: str,
    *,
    units: str | None = None,
    weld_relative: float = WELD_RELATIVE,
    fix_normals: bool = True,
) -> Model:
    """Validated, metric, welded, cleaned and (when far away) recentred copy of ``model``."""
    validate(model, name)
    scale = unit_scale(model, units)
    lo, hi = model.bounds()
    diag = float(np.linalg.norm(hi - lo)) * scale
    if diag <= 0:
        raise InvalidGeometryError(f"{name}: all vertices coincide (zero-size model)")
    tolerance = diag * weld_relative
    area_eps = diag * diag * 1e-14
    parts: list[Part] = []
    for part in model.parts:
        prims: list[Primitive] = []
        for prim in part.primitives:
            if not len(prim.faces):
                continue
            v = prim.vertices * scale
            v, f, uv = weld(v, prim.faces, prim.uv, tolerance)
            f = clean_faces(v, f, area_eps)
            if not len(f):
                continue
            if fix_normals and model.source_format not in WINDING_KNOWN:
                f = fix_winding(v, f)
            v, f, uv = weld(v, f, uv, 0.0)  # drop vertices the cleaning left unused
            prims.append(prim.with_geometry(v, f, uv))
        if prims:
            parts.append(replace(part, primitives=prims))
    out = Model(parts=parts, source_format=model.source_format, scale=1.0, units_known=True)
    if out.triangles == 0:
        raise InvalidGeometryError(f"{name}: no triangles left after removing degenerate faces")
    return recentre(out)


def recentre(model: Model) -> Model:
    """Move a far-from-origin model to the origin, keeping the offset (metres)."""
    lo, hi = model.bounds()
    centre = (lo + hi) / 2.0
    diag = float(np.linalg.norm(hi - lo))
    dist = float(np.linalg.norm(centre))
    if dist <= RECENTRE_DISTANCE and dist <= RECENTRE_DIAGONALS * max(diag, 1e-9):
        return model
    offset = np.round(centre, 3)
    parts = [
        replace(
            part,
            primitives=[
                prim.with_geometry(prim.vertices - offset, prim.faces, prim.uv)
                for prim in part.primitives
            ],
        )
        for part in model.parts
    ]
    return replace(model, parts=parts, offset=(float(offset[0]), float(offset[1]),
                                                float(offset[2])))
