"""Ephemeral presence: who is in the room and their latest poses, coalesced per tick.

Never persisted. ``PresenceTable`` keeps the latest pose per session and which changed since the
last tick; ``PoseMailbox`` is one receiver's pending ``poses`` payload, where newer poses replace
older ones instead of queueing (protocol R12: a slow client loses stale poses, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping

from vrcollab.sync.messages import Pose, PresenceEntry


class PresenceTable:
    """Sessions in a room and their latest poses."""

    __slots__ = ("_changed", "entries", "poses")

    def __init__(self) -> None:
        self.entries: dict[str, PresenceEntry] = {}
        self.poses: dict[str, Pose] = {}
        self._changed: dict[str, Pose] = {}

    def add(self, entry: PresenceEntry) -> None:
        """Register a session."""
        self.entries[entry.session_id] = entry

    def remove(self, session_id: str) -> PresenceEntry | None:
        """Forget a session and its pose; returns its entry if it was present."""
        self.poses.pop(session_id, None)
        self._changed.pop(session_id, None)
        return self.entries.pop(session_id, None)

    def set_pose(self, session_id: str, pose: Pose) -> None:
        """Record the latest pose of a session (later calls in the same tick win)."""
        if session_id in self.entries:
            self.poses[session_id] = pose
            self._changed[session_id] = pose

    def take_changed(self) -> dict[str, Pose]:
        """Poses that changed since the previous call (one entry per session)."""
        changed, self._changed = self._changed, {}
        return changed


class PoseMailbox:
    """One receiver's not-yet-sent poses: session id -> encoded fragment, newest wins."""

    __slots__ = ("_owned", "_pending")

    def __init__(self) -> None:
        self._pending: Mapping[str, str] | None = None
        self._owned = False

    def offer(self, batch: Mapping[str, str]) -> None:
        """Merge one tick's batch (shared between receivers; never mutated here)."""
        if not batch:
            return
        if self._pending is None:
            self._pending, self._owned = batch, False
            return
        if not self._owned:
            self._pending, self._owned = dict(self._pending), True
        assert isinstance(self._pending, dict)
        self._pending.update(batch)

    def take(self, own_session: str) -> list[str]:
        """Fragments to send now, excluding the receiver's own pose; empties the mailbox."""
        pending, self._pending = self._pending, None
        if not pending:
            return []
        return [frag for sid, frag in pending.items() if sid != own_session]

    def __bool__(self) -> bool:
        return bool(self._pending)
