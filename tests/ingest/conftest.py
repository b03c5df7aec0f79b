"""Fixtures for the ingest tests: generated meshes written to disk in several formats."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh

from tests.corpus import SHARED_MODELS as MODELS
from tests.corpus import skip_reason


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The shared model corpus beside the repo; skips the test when it is not checked out."""
    if not MODELS.is_dir():
        pytest.skip(skip_reason("the test model corpus (models/)"))
    return MODELS


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated CAD-like meshes in several formats (trimesh.creation)."""
    d = tmp_path_factory.mktemp("generated")
    box = trimesh.creation.box(extents=(40.0, 20.0, 10.0))  # mm when written as STL
    cyl = trimesh.creation.cylinder(radius=0.5, height=2.0, sections=48)
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    annulus = trimesh.creation.annulus(r_min=0.3, r_max=0.6, height=0.2, sections=64)
    out = {
        "box.stl": box, "cylinder.off": cyl, "sphere.ply": sphere, "annulus.obj": annulus,
        "sphere.dae": sphere, "sphere.glb": sphere,
    }
    paths: dict[str, Path] = {}
    for name, mesh in out.items():
        path = d / name
        mesh.export(path)
        paths[name] = path
    ascii_stl = d / "box_ascii.stl"
    ascii_stl.write_bytes(trimesh.exchange.stl.export_stl_ascii(box).encode())
    paths["box_ascii.stl"] = ascii_stl
    scene = trimesh.Scene()
    scene.add_geometry(box, node_name="base", geom_name="base")
    scene.add_geometry(cyl, node_name="pin", geom_name="pin",
                       transform=trimesh.transformations.translation_matrix((0, 0, 6)))
    assembly = d / "assembly.glb"
    scene.export(assembly)
    paths["assembly.glb"] = assembly
    return paths
