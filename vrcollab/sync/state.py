"""The durable room state and the one function that applies a commit to it.

Used by the server's room (authoritative) and by clients (their mirror), so both converge by
construction: the same commits applied in seq order give the same state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from vrcollab.sync.messages import Commit
from vrcollab.sync.ops import OP_KINDS


@dataclass(slots=True)
class RoomState:
    """Nodes, annotations (with comments), measurements, sections, the presenter, markups and
    saved views. ``markups`` and ``views`` appear in a snapshot only when they hold one (older
    snapshots stay as they were)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    presenter: str | None = None
    markups: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """A deep, JSON-ready copy (the ``snapshot`` object of the protocol)."""
        out = {
            "nodes": copy.deepcopy(self.nodes),
            "annotations": copy.deepcopy(self.annotations),
            "measurements": copy.deepcopy(self.measurements),
            "sections": copy.deepcopy(self.sections),
            "presenter": self.presenter,
        }
        if self.markups:
            out["markups"] = copy.deepcopy(self.markups)
        if self.views:
            out["views"] = copy.deepcopy(self.views)
        return out

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> RoomState:
        """Rebuild from :meth:`snapshot` output (trusted: the store or the server)."""
        snap = copy.deepcopy(snap)
        return cls(
            nodes=snap.get("nodes", {}),
            annotations=snap.get("annotations", {}),
            measurements=snap.get("measurements", {}),
            sections=snap.get("sections", {}),
            presenter=snap.get("presenter"),
            markups=snap.get("markups", {}),
            views=snap.get("views", {}),
        )

    def find_comment(self, annotation_id: str, comment_id: str) -> dict[str, Any] | None:
        """The comment record, or None."""
        ann = self.annotations.get(annotation_id)
        if ann is None:
            return None
        for c in ann["comments"]:
            if c["id"] == comment_id:
                return c
        return None


def apply_commit(state: RoomState, c: Commit) -> None:
    """Apply one commit (already validated and ordered by the server) to ``state``, as the
    op-kind table (:data:`vrcollab.sync.ops.OP_KINDS`) says.

    Lenient on purpose: a commit referring to something missing, or of a kind this version does
    not know, is a no-op, so a client mirror never crashes on a commit the server accepted."""
    spec = OP_KINDS.get(c.kind)
    if spec is not None:
        spec.apply(state, c)
