"""A room's annotations <-> BCF archives (pure: no I/O, no server).

Export maps annotation authors (user ids) to names and calls
:func:`vrcollab.bcf.exchange.export_annotations`. Import reads an archive with
:func:`vrcollab.bcf.exchange.import_annotations` (hostile input ->
:class:`vrcollab.errors.BcfError`) and turns each topic's annotation into server ops for the
room: one ``annotation.create`` (validated by the same codec as client ops, plus the ``bcf``
stash that lets an export reproduce the original topic), one ``comment.add`` per comment and
one ``markup.create`` per polyline of the pin viewpoint's ``Lines`` (besides our pin needle);
an export writes the room's markup of a topic back as its lines. The stash records which line
polylines became which markup (``bcf.markups``: markup id -> polyline index), so an imported
markup erased in the room is also gone from the topic's lines on the next export.
Topics whose annotation id already exists in the room are skipped (importing the same file twice
adds nothing), as are topics that break the codec's limits (reported with the reason).

Authorship (issue 8, no impersonation): the author of record of every imported annotation and
comment is the **importer** (the user who posted the archive). The BCF ``CreationAuthor`` /
comment ``Author`` is kept beside it as ``imported_from = {"source": "bcf", "author": ...}``
(a free label, cleaned of control and bidi characters and bounded), which clients show as
"imported from ..." and which an export writes back as the BCF author.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vrcollab.bcf.annotations import markup_polylines, stored_topic
from vrcollab.bcf.archive import BcfLimits
from vrcollab.bcf.exchange import export_annotations, import_annotations
from vrcollab.bcf.frame import ModelFrame
from vrcollab.bcf.views import is_view_topic, topic_to_view, view_to_topic
from vrcollab.errors import LimitExceededError
from vrcollab.sync.codec import Limits, decode_client
from vrcollab.sync.messages import InvalidOp, Op
from vrcollab.sync.ops import MAX_MARKUP_POINTS

_FIELDS = ("id", "position", "normal", "node_id", "element_id", "viewpoint", "title", "text",
           "status", "priority", "assignee", "labels")
MAX_STASH_BYTES = 64 * 1024  # larger topics import without the stash (export rebuilds them)
MAX_IMPORTED_AUTHOR_CHARS = 200
MAX_IMPORTED_MARKUPS = 50  # markup polylines taken from one topic's pin viewpoint lines


def imported_from(bcf_author: object) -> dict[str, str] | None:
    """The ``imported_from`` record for a BCF author (None when the archive names nobody).

    Control, format (bidi overrides, zero-width) and surrogate characters are dropped, so the
    label cannot pose as another name or break a client; at most 200 characters are kept."""
    text = "".join(ch for ch in str(bcf_author or "")
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.split())[:MAX_IMPORTED_AUTHOR_CHARS]
    return {"source": "bcf", "author": text} if text else None


def _bcf_author(record: Mapping[str, Any], author_name: Callable[[str], str]) -> str:
    """The BCF author of an annotation or comment: its ``imported_from`` author, else the name
    of its author of record."""
    origin = record.get("imported_from")
    if isinstance(origin, Mapping) and isinstance(origin.get("author"), str) and origin["author"]:
        return str(origin["author"])
    return author_name(str(record.get("author") or ""))


def frame_for(manifest: Mapping[str, Any] | None) -> ModelFrame:
    """The BCF frame of a converted model (recentring offset, up axis); default without one."""
    return ModelFrame.from_manifest(manifest) if manifest else ModelFrame()


def export_bcf(
    annotations: Mapping[str, Mapping[str, Any]],
    *,
    version: str,
    frame: ModelFrame,
    author_name: Callable[[str], str] = lambda a: a,
    snapshots: Mapping[str, bytes] | None = None,
    markups: Mapping[str, Mapping[str, Any]] | None = None,
    views: Mapping[str, Mapping[str, Any]] | None = None,
    node_guids: Mapping[str, str] | None = None,
) -> bytes:
    """A ``.bcfzip`` of the annotations (oldest first); ``author_name`` maps user ids to the
    names written as BCF authors (an imported record keeps its original BCF author);
    ``snapshots`` (annotation id -> PNG/JPEG) become the pin viewpoints' ``snapshot``;
    ``markups`` (the room's markup records) with an ``annotation_id`` become ``Lines`` of that
    topic's pin viewpoint; ``views`` (the room's saved views) become topics of their own
    (:mod:`vrcollab.bcf.views`), their nodes named by IFC GlobalId where ``node_guids`` knows
    it."""
    lines: dict[str, list[Any]] = {}
    for m in sorted((markups or {}).values(), key=lambda m: (m.get("created", 0), m["id"])):
        if m.get("annotation_id") in annotations:
            lines.setdefault(str(m["annotation_id"]), []).append(m["points"])
    named = []
    for ann in sorted(annotations.values(), key=lambda a: (a.get("created", 0), a["id"])):
        a = dict(ann)
        a["author"] = _bcf_author(ann, author_name)
        a["comments"] = [{**c, "author": _bcf_author(c, author_name)}
                         for c in a.get("comments") or []]
        if a["id"] in lines:
            a["markup_lines"] = lines[a["id"]]
        erased = _erased_imported_lines(ann, markups or {}, frame)
        if erased:
            a["erased_markup_lines"] = erased
        named.append(a)
    view_topics = [view_to_topic(v, frame=frame, author=author_name(str(v.get("author") or "")),
                                 node_guids=node_guids)
                   for v in sorted((views or {}).values(),
                                   key=lambda v: (v.get("created", 0), v["id"]))]
    return export_annotations(named, version=version, frame=frame, snapshots=snapshots,
                              extra_topics=view_topics)


def _erased_imported_lines(ann: Mapping[str, Any], markups: Mapping[str, Any],
                           frame: ModelFrame) -> list[list[list[float]]]:
    """The line polylines of the topic ``ann`` was imported from whose markup (``bcf.markups``)
    is no longer in the room: erased, so the export drops them from the topic's lines."""
    stash = ann.get("bcf")
    imported = stash.get("markups") if isinstance(stash, Mapping) else None
    if not isinstance(imported, Mapping) or not imported:
        return []
    topic = stored_topic(ann)
    if topic is None:
        return []
    polylines = markup_polylines(topic, frame)
    return [polylines[i] for mid, i in imported.items()
            if mid not in markups and isinstance(i, int) and 0 <= i < len(polylines)]


@dataclass(frozen=True)
class RoomLimits:
    """Bounds on what an import may add to a room (``Settings.room_max_*``, ``bcf_import_*``).

    ``max_annotation_bytes`` counts the JSON of every annotation with its comments (what a
    welcome carries)."""

    max_annotations: int = 2000
    max_comments: int = 10_000
    max_annotation_bytes: int = 8 * 1024 * 1024
    max_import_ops: int = 500
    max_stash_bytes: int = 64 * 1024


def json_bytes(value: object) -> int:
    """Size of ``value`` as compact UTF-8 JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                                "replace"))


def check_room_limits(plan: ImportPlan, annotations: Mapping[str, Mapping[str, Any]],
                      limits: RoomLimits) -> None:
    """Raise :class:`LimitExceededError` (413, code ``room_limit`` / ``import_too_large``,
    message naming the setting) when ``plan`` would take the room past ``limits``."""
    ops = len(plan.items)
    if ops > limits.max_import_ops:
        raise LimitExceededError(
            f"BCF import has {ops} topics and comments; at most {limits.max_import_ops} per "
            "import (bcf_import_max_ops)", code="import_too_large")
    new_annotations = sum(1 for _, op in plan.items if op.kind == "annotation.create")
    new_comments = sum(1 for _, op in plan.items if op.kind == "comment.add")
    have_comments = sum(len(a.get("comments") or ()) for a in annotations.values())
    if len(annotations) + new_annotations > limits.max_annotations:
        raise LimitExceededError(
            f"room would hold {len(annotations) + new_annotations} annotations; the limit is "
            f"{limits.max_annotations} (room_max_annotations)", code="room_limit")
    if have_comments + new_comments > limits.max_comments:
        raise LimitExceededError(
            f"room would hold {have_comments + new_comments} comments; the limit is "
            f"{limits.max_comments} (room_max_comments)", code="room_limit")
    size = sum(json_bytes(a) for a in annotations.values())
    size += sum(json_bytes(op.fields) for _, op in plan.items)
    if size > limits.max_annotation_bytes:
        raise LimitExceededError(
            f"room annotations would take {size} bytes; the limit is "
            f"{limits.max_annotation_bytes} (room_max_annotation_bytes)", code="room_limit")


@dataclass
class ImportPlan:
    """The server ops of an import and what was left out."""

    items: list[tuple[str, Op]] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    #: ids of the saved views created (topics exported from a room's saved views)
    views: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    #: annotation id -> the topic's first viewpoint snapshot (kept, and exported again)
    snapshots: dict[str, bytes] = field(default_factory=dict)


def _validated(kind: str, body: dict[str, Any], op_id: str, limits: Limits) -> Op | InvalidOp:
    text = json.dumps({"type": "op", "op_id": op_id, "kind": kind, **body}, allow_nan=False)
    msg = decode_client(text, limits)
    assert isinstance(msg, Op | InvalidOp)
    return msg


def plan_import(
    data: bytes,
    *,
    existing: set[str],
    frame: ModelFrame,
    limits: Limits,
    importer: str,
    bcf_limits: BcfLimits | None = None,
    max_stash_bytes: int = MAX_STASH_BYTES,
    existing_views: set[str] | None = None,
    guid_nodes: Mapping[str, str] | None = None,
) -> ImportPlan:
    """Read a BCF archive and plan the ops that add its topics to a room, every one authored
    by ``importer`` (a user id), the BCF authors kept as ``imported_from``. Topics that are
    saved views (exported by vrcollab) become ``view.save`` ops instead (skipped when the
    room has that view id already); ``guid_nodes`` maps IFC GlobalIds to node ids."""
    plan = ImportPlan()
    have_views = existing_views if existing_views is not None else set()
    read = import_annotations(data, frame=frame, limits=bcf_limits)
    for topic, ann in zip(read.topics, read.annotations, strict=True):
        if is_view_topic(topic):
            view = topic_to_view(topic, frame=frame, guid_nodes=guid_nodes)
            assert view is not None
            vid = str(view["id"])
            if vid in have_views:
                plan.skipped.append({"id": vid, "title": topic.title,
                                     "reason": "saved view already in the room"})
                continue
            save = _validated("view.save", {"view": view}, f"bcf:view:{vid}", limits)
            if isinstance(save, InvalidOp):
                plan.skipped.append({"id": vid, "title": topic.title, "reason": save.reason})
                continue
            plan.items.append((importer, save))
            plan.views.append(vid)
            have_views.add(vid)
            continue
        ann_id = str(ann["id"])
        if ann_id in existing:
            plan.skipped.append({"id": ann_id, "title": topic.title,
                                 "reason": "already in the room"})
            continue
        create = _validated("annotation.create",
                            {"annotation": {k: ann[k] for k in _FIELDS if k in ann}},
                            f"bcf:{ann_id}", limits)
        if isinstance(create, InvalidOp):
            plan.skipped.append({"id": ann_id, "title": topic.title, "reason": create.reason})
            continue
        stash = ann.get("bcf")
        fields = {"annotation": dict(create.fields["annotation"])}
        if stash is not None and json_bytes(stash) <= max_stash_bytes:
            fields["annotation"]["bcf"] = stash
        origin = imported_from(ann.get("author"))
        if origin is not None:
            fields["annotation"]["imported_from"] = origin
        ops: list[tuple[str, Op]] = [(importer, Op(create.op_id, create.kind, fields))]
        made: dict[str, int] = {}
        for c in ann.get("comments") or []:
            add = _validated("comment.add", {"annotation_id": ann_id,
                                             "comment": {"id": c["id"], "text": c["text"]}},
                             f"bcf:{ann_id}:{c['id']}", limits)
            if isinstance(add, InvalidOp):
                plan.skipped.append({"id": f"{ann_id}/{c['id']}", "title": topic.title,
                                     "reason": add.reason})
                continue
            c_origin = imported_from(c.get("author"))
            if c_origin is not None:
                add = Op(add.op_id, add.kind, {**add.fields, "comment": {
                    **add.fields["comment"], "imported_from": c_origin}})
            ops.append((importer, add))
        for i, points in enumerate(markup_polylines(topic, frame)[:MAX_IMPORTED_MARKUPS]):
            mk = _validated("markup.create", {"markup": {
                "id": f"bcf:{ann_id}:line{i}", "points": points[:MAX_MARKUP_POINTS],
                "annotation_id": ann_id}}, f"bcf:{ann_id}:line{i}", limits)
            if isinstance(mk, InvalidOp):
                plan.skipped.append({"id": f"{ann_id}/line{i}", "title": topic.title,
                                     "reason": mk.reason})
                continue
            ops.append((importer, mk))
            made[mk.fields["markup"]["id"]] = i
        if made and "bcf" in fields["annotation"]:
            fields["annotation"]["bcf"] = {**fields["annotation"]["bcf"], "markups": made}
        plan.items.extend(ops)
        plan.annotations.append(ann_id)
        shot = next((v.snapshot for v in topic.viewpoints if v.snapshot), None)
        if shot is not None:
            plan.snapshots[ann_id] = shot
        existing.add(ann_id)
    return plan
