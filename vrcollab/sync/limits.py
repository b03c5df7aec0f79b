"""Per-room limits (protocol R20) and the usage counters the room keeps against them.

A room holds at most ``max_annotations`` annotations, ``max_comments`` comments in all and
``max_comments_per_annotation`` on one annotation, at most ``max_state_bytes`` of annotation
records (their JSON, comments included: every byte of text a member can add), and bounded
numbers of measurements, sections and node overrides. Pure: the room
updates a :class:`RoomUsage` after every commit and asks it before committing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vrcollab.sync.messages import Commit, Op
from vrcollab.sync.state import RoomState

ROOM_FULL = "room_full"


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """Capacity of one room."""

    max_annotations: int = 2_000
    max_comments: int = 10_000
    max_comments_per_annotation: int = 1_000
    max_state_bytes: int = 8 * 1024 * 1024
    max_measurements: int = 5_000
    max_sections: int = 100
    max_markups: int = 2_000
    max_views: int = 500
    max_nodes: int = 200_000  # node overrides (editors); a model may have many parts


def record_bytes(obj: Any) -> int:
    """Encoded size of a JSON value (what it costs in a snapshot)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                                "replace"))


class RoomUsage:
    """Annotation and comment counts and bytes of a room's state."""

    __slots__ = ("bytes", "comments", "sizes")

    def __init__(self, annotations: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.sizes: dict[str, tuple[int, int]] = {}  # annotation id -> (bytes, comments)
        self.comments = 0
        self.bytes = 0
        for aid, ann in (annotations or {}).items():
            self.update(aid, ann)

    def update(self, aid: str, ann: Mapping[str, Any] | None) -> None:
        """Re-measure one annotation (None: it was deleted)."""
        old = self.sizes.pop(aid, None)
        if old is not None:
            self.bytes -= old[0]
            self.comments -= old[1]
        if ann is None:
            return
        entry = (record_bytes(ann), len(ann.get("comments") or ()))
        self.sizes[aid] = entry
        self.bytes += entry[0]
        self.comments += entry[1]

    def after(self, commit: Commit, annotations: Mapping[str, Mapping[str, Any]]) -> None:
        """Account for one applied commit."""
        f = commit.fields
        if commit.kind == "annotation.create":
            aid = f["annotation"]["id"]
        elif commit.kind in ("annotation.update", "annotation.delete"):
            aid = f["id"]
        elif commit.kind.startswith("comment."):
            aid = f["annotation_id"]
        else:
            return
        if isinstance(aid, str):
            self.update(aid, annotations.get(aid))

    def problem(self, ops: Iterable[Op], state: RoomState, limits: RoomLimits) -> str | None:
        """Why committing ``ops`` (in order) would break a limit, or None. Conservative: every
        op's encoded fields count as growth."""
        annotations = state.annotations
        n_ann, n_com, size = len(annotations), self.comments, self.bytes
        records = {"measurement.create": (state.measurements, "measurement", "measurements",
                                          limits.max_measurements),
                   "section.set": (state.sections, "section", "sections", limits.max_sections),
                   "markup.create": (state.markups, "markup", "markups", limits.max_markups),
                   "view.save": (state.views, "view", "views", limits.max_views)}
        added: dict[str, set[str]] = {}
        per: dict[str, int] = {}
        for op in ops:
            f = op.fields
            if op.kind in records or op.kind == "node.set":
                if op.kind == "node.set":
                    have, key, what, cap = state.nodes, f.get("node_id"), "nodes", limits.max_nodes
                else:
                    have, field, what, cap = records[op.kind]
                    key = (f.get(field) or {}).get("id")
                new = added.setdefault(what, set())
                if key not in have and isinstance(key, str):
                    new.add(key)
                if len(have) + len(new) > cap:
                    return f"room holds the maximum of {cap} {what}"
                continue
            if op.kind == "annotation.create":
                n_ann += 1
                if n_ann > limits.max_annotations:
                    return f"room holds the maximum of {limits.max_annotations} annotations"
            elif op.kind == "comment.add":
                n_com += 1
                aid = f["annotation_id"]
                ann = annotations.get(aid)
                per[aid] = per.get(aid, len(ann["comments"]) if ann is not None else 0) + 1
                if n_com > limits.max_comments:
                    return f"room holds the maximum of {limits.max_comments} comments"
                if per[aid] > limits.max_comments_per_annotation:
                    return (f"annotation holds the maximum of "
                            f"{limits.max_comments_per_annotation} comments")
            elif op.kind not in ("annotation.update", "comment.edit"):
                continue
            size += _growth(op, state)
            if size > limits.max_state_bytes:
                return f"room holds the maximum of {limits.max_state_bytes} bytes of annotations"
        return None


def _growth(op: Op, state: RoomState) -> int:
    """Bytes ``op`` adds to the annotation records (an estimate from above; edits count the
    difference, so a full room still takes status changes and shorter texts)."""
    f = op.fields
    if op.kind == "annotation.update":
        old = state.annotations.get(f["id"]) or {}
        return sum(record_bytes(v) - (record_bytes(old[k]) if k in old else -len(k) - 3)
                   for k, v in f["props"].items())
    if op.kind == "comment.edit":
        com = state.find_comment(f["annotation_id"], f["comment_id"]) or {}
        return record_bytes(f["text"]) - record_bytes(com.get("text", ""))
    return record_bytes(f)
