"""The per-meeting log file: a header, then framed compressed chunks (``data_dir/meetings``).

Layout: the 8-byte magic ``VRCMLOG1``, then per chunk a 29-byte frame header
``>IddQB`` (payload length, t0, t1, seq at t0, 1 when the chunk holds a state keyframe) and the
payload (:func:`vrcollab.meetings.chunks.encode_chunk`). Appending only, so a crash loses at most
the chunk being filled; a torn last frame is ignored when reading.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from vrcollab.meetings.chunks import RecordingError

MAGIC = b"VRCMLOG1"
_FRAME = struct.Struct(">IddQB")


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    """Where a chunk lies in the file and what it covers."""

    index: int
    offset: int  # of the payload
    length: int
    t0: float
    t1: float
    seq: int
    has_state: bool


def frame(payload: bytes, *, t0: float, t1: float, seq: int, has_state: bool) -> bytes:
    """One framed chunk, ready to append."""
    return _FRAME.pack(len(payload), t0, t1, seq, 1 if has_state else 0) + payload


class LogWriter:
    """Appends framed chunks to a meeting's log (created with its magic on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "ab")  # noqa: SIM115 - kept open for the meeting
        if self._fh.tell() == 0:
            self._fh.write(MAGIC)

    def append(self, payload: bytes, *, t0: float, t1: float, seq: int, has_state: bool) -> None:
        """Write one chunk (flushed to the OS; fsync on :meth:`close`)."""
        self._fh.write(frame(payload, t0=t0, t1=t1, seq=seq, has_state=has_state))
        self._fh.flush()

    def close(self) -> None:
        """Sync and close."""
        if self._fh.closed:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


def read_index(path: Path) -> list[ChunkInfo]:
    """The chunks of a log, reading only the frame headers."""
    out: list[ChunkInfo] = []
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise RecordingError(f"{path.name} is not a meeting log")
        size = os.fstat(fh.fileno()).st_size
        pos = len(MAGIC)
        while pos + _FRAME.size <= size:
            fh.seek(pos)
            length, t0, t1, seq, state = _FRAME.unpack(fh.read(_FRAME.size))
            start = pos + _FRAME.size
            if start + length > size:
                break  # torn last frame (crash while writing)
            out.append(ChunkInfo(len(out), start, length, t0, t1, seq, bool(state)))
            pos = start + length
    return out


def read_payload(path: Path, info: ChunkInfo) -> bytes:
    """The compressed payload of one chunk."""
    with open(path, "rb") as fh:
        fh.seek(info.offset)
        data = fh.read(info.length)
    if len(data) != info.length:
        raise RecordingError("chunk runs past the end of the log")
    return data
