"""Walls with equal openings share one boolean (vrcollab.ingest.ifc_reuse), and nothing changes:
the scene equals the one where every wall goes through ifcopenshell's iterator."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.corpus import HOUSE, shared_model
from tests.ingest.helpers import ROOT
from vrcollab.ingest import ifc as ifc_loader
from vrcollab.ingest.ifc import load_ifc_scene
from vrcollab.ingest.ifc_reuse import ReuseGroups, placement_matrix, reuse_groups
from vrcollab.ingest.limits import Limits

sys.path.insert(0, str(ROOT / "bench"))
import building_gen


def _real(name: str, tmp_path: Path) -> Path:
    """A real IFC file from ../shared or the committed fixtures (unzipped), else skip."""
    import zipfile

    if name == HOUSE.name:
        return HOUSE
    path = shared_model(f"ifc/{name}")
    if path.suffix != ".zip":
        return path
    with zipfile.ZipFile(path) as z:
        member = next(n for n in z.namelist() if n.lower().endswith(".ifc"))
        out = tmp_path / name
        out.write_bytes(z.read(member))
    return out


@pytest.fixture(scope="module")
def building(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated terminal with walls of two kinds (door / window opening)."""
    return building_gen.generate(400, tmp_path_factory.mktemp("reuse") / "b.ifc")


def _world(scene: Any) -> dict[str, Any]:
    """GlobalId -> (class, name, hash, triangles, world meshes) of every element."""
    out = {}
    for e in scene.elements:
        meshes = [(m.material, m.vertices @ e.matrix[:3, :3].T + e.matrix[:3, 3], m.faces)
                  for m in scene.reps[e.rep].meshes]
        out[e.global_id] = (e.ifc_class, e.name, e.geometry_hash, e.triangles, e.lo, e.hi,
                            e.properties, e.container, meshes)
    return out


def _assert_same(a: Any, b: Any) -> None:
    assert [e.global_id for e in a.elements] == [e.global_id for e in b.elements]
    assert a.offset == b.offset
    wa, wb = _world(a), _world(b)
    for gid, x in wa.items():
        y = wb[gid]
        assert x[:4] == y[:4], gid
        assert x[6:8] == y[6:8], gid
        np.testing.assert_allclose(x[4], y[4], atol=1e-6)
        np.testing.assert_allclose(x[5], y[5], atol=1e-6)
        assert len(x[8]) == len(y[8]), gid
        for (ma, va, fa), (mb, vb, fb) in zip(x[8], y[8], strict=True):
            assert ma == mb, gid
            assert np.array_equal(fa, fb), gid
            np.testing.assert_allclose(va, vb, atol=1e-6)  # metres: well under 1 mm


def _without_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifc_loader, "reuse_groups", lambda ifc: ReuseGroups({}))


def test_equal_walls_are_tessellated_once_and_give_the_same_scene(
        building: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ifcopenshell

    groups = reuse_groups(ifcopenshell.open(str(building)))
    walls = len(ifcopenshell.open(str(building)).by_type("IfcWall"))
    assert walls > 10
    assert len(groups.leader_of) == walls - 2  # a door wall and a window wall
    assert len(set(groups.leader_of.values())) == 2
    fast = load_ifc_scene(building, Limits(), threads=1)
    _without_reuse(monkeypatch)
    slow = load_ifc_scene(building, Limits(), threads=1)
    _assert_same(fast, slow)
    walls_fast = {e.rep for e in fast.elements if e.ifc_class == "IfcWall"}
    assert len(walls_fast) == 2


def test_placement_matrix_is_the_iterators_matrix(building: Path, tmp_path: Path) -> None:
    """Followers are placed with the matrix ifcopenshell's iterator reports, bit for bit."""
    import ifcopenshell
    import ifcopenshell.geom as geom

    for path in [building, _real("AC20-FZK-Haus.ifc", tmp_path)]:
        ifc = ifcopenshell.open(str(path))
        settings = geom.settings()
        settings.set("use-world-coords", False)
        settings.set("permissive-shape-reuse", True)
        it = geom.iterator(settings, ifc, 1, exclude=ifc_loader.EXCLUDED_CLASSES)
        assert it.initialize()
        count = 0
        while True:
            shape = it.get()
            want = np.asarray(shape.transformation.matrix, dtype=np.float64).reshape(4, 4).T
            got = placement_matrix(settings, ifc.by_id(shape.id))
            assert np.array_equal(got, want), (path.name, shape.id)
            count += 1
            if not it.next():
                break
        assert count > 50


def _edit(src: Path, dst: Path, change: Any) -> tuple[int, int]:
    """Apply ``change(ifc, wall)`` to the second wall of a door pair; (changed, its leader)."""
    import ifcopenshell

    ifc = ifcopenshell.open(str(src))
    groups = reuse_groups(ifc)
    follower, leader = sorted(groups.leader_of.items())[0]
    change(ifc, ifc.by_id(follower))
    ifc.write(str(dst))
    return follower, leader


def _move_opening(ifc: Any, wall: Any) -> None:
    opening = wall.HasOpenings[0].RelatedOpeningElement
    rel = opening.ObjectPlacement.RelativePlacement
    x, y, z = rel.Location.Coordinates
    rel.Location = ifc.createIfcCartesianPoint((x + 0.25, y, z))  # its own point: 25 cm over


def _restyle(ifc: Any, wall: Any) -> None:
    item = wall.Representation.Representations[0].Items[0]
    colour = ifc.createIfcColourRgb(None, 0.1, 0.2, 0.9)
    style = ifc.createIfcSurfaceStyle("blue", "BOTH", [ifc.createIfcSurfaceStyleShading(colour,
                                                                                         0.0)])
    item.StyledByItem[0].Styles = [style]


def _unrelate_opening(ifc: Any, wall: Any) -> None:
    """Place the opening relative to the storey (same spot): not provably equal any more."""
    import ifcopenshell.util.placement as up

    opening = wall.HasOpenings[0].RelatedOpeningElement
    storey = wall.ObjectPlacement.PlacementRelTo
    m = np.linalg.inv(up.get_local_placement(storey)) @ up.get_local_placement(
        opening.ObjectPlacement)
    axis = ifc.createIfcAxis2Placement3D(ifc.createIfcCartesianPoint(
        [float(v) for v in m[:3, 3]]), None, None)
    opening.ObjectPlacement = ifc.createIfcLocalPlacement(storey, axis)


@pytest.mark.parametrize("change", [_move_opening, _restyle, _unrelate_opening])
def test_a_changed_wall_leaves_its_group_and_keeps_its_own_geometry(
        building: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    import ifcopenshell

    edited = tmp_path / "edited.ifc"
    changed, leader = _edit(building, edited, change)
    groups = reuse_groups(ifcopenshell.open(str(edited)))
    assert changed not in groups.leader_of
    assert changed not in groups.leader_of.values()
    fast = load_ifc_scene(edited, Limits(), threads=1)
    _without_reuse(monkeypatch)
    slow = load_ifc_scene(edited, Limits(), threads=1)
    _assert_same(fast, slow)
    ids = {e.global_id: e for e in fast.elements}
    ifc = ifcopenshell.open(str(edited))
    a, b = ids[ifc.by_id(changed).GlobalId], ids[ifc.by_id(leader).GlobalId]
    if change is _unrelate_opening:
        assert a.rep == b.rep  # same geometry after all (equal content, found after tessellation)
    else:
        assert a.rep != b.rep


@pytest.mark.parametrize("name", ["AC20-FZK-Haus.ifc", "duplex.ifc", HOUSE.name])
def test_real_files_load_as_before(name: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = _real(name, tmp_path)
    fast = load_ifc_scene(path, Limits(), threads=1)
    _without_reuse(monkeypatch)
    slow = load_ifc_scene(path, Limits(), threads=1)
    _assert_same(fast, slow)
