"""A room's annotations <-> BCF archives (pure: no I/O, no server).

Export maps annotation authors (user ids) to names and calls
:func:`vrcollab.bcf.exchange.export_annotations`. Import reads an archive with
:func:`vrcollab.bcf.exchange.import_annotations` (hostile input ->
:class:`vrcollab.errors.BcfError`) and turns each topic's annotation into server ops for the
room: one ``annotation.create`` (validated by the same codec as client ops, plus the ``bcf``
stash that lets an export reproduce the original topic) and one ``comment.add`` per comment,
each with its BCF author. Topics whose annotation id already exists in the room are skipped
(importing the same file twice adds nothing), as are topics that break the room's limits
(reported with the reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vrcollab.bcf import ModelFrame
from vrcollab.bcf.archive import BcfLimits
from vrcollab.bcf.exchange import export_annotations, import_annotations
from vrcollab.sync.codec import Limits, decode_client
from vrcollab.sync.messages import InvalidOp, Op

_FIELDS = ("id", "position", "normal", "node_id", "element_id", "viewpoint", "title", "text",
           "status", "priority", "assignee", "labels")
MAX_STASH_BYTES = 1024 * 1024


def frame_for(manifest: Mapping[str, Any] | None) -> ModelFrame:
    """The BCF frame of a converted model (recentring offset, up axis); default without one."""
    return ModelFrame.from_manifest(manifest) if manifest else ModelFrame()


def export_bcf(
    annotations: Mapping[str, Mapping[str, Any]],
    *,
    version: str,
    frame: ModelFrame,
    author_name: Callable[[str], str] = lambda a: a,
) -> bytes:
    """A ``.bcfzip`` of the annotations (oldest first); ``author_name`` maps user ids to the
    names written as BCF authors."""
    named = []
    for ann in sorted(annotations.values(), key=lambda a: (a.get("created", 0), a["id"])):
        a = dict(ann)
        a["author"] = author_name(str(a.get("author") or ""))
        a["comments"] = [{**c, "author": author_name(str(c.get("author") or ""))}
                         for c in a.get("comments") or []]
        named.append(a)
    return export_annotations(named, version=version, frame=frame)


@dataclass
class ImportPlan:
    """The server ops of an import and what was left out."""

    items: list[tuple[str, Op]] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


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
    bcf_limits: BcfLimits | None = None,
) -> ImportPlan:
    """Read a BCF archive and plan the ops that add its topics to a room."""
    plan = ImportPlan()
    read = import_annotations(data, frame=frame, limits=bcf_limits)
    for topic, ann in zip(read.topics, read.annotations, strict=True):
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
        if stash is not None and len(json.dumps(stash)) <= MAX_STASH_BYTES:
            fields["annotation"]["bcf"] = stash
        ops: list[tuple[str, Op]] = [(str(ann.get("author") or "bcf"),
                                      Op(create.op_id, create.kind, fields))]
        for c in ann.get("comments") or []:
            add = _validated("comment.add", {"annotation_id": ann_id,
                                             "comment": {"id": c["id"], "text": c["text"]}},
                             f"bcf:{ann_id}:{c['id']}", limits)
            if isinstance(add, InvalidOp):
                plan.skipped.append({"id": f"{ann_id}/{c['id']}", "title": topic.title,
                                     "reason": add.reason})
                continue
            ops.append((str(c.get("author") or "bcf"), add))
        plan.items.extend(ops)
        plan.annotations.append(ann_id)
        existing.add(ann_id)
    return plan
