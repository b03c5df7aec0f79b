"""Ephemeral presence: who is in the room and their latest poses, coalesced per tick.

Never persisted. ``PresenceTable`` keeps the latest pose per session, which changed since the
last tick, and makes one shared :class:`PoseFrame` per tick (each pose encoded once, one frame
for all receivers: no per-receiver work that grows with N²). ``PoseSlot`` is one receiver's
unsent frame, where a newer frame replaces an older one instead of queueing (protocol R12: a
slow client loses stale poses, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping

from vrcollab.sync.codec import EncodeError, encode_poses, pose_fragment
from vrcollab.sync.messages import Pose, PresenceEntry


class PresenceTable:
    """Sessions in a room, their latest poses and those poses' encoded fragments."""

    __slots__ = ("_changed", "_fragments", "entries", "poses")

    def __init__(self) -> None:
        self.entries: dict[str, PresenceEntry] = {}
        self.poses: dict[str, Pose] = {}
        self._changed: dict[str, Pose] = {}
        self._fragments: dict[str, str] = {}  # session id -> '"sid":{pose}' of its latest pose

    def add(self, entry: PresenceEntry) -> None:
        """Register a session."""
        self.entries[entry.session_id] = entry

    def remove(self, session_id: str) -> PresenceEntry | None:
        """Forget a session and its pose; returns its entry if it was present."""
        self.poses.pop(session_id, None)
        self._changed.pop(session_id, None)
        self._fragments.pop(session_id, None)
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

    def take_frame(self, t: float) -> PoseFrame | None:
        """This tick's shared :class:`PoseFrame` (None when no pose changed): each changed pose
        is encoded once, for every receiver."""
        changed = self.take_changed()
        if not changed:
            return None
        fresh: dict[str, str] = {}
        dropped: list[str] = []
        for sid, pose in changed.items():
            try:
                fresh[sid] = pose_fragment(sid, pose)
            except (EncodeError, ValueError):  # the codec let it through: a bug of ours
                dropped.append(sid)
                self._fragments.pop(sid, None)
        if not fresh:
            return None
        self._fragments.update(fresh)
        return PoseFrame(t, fresh, self._fragments, tuple(dropped))


class PoseFrame:
    """One room's ``poses`` frames for one tick, each encoded once and shared by every
    receiver (protocol R12, rule change of revision 5): ``delta`` holds the poses that changed
    this tick, :meth:`full` every latest pose (for a receiver that missed a frame, or just
    joined). Both include the receiver's own pose; clients skip their own session id."""

    __slots__ = ("_fragments", "_full", "delta", "dropped", "t")

    def __init__(self, t: float, changed: Mapping[str, str], fragments: Mapping[str, str],
                 dropped: tuple[str, ...] = ()) -> None:
        self.t = t
        self.delta = encode_poses(t, list(changed.values()))
        self.dropped = dropped  # sessions whose pose could not be encoded (a bug; logged)
        self._fragments = fragments
        self._full: str | None = None

    def full(self) -> str:
        """Every latest pose in the room; encoded at most once per tick. Call it during the
        tick that made the frame (the fragments are the room's live ones)."""
        if self._full is None:
            self._full = encode_poses(self.t, list(self._fragments.values()))
        return self._full


class PoseSlot:
    """One receiver's unsent ``poses`` frame: at most one, newest wins (R12: a slow client
    loses stale poses, never queues them). A receiver that skipped a frame, or never got one,
    is given the full frame next, so it misses no session's latest pose."""

    __slots__ = ("_lagged", "_text")

    def __init__(self) -> None:
        self._text: str | None = None
        self._lagged = True  # a new receiver starts with every latest pose

    def offer(self, frame: PoseFrame) -> None:
        """Hold this tick's frame (the shared text itself, never a copy)."""
        if self._text is not None or self._lagged:
            self._text = frame.full()
            self._lagged = False
        else:
            self._text = frame.delta

    def take(self) -> str | None:
        """The frame to send now, if any; empties the slot."""
        text, self._text = self._text, None
        return text

    def __bool__(self) -> bool:
        return self._text is not None
