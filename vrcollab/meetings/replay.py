"""The room at any time of a recorded meeting: durable state, presence and poses.

Pure: give it the commits of the meeting (from the room's op log, by seq range) and a way to
read chunks; :meth:`Replay.at` seeks with the nearest keyframes, so the cost does not grow with
the position in the meeting: one state keyframe (at most ``state_every_s`` of commits to apply
on top) and one chunk of poses. The web client (``clients/web/src/replay/``) does the same.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vrcollab.meetings.chunks import Chunk, decode_chunk
from vrcollab.meetings.logfile import ChunkInfo
from vrcollab.meetings.poses import dequantize
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState, apply_commit


@dataclass(frozen=True, slots=True)
class Frame:
    """What the room looked like at ``t``."""

    t: float
    seq: int
    state: RoomState
    presence: dict[str, dict[str, Any]]
    poses: dict[str, dict[str, Any]]


class Replay:
    """Seeks in one meeting's recording."""

    def __init__(self, index: Sequence[ChunkInfo], read: Callable[[ChunkInfo], bytes],
                 commits: Sequence[Commit], *, cache: int = 8) -> None:
        self.index = list(index)
        self._read = read
        self.commits = sorted(commits, key=lambda c: c.seq)
        self._commit_t = [c.t for c in self.commits]
        self._commit_seq = [c.seq for c in self.commits]
        self._t0 = [c.t0 for c in self.index]
        self._cache: dict[int, Chunk] = {}
        self._cache_size = cache

    def chunk(self, i: int) -> Chunk:
        """Decoded chunk ``i`` (a few recent ones are kept)."""
        got = self._cache.get(i)
        if got is None:
            got = decode_chunk(self._read(self.index[i]))
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[i] = got
        return got

    def _chunk_at(self, t: float) -> int:
        return max(0, bisect.bisect_right(self._t0, t) - 1)

    def state_at(self, t: float) -> tuple[RoomState, int]:
        """Durable state and seq at ``t``: the latest state keyframe, then the commits after
        it up to ``t``."""
        i = self._chunk_at(t)
        while i > 0 and not self.index[i].has_state:
            i -= 1
        key = self.chunk(i)
        if key.state is None:
            raise ValueError("the first chunk of a recording has no state keyframe")
        state = RoomState.from_snapshot(key.state)
        seq = key.seq
        start = bisect.bisect_right(self._commit_seq, key.seq)
        end = bisect.bisect_right(self._commit_t, t)
        for c in self.commits[start:max(start, end)]:
            apply_commit(state, c)
            seq = c.seq
        return state, seq

    def presence_and_poses(self, t: float) -> tuple[dict[str, dict[str, Any]],
                                                    dict[str, dict[str, Any]]]:
        """Who was present at ``t`` and each one's latest sampled pose."""
        ch = self.chunk(self._chunk_at(t))
        presence = {e["session_id"]: e for e in ch.presence}
        for et, kind, data in ch.events:
            if et > t:
                break
            if kind == "join":
                presence[data["session_id"]] = data
            elif kind == "leave":
                presence.pop(data, None)
        poses: dict[str, dict[str, Any]] = {}
        for sid, samples in ch.tracks.items():
            if sid not in presence:
                continue
            j = bisect.bisect_right([s[0] for s in samples], t) - 1
            if j >= 0:
                poses[sid] = dequantize(samples[j][1])
        return presence, poses

    def at(self, t: float) -> Frame:
        """The whole frame at ``t`` (seek)."""
        state, seq = self.state_at(t)
        presence, poses = self.presence_and_poses(t)
        return Frame(t, seq, state, presence, poses)
