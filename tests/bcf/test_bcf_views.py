"""Issue 14: saved views export as BCF 2.1 / 3.0 viewpoints (camera, section plane and box as
clipping planes, hidden / isolated parts as visibility exceptions, colour overrides as
Coloring), XSD-valid, and import back as the same saved views."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from tests.bcf.bcf_support import validate_bcf
from vrcollab.bcf import read_bcf_archive
from vrcollab.bcf.frame import ModelFrame
from vrcollab.bcf.model import Component, Visibility
from vrcollab.bcf.views import topic_to_view
from vrcollab.review.bcf_exchange import export_bcf, plan_import
from vrcollab.sync.codec import Limits
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState, apply_commit

GUID = "2O2Fr$t4X7Zf8NOew3FLOH"
FRAMES = {"ifc": ModelFrame(offset=(100.0, 200.0, 5.0), up_axis="Z"),
          "tiled": ModelFrame(offset=(10.0, 0.0, -20.0), up_axis="Y")}
VIEW = {
    "id": "v1", "name": "East facade, level 1", "author": "u_rita", "created": 1.7e9,
    "updated": 1.7e9 + 60,
    "camera": {"position": [12.0, 3.0, 8.0], "target": [2.0, 1.0, 0.5], "up": [0.0, 0.0, 1.0],
               "fov": 50.0},
    "section": {"normal": [0.0, 0.0, 1.0], "offset": 2.5, "enabled": True},
    "box": {"min": [-1.0, -2.0, 0.0], "max": [4.0, 5.0, 3.0]},
    "hidden": ["wall-1", "door-2"], "isolated": None,
    "colors": {"slab-3": "#ff0000", "door-2": "#00aa00", "wall-4": "#ff0000"},
}
ISOLATED = {"id": "v2", "name": "Just the slab", "author": "u_rita", "created": 1.7e9 + 1,
            "camera": None, "section": {"normal": [1.0, 1.0, 0.0], "offset": 3.0,
                                         "enabled": True},
            "hidden": [], "isolated": ["slab-3", "wall-1"], "colors": {}}


def room_with(*views: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in views}


def close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, abs_tol=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("frame_name", sorted(FRAMES))
@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_saved_views_round_trip_through_bcf(version: str, frame_name: str) -> None:
    frame = FRAMES[frame_name]
    data = export_bcf({}, version=version, frame=frame, author_name=lambda u: "Rita Reviewer",
                      views=room_with(VIEW, ISOLATED), node_guids={"wall-1": GUID})
    counts = validate_bcf(data, version)
    assert counts["markup"] == 2
    assert counts["visinfo"] == 2

    topics = {t.title: t for t in read_bcf_archive(data).topics}
    facade = topics["East facade, level 1"]
    assert facade.creation_author == "Rita Reviewer"
    assert facade.labels == ("saved view",)
    (vp,) = facade.viewpoints
    assert len(vp.clipping_planes) == 7  # the section plane and the six faces of the box
    plane = vp.clipping_planes[0]
    assert close(list(plane.direction), list(frame.dir_to_bcf([0.0, 0.0, 1.0])))
    assert close(list(plane.location), list(frame.point_to_bcf([0.0, 0.0, 2.5])))
    vis = vp.components.visibility
    assert vis.default_visibility is True
    assert [c.authoring_tool_id for c in vis.exceptions] == ["wall-1", "door-2"]
    assert vis.exceptions[0].ifc_guid == GUID  # other viewers find the IFC element
    colors = {c.color: sorted(x.authoring_tool_id for x in c.components)
              for c in vp.components.coloring}
    assert colors == {"FF0000": ["slab-3", "wall-4"], "00AA00": ["door-2"]}
    eye = frame.point_to_bcf(VIEW["camera"]["position"])
    assert close(list(vp.camera.position), list(eye))

    slab = topics["Just the slab"].viewpoints[0]
    assert slab.components.visibility.default_visibility is False
    assert [c.authoring_tool_id for c in slab.components.visibility.exceptions] == [
        "slab-3", "wall-1"]
    assert len(slab.clipping_planes) == 1
    assert slab.camera is not None  # BCF 3.0 needs one; the import gives the view none back

    # Import into another room: the same saved views come back (ids, camera, section, box,
    # hidden, isolated, colours), authored by the importer; the annotations are untouched.
    plan = plan_import(data, existing=set(), frame=frame, limits=Limits(), importer="u_carl",
                       existing_views=set())
    assert sorted(plan.views) == ["v1", "v2"]
    assert plan.annotations == []
    state = RoomState()
    for seq, (author, op) in enumerate(plan.items, 1):
        apply_commit(state, Commit(seq, op.op_id, op.kind, author, 1.8e9 + seq, op.fields))
    assert state.annotations == {}
    for original in (VIEW, ISOLATED):
        got = state.views[original["id"]]
        want = {k: original[k] for k in ("name", "camera", "hidden", "isolated", "colors")}
        if "box" in original:
            want["box"] = original["box"]
        sec = original["section"]
        length = math.sqrt(sum(v * v for v in sec["normal"]))
        want["section"] = {"normal": [v / length for v in sec["normal"]],
                           "offset": sec["offset"] / length, "enabled": True}
        assert close({k: got.get(k) for k in want}, want), (got, want)
        assert got["author"] == "u_carl"

    # Importing the same archive again adds nothing.
    again = plan_import(data, existing=set(), frame=frame, limits=Limits(), importer="u_carl",
                        existing_views=set(state.views))
    assert again.items == []
    assert {s["reason"] for s in again.skipped} == {"saved view already in the room"}


def test_views_and_issues_share_one_archive() -> None:
    ann = {"id": "a1", "title": "Gap", "text": "", "author": "u_rita", "created": 1.7e9,
           "position": [1.0, 2.0, 3.0], "normal": [0.0, 0.0, 1.0], "comments": []}
    frame = FRAMES["ifc"]
    data = export_bcf({"a1": ann}, version="3.0", frame=frame, views=room_with(VIEW))
    validate_bcf(data, "3.0")
    plan = plan_import(data, existing=set(), frame=frame, limits=Limits(), importer="u_carl",
                       existing_views=set())
    assert (plan.annotations, plan.views) == (["a1"], ["v1"])
    # Without a known GlobalId a component carries the node id only.
    data = export_bcf({}, version="2.1", frame=frame, views=room_with(ISOLATED))
    topic = read_bcf_archive(data).topics[0]
    vp = topic.viewpoints[0]
    assert vp.components.visibility.exceptions[1].ifc_guid is None
    # A component another tool wrote with only an IFC GlobalId maps to our node.
    foreign = replace(vp, components=replace(vp.components, visibility=Visibility(
        default_visibility=False, exceptions=(Component(ifc_guid=GUID),))))
    view = topic_to_view(replace(topic, viewpoints=(foreign,)), frame=frame,
                         guid_nodes={GUID: "wall-1"})
    assert view is not None
    assert view["isolated"] == ["wall-1"]
