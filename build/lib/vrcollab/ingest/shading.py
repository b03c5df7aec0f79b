"""Vertex normals with sharp creases kept: vertices are split where the surface folds.

Corners around a vertex are joined when the faces they belong to share an edge whose dihedral
angle is below the crease angle; every joined group becomes one output vertex with the
area-weighted average normal of its faces. Edges are matched by position, so UV seams (split
vertices at one position) still get smooth normals. Linear in the number of triangles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vrcollab.ingest.model import FloatArray, IndexArray
from vrcollab.ingest.repair import unique_1d

CREASE_DEGREES = 40.0


def _position_ids(vertices: FloatArray, uv: FloatArray | None) -> IndexArray:
    if uv is None:  # repaired meshes are welded: every vertex is its own position
        return np.arange(len(vertices), dtype=np.int64)
    _, inverse = np.unique(vertices, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _corner_groups(pf: IndexArray, unit: FloatArray, cos_limit: float,
                   creased: npt.NDArray[np.bool_]) -> tuple[IndexArray, int]:
    """Group label per corner: corners at a creased position joined across smooth manifold
    edges (connected components); every other position is one group of its own."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = len(pf)
    cpos = pf.reshape(-1)
    corner = np.arange(3 * m, dtype=np.int64).reshape(m, 3)
    # half-edges (corner a, corner b) touching a creased position; an edge's half-edges all
    # share its end positions, so the manifold test below sees every one of them
    ea = np.concatenate([corner[:, 0], corner[:, 1], corner[:, 2]])
    eb = np.concatenate([corner[:, 1], corner[:, 2], corner[:, 0]])
    keep = creased[cpos[ea]] | creased[cpos[eb]]
    ea, eb = ea[keep], eb[keep]
    pa, pb = cpos[ea], cpos[eb]
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
    order = np.argsort(lo * (int(hi.max(initial=0)) + 1) + hi, kind="stable")
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
    pa1, pa2 = cpos[a1], cpos[a2]
    # the other face traverses the edge either reversed (consistent winding) or not
    c_for_a = np.where(pa2 == pa1, a2, b2)
    c_for_b = np.where(pa2 == pa1, b2, a2)
    rows = np.concatenate([a1, b1])
    cols = np.concatenate([c_for_a, c_for_b])
    # only corners at creased positions are grouped by the graph
    at_crease = np.flatnonzero(creased[cpos])
    local = np.full(3 * m, -1, dtype=np.int64)
    local[at_crease] = np.arange(len(at_crease))
    joined = local[rows] >= 0
    rows, cols = local[rows[joined]], local[cols[joined]]
    n = len(at_crease)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    count, comp = connected_components(graph, directed=False)
    label = count + cpos  # smooth positions: one group each
    label[at_crease] = comp
    return label.astype(np.int64), int(count) + int(cpos.max(initial=-1)) + 1


def crease_normals(
    vertices: FloatArray,
    faces: IndexArray,
    uv: FloatArray | None,
    crease_degrees: float = CREASE_DEGREES,
) -> tuple[FloatArray, IndexArray, FloatArray | None, FloatArray]:
    """Split vertices at creases; returns (vertices, faces, uv, unit normals).

    Positions whose corners all lie within half the crease angle of their area-weighted
    normal are smooth (no two of their faces can fold by more than the crease angle) and keep
    one normal; only the others go through the edge graph.
    """
    m = len(faces)
    a = vertices[faces[:, 0]]
    cross = np.cross(vertices[faces[:, 1]] - a, vertices[faces[:, 2]] - a)
    norm = np.linalg.norm(cross, axis=1)
    unit = cross / np.where(norm > 0, norm, 1.0)[:, None]
    cos_limit = float(np.cos(np.radians(crease_degrees)))
    pid = _position_ids(vertices, uv)
    pf = pid[faces]  # (m, 3) position ids per corner
    cpos = pf.reshape(-1)
    positions = int(pid.max(initial=-1)) + 1
    summed: FloatArray = np.stack(
        [np.bincount(cpos, weights=np.repeat(cross[:, k], 3), minlength=positions)
         for k in range(3)], axis=1).astype(np.float64)
    vl = np.linalg.norm(summed, axis=1)
    vn: FloatArray = summed / np.where(vl > 0, vl, 1.0)[:, None]
    corner_dot = np.einsum("ijk,ik->ij", vn[pf], unit).reshape(-1)
    bent = corner_dot < np.cos(np.radians(crease_degrees / 2))
    creased = np.bincount(cpos[bent], minlength=positions) > 0
    creased |= vl <= 0
    if uv is None and not creased.any():  # smooth surface (scans): nothing to split
        return vertices, faces, uv, vn
    label, groups = _corner_groups(pf, unit, cos_limit, creased)
    # normal per group: sum of area-weighted face normals of its corners
    group_n = np.stack(
        [np.bincount(label, weights=np.repeat(cross[:, k], 3), minlength=groups)
         for k in range(3)], axis=1,
    )
    gl = np.linalg.norm(group_n, axis=1)
    # smooth corners keep their source vertex (its position's one group, so UV seams stay
    # split); creased corners get a vertex per (group, source vertex)
    src = faces.reshape(-1)
    at_crease = creased[cpos]
    keep = np.bincount(src[~at_crease], minlength=len(vertices)) > 0
    kept = np.flatnonzero(keep)
    remap = np.cumsum(keep) - 1
    out_corner = np.empty(3 * m, dtype=np.int64)
    out_corner[~at_crease] = remap[src[~at_crease]]
    c_idx = np.flatnonzero(at_crease)
    key = label[c_idx] * (int(src.max()) + 1) + src[c_idx]
    first, inverse = unique_1d(key)
    out_corner[c_idx] = len(kept) + inverse.reshape(-1)
    new_src = np.concatenate([kept, src[c_idx[first]]])
    smooth = np.flatnonzero(~at_crease)
    vertex_group = np.zeros(len(vertices), dtype=np.int64)
    vertex_group[src[smooth]] = label[smooth]  # one group per smooth position
    g = np.concatenate([vertex_group[kept], label[c_idx[first]]])
    out_v = vertices[new_src]
    out_uv = uv[new_src] if uv is not None else None
    normals = group_n[g] / np.where(gl[g] > 0, gl[g], 1.0)[:, None]
    bad = gl[g] <= 0
    if np.any(bad):
        corner_of = np.empty(len(new_src), dtype=np.int64)
        corner_of[out_corner[::-1]] = np.arange(3 * m - 1, -1, -1)  # first corner wins
        normals[bad] = unit[corner_of[bad] // 3]
        still = np.linalg.norm(normals, axis=1) == 0
        normals[still] = (0.0, 0.0, 1.0)
    return out_v, out_corner.reshape(m, 3), out_uv, normals
