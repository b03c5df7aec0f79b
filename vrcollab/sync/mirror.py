"""A client's mirror of a room, fed with decoded server messages (pure, no I/O).

``RoomClient`` wraps it with a socket; tests drive it directly. Durable state is only changed by
commits applied in seq order (from ``welcome``, ``commit`` and ``ack``), with the same
:func:`~vrcollab.sync.state.apply_commit` the server uses, so mirrors converge to the server.
"""

from __future__ import annotations

from typing import Any

from vrcollab.errors import ProtocolError
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState, apply_commit

Message = dict[str, Any]


class Mirror:
    """Durable state, seq, presence and latest poses as seen by one client."""

    def __init__(self) -> None:
        self.state = RoomState()
        self.seq = 0
        self.synced = False
        self.session_id: str | None = None
        self.presence: dict[str, Message] = {}
        self.poses: dict[str, Message] = {}
        self.parts_left = 0
        self._snapshot_parts = False

    @property
    def last_seq(self) -> int | None:
        """What to send in ``hello.last_seq``: None before the first complete welcome."""
        return self.seq if self.synced else None

    def welcome(self, w: Message) -> None:
        """Apply a ``welcome``: snapshot or the missed commits (R6); a paged welcome is
        complete after its ``parts`` ``welcome_part`` messages."""
        self.session_id = w["session_id"]
        self.parts_left = int(w.get("parts") or 0)
        self._snapshot_parts = w.get("snapshot") is not None
        if w.get("snapshot") is not None:
            self.synced = False  # a half-received snapshot is not a base to resume from
            self.state = RoomState.from_snapshot(w["snapshot"])
            self.seq = int(w["seq"])
        else:
            for c in w.get("ops") or []:
                self.apply(Commit.from_json(c))
        self.synced = self.parts_left == 0 or not self._snapshot_parts
        self.presence = {p["session_id"]: p for p in w.get("presence", [])}
        self.poses = {}

    def welcome_part(self, p: Message) -> None:
        """Apply one ``welcome_part``: records merged into the snapshot, or more commits."""
        for c in p.get("ops") or []:
            self.apply(Commit.from_json(c))
        st = self.state
        for section, target in (("nodes", st.nodes), ("annotations", st.annotations),
                                ("measurements", st.measurements), ("sections", st.sections),
                                ("markups", st.markups), ("views", st.views)):
            target.update(p.get(section) or {})
        for aid, comments in (p.get("comments") or {}).items():
            ann = st.annotations.get(aid)
            if ann is not None:
                ann.setdefault("comments", []).extend(comments)
        self.parts_left = max(0, self.parts_left - 1)
        if self.parts_left == 0:
            self.synced = True

    def apply(self, c: Commit) -> None:
        """Apply one commit; already-seen seqs are ignored, gaps are a protocol error."""
        if c.seq <= self.seq:
            return
        if c.seq != self.seq + 1:
            raise ProtocolError(f"gap in commits: have {self.seq}, got {c.seq}")
        apply_commit(self.state, c)
        self.seq = c.seq

    def handle(self, m: Message) -> None:
        """Update the mirror from one server message (any type)."""
        t = m["type"]
        if t == "commit":
            self.apply(Commit.from_json(m))
        elif t == "ack":
            if m.get("commit") is not None:
                self.apply(Commit.from_json(m["commit"]))
        elif t == "welcome":
            self.welcome(m)
        elif t == "welcome_part":
            self.welcome_part(m)
        elif t == "presence":
            e = m["entry"]
            if m["event"] == "leave":
                self.presence.pop(e["session_id"], None)
                self.poses.pop(e["session_id"], None)
            else:
                self.presence[e["session_id"]] = e
        elif t == "poses":
            for sid, p in m["poses"].items():
                if sid in self.presence:
                    self.poses[sid] = p
