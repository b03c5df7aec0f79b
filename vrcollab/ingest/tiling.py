"""Scene -> 3D Tiles 1.1 tileset with hierarchical LOD (docs/tiles.md T3, T5).

A kd-tree over element box centres (three median splits per level, so up to eight children
per tile, like an octree that adapts to the elements; 16 leaves get four coarse parents of four)
splits the scene until a node draws at most ``leaf_triangles`` triangles (or holds one element);
leaves are full detail. Every inner node gets coarse content from its children's: elements at
least its drop size are simplified (meshoptimizer, absolute error), smaller ones are
vertex-clustered (alone they vanish, side by side they fuse into a silhouette), then coarser
grids until the content fits the coarse budget. Tiles are built and written one at a time.
A single-element scene (a scan) becomes a chain of ever finer simplifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vrcollab.ingest.scene import F64, Rep, RepMesh, Scene, transform_points
from vrcollab.ingest.tile_glb import (
    MAX_QUANT_EXTENT,
    Batch,
    InstanceGroup,
    TileStats,
    build_tile,
    decompose_many,
)

LEAF_TRIANGLES = 200_000
INSTANCE_MIN = 4
DROP_FRACTION = 1.0 / 32  # drop size of a coarse tile: this fraction of its diagonal
SIMPLIFY_FRACTION = 0.25  # simplification error: this fraction of the drop size
CHAIN_RATIO = 0.25
BRANCH_SPLITS = 3  # median splits per tree level: up to 8 children per tile (16 when the
# fourth split makes them all leaves, so a tile never has a coarse level of two-leaf parents)
INTERMEDIATE = True  # 16 leaves under a tile: four coarse tiles of four leaves between
COARSE_BUDGET = 0.1  # coarse tiles: at most this fraction of ``leaf_triangles``
CLUSTER_STEP = 2 ** 0.25  # grid growth per clustering pass while a coarse tile is over budget


@dataclass
class Node:
    """A tile: its elements (indices into the scene), box, error and children."""

    elements: npt.NDArray[np.int64]
    lo: F64
    hi: F64
    children: list[Node] = field(default_factory=list)
    error: float = 0.0
    depth: int = 0
    tile_id: int = 0
    content: str = ""
    stats: TileStats = field(default_factory=TileStats)
    chain_ratio: float = 1.0  # scan chains: fraction of the mesh's triangles kept

    @property
    def leaf(self) -> bool:
        """Whether the node has no children."""
        return not self.children


def split(scene: Scene, leaf_triangles: int = LEAF_TRIANGLES) -> Node:
    """The kd-tree of tiles (no content yet); a one-element scan becomes a chain."""
    lo_all = np.array([e.lo for e in scene.elements])
    hi_all = np.array([e.hi for e in scene.elements])
    tris = np.array([e.triangles for e in scene.elements], dtype=np.int64)
    centres = (lo_all + hi_all) / 2

    def halves(idx: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
        if len(idx) == 1 or int(tris[idx].sum()) <= leaf_triangles:
            return [idx]
        c = centres[idx]
        axis = int(np.argmax(c.max(axis=0) - c.min(axis=0)))
        order = idx[np.argsort(c[:, axis], kind="stable")]
        half = len(order) // 2
        return [order[:half], order[half:]]

    def leafy(idx: npt.NDArray[np.int64]) -> bool:
        return len(idx) == 1 or int(tris[idx].sum()) <= leaf_triangles

    def make(idx: npt.NDArray[np.int64], depth: int) -> Node:
        node = Node(idx, lo_all[idx].min(axis=0), hi_all[idx].max(axis=0), depth=depth)
        if len(idx) == 1 or int(tris[idx].sum()) <= leaf_triangles:
            return node
        groups = [idx]
        for _ in range(BRANCH_SPLITS):  # up to 2^BRANCH_SPLITS children (kd splits, octree-like)
            groups = [g for grp in groups for g in halves(grp)]
        finer = [g for grp in groups for g in halves(grp)]
        if len(finer) > len(groups) and all(leafy(g) for g in finer):
            if INTERMEDIATE and len(finer) > 8:
                # 16 leaves: four coarse tiles of four leaves each between them and this tile
                # (a headset's budget then reaches a quarter in full detail, not only this tile)
                quads = [g for h in halves(idx) for g in halves(h)]
                node.children = [inner(q, depth + 1) for q in quads]
                return node
            groups = finer  # one more split makes every child a leaf: no thin coarse level
        node.children = [make(g, depth + 1) for g in groups]
        return node

    def inner(idx: npt.NDArray[np.int64], depth: int) -> Node:
        node = Node(idx, lo_all[idx].min(axis=0), hi_all[idx].max(axis=0), depth=depth)
        if leafy(idx):
            return node
        quads = [g for h in halves(idx) for g in halves(h)]
        node.children = [make(g, depth + 1) for g in quads]
        return node

    idx = np.arange(len(scene.elements), dtype=np.int64)
    if len(idx) == 1 and int(tris[0]) > leaf_triangles:
        return _chain(idx, lo_all[0], hi_all[0], int(tris[0]), leaf_triangles)
    return make(idx, 0)


def _chain(idx: npt.NDArray[np.int64], lo: F64, hi: F64, tris: int, leaf: int) -> Node:
    ratios = [1.0]
    while tris * ratios[-1] > leaf:
        ratios.append(ratios[-1] * CHAIN_RATIO)
    ratios.reverse()  # coarsest first
    root = node = Node(idx, lo, hi, chain_ratio=ratios[0])
    for depth, r in enumerate(ratios[1:], start=1):
        child = Node(idx, lo, hi, depth=depth, chain_ratio=r)
        node.children = [child]
        node = child
    return root


class RepCache:
    """Representations simplified per error step, each computed once."""

    def __init__(self, reps: list[Rep]) -> None:
        self.reps = reps
        self._cache: dict[tuple[int, int], list[RepMesh]] = {}

    def get(self, rep: int, error: float) -> list[RepMesh]:
        """The meshes of ``rep`` simplified within ``error`` metres (snapped down to 2^k)."""
        if error <= 0:
            return self.reps[rep].meshes
        step = int(np.floor(np.log2(error)))
        key = (rep, step)
        if key not in self._cache:
            self._cache[key] = [simplify_mesh(m, 2.0 ** step)[0] for m in self.reps[rep].meshes]
        return self._cache[key]


def simplify_mesh(m: RepMesh, error: float, ratio: float = 0.0) -> tuple[RepMesh, float]:
    """``m`` simplified with meshoptimizer within ``error`` metres (or to ``ratio`` of its
    triangles), and the error meshoptimizer reports, in metres. Vertices are reused, so
    normals carry over."""
    import meshoptimizer as mo

    if len(m.faces) <= 4:
        return m, 0.0
    idx = np.ascontiguousarray(m.faces.reshape(-1), dtype=np.uint32)
    pos = np.ascontiguousarray(m.vertices, dtype=np.float32)
    dest = np.zeros_like(idx)
    result = np.zeros(1, dtype=np.float32)
    extent = float((m.vertices.max(axis=0) - m.vertices.min(axis=0)).max())
    if ratio > 0:
        target = max(3, int(len(m.faces) * ratio) * 3)
        count = mo.simplify(dest, idx, pos, target_index_count=target, target_error=1.0,
                            options=mo.SIMPLIFY_LOCK_BORDER, result_error=result)
        err = float(result[0]) * extent
    else:
        count = mo.simplify(dest, idx, pos, target_index_count=3, target_error=float(error),
                            options=mo.SIMPLIFY_ERROR_ABSOLUTE, result_error=result)
        err = float(result[0])
    if count >= len(idx):
        return m, 0.0
    f = dest[:count].reshape(-1, 3)
    used = np.unique(f)
    remap = np.zeros(len(m.vertices), dtype=np.uint32)
    remap[used] = np.arange(len(used), dtype=np.uint32)
    return RepMesh(m.material, m.vertices[used], m.normals[used], remap[f],
                   None if m.uv is None else m.uv[used]), err


#: Rough compressed sizes: bytes per baked triangle, per instance, JSON per instanced mesh.
BYTES_PER_TRIANGLE, BYTES_PER_INSTANCE, BYTES_PER_INSTANCED_MESH = 5.0, 20.0, 1000.0


def worth_instancing(triangles: int, copies: int) -> bool:
    """Whether instancing ``copies`` of a ``triangles``-triangle mesh saves bytes over baking."""
    baked = BYTES_PER_TRIANGLE * triangles * copies
    inst = BYTES_PER_TRIANGLE * triangles + BYTES_PER_INSTANCE * copies + BYTES_PER_INSTANCED_MESH
    return inst < baked


def simplify_faces(v: F64, faces: npt.NDArray[np.uint32], error: float
                   ) -> tuple[npt.NDArray[np.int64], float]:
    """meshoptimizer simplification within ``error`` metres (absolute); faces keep indexing
    ``v``. Returns the faces and the reported error."""
    import meshoptimizer as mo

    if len(faces) <= 4:
        return faces.astype(np.int64), 0.0
    idx = np.ascontiguousarray(faces.reshape(-1), dtype=np.uint32)
    dest = np.zeros_like(idx)
    res = np.zeros(1, dtype=np.float32)
    count = mo.simplify(dest, idx, np.ascontiguousarray(v, dtype=np.float32),
                        target_index_count=3, target_error=float(error),
                        options=mo.SIMPLIFY_ERROR_ABSOLUTE, result_error=res)
    if count == 0 or count >= len(idx):
        return faces.astype(np.int64), 0.0
    return dest[:count].reshape(-1, 3).astype(np.int64), float(res[0])


def _normals_matrix(matrix: F64) -> F64:
    a = matrix[:3, :3]
    try:
        return np.asarray(np.linalg.inv(a).T, dtype=np.float64)
    except np.linalg.LinAlgError:
        return a


def tile_content(scene: Scene, node: Node, cache: RepCache, drop: float,
                 instance_min: int = INSTANCE_MIN) -> tuple[list[Batch], list[InstanceGroup],
                                                            list[int]]:
    """Batches and instance groups of the node's elements (those at least ``drop`` in size)."""
    els = scene.elements
    keep = [int(i) for i in node.elements
            if drop <= 0 or float(np.linalg.norm(els[i].hi - els[i].lo)) >= drop]
    error = drop * SIMPLIFY_FRACTION
    by_rep: dict[int, list[int]] = {}
    for i in keep:
        by_rep.setdefault(els[i].rep, []).append(i)
    features: list[int] = []
    fid: dict[int, int] = {}

    def feature(i: int) -> int:
        if i not in fid:
            fid[i] = len(features)
            features.append(i)
        return fid[i]

    groups: list[InstanceGroup] = []
    baked: dict[int, list[tuple[Any, ...]]] = {}
    for rep, members in sorted(by_rep.items()):
        if node.chain_ratio < 1.0:
            done = [simplify_mesh(m, 0.0, node.chain_ratio) for m in scene.reps[rep].meshes]
            meshes = [m for m, _ in done]
            node.error = max([node.error, *(e for _, e in done)])
        else:
            meshes = cache.get(rep, error)
        meshes = [m for m in meshes if len(m.faces)]
        if not meshes:
            continue
        rigid = decompose_many(np.asarray([els[i].matrix for i in members]))[3]
        inst = [i for i, ok in zip(members, rigid, strict=True) if ok]
        tris = sum(len(m.faces) for m in meshes)
        if (len(inst) >= instance_min and len(inst) == len(members)
                and worth_instancing(tris, len(members))):
            groups.append(InstanceGroup([(m.material, m.vertices, m.normals, m.faces, m.uv)
                                         for m in meshes], [els[i].matrix for i in members],
                                        [feature(i) for i in members]))
            continue
        for i in members:
            f_id = feature(i)
            nm = _normals_matrix(els[i].matrix)
            for m in meshes:
                v = transform_points(els[i].matrix, m.vertices)
                n = m.normals.astype(np.float64) @ nm.T
                n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
                baked.setdefault(m.material, []).append(
                    (f_id, v, n.astype(np.float32), m.faces, els[i].lo, els[i].hi, m.uv))
    batches: list[Batch] = []
    for mat in sorted(baked):
        for chunk in _chunks(baked[mat], node.error > 0 and drop > 0, drop):
            batches.append(_merge(mat, chunk))
    return batches, groups, features


def _chunks(items: list[Any], coarse: bool, drop: float) -> list[list[Any]]:
    """Split items (by box centre) until each chunk spans at most MAX_QUANT_EXTENT; coarse
    tiles may span more when a 16-bit step stays below a tenth of their error."""
    lo = np.min([it[4] for it in items], axis=0)
    hi = np.max([it[5] for it in items], axis=0)
    ext = float((hi - lo).max())
    limit = MAX_QUANT_EXTENT
    if coarse:
        limit = max(limit, drop * SIMPLIFY_FRACTION * 0.1 * 65535.0)
    if ext <= limit or len(items) == 1:
        return [items]
    c = np.array([(it[4] + it[5]) / 2 for it in items])
    axis = int(np.argmax(hi - lo))
    order = np.argsort(c[:, axis], kind="stable")
    half = len(order) // 2
    return (_chunks([items[k] for k in order[:half]], coarse, drop)
            + _chunks([items[k] for k in order[half:]], coarse, drop))


def _merge(mat: int, items: list[Any]) -> Batch:
    base = np.cumsum([0] + [len(it[1]) for it in items])
    v = np.concatenate([it[1] for it in items])
    n = np.concatenate([it[2] for it in items])
    f = np.concatenate([it[3].astype(np.uint32) + np.uint32(base[k])
                        for k, it in enumerate(items)])
    feats = np.concatenate([np.full(len(it[1]), it[0], dtype=np.uint32) for it in items])
    return Batch(mat, v, n, f, feats, _uvs([it[6] for it in items], [len(it[1]) for it in items]))


def _uvs(uvs: list[Any], counts: list[int]) -> npt.NDArray[np.float32] | None:
    """Texture coordinates of concatenated meshes (zeros where one has none), or None."""
    if all(u is None for u in uvs):
        return None
    return np.concatenate([np.zeros((c, 2), dtype=np.float32) if u is None
                           else np.asarray(u, dtype=np.float32) for u, c in zip(uvs, counts,
                                                                                strict=True)])


def build_tiles(scene: Scene, root: Node, outdir: Path, *, leaf_triangles: int = LEAF_TRIANGLES,
                instance_min: int = INSTANCE_MIN, compress: bool = True,
                progress: Callable[[float], None] | None = None,
                keep_uncompressed: Callable[[Node, bytes], None] | None = None) -> list[Node]:
    """Fill every node's content (writing ``tiles/NNNN.glb``) and error; returns all nodes.

    Children are built before their parent (reverse preorder): a parent's content is its
    children's content merged per material, small elements dropped and simplified, so it
    never reads more than two budgets of triangles (bounded memory)."""
    cache = RepCache(scene.reps)
    nodes = _preorder(root)
    (outdir / "tiles").mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(len(nodes) - 1)))
    for k, node in enumerate(nodes):
        node.tile_id = k
        node.content = f"tiles/{k:0{width}d}.glb"
    proxies: dict[int, list[Batch]] = {}
    sizes = np.array([float(np.linalg.norm(e.hi - e.lo)) for e in scene.elements])
    for done, node in enumerate(reversed(nodes)):
        quant_limit = MAX_QUANT_EXTENT
        if node.leaf or node.chain_ratio < 1.0:
            node.error = 0.0
            batches, groups, feats = tile_content(scene, node, cache, 0.0, instance_min)
        else:
            inputs = [b for c in node.children for b in proxies.pop(c.tile_id)]
            drop = float(np.linalg.norm(node.hi - node.lo)) * DROP_FRACTION
            budget = max(1000, int(leaf_triangles * COARSE_BUDGET))
            merged, err = coarse(inputs, sizes, drop, budget)
            node.error = max(drop, err + max(c.error for c in node.children))
            batches, groups, feats = _localise(merged)
            quant_limit = max(MAX_QUANT_EXTENT, node.error * 0.2 * 65535.0)
        if node is not root:
            proxies[node.tile_id] = _globalise(batches, groups, feats, scene)
        data, stats = build_tile(batches, groups, feats, scene.materials, compress=compress,
                                 quant_limit=quant_limit)
        if keep_uncompressed is not None:
            keep_uncompressed(node, build_tile(batches, groups, feats, scene.materials,
                                               compress=False, quant_limit=quant_limit)[0])
        (outdir / node.content).write_bytes(data)
        node.stats = stats
        if progress is not None:
            progress((done + 1) / len(nodes))
    _fix_errors(root)
    return nodes


def _globalise(batches: list[Batch], groups: list[InstanceGroup], feats: list[int],
               scene: Scene) -> list[Batch]:
    """A tile's content as world-frame batches carrying global element indices (instances
    baked): what its parent simplifies."""
    fmap = np.asarray(feats, dtype=np.uint32)
    out = [Batch(b.material, b.vertices, b.normals, b.faces, fmap[b.features], b.uv)
           for b in batches]
    for g in groups:
        for mat, v, n, f, uv in g.meshes:
            for m, fid in zip(g.matrices, g.features, strict=True):
                nm = _normals_matrix(m)
                nn = n.astype(np.float64) @ nm.T
                nn /= np.maximum(np.linalg.norm(nn, axis=1, keepdims=True), 1e-12)
                out.append(Batch(mat, transform_points(m, v), nn.astype(np.float32), f,
                                 np.full(len(v), feats[fid], dtype=np.uint32), uv))
    return out


def _localise(batches: list[Batch]) -> tuple[list[Batch], list[InstanceGroup], list[int]]:
    """Batches with global element indices -> tile-local feature ids and the feature table."""
    if not batches:
        return [], [], []
    allf = np.concatenate([b.features for b in batches])
    feats, inverse = np.unique(allf, return_inverse=True)
    out, pos = [], 0
    for b in batches:
        n = len(b.features)
        out.append(Batch(b.material, b.vertices, b.normals, b.faces,
                         inverse[pos:pos + n].astype(np.uint32), b.uv))
        pos += n
    return out, [], [int(x) for x in feats]


def coarse(inputs: list[Batch], sizes: F64, drop: float, budget: int
           ) -> tuple[list[Batch], float]:
    """Children's batches merged per material and simplified to a coarse level; returns the
    batches and the simplification error in metres.

    Elements at least ``drop`` in size are simplified within drop/4 (meshoptimizer, shapes
    kept); the smaller ones are vertex-clustered on a ``drop``-metre grid: alone they vanish,
    side by side (a storey's slabs, a facade's panels)
    they fuse into the silhouette they make together. While that is above ``budget``
    triangles, it is clustered on ever coarser grids (x CLUSTER_STEP) (the error adds the distance
    vertices moved)."""
    by_mat: dict[int, list[Batch]] = {}
    for b in inputs:
        by_mat.setdefault(b.material, []).append(b)
    error = 0.0
    out: list[Batch] = []
    for mat in sorted(by_mat):
        parts = by_mat[mat]
        base = np.cumsum([0] + [len(b.vertices) for b in parts])
        v = np.concatenate([b.vertices for b in parts])
        n = np.concatenate([b.normals for b in parts])
        fe = np.concatenate([b.features for b in parts])
        uv = _uvs([b.uv for b in parts], [len(b.vertices) for b in parts])
        f = np.concatenate([b.faces.astype(np.int64) + base[k] for k, b in enumerate(parts)])
        big = sizes[fe[f[:, 0]]] >= drop
        faces = []
        if big.any():
            kept, err = simplify_faces(v, f[big].astype(np.uint32), drop * SIMPLIFY_FRACTION)
            faces.append(kept)
            error = max(error, err)
        if not big.all():
            fused, err = cluster_faces(v, f[~big], drop)
            faces.append(fused)
            error = max(error, err)
        f = np.concatenate(faces) if faces else f[:0]
        if len(f):
            out.append(_compact(mat, v, n, fe, f, uv))
    first, first_error = out, error
    total = sum(len(b.faces) for b in out)
    cell = drop
    while total > budget and cell < 64 * drop:
        cell *= CLUSTER_STEP
        out, error = [], first_error
        for b in first:
            f, err = cluster_faces(b.vertices, b.faces.astype(np.int64), cell)
            error = max(error, first_error + err)
            if len(f):
                out.append(_compact(b.material, b.vertices, b.normals, b.features, f, b.uv))
        total = sum(len(b.faces) for b in out)
    return out, error


def cluster_faces(v: F64, faces: npt.NDArray[np.int64], cell: float
                  ) -> tuple[npt.NDArray[np.int64], float]:
    """Vertex clustering of ``faces`` on a ``cell``-metre grid (every vertex moves to the
    first vertex of its cell, as in Rossignac-Borrel; meshoptimizer's sloppy simplifier does
    the same but reports no vertex map, so no honest error). Faces keep indexing ``v``;
    degenerate ones are dropped, equal ones kept once per winding (a collapsed slab stays
    two-sided). Returns the faces and the largest distance a vertex moved, in metres."""
    if not len(faces) or cell <= 0:
        return faces, 0.0
    used = _used(len(v), faces)
    cells = np.floor(v[used] / cell).astype(np.int64)
    cells -= cells.min(axis=0)
    span = cells.max(axis=0) + 1
    key = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rep = used[first][inverse.reshape(-1)]
    moved = float(np.linalg.norm(v[used] - v[rep], axis=1).max())
    full = np.zeros(len(v), dtype=np.int64)
    full[used] = rep
    f = full[faces]
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    if len(f):
        first_v = np.argmin(f, axis=1)
        rot = np.stack([f[np.arange(len(f)), (first_v + r) % 3] for r in range(3)], axis=1)
        f = f[np.sort(np.unique(rot, axis=0, return_index=True)[1])]
    return f, moved


def _used(count: int, faces: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Sorted indices of the vertices ``faces`` use (a mask: linear, not a sort)."""
    mask = np.zeros(count, dtype=bool)
    mask[faces.reshape(-1)] = True
    return np.flatnonzero(mask)


def _compact(mat: int, v: F64, n: npt.NDArray[np.float32], fe: npt.NDArray[np.uint32],
             f: npt.NDArray[np.int64], uv: npt.NDArray[np.float32] | None = None) -> Batch:
    used = _used(len(v), f)
    remap = np.zeros(len(v), dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Batch(mat, v[used], n[used], remap[f].astype(np.uint32), fe[used],
                 None if uv is None else uv[used])


def _fix_errors(node: Node) -> float:
    """Make errors strictly decrease downwards; returns the node's error."""
    child = max((_fix_errors(c) for c in node.children), default=-1.0)
    if node.children and node.error <= child:
        node.error = child * 1.5 if child > 0 else max(node.error, 1e-3)
    return node.error


def _preorder(root: Node) -> list[Node]:
    out, stack = [], [root]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def _box(lo: F64, hi: F64) -> list[float]:
    c = (lo + hi) / 2
    h = np.maximum((hi - lo) / 2, 1e-4)
    return [round(float(x), 4) for x in (c[0], c[1], c[2], h[0] + 1e-4, 0, 0, 0, h[1] + 1e-4, 0,
                                         0, 0, h[2] + 1e-4)]


def tileset_json(root: Node) -> dict[str, Any]:
    """The tileset.json document (docs/tiles.md T3)."""

    def tile(n: Node, depth_pad: float) -> dict[str, Any]:
        pad = depth_pad
        t: dict[str, Any] = {
            "boundingVolume": {"box": _box(n.lo - pad, n.hi + pad)},
            "geometricError": round(n.error, 6),
            "refine": "REPLACE",
            "content": {"uri": n.content},
            "extras": {"triangles": n.stats.triangles, "elements": len(n.elements)},
        }
        if n.children:
            t["children"] = [tile(c, pad * 0.5) for c in n.children]
        return t

    depth = max(n.depth for n in _preorder(root))
    pad0 = 1e-3 * (2 ** (depth + 1))  # parents grow a little more than children: containment
    return {"asset": {"version": "1.1", "generator": "vrcollab"},
            "geometricError": round(max(root.error * 2, 1.0), 6), "root": tile(root, pad0)}


def all_nodes(root: Node) -> list[Node]:
    """Every node, parents before children."""
    return _preorder(root)
