"""One chunk of a meeting log: a few seconds of presence, poses and commit markers.

A chunk starts with keyframes (who is present, each person's latest sampled pose and, now and
then, the whole durable room state), so a replay can start at any chunk without reading the
ones before it. Inside a chunk each person's pose samples are delta-encoded integer vectors
(:mod:`.poses`); the chunk is JSON compressed with zlib (the browser opens it with
``DecompressionStream("deflate")``).

Encoded chunk (JSON before compression)::

    {"v": 1, "t0": s, "t1": s, "seq": n, "state": snapshot | null,
     "presence": [entry, ...],                      # who was in the room at t0
     "tracks": {"<session_id>": [[dt_ms, d0, d1, ...], ...]},  # first row absolute, then deltas
     "events": [[ms, "join", entry] | [ms, "leave", session_id] | [ms, "commit", seq], ...]}

``dt_ms`` is milliseconds since the previous sample of that track (the first: since ``t0``);
event ``ms`` are milliseconds since ``t0``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from vrcollab.errors import VrcollabError
from vrcollab.meetings.poses import WIDTH, delta, undelta

CHUNK_VERSION = 1
COMPRESSION_LEVEL = 6


class RecordingError(VrcollabError):
    """A meeting log or chunk is unreadable (truncated, corrupt or of an unknown version)."""

    code = "bad_recording"


@dataclass(slots=True)
class Chunk:
    """A decoded chunk: absolute sample times and vectors per session."""

    t0: float
    t1: float
    seq: int
    state: dict[str, Any] | None
    presence: list[dict[str, Any]]
    tracks: dict[str, list[tuple[float, list[int]]]] = field(default_factory=dict)
    events: list[tuple[float, str, Any]] = field(default_factory=list)


def encode_chunk(chunk: Chunk) -> bytes:
    """The compressed bytes of a chunk."""
    tracks: dict[str, list[list[int]]] = {}
    for sid, samples in chunk.tracks.items():
        rows: list[list[int]] = []
        prev_t, prev_v = chunk.t0, None
        for t, v in samples:
            rows.append([max(0, round((t - prev_t) * 1000)), *delta(prev_v, v)])
            prev_t = prev_t + rows[-1][0] / 1000  # accumulate what the decoder will see
            prev_v = v
        tracks[sid] = rows
    body = {
        "v": CHUNK_VERSION, "t0": chunk.t0, "t1": chunk.t1, "seq": chunk.seq,
        "state": chunk.state, "presence": chunk.presence, "tracks": tracks,
        "events": [[max(0, round((t - chunk.t0) * 1000)), kind, data]
                   for t, kind, data in chunk.events],
    }
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return zlib.compress(raw, COMPRESSION_LEVEL)


def decode_chunk(data: bytes) -> Chunk:
    """Inverse of :func:`encode_chunk`; RecordingError on anything malformed."""
    try:
        body = json.loads(zlib.decompress(data))
        if body.get("v") != CHUNK_VERSION:
            raise RecordingError(f"chunk version {body.get('v')!r} is not {CHUNK_VERSION}")
        t0 = float(body["t0"])
        tracks: dict[str, list[tuple[float, list[int]]]] = {}
        for sid, rows in body["tracks"].items():
            out: list[tuple[float, list[int]]] = []
            t, prev = t0, None
            for row in rows:
                if len(row) != WIDTH + 1:
                    raise RecordingError("pose row of the wrong width")
                t += row[0] / 1000
                prev = undelta(prev, row[1:])
                out.append((t, prev))
            tracks[str(sid)] = out
        events = [(t0 + e[0] / 1000, str(e[1]), e[2]) for e in body["events"]]
        return Chunk(t0=t0, t1=float(body["t1"]), seq=int(body["seq"]), state=body["state"],
                     presence=list(body["presence"]), tracks=tracks, events=events)
    except RecordingError:
        raise
    except (zlib.error, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise RecordingError(f"unreadable chunk: {exc}") from exc
