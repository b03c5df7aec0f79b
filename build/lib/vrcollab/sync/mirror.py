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

    @property
    def last_seq(self) -> int | None:
        """What to send in ``hello.last_seq``: None before the first welcome."""
        return self.seq if self.synced else None

    def welcome(self, w: Message) -> None:
        """Apply a ``welcome``: snapshot or the missed commits (R6)."""
        self.session_id = w["session_id"]
        if w.get("snapshot") is not None:
            self.state = RoomState.from_snapshot(w["snapshot"])
            self.seq = int(w["seq"])
        else:
            for c in w.get("ops") or []:
                self.apply(Commit.from_json(c))
        self.synced = True
        self.presence = {p["session_id"]: p for p in w.get("presence", [])}
        self.poses = {}

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
