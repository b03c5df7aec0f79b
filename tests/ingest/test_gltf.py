"""GLB writing, KHR_mesh_quantization, EXT_meshopt_compression: validator + decode round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from tests.ingest.helpers import errors, infos, read_parts, validate, validator_available
from vrcollab.ingest.compress import EXTENSION, QUANTIZATION, decode_glb, read_glb
from vrcollab.ingest.gltf import build_glb, unique_names
from vrcollab.ingest.model import Material, Model, Part, Primitive

needs_validator = pytest.mark.skipif(not validator_available(), reason="no gltf-validator")


def _scene() -> Model:
    box = trimesh.creation.box(extents=(2, 1, 0.5))
    big = trimesh.creation.icosphere(6)  # > 65535 vertices: 32-bit indices
    big.apply_translation((5, 0, 0))
    uv_sphere = trimesh.creation.icosphere(2)
    uv = (uv_sphere.vertices[:, :2] + 1) / 2
    red = Material(name="red", color=(1, 0, 0, 1))
    glass = Material(name="glass", color=(0.5, 0.7, 1, 0.3), double_sided=True)
    return Model(parts=[
        Part("frame", [Primitive(np.asarray(box.vertices, float), np.asarray(box.faces), red),
                       Primitive(np.asarray(box.vertices, float) + np.array([0, 0, 1.0]),
                                 np.asarray(box.faces), glass)],
             path=("Building", "Level 1"), element_id="2O2Fr$t4X7Zf8NOew3FLOH",
             ifc_class="IfcWindow", properties={"Pset_WindowCommon": {"IsExternal": True}}),
        Part("ball", [Primitive(np.asarray(big.vertices, float), np.asarray(big.faces), red)],
             path=("Building",)),
        Part("frame", [Primitive(np.asarray(uv_sphere.vertices, float) - [4, 0, 0],
                                 np.asarray(uv_sphere.faces), Material(name="plain"),
                                 uv=np.asarray(uv))]),
    ], source_format="glb")


@pytest.fixture(scope="module")
def glbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    model = _scene()
    unique_names(model)
    d = tmp_path_factory.mktemp("glb")
    out = {}
    for name, q, c in (("float", False, False), ("quantized", True, False),
                       ("compressed", True, True)):
        data, stats = build_glb(model, name="scene", quantize=q, compress=c)
        assert stats.draw_calls == 4
        assert stats.triangles == model.triangles
        (d / f"{name}.glb").write_bytes(data)
        out[name] = d / f"{name}.glb"
    return out


def test_unique_names() -> None:
    model = _scene()
    unique_names(model)
    assert [p.name for p in model.parts] == ["frame", "ball", "frame (2)"]


@needs_validator
def test_validator_reports_no_errors(glbs: dict[str, Path]) -> None:
    reports = validate([glbs["float"], glbs["quantized"], glbs["compressed"]])
    for report in reports:
        assert errors(report) == [], report["uri"]
    assert "UNSUPPORTED_EXTENSION" in infos(reports[2])  # the validator cannot decode meshopt
    assert reports[1]["info"]["extensionsUsed"] == [QUANTIZATION]


def test_compressed_json_follows_the_extension_rules(glbs: dict[str, Path]) -> None:
    doc, binary = read_glb(glbs["compressed"].read_bytes())
    assert EXTENSION in doc["extensionsRequired"]
    assert QUANTIZATION in doc["extensionsRequired"]
    fallback = doc["buffers"][1]
    assert "uri" not in fallback
    assert fallback["extensions"][EXTENSION]["fallback"] is True
    for view in doc["bufferViews"]:
        ext = view["extensions"][EXTENSION]
        assert view["buffer"] == 1
        assert ext["buffer"] == 0
        assert view["byteLength"] == ext["byteStride"] * ext["count"]
        assert ext["byteOffset"] + ext["byteLength"] <= len(binary)
        if ext.get("filter") == "OCTAHEDRAL":
            assert ext["byteStride"] in (4, 8)
        if ext["mode"] == "ATTRIBUTES":
            assert ext["byteStride"] % 4 == 0
            assert view["byteStride"] == ext["byteStride"]
            assert binary[ext["byteOffset"]] == 0xA0  # attribute codec version 0
        else:
            assert ext["mode"] == "TRIANGLES"
            assert ext["count"] % 3 == 0
            assert ext["byteStride"] in (2, 4)
            assert "byteStride" not in view
    sizes = {glbs[k].stat().st_size for k in glbs}
    assert glbs["compressed"].stat().st_size < glbs["quantized"].stat().st_size < max(sizes) + 1


def test_decoded_compressed_equals_quantized(glbs: dict[str, Path]) -> None:
    plain_doc, plain_bin = read_glb(glbs["quantized"].read_bytes())
    comp_doc, _ = read_glb(glbs["compressed"].read_bytes())
    dec_doc, dec_bin = read_glb(decode_glb(glbs["compressed"].read_bytes()))
    assert len(plain_doc["bufferViews"]) == len(dec_doc["bufferViews"])
    filters = [v["extensions"][EXTENSION].get("filter", "NONE") for v in comp_doc["bufferViews"]]
    assert "OCTAHEDRAL" in filters  # normals
    for a, b, filt in zip(plain_doc["bufferViews"], dec_doc["bufferViews"], filters,
                          strict=True):
        x = plain_bin[a["byteOffset"]:a["byteOffset"] + a["byteLength"]]
        y = dec_bin[b["byteOffset"]:b["byteOffset"] + b["byteLength"]]
        if filt == "OCTAHEDRAL":  # 8-bit octahedral vs 8-bit xyz: within 2 units (< 1 degree)
            diff = np.frombuffer(x, np.int8).astype(int) - np.frombuffer(y, np.int8)
            assert np.abs(diff).max() <= 2
        elif a.get("target") == 34963:  # the triangle codec may rotate a triangle's corners
            dtype = np.uint16 if len(x) == 2 * _index_count(plain_doc, a) else np.uint32
            assert np.array_equal(_canonical(np.frombuffer(x, dtype)),
                                  _canonical(np.frombuffer(y, dtype)))
        else:
            assert x == y


def _index_count(doc: dict, view: dict) -> int:
    i = doc["bufferViews"].index(view)
    return next(a["count"] for a in doc["accessors"] if a["bufferView"] == i)


def _canonical(indices: np.ndarray) -> np.ndarray:
    """Rotate each triangle so its smallest index comes first (winding kept)."""
    t = indices.reshape(-1, 3).astype(np.int64)
    k = np.argmin(t, axis=1)
    rows = np.arange(len(t))[:, None]
    return t[rows, (k[:, None] + np.arange(3)) % 3]


def test_loads_back_with_names_extras_and_geometry(glbs: dict[str, Path]) -> None:
    ref = read_parts(glbs["float"].read_bytes())
    for name in ("quantized", "compressed"):
        parts = read_parts(glbs[name].read_bytes())
        assert set(parts) == {"frame", "ball", "frame (2)"}
        for key, (v, f, _) in parts.items():
            rv, rf, _ = ref[key]
            assert len(f) == len(rf)
            # 14-bit grid over a ~7 m extent: error below half a step
            assert np.abs(np.sort(v, axis=0) - np.sort(rv, axis=0)).max() < 7 / 16383
        extras = parts["frame"][2]
        assert extras["element_id"] == "2O2Fr$t4X7Zf8NOew3FLOH"
        assert extras["ifc_class"] == "IfcWindow"
        assert extras["properties"]["Pset_WindowCommon"]["IsExternal"] is True
    doc, _ = read_glb(glbs["quantized"].read_bytes())
    names = [n.get("name") for n in doc["nodes"]]
    assert "Building" in names
    assert "Level 1" in names
    assert any(m.get("alphaMode") == "BLEND" for m in doc["materials"])
