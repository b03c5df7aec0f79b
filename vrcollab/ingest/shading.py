"""Vertex normals with sharp creases kept: vertices are split where the surface folds.

Corners around a vertex are joined when the faces they belong to share an edge whose dihedral
angle is below the crease angle; every joined group becomes one output vertex with the
area-weighted average normal of its faces. Edges are matched by position, so UV seams (split
vertices at one position) still get smooth normals. Linear in the number of triangles.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from vrcollab.ingest.model import FloatArray, IndexArray
from vrcollab.ingest.repair import unique_1d

CREASE_DEGREES = 40.0


def _position_ids(vertices: FloatArray, uv: FloatArray | None) -> IndexArray:
    if uv is None:  # repaired meshes are welded: every vertex is its own position
        return np.arange(len(vertices), dtype=np.int64)
    _, inverse = np.unique(vertices, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def crease_normals(
    vertices: FloatArray,
    faces: IndexArray,
    uv: FloatArray | None,
    crease_degrees: float = CREASE_DEGREES,
) -> tuple[FloatArray, IndexArray, FloatArray | None, FloatArray]:
    """Split vertices at creases; returns (vertices, faces, uv, unit normals)."""
    m = len(faces)
    cross = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]],
                     vertices[faces[:, 2]] - vertices[faces[:, 0]])
    norm = np.linalg.norm(cross, axis=1)
    unit = cross / np.where(norm > 0, norm, 1.0)[:, None]
    cos_limit = np.cos(np.radians(crease_degrees))
    # fast path: smooth surfaces (scans) have no corner far from its vertex normal
    summed: FloatArray = np.stack(
        [np.bincount(faces.reshape(-1), weights=np.repeat(cross[:, k], 3),
                     minlength=len(vertices)) for k in range(3)], axis=1).astype(np.float64)
    vl = np.linalg.norm(summed, axis=1)
    vn: FloatArray = summed / np.where(vl > 0, vl, 1.0)[:, None]
    corner_dot = np.einsum("ijk,ik->ij", vn[faces], unit)
    if uv is None and corner_dot.min() >= np.cos(np.radians(crease_degrees / 2)) and vl.all():
        return vertices, faces, uv, vn
    pid = _position_ids(vertices, uv)
    pf = pid[faces]  # (m, 3) position ids per corner
    corner = np.arange(3 * m, dtype=np.int64).reshape(m, 3)
    # half-edges: (face, corner a, corner b) for the three edges of every face
    ea = np.concatenate([corner[:, 0], corner[:, 1], corner[:, 2]])
    eb = np.concatenate([corner[:, 1], corner[:, 2], corner[:, 0]])
    pa, pb = pf.reshape(-1)[ea], pf.reshape(-1)[eb]
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
    order = np.argsort(lo * (int(hi.max()) + 1) + hi, kind="stable")
    lo_s, hi_s = lo[order], hi[order]
    same = (lo_s[1:] == lo_s[:-1]) & (hi_s[1:] == hi_s[:-1])
    # only edges shared by exactly two faces (manifold) are candidates for smoothing
    idx = np.nonzero(same)[0]
    if len(idx):
        prev_same = np.zeros(len(same) + 1, dtype=bool)
        prev_same[1:] = same
        next_same = np.zeros(len(same) + 1, dtype=bool)
        next_same[:-1] = same
        manifold = ~prev_same[idx] & ~next_same[idx + 1]
        idx = idx[manifold]
    h1, h2 = order[idx], order[idx + 1]
    f1, f2 = ea[h1] // 3, ea[h2] // 3
    smooth = np.einsum("ij,ij->i", unit[f1], unit[f2]) >= cos_limit
    h1, h2 = h1[smooth], h2[smooth]
    # match the corners of the two faces at each endpoint position
    a1, b1, a2, b2 = ea[h1], eb[h1], ea[h2], eb[h2]
    pa1, pa2 = pf.reshape(-1)[a1], pf.reshape(-1)[a2]
    # the other face traverses the edge either reversed (consistent winding) or not
    c_for_a = np.where(pa2 == pa1, a2, b2)
    c_for_b = np.where(pa2 == pa1, b2, a2)
    rows = np.concatenate([a1, b1])
    cols = np.concatenate([c_for_a, c_for_b])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(3 * m, 3 * m))
    _, label = connected_components(graph, directed=False)
    # normal per group: sum of area-weighted face normals of its corners
    corner_face = np.repeat(np.arange(m), 3)
    groups = int(label.max()) + 1
    group_n = np.stack(
        [np.bincount(label, weights=cross[corner_face, k], minlength=groups) for k in range(3)],
        axis=1,
    )
    gl = np.linalg.norm(group_n, axis=1)
    # output vertex per (group, source vertex) so UV seams stay split
    src = faces.reshape(-1)
    key = label.astype(np.int64) * (int(src.max()) + 1) + src
    first, inverse = unique_1d(key)
    inverse = inverse.reshape(-1)
    out_v = vertices[src[first]]
    out_uv = uv[src[first]] if uv is not None else None
    g = label[first]
    normals = group_n[g] / np.where(gl[g] > 0, gl[g], 1.0)[:, None]
    bad = gl[g] <= 0
    if np.any(bad):
        normals[bad] = unit[corner_face[first[bad]]]
        still = np.linalg.norm(normals, axis=1) == 0
        normals[still] = (0.0, 0.0, 1.0)
    return out_v, inverse.reshape(m, 3).astype(np.int64), out_uv, normals
