"""Tiled format v2 (docs/tiles.md) on the generated 2k-element building and small inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh

from tests.ingest.helpers import ROOT, errors, validate, validator_available
from tests.ingest.tiles_support import element_bounds, glb_json_bytes, load_json, tile_points, tiles
from vrcollab.ingest import element_table
from vrcollab.ingest.compress import decode_glb, read_glb
from vrcollab.ingest.convert import convert
from vrcollab.ingest.pipeline import ConversionResult, ConvertOptions
from vrcollab.ingest.tiled import convert_tiled
from vrcollab.jobs.elements import element_hashes

sys.path.insert(0, str(ROOT / "bench"))
import building_gen

READER = Path(__file__).with_name("read_tiles.mjs")
GLTF_TRANSFORM = ROOT / "clients" / "web" / "node_modules" / "@gltf-transform" / "core"


@pytest.fixture(scope="session")
def building(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult, Path]:
    """The generated 2,000-element building converted (tiles) + uncompressed copies."""
    d = tmp_path_factory.mktemp("building2k")
    src = building_gen.generate(2000, d / "building-2k.ifc")
    plain = d / "plain"
    plain.mkdir()

    def keep(node: Any, data: bytes) -> None:
        (plain / Path(node.content).name).write_bytes(data)

    result = convert_tiled(src, d / "out", ConvertOptions(leaf_triangles=50_000),
                           keep_uncompressed=keep)
    return d / "out", result, plain


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = building_gen.generate(300, tmp_path / "a.ifc").read_bytes()
    b = building_gen.generate(300, tmp_path / "b.ifc").read_bytes()
    assert a == b
    import ifcopenshell

    f = ifcopenshell.open(str(tmp_path / "a.ifc"))
    elements = [e for e in f.by_type("IfcElement") if not e.is_a("IfcOpeningElement")]
    assert len(elements) == 300
    assert f.by_type("IfcSite")[0].ObjectPlacement.RelativePlacement.Location.Coordinates[0] \
        == building_gen.SITE_ORIGIN[0]


def test_layout_and_small_manifest(building: tuple[Path, ConversionResult, Path]) -> None:
    out, result, _ = building
    m = load_json(out / "manifest.json")
    assert m["version"] == 2
    assert m["up_axis"] == "Z"
    assert m["tileset"] == "tileset.json"
    assert m["elements"]["count"] == 2000
    assert "parts" not in m
    assert (out / "manifest.json").stat().st_size < 8_000  # no per-element rows
    assert m["offset"][0] > 500_000  # georeferenced site far from the origin, recentred
    assert all(abs(x) < 1000 for x in m["bounds"]["min"] + m["bounds"]["max"])
    assert m["stats"]["tiles"] == len(tiles(out)) > 1
    assert result.manifest == m


def test_every_tile_validates(building: tuple[Path, ConversionResult, Path],
                              tmp_path: Path) -> None:
    if not validator_available():
        pytest.skip("node or gltf-validator missing")
    out, _, plain = building
    decoded = []
    for p in tiles(out):
        d = tmp_path / f"dec-{p.name}"
        d.write_bytes(decode_glb(p.read_bytes()))
        decoded.append(d)
    paths = tiles(out) + sorted(plain.glob("*.glb")) + decoded
    assert len(paths) == 3 * len(tiles(out))
    for path, report in zip(paths, validate(paths), strict=True):
        assert errors(report) == [], path
        assert report["issues"]["numWarnings"] == 0, (path, report["issues"]["messages"][:5])


def test_tileset_structure(building: tuple[Path, ConversionResult, Path]) -> None:
    out, _, _ = building
    ts = load_json(out / "tileset.json")
    assert ts["asset"]["version"] == "1.1"
    assert ts["geometricError"] >= ts["root"]["geometricError"]
    seen: list[str] = []

    def box(t: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        b = np.asarray(t["boundingVolume"]["box"], dtype=float)
        c, h = b[:3], np.abs(b[3:].reshape(3, 3)).sum(axis=0)
        return c - h, c + h

    def walk(t: dict[str, Any]) -> None:
        assert t["refine"] == "REPLACE"
        assert (out / t["content"]["uri"]).is_file()
        seen.append(t["content"]["uri"])
        lo, hi = box(t)
        kids = t.get("children", [])
        if not kids:
            assert t["geometricError"] == 0
        for k in kids:
            klo, khi = box(k)
            assert np.all(klo >= lo - 1e-9)
            assert np.all(khi <= hi + 1e-9)
            assert k["geometricError"] < t["geometricError"]
            walk(k)

    walk(ts["root"])
    assert len(seen) == len(set(seen)) == len(tiles(out))


def test_feature_ids_cover_each_element_once_and_stay_in_bounds(
        building: tuple[Path, ConversionResult, Path]) -> None:
    out, _, _ = building
    ts = load_json(out / "tileset.json")
    leaves: list[str] = []

    def walk(t: dict[str, Any]) -> None:
        if not t.get("children"):
            leaves.append(t["content"]["uri"])
        for k in t.get("children", []):
            walk(k)

    walk(ts["root"])
    bounds = element_bounds(out)
    assert bounds.shape == (2000, 6)
    counted: dict[int, int] = {}
    for uri in leaves:
        for el, pts in tile_points((out / uri).read_bytes()).items():
            counted[el] = counted.get(el, 0) + 1
            lo, hi = bounds[el, :3], bounds[el, 3:]
            assert np.all(pts >= lo - 2e-3), el
            assert np.all(pts <= hi + 2e-3), el
    assert sorted(counted) == list(range(2000))
    assert set(counted.values()) == {1}


def test_element_table(building: tuple[Path, ConversionResult, Path]) -> None:
    out, _, _ = building
    manifest = load_json(out / "manifest.json")
    table = element_table.read(out, manifest)
    assert (out / "elements.json.gz").read_bytes()[:2] == b"\x1f\x8b"  # gzip-compressed
    cols = table["columns"]
    assert table["count"] == 2000 == len(cols["globalId"]) == len(set(cols["globalId"]))
    assert {"IfcDoor", "IfcWindow", "IfcPlate", "IfcDuctFitting"} <= set(table["classes"])
    raw = (out / "elements.hash").read_bytes()
    assert len(raw) == 32 * 2000
    assert len({raw[32 * i:32 * i + 32] for i in range(2000)}) > 1000
    assert any("Level 1" in c for c in table["containers"])
    chunk = element_table.load_json(out / "props" / "0001.json.gz")
    assert chunk["start"] == 1024
    assert chunk["count"] == 2000 - 1024 == len(chunk["rows"])
    assert len(chunk["sets"]) < 100  # property sets stored once per chunk (deduplicated)
    walls = [i for i, c in enumerate(cols["class"]) if table["classes"][c] == "IfcWall"]
    first = element_table.read_props(out, manifest, 0)
    assert any(first[i].get("Pset_WallCommon", {}).get("FireRating") == "EI60"
               for i in walls if i < 1024)
    hashes = element_hashes(out)  # re-anchoring reads the element table
    assert hashes[cols["globalId"][0]] == raw[:32].hex()
    assert hashes[f"node:{cols['name'][0]}"] == raw[:32].hex()


def test_instancing_and_coarse_levels(building: tuple[Path, ConversionResult, Path]) -> None:
    _, result, _ = building
    st = result.manifest["stats"]
    assert st["instances"] > 1000
    assert st["triangles_stored"] < st["triangles"] / 5
    levels = result.manifest["levels"]
    assert levels[0]["triangles"] < levels[-1]["triangles"]  # coarse root: dropped + simplified
    assert levels[-1]["geometric_error"] == 0
    for dev in result.manifest["devices"].values():
        assert dev["status"] in ("pass", "warn", "fail")
        assert dev["triangles"] <= st["triangles"]
        assert dev["sse"] > 0
    assert result.manifest["devices"]["quest2"]["status"] == "pass"


def test_gltf_json_share(building: tuple[Path, ConversionResult, Path]) -> None:
    out, result, _ = building
    data = [p.read_bytes() for p in tiles(out)]
    json_bytes = sum(glb_json_bytes(d) for d in data)
    assert json_bytes == result.manifest["stats"]["gltf_json_bytes"]
    # The target is JSON < 5% of the bytes; on this heavily instanced building (a few
    # shared representations, so the binary is tiny) it is ~29% of the tile bytes in these
    # smaller tiles (24% in the CLI's one 2k tile, was 32%): NOT met. Regression guards only.
    assert json_bytes / sum(len(d) for d in data) < 0.32
    assert json_bytes / len(data) < 13_000  # per tile: ~16 representations at ~0.55 KB each
    for d in data:  # the instanced primitives of a tile share one attribute accessor set
        doc = read_glb(d)[0]
        inst = [n["mesh"] for n in doc["nodes"] if "EXT_mesh_gpu_instancing" in n.get(
            "extensions", {})]
        sets = {json.dumps(p["attributes"]) for k in inst for p in doc["meshes"][k]["primitives"]}
        assert len(sets) <= 1
        # per representation: translations, feature ids and one indices accessor per primitive
        batch = [n["mesh"] for n in doc["nodes"] if "mesh" in n and n["mesh"] not in inst]
        prims = {k: len(doc["meshes"][k]["primitives"]) for k in inst + batch}
        assert len(doc["accessors"]) <= sum(2 + prims[k] for k in inst) + 3 + sum(
            5 * prims[k] for k in batch)


def test_independent_reader(building: tuple[Path, ConversionResult, Path]) -> None:
    if not GLTF_TRANSFORM.is_dir():
        pytest.skip("@gltf-transform/core is not installed in clients/web")
    out, _, _ = building
    paths = tiles(out)
    run = subprocess.run(["node", str(READER), *map(str, paths)], capture_output=True,
                         text=True, timeout=300, check=True)
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(rows) == len(paths)
    for row, path in zip(rows, paths, strict=True):
        doc, _ = read_glb(path.read_bytes())
        assert row["meshes"] == len(doc["meshes"])
        assert row["vertices"] > 0
        assert "EXT_meshopt_compression" in row["extensionsUsed"]
        count = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"]
        assert row["fidMax"] < count


def test_500_doors_store_the_door_once(tmp_path: Path) -> None:
    src = building_gen.generate_doors(500, tmp_path / "doors.ifc")
    result = convert(src, tmp_path / "out")
    st = result.manifest["stats"]
    assert st["tiles"] == 1
    assert st["representations"] == 1
    doc, _ = read_glb((tmp_path / "out" / "tiles" / "0000.glb").read_bytes())
    inst = [n for n in doc["nodes"] if "EXT_mesh_gpu_instancing" in n.get("extensions", {})]
    assert len(inst) == 1
    assert len(doc["meshes"]) == 1
    acc = doc["accessors"][inst[0]["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]
                           ["TRANSLATION"]]
    assert acc["count"] == 500
    assert st["triangles"] == 500 * st["triangles_stored"]
    points = tile_points((tmp_path / "out" / "tiles" / "0000.glb").read_bytes())
    assert sorted(points) == list(range(500))
    # unrotated copies: instances carry only translation + id, the node nothing, its parent
    # the tile's grid step (the dequantisation scale, shared by every representation)
    node = inst[0]
    assert set(node["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]) == {
        "TRANSLATION", "_FEATURE_ID_0"}
    assert "scale" not in node
    assert "rotation" not in node
    parent = [n for n in doc["nodes"] if doc["nodes"].index(node) in n.get("children", [])]
    assert len(parent) == 1
    assert set(parent[0]) == {"scale", "children"}
    bounds = element_bounds(tmp_path / "out")
    for el, pts in points.items():  # every copy where its element is, to the millimetre
        assert np.allclose(pts.min(axis=0), bounds[el, :3], atol=1e-3), el
        assert np.allclose(pts.max(axis=0), bounds[el, 3:], atol=1e-3), el


def test_small_element_far_away_keeps_1mm(tmp_path: Path) -> None:
    big = trimesh.creation.box(extents=(20.0, 3.0, 20.0))
    small = trimesh.creation.box(extents=(0.05, 0.05, 0.05))
    scene = trimesh.Scene()
    scene.add_geometry(big, node_name="slab", geom_name="slab")
    scene.add_geometry(small, node_name="bolt", geom_name="bolt",
                       transform=trimesh.transformations.translation_matrix((1000.0, 0.7, 3.3)))
    src = tmp_path / "far.glb"
    scene.export(src)
    result = convert(src, tmp_path / "out")
    m = result.manifest
    assert m["source_up_axis"] == "Y"
    assert m["offset"] == [0.0, 0.0, 0.0]
    pts: dict[int, np.ndarray] = {}
    for p in tiles(tmp_path / "out"):
        pts.update(tile_points(p.read_bytes()))
    out = tmp_path / "out"
    names = element_table.read(out, load_json(out / "manifest.json"))["columns"]["name"]
    bolt = pts[names.index("bolt")]
    # source (glTF, Y-up) -> world (Z-up): (x, y, z) -> (x, -z, y)
    src_v = np.asarray(small.vertices) + np.array([1000.0, 0.7, 3.3])
    world = src_v @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T
    d = np.linalg.norm(world[:, None, :] - bolt[None, :, :], axis=2)
    assert d.min(axis=1).max() < 1e-3  # every source vertex has a stored vertex within 1 mm
    assert d.min(axis=0).max() < 1e-3  # and every stored vertex is within 1 mm of the source


def test_single_mesh_scan_is_a_chain(tmp_path: Path) -> None:
    mesh = trimesh.creation.icosphere(subdivisions=6, radius=1.0)  # 81,920 triangles
    src = tmp_path / "scan.ply"
    mesh.export(src)
    result = convert(src, tmp_path / "out", ConvertOptions(leaf_triangles=10_000))
    ts = load_json(tmp_path / "out" / "tileset.json")
    depth, t = 0, ts["root"]
    while t.get("children"):
        assert len(t["children"]) == 1
        assert t["children"][0]["geometricError"] < t["geometricError"]
        t = t["children"][0]
        depth += 1
    assert depth >= 2
    levels = result.manifest["levels"]
    assert levels[0]["triangles"] <= 10_000 < levels[-1]["triangles"] == 81_920


def test_repeated_parts_of_an_assembly_are_instanced(tmp_path: Path) -> None:
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(extents=(1.0, 0.1, 1.0)), node_name="plate",
                       geom_name="plate")
    bolt = trimesh.creation.cylinder(radius=0.01, height=0.12, sections=24)
    for k in range(8):
        scene.add_geometry(bolt, node_name=f"bolt{k}", geom_name=f"bolt{k}",
                           transform=trimesh.transformations.translation_matrix(
                               (0.1 * k - 0.35, 0.0, 0.4)))
    src = tmp_path / "assembly.glb"
    scene.export(src)
    result = convert(src, tmp_path / "out")
    st = result.manifest["stats"]
    assert st["representations"] == 2  # plate + one bolt shared by eight parts
    assert st["instances"] == 8
    assert st["triangles"] == 12 + 8 * (st["triangles_stored"] - 12)
    pts: dict[int, np.ndarray] = {}
    for p in tiles(tmp_path / "out"):
        pts.update(tile_points(p.read_bytes()))
    assert sorted(pts) == list(range(9))


def test_compressed_tiles_decode_to_the_plain_ones(
        building: tuple[Path, ConversionResult, Path]) -> None:
    out, _, plain = building
    for path in tiles(out):
        packed = tile_points(path.read_bytes())
        ref = tile_points((plain / path.name).read_bytes())
        assert sorted(packed) == sorted(ref)
        for el, pts in ref.items():
            assert np.array_equal(packed[el], pts), (path.name, el)


def test_reconverting_into_a_directory_leaves_no_stale_tiles(tmp_path: Path) -> None:
    big = trimesh.creation.icosphere(subdivisions=5, radius=1.0)
    src = tmp_path / "scan.ply"
    big.export(src)
    convert(src, tmp_path / "out", ConvertOptions(leaf_triangles=2_000))
    assert len(tiles(tmp_path / "out")) > 1
    small = tmp_path / "small.ply"
    trimesh.creation.box().export(small)
    convert(small, tmp_path / "out")
    assert [p.name for p in tiles(tmp_path / "out")] == ["0000.glb"]


def test_fast_kernel_loses_no_element(models_dir: Path) -> None:
    from vrcollab.ingest.ifc import load_ifc_scene
    from vrcollab.ingest.limits import Limits

    src = models_dir / "ifc" / "duplex.ifc"
    fast = load_ifc_scene(src, Limits())  # hybrid CGAL + OpenCascade for what CGAL skips
    occ = load_ifc_scene(src, Limits(), library="opencascade")
    assert sorted(e.global_id or "" for e in fast.elements) == sorted(
        e.global_id or "" for e in occ.elements)
    assert len(fast.elements) == 215


def _textured_glb(path: Path, copies: int) -> Path:
    """A glTF of ``copies`` textured boxes (PNG base colour texture, UVs)."""
    import io

    from PIL import Image

    img = Image.new("RGB", (16, 16))
    for x in range(16):
        for y in range(16):
            img.putpixel((x, y), (255 * ((x // 4 + y // 4) % 2), 64, 32))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    scene = trimesh.Scene()
    for k in range(copies):
        box = trimesh.creation.box((1.0, 1.0, 1.0))
        box.unmerge_vertices()
        uv = np.asarray(box.vertices[:, :2] + 0.5, dtype=float)
        mat = trimesh.visual.material.PBRMaterial(baseColorTexture=Image.open(io.BytesIO(
            buf.getvalue())))
        box.visual = trimesh.visual.TextureVisuals(uv=uv, material=mat)
        scene.add_geometry(box, node_name=f"crate{k}", geom_name=f"crate{k}",
                           transform=trimesh.transformations.translation_matrix((3.0 * k, 0, 0)))
    scene.export(path)
    return path


@pytest.mark.parametrize("copies", [1, 300])
def test_textures_survive_in_tiles(tmp_path: Path, copies: int) -> None:
    """docs/tiles.md T4: a textured source keeps TEXCOORD_0 and a baseColorTexture (baked and
    instanced), and the tile validates."""
    src = _textured_glb(tmp_path / "crates.glb", copies)
    plain: list[bytes] = []
    result = convert_tiled(src, tmp_path / "out", ConvertOptions(instance_min=4),
                           keep_uncompressed=lambda node, data: plain.append(data))
    assert result.manifest["stats"]["instanced_meshes"] == (1 if copies > 1 else 0)
    [tile] = tiles(tmp_path / "out")
    doc = read_glb(tile.read_bytes())[0]
    [mat] = doc["materials"]
    assert mat["pbrMetallicRoughness"]["baseColorTexture"] == {"index": 0}
    assert doc["images"][0]["mimeType"] == "image/png"
    prims = [p for m in doc["meshes"] for p in m["primitives"]]
    assert prims
    assert all("TEXCOORD_0" in p["attributes"] for p in prims)
    # the decoded tile's texture coordinates are the source's (0..1 over each face)
    gltf = trimesh.load(io_bytes(decode_glb(tile.read_bytes())), file_type="glb", force="scene")
    uvs = np.concatenate([g.visual.uv for g in gltf.geometry.values()])
    assert uvs.min() >= -1e-6
    assert 0.9 < uvs.max() <= 1 + 1e-6
    if validator_available():
        paths = [tile]
        for k, data in enumerate(plain):
            (tmp_path / f"plain{k}.glb").write_bytes(data)
            paths.append(tmp_path / f"plain{k}.glb")
        (tmp_path / "dec.glb").write_bytes(decode_glb(tile.read_bytes()))
        paths.append(tmp_path / "dec.glb")
        for path, report in zip(paths, validate(paths), strict=True):
            assert errors(report) == [], (path, report["issues"]["messages"][:5])
            assert report["issues"]["numWarnings"] == 0, (path, report["issues"]["messages"][:5])


def io_bytes(data: bytes) -> Any:
    """A binary file object of ``data``."""
    import io

    return io.BytesIO(data)
