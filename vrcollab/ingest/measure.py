"""Geometric error: symmetric Hausdorff distance between two triangle sets, sampled.

Points are sampled on each surface (area-weighted, seeded, plus the vertices) and their exact
point-to-triangle distance to the other surface is computed with Open3D's raycasting scene
(a BVH). The result is divided by the reference's bounding-box diagonal, as MeshLab/Metro
report it. :func:`hausdorff_kdtree` is a dependency-light check used by the tests.
"""

from __future__ import annotations

import numpy as np

from vrcollab.ingest.model import FloatArray, IndexArray, Model

DEFAULT_SAMPLES = 60_000


def flatten(model: Model) -> tuple[FloatArray, IndexArray]:
    """All triangles of ``model`` as one (vertices, faces) pair."""
    vs: list[FloatArray] = []
    fs: list[IndexArray] = []
    base = 0
    for part in model.parts:
        for prim in part.primitives:
            vs.append(prim.vertices)
            fs.append(prim.faces + base)
            base += len(prim.vertices)
    if not vs:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(vs), np.concatenate(fs)


def sample_surface(
    vertices: FloatArray, faces: IndexArray, count: int, seed: int = 0
) -> FloatArray:
    """``count`` area-weighted random points on the triangles plus up to ``count`` vertices."""
    rng = np.random.default_rng(seed)
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    area = np.linalg.norm(np.cross(b - a, c - a), axis=1)
    total = area.sum()
    if total <= 0:
        return vertices[np.unique(faces)]
    pick = rng.choice(len(faces), size=count, p=area / total)
    r1, r2 = rng.random(count), rng.random(count)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    pts = a[pick] + r1[:, None] * (b[pick] - a[pick]) + r2[:, None] * (c[pick] - a[pick])
    used = np.unique(faces)
    if len(used) > count:
        used = rng.choice(used, size=count, replace=False)
    return np.concatenate([pts, vertices[used]])


def _distances(points: FloatArray, vertices: FloatArray, faces: IndexArray) -> FloatArray:
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor.from_numpy(np.ascontiguousarray(vertices, dtype=np.float32)),
        o3d.core.Tensor.from_numpy(np.ascontiguousarray(faces, dtype=np.uint32)),
    )
    query = o3d.core.Tensor.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    d = scene.compute_distance(query)
    return np.asarray(d.numpy(), dtype=np.float64)


class ErrorMeter:
    """Measures many candidate levels against one reference (its BVH and samples are reused)."""

    def __init__(
        self, vertices: FloatArray, faces: IndexArray, samples: int = DEFAULT_SAMPLES,
        seed: int = 0,
    ) -> None:
        import open3d as o3d

        self.samples, self.seed = samples, seed
        self.shift = vertices.min(axis=0) if len(vertices) else np.zeros(3)
        self.diag = float(np.linalg.norm(np.ptp(vertices[np.unique(faces)], axis=0)))
        rv = vertices - self.shift
        self.points = sample_surface(rv, faces, samples, seed)
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(
            o3d.core.Tensor.from_numpy(np.ascontiguousarray(rv, dtype=np.float32)),
            o3d.core.Tensor.from_numpy(np.ascontiguousarray(faces, dtype=np.uint32)),
        )

    def error(self, vertices: FloatArray, faces: IndexArray) -> float:
        """Symmetric sampled Hausdorff distance to the reference over its diagonal."""
        import open3d as o3d

        if self.diag <= 0 or len(faces) == 0:
            return 0.0 if self.diag <= 0 else float("inf")
        ov = vertices - self.shift
        pts = sample_surface(ov, faces, self.samples, self.seed + 1)
        d_other = self.scene.compute_distance(
            o3d.core.Tensor.from_numpy(np.ascontiguousarray(pts, dtype=np.float32))).numpy().max()
        d_ref = _distances(self.points, ov, faces).max()
        return float(max(d_other, d_ref) / self.diag)


def hausdorff(
    ref: tuple[FloatArray, IndexArray],
    other: tuple[FloatArray, IndexArray],
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> float:
    """Symmetric sampled Hausdorff distance divided by ``ref``'s bounding-box diagonal."""
    (rv, rf), (ov, of) = ref, other
    if len(rf) == 0 or len(of) == 0:
        return float("inf") if len(rf) != len(of) else 0.0
    diag = float(np.linalg.norm(np.ptp(rv[np.unique(rf)], axis=0)))
    if diag <= 0:
        return 0.0
    shift = rv.min(axis=0)  # float32 precision for far-away models
    rv, ov = rv - shift, ov - shift
    d1 = _distances(sample_surface(rv, rf, samples, seed), ov, of).max()
    d2 = _distances(sample_surface(ov, of, samples, seed + 1), rv, rf).max()
    return float(max(d1, d2) / diag)


def hausdorff_kdtree(
    ref: tuple[FloatArray, IndexArray],
    other: tuple[FloatArray, IndexArray],
    samples: int = 200_000,
    seed: int = 0,
) -> float:
    """Point-to-point approximation with scipy's cKDTree (an upper bound, sampling-limited)."""
    from scipy.spatial import cKDTree

    (rv, rf), (ov, of) = ref, other
    diag = float(np.linalg.norm(np.ptp(rv[np.unique(rf)], axis=0)))
    pr = sample_surface(rv, rf, samples, seed)
    po = sample_surface(ov, of, samples, seed + 1)
    d1 = cKDTree(po).query(pr[: samples // 4])[0].max()
    d2 = cKDTree(pr).query(po[: samples // 4])[0].max()
    return float(max(d1, d2) / diag) if diag > 0 else 0.0
