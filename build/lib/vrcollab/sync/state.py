"""The durable room state and the one function that applies a commit to it.

Used by the server's room (authoritative) and by clients (their mirror), so both converge by
construction: the same commits applied in seq order give the same state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from vrcollab.sync.messages import Commit


@dataclass(slots=True)
class RoomState:
    """Nodes, annotations (with comments), measurements, sections and the presenter."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    presenter: str | None = None

    def snapshot(self) -> dict[str, Any]:
        """A deep, JSON-ready copy (the ``snapshot`` object of the protocol)."""
        return {
            "nodes": copy.deepcopy(self.nodes),
            "annotations": copy.deepcopy(self.annotations),
            "measurements": copy.deepcopy(self.measurements),
            "sections": copy.deepcopy(self.sections),
            "presenter": self.presenter,
        }

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
    """Apply one commit (already validated and ordered by the server) to ``state``.

    Lenient on purpose: a commit referring to something missing is a no-op, so a client mirror
    never crashes on a commit the server accepted."""
    f = c.fields
    k = c.kind
    if k == "node.set":
        node = state.nodes.setdefault(
            f["node_id"], {"transform": None, "visible": True, "color": None}
        )
        for prop, value in f["props"].items():  # protocol R10: LWW per property
            node[prop] = copy.copy(value)
    elif k == "annotation.create":
        rec = copy.deepcopy(dict(f["annotation"]))
        rec.update(author=c.author, created=c.t, updated=c.t, comments=[])
        state.annotations[rec["id"]] = rec
    elif k == "annotation.update":
        ann = state.annotations.get(f["id"])
        if ann is not None:
            ann.update(copy.deepcopy(dict(f["props"])))
            ann["updated"] = c.t
    elif k == "annotation.delete":
        state.annotations.pop(f["id"], None)
    elif k == "comment.add":
        ann = state.annotations.get(f["annotation_id"])
        if ann is not None:
            com = f["comment"]
            ann["comments"].append(
                {"id": com["id"], "author": c.author, "text": com["text"],
                 "created": c.t, "updated": c.t}
            )
            ann["updated"] = c.t
    elif k == "comment.edit":
        com2 = state.find_comment(f["annotation_id"], f["comment_id"])
        if com2 is not None:
            com2["text"] = f["text"]
            com2["updated"] = c.t
    elif k == "comment.delete":
        ann = state.annotations.get(f["annotation_id"])
        if ann is not None:
            ann["comments"] = [x for x in ann["comments"] if x["id"] != f["comment_id"]]
    elif k == "measurement.create":
        m = copy.deepcopy(dict(f["measurement"]))
        m.update(author=c.author, created=c.t)
        state.measurements[m["id"]] = m
    elif k == "measurement.delete":
        state.measurements.pop(f["id"], None)
    elif k == "section.set":
        s = copy.deepcopy(dict(f["section"]))
        state.sections[s["id"]] = s
    elif k == "section.delete":
        state.sections.pop(f["id"], None)
    elif k == "presenter.set":
        state.presenter = f["user_id"]
