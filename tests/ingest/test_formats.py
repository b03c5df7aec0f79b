"""Loading by content: sniffing, every supported format, units, identity."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vrcollab.errors import UnsupportedFormatError
from vrcollab.ingest.formats import detect, load, sniff
from vrcollab.ingest.limits import Limits


def test_sniff_by_magic_bytes() -> None:
    assert sniff(b"glTF\x02\x00\x00\x00", 100) == "glb"
    assert sniff(b"PK\x03\x04rest", 100) == "zip"
    assert sniff(b"ply\nformat ascii 1.0\n", 100) == "ply"
    assert sniff(b"OFF\n8 6 0\n", 100) == "off"
    assert sniff(b"solid x\n facet normal 0 0 1\n", 100) == "stl"
    assert sniff(b"ISO-10303-21;\nHEADER;FILE_SCHEMA(('IFC4'));", 100) == "ifc"
    assert sniff(b"ISO-10303-21;\nHEADER;FILE_SCHEMA(('AUTOMOTIVE_DESIGN'));", 100) == "step"
    assert sniff(b"# comment\nv 0 0 0\nv 1 0 0\nf 1 2 3\n", 100) == "obj"
    assert sniff(b'<?xml version="1.0"?><COLLADA>', 100) == "dae"
    head = b"\x00" * 80 + (2).to_bytes(4, "little")
    assert sniff(head, 84 + 100) == "stl"
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 200, ".stl") is None


def test_content_wins_over_extension(tmp_path: Path, generated: dict[str, Path]) -> None:
    wrong = tmp_path / "really_an_stl.obj"
    shutil.copy(generated["box.stl"], wrong)
    assert detect(wrong) == "stl"
    model = load(wrong, Limits())
    assert model.triangles == 12
    assert model.source_format == "stl"


def test_png_named_stl_is_unsupported(tmp_path: Path) -> None:
    fake = tmp_path / "image.stl"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormatError):
        detect(fake)


@pytest.mark.parametrize(
    ("name", "triangles"),
    [("box.stl", 12), ("box_ascii.stl", 12), ("cylinder.off", 192), ("sphere.ply", 5120),
     ("annulus.obj", 512), ("sphere.dae", 5120), ("sphere.glb", 5120)],
)
def test_generated_formats_load(generated: dict[str, Path], name: str, triangles: int) -> None:
    model = load(generated[name], Limits())
    assert model.triangles == triangles
    for part in model.parts:
        for prim in part.primitives:
            assert np.all(np.isfinite(prim.vertices))


def test_assembly_keeps_part_names(generated: dict[str, Path]) -> None:
    model = load(generated["assembly.glb"], Limits())
    assert sorted(p.name for p in model.parts) == ["base", "pin"]
    pin = next(p for p in model.parts if p.name == "pin")
    assert pin.primitives[0].vertices[:, 2].min() == pytest.approx(5.0)  # transform applied


@pytest.mark.parametrize(
    "rel",
    ["mesh/fandisk.obj", "mesh/1002_tray_bottom.STL", "mesh/cycloidal.ply", "mesh/featuretype.3MF",
     "mesh/pyramids.3mf", "mesh/testplate.glb", "gltf/CesiumMilkTruck.glb"],
)
def test_real_models_load(models_dir: Path, rel: str) -> None:
    model = load(models_dir / rel, Limits())
    assert model.triangles > 0
    assert all(p.name for p in model.parts)


def test_obj_zip_with_texture(models_dir: Path) -> None:
    model = load(models_dir / "mesh" / "fuze.zip", Limits())
    prim = model.parts[0].primitives[0]
    assert prim.uv is not None
    assert len(prim.uv) == len(prim.vertices)
    assert prim.material.image is not None
    assert prim.material.image_mime == "image/jpeg"


def test_step_units_are_metres(models_dir: Path) -> None:
    # featuretype.STEP is a 5 x 2.5 inch SolidWorks part
    model = load(models_dir / "cad" / "featuretype.STEP", Limits())
    assert model.units_known
    assert model.scale == 1.0
    lo, hi = model.bounds()
    assert np.allclose(np.sort(hi - lo)[-2:], [0.0635, 0.127], atol=1e-4)


def test_ifc_keeps_identity(models_dir: Path) -> None:
    model = load(models_dir / "ifc" / "IfcOpenHouse_IFC4.ifc", Limits())
    ids = [p.element_id for p in model.parts]
    assert all(ids)
    assert len(set(ids)) == len(ids)
    classes = {p.ifc_class for p in model.parts}
    assert {"IfcWindow", "IfcDoor"} <= classes or "IfcWallStandardCase" in classes
    assert "IfcSpace" not in classes
    assert all(p.path and p.path[-1] for p in model.parts if p.ifc_class != "IfcSite")


def test_meshopt_compressed_glb_input_is_decoded(
    tmp_path: Path, generated: dict[str, Path]
) -> None:
    from vrcollab.ingest.convert import convert
    from vrcollab.ingest.pipeline import ConvertOptions

    first = convert(generated["sphere.ply"], tmp_path / "a", ConvertOptions(layout="levels"))
    again = load(tmp_path / "a" / "full.glb", Limits())  # our own compressed output as input
    assert again.triangles == first.manifest["levels"][0]["triangles"]
    lo, hi = again.bounds()
    assert np.allclose(hi - lo, 2.0, atol=2e-3)  # the unit sphere, through dequantisation


def test_ply_triangle_strips(tmp_path: Path) -> None:
    from vrcollab.ingest.formats import strips_to_triangles

    assert strips_to_triangles(np.array([0, 1, 2, 3, -1, 4, 5, 6])).tolist() == [
        [0, 1, 2], [2, 1, 3], [4, 5, 6]]
    # a 2 x 1 quad strip (4 triangles), as igea.ply stores its surface
    ply = tmp_path / "strip.ply"
    ply.write_bytes(
        b"ply\nformat ascii 1.0\nelement vertex 6\nproperty float x\nproperty float y\n"
        b"property float z\nelement tristrips 1\nproperty list int int vertex_indices\n"
        b"end_header\n0 0 0\n0 1 0\n1 0 0\n1 1 0\n2 0 0\n2 1 0\n6 0 1 2 3 4 5\n")
    model = load(ply, Limits())
    assert model.triangles == 4
    faces = model.parts[0].primitives[0].faces
    v = model.parts[0].primitives[0].vertices
    normals = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    assert np.all(np.sign(normals[:, 2]) == np.sign(normals[0, 2]))  # consistent winding
