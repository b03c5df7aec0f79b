"""Saved views (``view.save`` records) <-> BCF topics with one viewpoint, both ways.

A saved view travels as a topic of its own (title = the view's name, label ``saved view``) whose
single viewpoint holds what the view shows:

=========================  ===================================================================
saved view                 BCF viewpoint
=========================  ===================================================================
camera                     PerspectiveCamera (model space -> BCF world, as annotations)
section {normal, offset}   a ClippingPlane: location on the plane, direction = the normal
                           (BCF: it points at the clipped-away side; we keep n . x <= offset)
box {min, max}             six ClippingPlanes, one per face, each pointing out of the box
hidden / isolated          Components Visibility: DefaultVisibility true with the hidden parts
                           as exceptions; isolated: DefaultVisibility false with the isolated
                           parts (less the hidden ones) as exceptions
colors {node: #rrggbb}     one Coloring per colour (``RRGGBB``)
=========================  ===================================================================

Each node is a Component with ``AuthoringToolId`` = the node id (OriginatingSystem
``vrcollab``) and, when known, ``IfcGuid`` = its element's IFC GlobalId (``node_guids``), so
other viewers find the IFC elements and an import finds the nodes. The topic's
``ReferenceLink`` ``vrcollab:view?id=<view id>`` marks it as a saved view (``&camera=none``: the
view had no camera; BCF 3.0 needs one, so a placeholder is written). Importing a topic with that
link gives a ``view.save`` record; any other topic is an issue. Of several plain clipping planes
only the first becomes the section plane (a view holds one plane and one box).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from vrcollab.bcf.frame import ModelFrame, is_vec3, unit
from vrcollab.bcf.model import (
    ClippingPlane,
    Coloring,
    Component,
    Components,
    PerspectiveCamera,
    Topic,
    Viewpoint,
    Visibility,
)
from vrcollab.bcf.visinfo import IFC_GUID

VIEW_LINK = "vrcollab:view?"
VIEW_LABEL = "saved view"
ORIGINATING_SYSTEM = "vrcollab"
_NS = uuid.UUID("6b0e7f3c-2a41-4c8e-9d5f-1e2a3b4c5d6e")
_AXES = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
_TOL = 1e-6


def is_view_topic(topic: Topic) -> bool:
    """Whether ``topic`` is a saved view exported by vrcollab (it has a view link)."""
    return _parse_link(topic) is not None


def view_to_topic(view: Mapping[str, Any], *, frame: ModelFrame, author: str,
                  node_guids: Mapping[str, str] | None = None) -> Topic:
    """The BCF topic of saved view ``view`` (a room ``views`` record)."""
    guids = node_guids or {}
    vid = str(view["id"])
    created = _date(view.get("created"))
    updated = _date(view.get("updated")) if view.get("updated") is not None else None
    cam = view.get("camera")
    params = [("id", vid)] + ([] if cam else [("camera", "none")])
    topic_guid = str(uuid.uuid5(_NS, f"view/{vid}"))
    return Topic(
        guid=topic_guid, title=str(view.get("name") or "").strip() or "View",
        creation_date=created, creation_author=author.strip() or "unknown",
        modified_date=updated if updated is not None and updated != created else None,
        labels=(VIEW_LABEL,), reference_links=(VIEW_LINK + urlencode(params),),
        viewpoints=(Viewpoint(
            guid=str(uuid.uuid5(_NS, f"view/{vid}/viewpoint")),
            camera=_camera(cam, view.get("box"), frame), index=0,
            components=_components(view, guids),
            clipping_planes=_planes(view.get("section"), view.get("box"), frame)),),
    )


def topic_to_view(topic: Topic, *, frame: ModelFrame,
                  guid_nodes: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The ``view.save`` record (``id``, ``name``, ``camera``, ``section``, ``box``, ``hidden``,
    ``isolated``, ``colors``) of a saved-view topic, or None when ``topic`` is not one."""
    link = _parse_link(topic)
    if link is None:
        return None
    vp = min(topic.viewpoints, key=lambda v: (v.index is None, v.index or 0), default=None)
    view: dict[str, Any] = {"id": link["id"], "name": topic.title[:120], "camera": None,
                            "section": None, "hidden": [], "isolated": None, "colors": {}}
    if vp is None:
        return view
    cam = vp.camera
    if isinstance(cam, PerspectiveCamera) and link.get("camera") != "none":
        target = [p + d for p, d in zip(cam.position, cam.direction, strict=True)]
        view["camera"] = {"position": frame.point_from_bcf(cam.position),
                          "target": frame.point_from_bcf(target),
                          "up": frame.dir_from_bcf(cam.up), "fov": cam.field_of_view}
    section, box = _from_planes(vp.clipping_planes, frame)
    view["section"] = section
    if box is not None:
        view["box"] = box
    nodes = guid_nodes or {}

    def node(c: Component) -> str | None:
        if c.originating_system == ORIGINATING_SYSTEM and c.authoring_tool_id:
            return c.authoring_tool_id
        if c.ifc_guid:
            return nodes.get(c.ifc_guid, c.ifc_guid)
        return c.authoring_tool_id

    comps = vp.components
    if comps is not None and comps.visibility is not None:
        listed = [n for c in comps.visibility.exceptions if (n := node(c))]
        if comps.visibility.default_visibility:
            view["hidden"] = listed
        else:
            view["isolated"] = listed
    if comps is not None:
        for coloring in comps.coloring:
            hexa = coloring.color[-6:] if len(coloring.color) == 8 else coloring.color
            for c in coloring.components:
                if (n := node(c)) is not None:
                    view["colors"][n] = "#" + hexa.lower()
    return view


# --- saved view -> viewpoint parts -------------------------------------------------------------


def _component(node: str, guids: Mapping[str, str]) -> Component:
    guid = next((g for g in (guids.get(node), node) if g and IFC_GUID.match(g)), None)
    return Component(ifc_guid=guid, originating_system=ORIGINATING_SYSTEM,
                     authoring_tool_id=node)


def _components(view: Mapping[str, Any], guids: Mapping[str, str]) -> Components | None:
    hidden = [str(n) for n in view.get("hidden") or []]
    isolated = view.get("isolated")
    visibility = None
    if isolated is not None:
        gone = set(hidden)
        visibility = Visibility(default_visibility=False, exceptions=tuple(
            _component(str(n), guids) for n in isolated if n not in gone))
    elif hidden:
        visibility = Visibility(default_visibility=True,
                                exceptions=tuple(_component(n, guids) for n in hidden))
    by_color: dict[str, list[Component]] = {}
    for n, color in (view.get("colors") or {}).items():
        by_color.setdefault(str(color).lstrip("#").upper(), []).append(_component(str(n), guids))
    coloring = tuple(Coloring(color=c, components=tuple(cs)) for c, cs in by_color.items())
    if visibility is None and not coloring:
        return None
    return Components(visibility=visibility or Visibility(default_visibility=True),
                      coloring=coloring)


def _planes(section: Mapping[str, Any] | None, box: Mapping[str, Any] | None,
            frame: ModelFrame) -> tuple[ClippingPlane, ...]:
    planes: list[ClippingPlane] = []
    if section and section.get("enabled", True) and is_vec3(section.get("normal")):
        n = section["normal"]
        length2 = sum(float(v) * float(v) for v in n)
        if length2 > 0:
            k = float(section["offset"]) / length2
            planes.append(ClippingPlane(frame.point_to_bcf([k * float(v) for v in n]),
                                        unit(frame.dir_to_bcf(n))))
    if box and is_vec3(box.get("min")) and is_vec3(box.get("max")):
        lo, hi = [float(v) for v in box["min"]], [float(v) for v in box["max"]]
        centre = [(a + b) / 2 for a, b in zip(lo, hi, strict=True)]
        for axis, e in enumerate(_AXES):
            for side, value in ((-1.0, lo[axis]), (1.0, hi[axis])):
                at = list(centre)
                at[axis] = value
                planes.append(ClippingPlane(frame.point_to_bcf(at),
                                            unit(frame.dir_to_bcf([side * x for x in e]))))
    return tuple(planes)


def _camera(cam: Mapping[str, Any] | None, box: Mapping[str, Any] | None,
            frame: ModelFrame) -> PerspectiveCamera:
    if cam:
        position = frame.point_to_bcf(cam["position"])
        target = frame.point_to_bcf(cam["target"])
        direction = tuple(t - p for t, p in zip(target, position, strict=True))
        return PerspectiveCamera(position, (direction[0], direction[1], direction[2]),
                                 frame.dir_to_bcf(cam.get("up") or [0.0, 1.0, 0.0]),
                                 float(cam.get("fov") or 60.0))
    # BCF 3.0 needs a camera: look at the box (or the origin) from above, marked camera=none.
    centre = ([(float(a) + float(b)) / 2 for a, b in zip(box["min"], box["max"], strict=True)]
              if box else [0.0, 0.0, 0.0])
    c = frame.point_to_bcf(centre)
    return PerspectiveCamera((c[0] + 10.0, c[1] - 10.0, c[2] + 10.0), (-10.0, 10.0, -10.0),
                             (0.0, 0.0, 1.0), 60.0)


# --- viewpoint -> saved view parts -------------------------------------------------------------


def _from_planes(planes: tuple[ClippingPlane, ...], frame: ModelFrame
                 ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The section plane and box of a viewpoint's clipping planes (model space)."""
    model = []
    for p in planes:
        d = unit(frame.dir_from_bcf(p.direction))
        if d != (0.0, 0.0, 0.0):
            model.append((frame.point_from_bcf(p.location), d))
    box = _box(model[-6:]) if len(model) >= 6 else None  # we write the box last
    used = set(range(len(model) - 6, len(model))) if box is not None else set()
    section = None
    rest = [m for i, m in enumerate(model) if i not in used]
    if rest:
        at, d = rest[0]
        section = {"normal": list(d), "offset": sum(a * b for a, b in zip(at, d, strict=True)),
                   "enabled": True}
    return section, box


def _box(planes: list[tuple[list[float], Any]]) -> dict[str, Any] | None:
    """The box of six axis-aligned planes, one per face pointing out of it, else None."""
    faces: dict[tuple[int, float], list[float]] = {}
    for at, d in planes:
        for axis in range(3):
            others = [abs(d[j]) for j in range(3) if j != axis]
            if abs(abs(d[axis]) - 1.0) < _TOL and max(others) < _TOL:
                faces[(axis, math.copysign(1.0, d[axis]))] = at
    if len(faces) != 6:
        return None
    lo = [faces[(a, -1.0)][a] for a in range(3)]
    hi = [faces[(a, 1.0)][a] for a in range(3)]
    return {"min": lo, "max": hi} if all(a <= b for a, b in zip(lo, hi, strict=True)) else None


def _parse_link(topic: Topic) -> dict[str, str] | None:
    for link in topic.reference_links:
        if not link.startswith(VIEW_LINK):
            continue
        try:
            params = dict(parse_qsl(link[len(VIEW_LINK):], strict_parsing=True))
        except ValueError:
            continue
        if params.get("id"):
            return params
    return None


def _date(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)
