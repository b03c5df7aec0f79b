"""Repair: validation errors, welding, cleaning, units, recentring, crease normals."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vrcollab.errors import ConfigError, InvalidGeometryError
from vrcollab.ingest.model import Model, Part, Primitive
from vrcollab.ingest.repair import clean_faces, repair, weld
from vrcollab.ingest.shading import crease_normals


def _model(v: np.ndarray, f: np.ndarray, fmt: str = "obj") -> Model:
    return Model(parts=[Part("p", [Primitive(np.asarray(v, float), np.asarray(f, np.int64))])],
                 source_format=fmt)


def _soup(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    tri = mesh.triangles.reshape(-1, 3)
    return tri, np.arange(len(tri)).reshape(-1, 3)


def test_weld_turns_soup_into_a_closed_mesh() -> None:
    v, f = _soup(trimesh.creation.icosphere(3))
    v2, f2, _ = weld(v + 1e-9, f, None, tolerance=1e-6)
    assert len(v2) == 642
    assert trimesh.Trimesh(v2, f2, process=False).is_watertight


def test_weld_keeps_uv_seams() -> None:
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]], float)
    uv = np.array([[0, 0], [1, 0], [0, 1], [0.5, 0.5]])
    f = np.array([[0, 1, 2], [3, 1, 2]])
    v2, _, uv2 = weld(v, f, uv, tolerance=1e-6)
    assert len(v2) == 4
    assert uv2 is not None


def test_clean_drops_degenerate_and_duplicate_faces() -> None:
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0]], float)
    f = np.array([[0, 1, 2], [0, 0, 1], [0, 1, 3], [2, 1, 0], [0, 1, 2]])
    out = clean_faces(v, f, 1e-12)
    assert out.tolist() == [[0, 1, 2]]


def test_stl_defaults_to_millimetres_and_units_override() -> None:
    box = trimesh.creation.box(extents=(100, 50, 10))
    stl = repair(_model(box.vertices, box.faces, "stl"), "x")
    lo, hi = stl.bounds()
    assert np.allclose(hi - lo, [0.1, 0.05, 0.01])
    inch = repair(_model(box.vertices, box.faces, "stl"), "x", units="in")
    lo, hi = inch.bounds()
    assert np.allclose(hi - lo, [2.54, 1.27, 0.254])
    with pytest.raises(ConfigError):
        repair(_model(box.vertices, box.faces, "stl"), "x", units="furlong")


def test_far_away_model_is_recentred_and_offset_kept() -> None:
    box = trimesh.creation.box(extents=(10, 10, 3))
    far = box.vertices + np.array([500_000.0, 5_400_000.0, 120.0])
    out = repair(_model(far, box.faces), "site.obj")
    lo, hi = out.bounds()
    assert np.allclose((lo + hi) / 2, 0, atol=1e-3)
    assert out.offset == pytest.approx((500_000.0, 5_400_000.0, 120.0))


def test_near_model_is_not_recentred() -> None:
    box = trimesh.creation.box(extents=(10, 10, 3))
    out = repair(_model(box.vertices + 20, box.faces), "x")
    assert out.offset == (0.0, 0.0, 0.0)


def test_winding_is_made_consistent() -> None:
    box = trimesh.creation.box()
    faces = np.array(box.faces)
    faces[::3] = faces[::3, ::-1]
    out = repair(_model(box.vertices, faces), "x")
    mesh = trimesh.Trimesh(out.parts[0].primitives[0].vertices,
                           out.parts[0].primitives[0].faces, process=False)
    assert mesh.is_winding_consistent


@pytest.mark.parametrize(
    ("vertices", "faces", "message"),
    [
        ([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]], [[0, 1, 2]], "non-finite"),
        ([[0, 0, 0], [1, 0, 0], [0, np.inf, 0]], [[0, 1, 2]], "non-finite"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 3]], "outside"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, -1, 2]], "outside"),
        ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]], "no triangles"),
        ([[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 1, 2]], "zero-size"),
    ],
)
def test_invalid_geometry(vertices: list, faces: list, message: str) -> None:
    with pytest.raises(InvalidGeometryError, match=message):
        repair(_model(np.array(vertices, float), np.array(faces)), "bad.obj")


def test_crease_normals_split_sharp_edges_only() -> None:
    box = trimesh.creation.box()
    v, _, _, n = crease_normals(np.asarray(box.vertices, float), np.asarray(box.faces), None)
    assert len(v) == 24  # every cube corner split three ways
    assert np.allclose(np.abs(n).max(axis=1), 1.0)
    sphere = trimesh.creation.icosphere(3)
    v, _f, _, n = crease_normals(np.asarray(sphere.vertices, float), np.asarray(sphere.faces), None)
    assert len(v) == len(sphere.vertices)  # smooth: nothing split
    radial = v / np.linalg.norm(v, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", n, radial).min() > 0.99
