"""Per-part geometry hashes (vrcollab.ingest.fingerprint) and their place in the manifest."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import trimesh

from tests.corpus import HOUSE
from vrcollab.ingest import repair
from vrcollab.ingest.convert import convert
from vrcollab.ingest.fingerprint import GRID_M, geometry_hash, part_hash
from vrcollab.ingest.model import Model, Part, Primitive
from vrcollab.ingest.pipeline import ConvertOptions, load_model

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _mesh(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A non-symmetric closed mesh, vertices snapped to the middle of 1 mm grid cells."""
    rng = np.random.default_rng(seed)
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=2.0)
    v = sphere.vertices * (1.0 + 0.1 * rng.random((len(sphere.vertices), 1)))
    v = np.round(v / GRID_M) * GRID_M
    return v, np.asarray(sphere.faces, dtype=np.int64)


def test_hash_ignores_vertex_face_order_winding_and_primitive_split() -> None:
    v, f = _mesh()
    h = geometry_hash([Primitive(v, f)])
    assert HEX64.match(h)
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(v))
    inverse = np.argsort(perm)
    v2 = v[perm]
    f2 = inverse[f][rng.permutation(len(f))]
    f2[::2] = f2[::2, ::-1]  # flip the winding of half the faces
    half = len(f2) // 2
    assert geometry_hash([Primitive(v2, f2)]) == h
    assert geometry_hash([Primitive(v2, f2[:half]), Primitive(v2.copy(), f2[half:])]) == h


def test_hash_ignores_float_noise_below_the_grid() -> None:
    v, f = _mesh()
    noise = np.random.default_rng(2).uniform(-0.2, 0.2, v.shape) * GRID_M
    assert geometry_hash([Primitive(v + noise, f)]) == geometry_hash([Primitive(v, f)])


def test_hash_changes_when_one_vertex_moves_more_than_the_grid() -> None:
    v, f = _mesh()
    h = geometry_hash([Primitive(v, f)])
    moved = v.copy()
    moved[17, 1] += 2 * GRID_M
    assert geometry_hash([Primitive(moved, f)]) != h
    lo, hi = v.min(axis=0), v.max(axis=0)
    assert (moved.min(axis=0) == lo).all()  # the bounding box is kept
    assert (moved.max(axis=0) == hi).all()
    assert geometry_hash([Primitive(v, f[:-1])]) != h


def test_hash_is_in_original_coordinates_so_recentring_keeps_it() -> None:
    v, f = _mesh()
    far = v + np.array([512_345.6781, 6_123_456.7893, 35.0002])
    model = Model([Part("blob", [Primitive(far, f)])], "glb", units_known=True)
    repaired = repair.repair(model, "far.glb")
    assert np.linalg.norm(repaired.offset) > 1e6  # it was recentred
    stored = repaired.parts[0].primitives[0].vertices
    assert np.abs(stored).max() < 10.0
    assert part_hash(repaired.parts[0], repaired.offset) == geometry_hash([Primitive(far, f)])
    # moving the element is a change: the same shape near the origin hashes differently
    assert part_hash(repaired.parts[0]) != part_hash(repaired.parts[0], repaired.offset)


def test_same_file_loaded_twice_gives_the_same_hashes(generated: dict[str, Path]) -> None:
    src = generated["assembly.glb"]
    a = load_model(src, ConvertOptions())
    b = load_model(src, ConvertOptions())
    ha = {p.name: part_hash(p, a.offset) for p in a.parts}
    assert ha == {p.name: part_hash(p, b.offset) for p in b.parts}
    assert len(set(ha.values())) == len(ha) == 2


def test_manifest_parts_carry_the_hash(generated: dict[str, Path], tmp_path: Path) -> None:
    src = generated["assembly.glb"]
    result = convert(src, tmp_path, ConvertOptions(levels=(), layout="levels"))
    model = load_model(src, ConvertOptions())
    expected = {p.name: part_hash(p, model.offset) for p in model.parts}
    assert {p["node"]: p["geometry_hash"] for p in result.manifest["parts"]} == expected


def _canonical(part: Part, offset: tuple[float, float, float]) -> frozenset[tuple[object, ...]]:
    """A slow, obviously order-free description of a part's grid-snapped triangles."""
    tris: dict[tuple[object, ...], int] = defaultdict(int)
    for prim in part.primitives:
        q = np.rint((prim.vertices + np.asarray(offset)) / GRID_M).astype(np.int64)
        for face in prim.faces:
            tris[tuple(sorted(tuple(int(c) for c in q[i]) for i in face))] += 1
    return frozenset(tris.items())


def test_ifc_open_house_parts_have_distinct_hashes_for_distinct_geometry() -> None:
    src = HOUSE  # the bundled sample (assets/), same bytes as shared/models/ifc
    model = load_model(src, ConvertOptions())
    hashes = [part_hash(p, model.offset) for p in model.parts]
    assert len(hashes) >= 10
    assert all(HEX64.match(h) for h in hashes)
    shapes = [_canonical(p, model.offset) for p in model.parts]
    by_hash: dict[str, set[frozenset[tuple[object, ...]]]] = defaultdict(set)
    for h, shape in zip(hashes, shapes, strict=True):
        by_hash[h].add(shape)
    assert all(len(s) == 1 for s in by_hash.values())  # one hash never covers two shapes
    assert len(by_hash) == len(set(shapes))  # and distinct shapes get distinct hashes
    again = load_model(src, ConvertOptions())
    assert [part_hash(p, again.offset) for p in again.parts] == hashes


def test_placed_hashes_equal_hashing_each_placed_copy() -> None:
    """The batched hash of one representation under many placements (instanced IFC types)
    is bit-for-bit the per-copy hash, far from the origin, rotated, mirrored and scaled."""
    from scipy.spatial.transform import Rotation

    from vrcollab.ingest.fingerprint import placed_hashes

    v, f = _mesh(3)
    prims = [Primitive(v, f[:200]), Primitive(v, f[200:])]  # two materials, shared vertices
    rng = np.random.default_rng(7)
    mats = []
    for k in range(40):
        m = np.eye(4)
        m[:3, :3] = Rotation.from_rotvec(rng.normal(size=3)).as_matrix() if k % 4 else np.eye(3)
        if k % 5 == 0:
            m[:3, 0] *= -1.0  # mirrored
        if k % 7 == 0:
            m[:3, :3] *= 1.5
        m[:3, 3] = (512_000.0, 5_400_000.0, 30.0) + rng.normal(size=3) * 100.0
        mats.append(m)
    batched = placed_hashes(prims, mats)
    single = [geometry_hash([Primitive(p.vertices @ m[:3, :3].T + m[:3, 3], p.faces)
                             for p in prims]) for m in mats]
    assert batched == single
    assert len(set(batched)) == len(mats)  # each placement is a different element geometry
