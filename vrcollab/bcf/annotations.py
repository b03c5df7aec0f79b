"""Mapping between vrcollab annotations and BCF topics, both ways.

An annotation is the dict of docs/protocol.md ("Durable state"). How each part travels:

=========================  ===================================================================
annotation                 BCF topic
=========================  ===================================================================
id                         Topic Guid when it is a UUID, else a UUID5 of it (id kept in link)
title / text               Title / Description
status / priority          TopicStatus / Priority (vocabularies below; originals kept)
assignee / labels          AssignedTo / Labels
author / created / updated CreationAuthor / CreationDate / ModifiedDate
comments                   Comment (id -> Guid like the topic; created/updated -> dates)
viewpoint                  perspective camera of the pin viewpoint; ``direction`` is written
                           un-normalised as ``target - position`` so the target survives
element_id                 the pin viewpoint's first selected component: ``IfcGuid`` when it is
                           an IFC GlobalId, else ``AuthoringToolId`` (OriginatingSystem
                           ``vrcollab``)
position / normal          a markup line from the pin along its normal (visible in any BCF
                           viewer) plus the exact values in the pin link
=========================  ===================================================================

The **pin link** is a ``ReferenceLink`` (a free string in both BCF 2.1 and 3.0, so it is schema
safe and other tools keep it) of the form
``vrcollab:annotation?id=...&node=...&p=x,y,z&n=x,y,z&view=...&c=<guid> <id>``. It carries what
BCF cannot hold exactly: the annotation and comment ids, the node id, the pin position and normal
in model coordinates, and the exact viewpoint (used on import only while the topic's camera
still matches it, so a camera edited in another tool wins). It is added only when needed.

Coordinates: annotations live in model space, the GLB's own coordinates (recentred:
``original = stored + offset``, docs/manifest.md); BCF uses the original world with Z up. IFC
models keep their Z-up axes in the GLB (the web client rotates the model root for display), other
formats are Y up. :class:`ModelFrame` (``ModelFrame.from_manifest``) holds the offset and up axis;
the default is the identity (model space == BCF world).

Lossless where possible: ``topic_to_annotation`` stores the whole topic (without binary payloads)
under ``annotation["bcf"]["topic"]``; ``annotation_to_topic`` starts from it (or from ``base``,
which also supplies snapshots, bitmaps and documents) and only rewrites what the annotation
changed, so an unchanged annotation exports to the topic it came from.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from vrcollab.bcf.frame import ModelFrame, is_vec3, unit, vec
from vrcollab.bcf.jsonform import topic_from_json, topic_to_json
from vrcollab.bcf.model import (
    Comment,
    Component,
    Components,
    Line,
    PerspectiveCamera,
    Topic,
    Vec3,
    Viewpoint,
)
from vrcollab.bcf.pinlink import PIN_LINK, format_link, parse_link
from vrcollab.bcf.visinfo import FOV_21, IFC_GUID
from vrcollab.bcf.vocabulary import (
    PRIORITY_TO_BCF,
    STATUS_TO_BCF,
    keep_word,
    priority_from_bcf,
    status_from_bcf,
)
from vrcollab.errors import BcfError

PIN_NEEDLE_M = 0.25
_GEOMETRY = ("position", "normal", "viewpoint", "element_id")
DEFAULT_FOV = 60.0
ORIGINATING_SYSTEM = "vrcollab"
_NS = uuid.UUID("3f1c9a52-8d7e-4b61-9a0e-2c5d7e8f9a10")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# --- topic -> annotation -----------------------------------------------------------------------


def topic_to_annotation(topic: Topic, *, frame: ModelFrame | None = None) -> dict[str, Any]:
    """An annotation dict for ``topic``; ``annotation["bcf"]`` keeps the topic's other fields."""
    frame = frame or ModelFrame()
    pin = _pin_fields(topic, frame)
    cids = pin.pop("comment_ids")
    created = _timestamp(topic.creation_date)
    return {
        **pin,
        "title": topic.title,
        "text": topic.description or "",
        "status": status_from_bcf(topic.topic_status),
        "priority": priority_from_bcf(topic.priority),
        "assignee": topic.assigned_to,
        "labels": list(topic.labels),
        "author": topic.creation_author,
        "created": created,
        "updated": _timestamp(topic.modified_date) if topic.modified_date else created,
        "comments": [{
            "id": cids.get(c.guid, c.guid),
            "author": c.author,
            "text": c.text,
            "created": _timestamp(c.date),
            "updated": _timestamp(c.modified_date) if c.modified_date else _timestamp(c.date),
        } for c in topic.comments],
        "bcf": {"topic": topic_to_json(topic, binary=False), "pin_source": pin_source(topic)},
    }


def pin_source(topic: Topic) -> str:
    """Where the annotation pin comes from: ``link`` (exact), ``camera`` (a guess) or ``none``."""
    if parse_link(topic) is not None:
        return "link"
    vp = _pin_viewpoint(topic)
    return "camera" if vp is not None and vp.camera is not None else "none"


def _pin_fields(topic: Topic, frame: ModelFrame) -> dict[str, Any]:
    link = parse_link(topic) or {}
    vp = _pin_viewpoint(topic)
    cam = vp.camera if vp is not None else None
    view = link.get("view")
    viewpoint: dict[str, Any] | None = None
    if view == "none" or cam is None:
        viewpoint = None
    elif isinstance(view, dict) and _same_camera(cam, _camera_for(view, frame)):
        viewpoint = view
    else:
        target = [p + d for p, d in zip(cam.position, cam.direction, strict=True)]
        fov = cam.field_of_view if isinstance(cam, PerspectiveCamera) else DEFAULT_FOV
        viewpoint = {"position": frame.point_from_bcf(cam.position),
                     "target": frame.point_from_bcf(target), "up": frame.dir_from_bcf(cam.up),
                     "fov": fov}
    if "p" in link:
        position, normal = link["p"], link["n"]
    elif cam is not None:
        ahead = unit(cam.direction)
        position = frame.point_from_bcf([p + d for p, d in zip(cam.position, ahead, strict=True)])
        normal = frame.dir_from_bcf([-d for d in ahead])
    else:
        position, normal = [0.0, 0.0, 0.0], frame.dir_from_bcf((0.0, 0.0, 1.0))
    element_id = None
    if vp is not None and vp.components is not None and vp.components.selection:
        first = vp.components.selection[0]
        element_id = first.ifc_guid or first.authoring_tool_id
    return {"id": link.get("id", topic.guid), "position": position, "normal": normal,
            "node_id": link.get("node"), "element_id": element_id, "viewpoint": viewpoint,
            "comment_ids": link.get("c", {})}


# --- annotation -> topic -----------------------------------------------------------------------


def annotation_to_topic(annotation: Mapping[str, Any], *, snapshot: bytes | None = None,
                        base: Topic | None = None, frame: ModelFrame | None = None) -> Topic:
    """A BCF topic for ``annotation``.

    ``base`` (or, failing that, ``annotation["bcf"]["topic"]``) is the topic the annotation was
    imported from; its fields survive unless the annotation changed them. ``snapshot`` (PNG or
    JPEG bytes) becomes the pin viewpoint's snapshot.
    """
    frame = frame or ModelFrame()
    a = _checked(annotation)
    orig = base if base is not None else stored_topic(annotation)
    guid = orig.guid if orig is not None else _as_guid(a["id"])
    created = _keep_date(orig.creation_date if orig else None, a["created"])
    updated = a.get("updated")
    title = a["title"] if a["title"].strip() else (a["text"].strip().split("\n")[0][:80]
                                                   or "Annotation")
    topic = Topic(guid=guid, title=title, creation_date=created,
                  creation_author=a["author"] if a["author"].strip() else "unknown")
    if orig is not None:
        topic = replace(orig, title=title, creation_date=created,
                        creation_author=topic.creation_author)
    keep = orig is not None
    modified = _modified(topic.modified_date, created, updated)
    topic = replace(
        topic,
        description=a["text"] if a["text"].strip() else None,
        topic_status=keep_word(topic.topic_status, a["status"], status_from_bcf, STATUS_TO_BCF,
                                keep),
        priority=keep_word(topic.priority, a["priority"], priority_from_bcf, PRIORITY_TO_BCF,
                            keep),
        assigned_to=a.get("assignee") or None,
        labels=tuple(a.get("labels") or ()),
        modified_date=modified,
        modified_author=topic.modified_author if modified == topic.modified_date else None,
        comments=tuple(_comment(c, {o.guid: o for o in topic.comments})
                       for c in a.get("comments") or ()),
    )
    wanted = {k: a.get(k) for k in ("id", "position", "normal", "node_id", "element_id",
                                    "viewpoint")}
    comment_ids = {_as_guid(c["id"]): c["id"] for c in a.get("comments") or ()
                   if _as_guid(c["id"]) != c["id"]}
    wanted["comment_ids"] = comment_ids
    derived = _pin_fields(topic, frame) if orig is not None else None
    if derived is None or any(derived[k] != wanted[k] for k in _GEOMETRY):
        topic = replace(topic, viewpoints=_rebuild_viewpoints(topic, a, frame, derived))
    topic = _with_snapshot(topic, snapshot)
    topic = without_markup_lines(topic, a.get("erased_markup_lines") or (), frame)
    topic = with_markup_lines(topic, a.get("markup_lines") or (), frame)
    links = list(topic.reference_links)
    at = next((i for i, x in enumerate(links) if x.startswith(PIN_LINK)), 0)
    links = [x for x in links if not x.startswith(PIN_LINK)]
    bare = replace(topic, reference_links=tuple(links))
    if _matches(bare, wanted, frame):
        return bare
    links.insert(at, format_link(a, comment_ids))
    return replace(topic, reference_links=tuple(links))


def _invalid(message: str) -> BcfError:
    return BcfError(f"invalid annotation: {message}", code="bcf_invalid_model")


def _checked(annotation: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``annotation`` with defaults filled in; raises on wrong shapes."""
    a = {"title": "", "text": "", "author": "", "status": "open", "priority": "normal",
         "position": [0.0, 0.0, 0.0], "normal": [0.0, 1.0, 0.0],
         **{k: v for k, v in annotation.items() if v is not None}}
    for key in ("id", "title", "text", "status", "priority", "author"):
        if not isinstance(a.get(key, ""), str):
            raise _invalid(f"{key} must be a string")
    for key in ("assignee", "node_id", "element_id"):
        if a.get(key) is not None and not isinstance(a[key], str):
            raise _invalid(f"{key} must be a string or null")
    if not a.get("id"):
        raise _invalid("no id")
    if a["status"] not in STATUS_TO_BCF:
        raise _invalid(f"unknown status {a['status']!r}")
    if a["priority"] not in PRIORITY_TO_BCF:
        raise _invalid(f"unknown priority {a['priority']!r}")
    _to_datetime(a.get("created"))
    if not is_vec3(a["position"]) or not is_vec3(a["normal"]):
        raise _invalid("position and normal must be 3 finite numbers")
    labels = a.get("labels") or []
    if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
        raise _invalid("labels must be a list of strings")
    view = a.get("viewpoint")
    if view is not None and not (
            isinstance(view, Mapping) and all(is_vec3(view.get(k))
                                              for k in ("position", "target", "up"))
            and isinstance(view.get("fov"), int | float) and 0 < view["fov"] < 180):
        raise _invalid("viewpoint needs position, target, up (3 numbers) and fov (0-180)")
    for c in a.get("comments") or []:
        if not isinstance(c, Mapping) or not isinstance(c.get("id"), str) or not c["id"]:
            raise _invalid("every comment needs a string id")
        _to_datetime(c.get("created"))
    return a


def stored_topic(annotation: Mapping[str, Any]) -> Topic | None:
    """The BCF topic an annotation was imported from (its ``bcf`` stash), if kept."""
    stored = annotation.get("bcf")
    if isinstance(stored, Mapping) and stored.get("topic") is not None:
        return topic_from_json(stored["topic"])
    return None


def _matches(topic: Topic, wanted: dict[str, Any], frame: ModelFrame) -> bool:
    return bool(_pin_fields(topic, frame) == wanted)


def _rebuild_viewpoints(topic: Topic, a: dict[str, Any], frame: ModelFrame,
                        derived: dict[str, Any] | None) -> tuple[Viewpoint, ...]:
    """Update the pin viewpoint where the annotation differs from what ``topic`` says."""
    def same(*keys: str) -> bool:
        return derived is not None and all(derived[k] == a.get(k) for k in keys)

    old = _pin_viewpoint(topic)
    position = [float(v) for v in a["position"]]
    normal = unit(frame.dir_to_bcf(a["normal"]))
    if normal == (0.0, 0.0, 0.0):
        normal = (0.0, 0.0, 1.0)
    pin = frame.point_to_bcf(position)
    needle = Line(pin, vec(p + PIN_NEEDLE_M * n for p, n in zip(pin, normal, strict=True)))
    old_lines = old.lines if old is not None else ()
    if same("position", "normal"):
        lines = old_lines
    else:
        if old_lines and parse_link(topic) is not None:
            old_lines = old_lines[1:]  # our previous needle
        lines = (needle, *old_lines)
    view = a.get("viewpoint")
    old_camera = old.camera if old is not None else None
    aspect = old_camera.aspect_ratio if old_camera is not None else None
    if same("viewpoint") and old_camera is not None:
        camera = old_camera
    else:
        camera = _camera_for(view, frame, aspect) if view else _synthetic_camera(pin, normal)
    components = old.components if old is not None else None
    element_id = a.get("element_id")
    if same("element_id"):
        pass
    elif element_id:
        comp = (Component(ifc_guid=element_id) if IFC_GUID.match(element_id)
                else Component(originating_system=ORIGINATING_SYSTEM,
                               authoring_tool_id=element_id))
        rest = components.selection[1:] if components is not None else ()
        components = replace(components or Components(), selection=(comp, *rest))
    elif components is not None and components.selection:
        components = replace(components, selection=())
    guid = old.guid if old is not None else str(uuid.uuid5(_NS, f"{topic.guid}/pin"))
    new = Viewpoint(guid=guid, camera=camera, components=components, lines=lines,
                    clipping_planes=old.clipping_planes if old else (),
                    bitmaps=old.bitmaps if old else (), snapshot=old.snapshot if old else None,
                    index=old.index if old else None)
    if old is None:
        return (new, *topic.viewpoints)
    return tuple(new if v is old else v for v in topic.viewpoints)


def _with_snapshot(topic: Topic, snapshot: bytes | None) -> Topic:
    vp = _pin_viewpoint(topic)
    if snapshot is None or vp is None:
        return topic
    return replace(topic, viewpoints=tuple(replace(v, snapshot=snapshot) if v is vp else v
                                           for v in topic.viewpoints))


def _comment(c: Mapping[str, Any], originals: dict[str, Comment]) -> Comment:
    guid = _as_guid(str(c["id"]))
    o = originals.get(guid)
    date = _keep_date(o.date if o else None, c["created"])
    original = o.modified_date if o else None
    modified = _modified(original, date, c.get("updated"))
    return Comment(guid=guid, date=date, author=str(c.get("author") or "unknown"),
                   text=str(c.get("text") or ""), viewpoint_guid=o.viewpoint_guid if o else None,
                   modified_date=modified,
                   modified_author=o.modified_author if o and modified == original else None)


def _modified(original: datetime | None, created: datetime, updated: object) -> datetime | None:
    """The ModifiedDate for an ``updated`` time: none when it equals the creation time."""
    if updated is None:
        return original
    new = _to_datetime(updated)
    if original is not None and _timestamp(original) == _timestamp(new):
        return original
    if _timestamp(new) == _timestamp(created):
        return None
    return new


# --- 3D markup as viewpoint lines ---------------------------------------------------------------

#: Two line ends closer than this (metres) are one point (chaining segments, dropping repeats).
LINE_TOLERANCE_M = 1e-6


def _close(p: Vec3, q: Vec3) -> bool:
    return all(abs(a - b) <= LINE_TOLERANCE_M for a, b in zip(p, q, strict=True))


def with_markup_lines(topic: Topic, polylines: Any, frame: ModelFrame) -> Topic:
    """``topic`` with each markup polyline (model-space points) appended to its pin
    viewpoint's ``Lines`` as segments; segments the viewpoint already holds are not repeated (a
    re-export of an imported topic whose lines became markup)."""
    vp = _pin_viewpoint(topic)
    if vp is None or not polylines:
        return topic
    lines = list(vp.lines)
    for pts in polylines:
        bcf = [frame.point_to_bcf(p) for p in pts if is_vec3(p)]
        for start, end in itertools.pairwise(bcf):
            if not any(_close(start, x.start) and _close(end, x.end) for x in lines):
                lines.append(Line(start, end))
    if len(lines) == len(vp.lines):
        return topic
    new = replace(vp, lines=tuple(lines))
    return replace(topic, viewpoints=tuple(new if v is vp else v for v in topic.viewpoints))


def without_markup_lines(topic: Topic, polylines: Any, frame: ModelFrame) -> Topic:
    """``topic`` without the segments of the given polylines (model-space points) in its pin
    viewpoint's ``Lines``: imported markup that was erased in the room."""
    vp = _pin_viewpoint(topic)
    if vp is None or not polylines:
        return topic
    gone = [(frame.point_to_bcf(s), frame.point_to_bcf(e)) for pts in polylines
            for s, e in itertools.pairwise(p for p in pts if is_vec3(p))]
    lines = tuple(x for x in vp.lines
                  if not any(_close(s, x.start) and _close(e, x.end) for s, e in gone))
    if len(lines) == len(vp.lines):
        return topic
    new = replace(vp, lines=lines)
    return replace(topic, viewpoints=tuple(new if v is vp else v for v in topic.viewpoints))


def markup_polylines(topic: Topic, frame: ModelFrame) -> list[list[list[float]]]:
    """The pin viewpoint's ``Lines`` other than our pin needle, chained into polylines
    (a segment starting where the previous one ended continues it), in model space."""
    vp = _pin_viewpoint(topic)
    if vp is None:
        return []
    lines = list(vp.lines)
    if lines and parse_link(topic) is not None:
        lines = lines[1:]  # our pin needle
    out: list[list[Vec3]] = []
    for ln in lines:
        if out and _close(out[-1][-1], ln.start):
            out[-1].append(ln.end)
        else:
            out.append([ln.start, ln.end])
    return [[frame.point_from_bcf(p) for p in pl] for pl in out]


# --- small helpers -----------------------------------------------------------------------------


def _pin_viewpoint(topic: Topic) -> Viewpoint | None:
    if not topic.viewpoints:
        return None
    return min(topic.viewpoints, key=lambda v: (v.index is None, v.index or 0))


def _camera_for(view: dict[str, Any], frame: ModelFrame,
                aspect: float | None = None) -> PerspectiveCamera:
    position = frame.point_to_bcf(view["position"])
    target = frame.point_to_bcf(view["target"])
    direction = vec(t - p for t, p in zip(target, position, strict=True))
    return PerspectiveCamera(position, direction, frame.dir_to_bcf(view["up"]),
                             float(view["fov"]), aspect)


def _same_camera(cam: object, expected: PerspectiveCamera) -> bool:
    if not isinstance(cam, PerspectiveCamera):
        return False
    clamped = min(max(expected.field_of_view, FOV_21[0]), FOV_21[1])
    return (cam.position, cam.direction, cam.up) == (
        expected.position, expected.direction, expected.up) and cam.field_of_view in (
        expected.field_of_view, clamped)


def _synthetic_camera(pin: Vec3, normal: Vec3) -> PerspectiveCamera:
    """A camera 3 m off the surface looking at the pin, for viewers without our link."""
    eye = vec(p + 3.0 * n for p, n in zip(pin, normal, strict=True))
    up = (0.0, 1.0, 0.0) if abs(normal[2]) > 0.9 else (0.0, 0.0, 1.0)
    return PerspectiveCamera(eye, vec(-3.0 * n for n in normal), up, DEFAULT_FOV)


def _as_guid(value: str) -> str:
    return value if _UUID.match(value) else str(uuid.uuid5(_NS, value))


def _timestamp(d: datetime) -> float:
    return (d if d.tzinfo is not None else d.replace(tzinfo=UTC)).timestamp()


def _to_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise BcfError(f"not a time: {value!r}", code="bcf_invalid_model")


def _keep_date(original: datetime | None, value: object) -> datetime:
    """``original`` when it denotes the same instant as ``value`` (keeps its zone), else new."""
    new = _to_datetime(value)
    if original is not None and _timestamp(original) == _timestamp(new):
        return original
    return new


