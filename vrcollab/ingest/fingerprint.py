"""Per-part geometry hashes: what version re-anchoring compares to spot a changed element.

:func:`geometry_hash` is a SHA-256 (64 lowercase hex digits) of a part's full-resolution repaired
triangles in metres, in *original* coordinates (stored + ``Model.offset``), so recentring never
changes it while moving the element does. It does not depend on vertex order, face order, the
split into primitives (materials) or winding:

1. positions are snapped to a fixed grid of :data:`GRID_M` (1 mm), absolute rather than relative
   to the model's size so an element's hash does not change when *other* elements change the
   model's bounds; differences below the grid are ignored (float noise from re-export, welding),
   a vertex moving by more than a grid step changes the hash;
2. every used grid point gets its rank among the part's distinct grid points (a canonical
   numbering), each triangle becomes its three ranks sorted, and the triangles are sorted;
3. the hash covers a header (scheme, grid, counts), the sorted grid points and the sorted
   triangles, as little-endian int64.

A vertex exactly on a half-grid boundary can still round either way under noise; that is the
price of any grid. All numpy, no Python loop over triangles (about 0.5 s for 1.1 M triangles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from vrcollab.ingest.model import IndexArray, Part, Primitive

GRID_M = 1e-3
SCHEME = b"vrcollab-geometry-hash/1"
_BITS = 21  # per packed coordinate / rank: 3 * 21 = 63 bits fit an int64
_LIMIT = 1 << _BITS


def part_hash(part: Part, offset: Sequence[float] = (0.0, 0.0, 0.0),
              grid: float = GRID_M) -> str:
    """:func:`geometry_hash` of all primitives of ``part``."""
    return geometry_hash(part.primitives, offset, grid)


def geometry_hash(primitives: Iterable[Primitive], offset: Sequence[float] = (0.0, 0.0, 0.0),
                  grid: float = GRID_M) -> str:
    """Hex SHA-256 of the triangles of ``primitives`` (stored coordinates + ``offset``, metres)."""
    verts, faces = _merged(primitives)
    h = hashlib.sha256(SCHEME)
    h.update(np.asarray([grid], dtype="<f8").tobytes())
    if not len(faces):
        h.update(np.zeros(2, dtype="<i8").tobytes())
        return h.hexdigest()
    counts = np.bincount(faces.reshape(-1), minlength=len(verts))
    used = np.flatnonzero(counts)  # = np.unique(faces), without a sort
    local = (np.cumsum(counts > 0) - 1)[faces]
    q = np.rint((verts[used] + np.asarray(offset, dtype=np.float64)) / grid).astype(np.int64)
    points, rank = _canonical_points(q)
    tris = np.sort(rank[local.reshape(-1, 3)], axis=1)
    tris = _sorted_rows(tris, len(points))
    h.update(np.asarray([len(points), len(tris)], dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(points, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(tris, dtype="<i8").tobytes())
    return h.hexdigest()


def _merged(primitives: Iterable[Primitive]) -> tuple[np.ndarray, IndexArray]:
    verts: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    base = 0
    for prim in primitives:
        if not len(prim.faces):
            continue
        verts.append(np.asarray(prim.vertices, dtype=np.float64))
        faces.append(np.asarray(prim.faces, dtype=np.int64) + base)
        base += len(prim.vertices)
    if not faces:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(verts), np.concatenate(faces)


def _canonical_points(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct grid points (lexicographically sorted, (k, 3)) and each row's rank among them."""
    lo = q.min(axis=0)
    rel = q - lo
    if int(rel.max()) < _LIMIT:  # parts up to ~2 km per axis: one packed int64 key per point
        key = (rel[:, 0] << (2 * _BITS)) | (rel[:, 1] << _BITS) | rel[:, 2]
        uniq, rank = np.unique(key, return_inverse=True)
        points = np.stack([uniq >> (2 * _BITS), (uniq >> _BITS) & (_LIMIT - 1),
                           uniq & (_LIMIT - 1)], axis=1) + lo
        return points, rank.reshape(-1)
    points, rank = np.unique(q, axis=0, return_inverse=True)
    return points, rank.reshape(-1)


def _sorted_rows(tris: np.ndarray, count: int) -> np.ndarray:
    """Rows of sorted vertex ranks, in lexicographic order."""
    if count < _LIMIT:
        key = np.sort((tris[:, 0] << (2 * _BITS)) | (tris[:, 1] << _BITS) | tris[:, 2])
        return np.stack([key >> (2 * _BITS), (key >> _BITS) & (_LIMIT - 1),
                         key & (_LIMIT - 1)], axis=1)
    order = np.lexsort((tris[:, 2], tris[:, 1], tris[:, 0]))
    return tris[order]


def placed_hashes(primitives: Sequence[Primitive], matrices: Sequence[np.ndarray],
                  offset: Sequence[float] = (0.0, 0.0, 0.0), grid: float = GRID_M) -> list[str]:
    """:func:`geometry_hash` of ``primitives`` placed by each 4x4 matrix (one shared
    representation, many elements), equal to hashing every placed copy on its own but
    vectorised over the copies: the grid snap, the canonical numbering and the sorts run once
    on (copies, points) arrays; only the SHA-256 runs per copy."""
    verts, faces = _merged(primitives)
    if not len(faces) or not len(matrices):
        return [geometry_hash([Primitive(_place(m, verts), faces)], offset, grid)
                for m in matrices]
    counts = np.bincount(faces.reshape(-1), minlength=len(verts))
    used = np.flatnonzero(counts)
    local = (np.cumsum(counts > 0) - 1)[faces]
    mats = np.asarray(matrices, dtype=np.float64)
    pts = verts[used]
    world = np.matmul(pts[None, :, :], np.transpose(mats[:, :3, :3], (0, 2, 1)))
    world += mats[:, None, :3, 3]
    q = np.rint((world + np.asarray(offset, dtype=np.float64)) / grid).astype(np.int64)
    lo = q.min(axis=1, keepdims=True)
    rel = q - lo
    if int(rel.max()) >= _LIMIT or len(used) >= _LIMIT:  # huge parts: one at a time
        return [geometry_hash([Primitive(_place(m, verts), faces)], offset, grid)
                for m in mats]
    key = (rel[..., 0] << (2 * _BITS)) | (rel[..., 1] << _BITS) | rel[..., 2]
    order = np.argsort(key, axis=1, kind="stable")
    skey = np.take_along_axis(key, order, axis=1)
    new = np.ones(skey.shape, dtype=bool)
    new[:, 1:] = skey[:, 1:] != skey[:, :-1]
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.cumsum(new, axis=1) - 1, axis=1)
    tris = np.sort(rank[:, local.reshape(-1, 3)], axis=2)
    tkey = np.sort((tris[..., 0] << (2 * _BITS)) | (tris[..., 1] << _BITS) | tris[..., 2],
                   axis=1)
    tri_rows = np.stack([tkey >> (2 * _BITS), (tkey >> _BITS) & (_LIMIT - 1),
                         tkey & (_LIMIT - 1)], axis=2).astype("<i8")
    point_rows = (np.stack([skey >> (2 * _BITS), (skey >> _BITS) & (_LIMIT - 1),
                            skey & (_LIMIT - 1)], axis=2) + lo).astype("<i8")
    head = hashlib.sha256(SCHEME)
    head.update(np.asarray([grid], dtype="<f8").tobytes())
    ntris = len(local)
    out: list[str] = []
    for k in range(len(mats)):
        points = point_rows[k][new[k]]
        h = head.copy()
        h.update(np.asarray([len(points), ntris], dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(points).tobytes())
        h.update(np.ascontiguousarray(tri_rows[k]).tobytes())
        out.append(h.hexdigest())
    return out


def _place(matrix: np.ndarray, verts: np.ndarray) -> np.ndarray:
    return np.asarray(verts @ matrix[:3, :3].T + matrix[:3, 3], dtype=np.float64)
