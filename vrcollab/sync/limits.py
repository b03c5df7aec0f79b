"""Per-room limits (protocol R20) and the usage counters the room keeps against them.

A room holds at most ``max_annotations`` annotations, ``max_comments`` comments in all and
``max_comments_per_annotation`` on one annotation, at most ``max_state_bytes`` of annotation
records (their JSON, comments included: every byte of text a member can add), and bounded
numbers of measurements, sections and node overrides. Pure: the room
updates a :class:`RoomUsage` after every commit and asks it before committing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vrcollab.sync.messages import Commit, Op
from vrcollab.sync.ops import OP_KINDS, Capped, OnAnnotation, record_bytes
from vrcollab.sync.state import RoomState

__all__ = ["ROOM_FULL", "RoomLimits", "RoomUsage", "record_bytes"]

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
        """Account for one applied commit (the op table says which annotation it touched)."""
        spec = OP_KINDS.get(commit.kind)
        if spec is None or not isinstance(spec.limit, OnAnnotation):
            return
        aid = spec.limit.annotation(commit.fields)
        if isinstance(aid, str):
            self.update(aid, annotations.get(aid))

    def problem(self, ops: Iterable[Op], state: RoomState, limits: RoomLimits) -> str | None:
        """Why committing ``ops`` (in order) would break a limit, or None. Conservative: every
        op's encoded fields count as growth (edits: the difference)."""
        annotations = state.annotations
        counts = {"annotations": len(annotations), "comments": self.comments}
        size = self.bytes
        added: dict[str, set[str]] = {}
        per: dict[str, int] = {}
        for op in ops:
            spec = OP_KINDS.get(op.kind)
            lim = spec.limit if spec is not None else None
            f = op.fields
            if isinstance(lim, Capped):
                have: Mapping[str, Any] = getattr(state, lim.collection)
                cap: int = getattr(limits, lim.cap)
                key = lim.key(f)
                new = added.setdefault(lim.what, set())
                if key not in have and isinstance(key, str):
                    new.add(key)
                if len(have) + len(new) > cap:
                    return f"room holds the maximum of {cap} {lim.what}"
                continue
            if not isinstance(lim, OnAnnotation) or lim.growth is None:
                continue
            if lim.adds is not None:
                counts[lim.adds] += 1
                cap = getattr(limits, f"max_{lim.adds}")
                if counts[lim.adds] > cap:
                    return f"room holds the maximum of {cap} {lim.adds}"
            if lim.adds == "comments":
                aid = lim.annotation(f)
                ann = annotations.get(aid)
                per[aid] = per.get(aid, len(ann["comments"]) if ann is not None else 0) + 1
                if per[aid] > limits.max_comments_per_annotation:
                    return (f"annotation holds the maximum of "
                            f"{limits.max_comments_per_annotation} comments")
            size += lim.growth(state, f)
            if size > limits.max_state_bytes:
                return f"room holds the maximum of {limits.max_state_bytes} bytes of annotations"
        return None
