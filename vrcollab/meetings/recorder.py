"""Sampling a live room into chunks: poses at a bounded rate, presence, commit markers.

Pure: the room hub's observer (:mod:`.service`) feeds it with the time passed in and writes
the chunks it cuts. A participant's pose is sampled at most ``pose_hz`` times a second and only
when it changed (after quantisation), so a person standing still costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vrcollab.meetings.chunks import Chunk, encode_chunk
from vrcollab.meetings.poses import quantize


class Recorder:
    """The chunk being filled, plus what the next chunk's keyframes need."""

    def __init__(self, *, started: float, seq: int, state: dict[str, Any],
                 presence: list[dict[str, Any]], pose_hz: float = 5.0, chunk_s: float = 10.0,
                 state_every_s: float = 60.0) -> None:
        self.period = 1.0 / pose_hz if pose_hz > 0 else float("inf")
        self.chunk_s = chunk_s
        self.state_every_s = state_every_s
        self.presence: dict[str, dict[str, Any]] = {e["session_id"]: dict(e) for e in presence}
        self.last: dict[str, tuple[float, list[int]]] = {}  # latest sample per session
        self._state_t = started
        self._state_seq = seq
        self.chunk = Chunk(t0=started, t1=started, seq=seq, state=state,
                           presence=list(self.presence.values()))
        self.samples = 0
        self.bytes_written = 0

    # --- events ----------------------------------------------------------------------------

    def join(self, now: float, entry: Mapping[str, Any]) -> None:
        """A session entered the room."""
        e = dict(entry)
        self.presence[e["session_id"]] = e
        self.chunk.events.append((now, "join", e))

    def leave(self, now: float, session_id: str) -> None:
        """A session left (close, timeout)."""
        if self.presence.pop(session_id, None) is not None:
            self.chunk.events.append((now, "leave", session_id))
        self.last.pop(session_id, None)

    def commit(self, now: float, seq: int) -> None:
        """A durable op was committed (the op itself stays in the room's op log)."""
        self.chunk.events.append((now, "commit", seq))

    def sample(self, now: float, poses: Mapping[str, Mapping[str, Any]]) -> None:
        """Take the latest poses of the present sessions, each at most every ``period``."""
        for sid, pose in poses.items():
            if sid not in self.presence:
                continue
            prev = self.last.get(sid)
            if prev is not None and now - prev[0] < self.period * 0.999:
                continue
            v = quantize(pose)
            if v is None or (prev is not None and prev[1] == v):
                continue
            self.last[sid] = (now, v)
            self.chunk.tracks.setdefault(sid, []).append((now, v))
            self.samples += 1

    # --- chunks ----------------------------------------------------------------------------

    def due(self, now: float) -> bool:
        """True when the current chunk is ``chunk_s`` long."""
        return now - self.chunk.t0 >= self.chunk_s

    def cut(self, now: float, seq: int,
            state: Callable[[], dict[str, Any]]) -> tuple[Chunk, bytes]:
        """Close the current chunk at ``now`` and start the next one with keyframes (presence,
        the latest pose of everyone, and the room state when it changed and is due)."""
        done = self.chunk
        done.t1 = now
        data = encode_chunk(done)
        self.bytes_written += len(data)
        snap = None
        if seq != self._state_seq and now - self._state_t >= self.state_every_s:
            snap, self._state_seq, self._state_t = state(), seq, now
        self.chunk = Chunk(t0=now, t1=now, seq=seq, state=snap,
                           presence=list(self.presence.values()))
        for sid, (_t, v) in self.last.items():
            self.chunk.tracks[sid] = [(now, v)]  # pose keyframe
        return done, data

    def finish(self, now: float) -> tuple[Chunk, bytes]:
        """The last chunk (the meeting ended)."""
        self.chunk.t1 = now
        data = encode_chunk(self.chunk)
        self.bytes_written += len(data)
        return self.chunk, data
