"""Decimation backends and the geometric error measure."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vrcollab.errors import ConfigError
from vrcollab.ingest.decimate import DECIMATORS, cluster, decimate
from vrcollab.ingest.measure import ErrorMeter, flatten, hausdorff, hausdorff_kdtree
from vrcollab.ingest.model import Material, Model, Part, Primitive


def _sphere_model(subdiv: int = 5) -> Model:
    s = trimesh.creation.icosphere(subdiv)
    prim = Primitive(np.asarray(s.vertices, float), np.asarray(s.faces, np.int64))
    return Model(parts=[Part("sphere", [prim])], source_format="obj")


def _two_part_model() -> Model:
    s = trimesh.creation.icosphere(4)
    c = trimesh.creation.cylinder(0.3, 1.0, sections=128)
    c.apply_translation((3, 0, 0))
    return Model(parts=[
        Part("ball", [Primitive(np.asarray(s.vertices, float), np.asarray(s.faces, np.int64),
                                Material(name="a", color=(1, 0, 0, 1)))]),
        Part("rod", [Primitive(np.asarray(c.vertices, float), np.asarray(c.faces, np.int64),
                               Material(name="b"))]),
    ], source_format="obj")


@pytest.mark.parametrize("backend", DECIMATORS)
def test_backends_reach_target_with_small_error(backend: str) -> None:
    model = _sphere_model()
    out = decimate(model, 2000, backend)  # type: ignore[arg-type]
    assert 1500 <= out.triangles <= 2100
    err = hausdorff(flatten(model), flatten(out))
    assert err < 0.01  # a 20k -> 2k sphere stays within 1% of the diagonal


def test_meshopt_keeps_parts_and_materials() -> None:
    model = _two_part_model()
    out = decimate(model, model.triangles // 4)
    assert [p.name for p in out.parts] == ["ball", "rod"]
    assert out.parts[0].primitives[0].material.name == "a"
    for part in out.parts:
        prim = part.primitives[0]
        assert prim.faces.max() < len(prim.vertices)
    assert out.triangles <= model.triangles // 4 + 3


def test_meshopt_keeps_uvs_of_surviving_vertices() -> None:
    grid = trimesh.creation.box()  # 8 vertices: give them distinct UVs
    sphere = trimesh.creation.icosphere(4)
    uv = (sphere.vertices[:, :2] + 1) / 2
    prim = Primitive(np.asarray(sphere.vertices, float), np.asarray(sphere.faces, np.int64),
                     uv=np.asarray(uv))
    model = Model(parts=[Part("s", [prim])], source_format="obj")
    out = decimate(model, 500).parts[0].primitives[0]
    assert out.uv is not None
    assert np.allclose(out.uv, (out.vertices[:, :2] + 1) / 2)
    assert len(grid.vertices) == 8


def test_small_model_is_untouched_and_unknown_backend_rejected() -> None:
    model = _sphere_model(1)
    assert decimate(model, 10_000) is model
    with pytest.raises(ConfigError):
        decimate(_sphere_model(3), 10, "nope")  # type: ignore[arg-type]


def test_vertex_clustering_reduces_large_meshes() -> None:
    s = trimesh.creation.icosphere(6)  # 82k triangles
    v, f = cluster(np.asarray(s.vertices, float), np.asarray(s.faces, np.int64), 5000)
    assert 1000 < len(f) < 20_000
    assert hausdorff((np.asarray(s.vertices), np.asarray(s.faces)), (v, f)) < 0.02


def test_hausdorff_of_a_shifted_copy_is_the_shift() -> None:
    s = trimesh.creation.box(extents=(1, 1, 1))
    v, f = np.asarray(s.vertices, float), np.asarray(s.faces, np.int64)
    diag = np.sqrt(3)
    exact = hausdorff((v, f), (v + np.array([0.05, 0, 0]), f))
    assert exact == pytest.approx(0.05 / diag, rel=1e-3)
    approx = hausdorff_kdtree((v, f), (v + np.array([0.05, 0, 0]), f))
    assert approx >= 0.05 / diag * 0.99
    assert approx < 0.05 / diag + 0.01
    meter = ErrorMeter(v, f)
    assert meter.error(v, f) == pytest.approx(0.0, abs=1e-6)
    assert meter.error(v * 1.1, f) == pytest.approx(0.05, rel=1e-3)  # corners move sqrt(3)*0.05
