"""The tile tree's levels of detail (docs/tiles.md T3): real coarse levels, bounded, honest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh

from tests.ingest.helpers import ROOT
from tests.ingest.tiles_support import load_json, tile_points
from vrcollab.ingest import tiling
from vrcollab.ingest.model import Material
from vrcollab.ingest.pipeline import ConversionResult, ConvertOptions
from vrcollab.ingest.scene import Element, Scene, place, prepare_rep
from vrcollab.ingest.tiled import convert_tiled

sys.path.insert(0, str(ROOT / "bench"))
import building_gen

LEAF = 50_000


@pytest.fixture(scope="module")
def building(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    """The generated 2,000-element building in several tiles (leaves of 50k triangles)."""
    d = tmp_path_factory.mktemp("tiling2k")
    src = building_gen.generate(2000, d / "building-2k.ifc")
    return d / "out", convert_tiled(src, d / "out", ConvertOptions(leaf_triangles=LEAF))


def _box(t: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(t["boundingVolume"]["box"], dtype=float)
    c, h = b[:3], np.abs(b[3:].reshape(3, 3)).sum(axis=0)
    return c - h, c + h


def _walk(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [t, *(x for k in t.get("children", []) for x in _walk(k))]


def test_levels_contain_children_and_errors_decrease(
        building: tuple[Path, ConversionResult]) -> None:
    out, _ = building
    ts = load_json(out / "tileset.json")
    assert ts["root"].get("children"), "the 2k building at 50k-triangle leaves is one tile"
    for t in _walk(ts["root"]):
        lo, hi = _box(t)
        for k in t.get("children", []):
            klo, khi = _box(k)
            assert np.all(klo >= lo - 1e-9)
            assert np.all(khi <= hi + 1e-9)
            assert k["geometricError"] < t["geometricError"]
        if not t.get("children"):
            assert t["geometricError"] == 0


def test_coarse_tiles_are_non_empty_bounded_and_keep_the_silhouette(
        building: tuple[Path, ConversionResult]) -> None:
    out, result = building
    ts = load_json(out / "tileset.json")
    lo, hi = (np.asarray(result.manifest["bounds"][k]) for k in ("min", "max"))
    for t in _walk(ts["root"]):
        if not t.get("children"):
            continue
        tris = t["extras"]["triangles"]
        assert 0 < tris <= max(1000, int(LEAF * tiling.COARSE_BUDGET))
        pts = np.concatenate(list(tile_points((out / t["content"]["uri"]).read_bytes())
                                  .values()))
        tlo, thi = _box(t)
        # the coarse content spans its tile's footprint, within its geometric error
        err = t["geometricError"]
        assert np.all(pts.min(axis=0)[:2] <= tlo[:2] + err)
        assert np.all(pts.max(axis=0)[:2] >= thi[:2] - err)
    root_pts = np.concatenate(list(tile_points(
        (out / ts["root"]["content"]["uri"]).read_bytes()).values()))
    span = (root_pts.max(axis=0) - root_pts.min(axis=0))[:2]
    assert np.all(span >= 0.8 * (hi - lo)[:2])


def _slab_field(n: int, bay: float = 8.0) -> Scene:
    """``n`` x ``n`` bays of 8 m x 8 m x 0.25 m slabs on 3 storeys: every element is far
    below the root's drop size (1/32 of the diagonal), together they are the building."""
    box = trimesh.creation.box(extents=(bay, bay, 0.25))
    box.apply_translation((bay / 2, bay / 2, 0.125))
    rep = prepare_rep([(0, np.asarray(box.vertices), np.asarray(box.faces))])
    elements = []
    for k in range(3):
        for i in range(n):
            for j in range(n):
                m = np.eye(4)
                m[:3, 3] = (i * bay, j * bay, 4.0 * k)
                el = Element(name=f"S-{k}-{i}-{j}", rep=0, matrix=m)
                place(el, rep)
                elements.append(el)
    return Scene(elements, [rep], [Material()], "glb")


def test_root_of_small_elements_is_their_fused_silhouette(tmp_path: Path) -> None:
    scene = _slab_field(40)  # 320 m x 320 m: root drop 14.2 m > a slab's 11.3 m diagonal
    root = tiling.split(scene, 2_000)
    tiling.build_tiles(scene, root, tmp_path, leaf_triangles=2_000, compress=False)
    assert root.children
    assert root.stats.triangles > 0
    pts = np.concatenate(list(tile_points((tmp_path / root.content).read_bytes()).values()))
    assert np.all((pts.max(axis=0) - pts.min(axis=0))[:2] >= 320.0 - 2 * root.error)
    assert root.error < float(np.linalg.norm(root.hi - root.lo)) / 8  # 452 m diagonal
    assert root.stats.triangles <= 1000
    for node in tiling.all_nodes(root):
        for child in node.children:
            assert child.error < node.error


def test_cluster_faces_reports_how_far_vertices_moved() -> None:
    box = trimesh.creation.box(extents=(8.0, 8.0, 0.25))
    v = np.asarray(box.vertices, dtype=np.float64) + 0.2  # z in [0.075, 0.325]: one cell
    f = np.asarray(box.faces, dtype=np.int64)
    faces, moved = tiling.cluster_faces(v, f, 1.0)  # top and bottom collapse: a 2-sided quad
    assert len(faces) == 4
    assert moved == pytest.approx(0.25)
    tiny, moved = tiling.cluster_faces((v - v.min(axis=0)) * 0.01 + 0.2, f, 1.0)  # one cell
    assert len(tiny) == 0
    assert moved < 0.2


def test_sixteen_leaves_get_an_intermediate_level(tmp_path: Path) -> None:
    scene = _slab_field(40)  # 57,600 triangles: 16 leaves of 3,600
    root = tiling.split(scene, 4_000)
    assert len(root.children) == 4
    assert all(len(c.children) == 4 and all(g.leaf for g in c.children) for c in root.children)
    tiling.build_tiles(scene, root, tmp_path, leaf_triangles=4_000, compress=False)
    mids = root.children
    assert all(0 < m.stats.triangles <= 1000 for m in [root, *mids])
    assert max(m.error for m in mids) < root.error
    assert all(g.error == 0 for m in mids for g in m.children)
