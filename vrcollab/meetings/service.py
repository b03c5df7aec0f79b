"""The room hub's meeting observer: tracks meetings, records them, tells rooms (I/O shell).

Registered on :attr:`vrcollab.server.hub.RoomHub.observers` by the meetings router's lifespan.
Everything here runs on the event loop and stays quick: store writes and log appends go to one
background thread in order (so a meeting row exists before its end is written), and the pure
parts (:mod:`.tracker`, :mod:`.recorder`) do the rest.

Every session is told whether a meeting runs and whether it is recorded with a ``meeting``
message (protocol R29): right after its welcome, and to everyone whenever that changes.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vrcollab.meetings.chunks import Chunk
from vrcollab.meetings.logfile import LogWriter, read_index
from vrcollab.meetings.recorder import Recorder
from vrcollab.meetings.store import MeetingRecord, MeetingSettings, MeetingStore
from vrcollab.meetings.tracker import Ended, Meeting, MeetingTracker, Started
from vrcollab.sync.codec import encode_server
from vrcollab.sync.messages import Commit, MeetingMsg

if TYPE_CHECKING:
    from vrcollab.server.hub import RoomWorker

log = logging.getLogger("vrcollab.meetings")

LOG_SUFFIX = ".vrcm"


def meeting_message(meeting: Meeting | None) -> MeetingMsg:
    """The ``meeting`` message of protocol R29."""
    return MeetingMsg(meeting_id=meeting.meeting_id if meeting else None,
                      started=meeting.started if meeting else None,
                      recording=bool(meeting and meeting.recording))


@dataclass(slots=True)
class _Live:
    tracker: MeetingTracker
    recorder: Recorder | None = None
    writer: LogWriter | None = None


@dataclass(frozen=True, slots=True)
class RecordingOptions:
    """How recordings are sampled (from :class:`vrcollab.settings.Settings`)."""

    pose_hz: float = 5.0
    chunk_s: float = 10.0
    state_every_s: float = 60.0


class MeetingService:
    """Meetings of every live room of this process."""

    def __init__(self, store: MeetingStore, log_dir: Path, *,
                 options: RecordingOptions | None = None) -> None:
        self.store = store
        self.log_dir = log_dir
        self.options = options or RecordingOptions()
        self.rooms: dict[str, _Live] = {}
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meetings")
        self._settings: dict[str, MeetingSettings] = {}

    # --- files and settings ----------------------------------------------------------------

    def log_path(self, meeting_id: str) -> Path:
        """Where a meeting's log lives."""
        return self.log_dir / f"{meeting_id}{LOG_SUFFIX}"

    def end_state_path(self, meeting_id: str) -> Path:
        """The room state at the meeting's end (zlib JSON; kept for the minutes whether or
        not the meeting was recorded: it is durable state the op log holds anyway)."""
        return self.log_dir / f"{meeting_id}.end"

    def end_state(self, meeting_id: str) -> dict[str, Any] | None:
        """The stored end state, or None."""
        path = self.end_state_path(meeting_id)
        if not path.exists():
            return None
        state: dict[str, Any] = json.loads(zlib.decompress(path.read_bytes()))
        return state

    def delete_recording(self, meeting_id: str) -> MeetingRecord:
        """Remove a meeting's recording (the meeting stays listed, without replay)."""
        self.flush()
        self.log_path(meeting_id).unlink(missing_ok=True)
        return self.store.update(meeting_id, recording=False, log_bytes=0)

    def delete_meeting(self, meeting_id: str) -> None:
        """Remove a meeting, its recording and its end state."""
        self.flush()
        self.log_path(meeting_id).unlink(missing_ok=True)
        self.end_state_path(meeting_id).unlink(missing_ok=True)
        self.store.delete(meeting_id)

    def purge(self, now: float, project_id: str | None = None) -> list[str]:
        """Delete the meetings older than their project's retention period; returns ids."""
        gone: list[str] = []
        for st in self.store.projects_with_retention():
            if st.retention_days is None or (project_id and st.project_id != project_id):
                continue
            for m in self.store.ended_before(st.project_id, now - st.retention_days * 86400):
                self.delete_meeting(m.meeting_id)
                gone.append(m.meeting_id)
        return gone

    def project_settings(self, project_id: str) -> MeetingSettings:
        """The project's meeting settings (cached; :meth:`put_settings` refreshes)."""
        got = self._settings.get(project_id)
        if got is None:
            got = self._settings[project_id] = self.store.get_settings(project_id)
        return got

    def put_settings(self, settings: MeetingSettings) -> None:
        """Store new settings (called from a worker thread by the REST shell)."""
        self.store.put_settings(settings)
        self._settings[settings.project_id] = settings

    def _background(self, fn: Callable[[], Any]) -> Future[Any]:
        def run() -> Any:
            try:
                return fn()
            except Exception:
                log.exception("meeting store or log write failed")
                raise
        return self._io.submit(run)

    def flush(self) -> None:
        """Wait until every queued write is done (tests, REST reads of a fresh meeting)."""
        self._io.submit(lambda: None).result()

    # --- observer --------------------------------------------------------------------------

    def _live(self, worker: RoomWorker) -> _Live:
        room = worker.room
        live = self.rooms.get(room.room_id)
        if live is None:
            live = self.rooms[room.room_id] = _Live(MeetingTracker(room.room_id,
                                                                   room.project_id))
            # this process runs the room now (the only one: docs/cluster.md), so a meeting of
            # it still open in the store was left by a process that died: close it first
            room_id = room.room_id
            self._background(lambda: self.recover(time.time(), room_id=room_id))
        return live

    def joined(self, worker: RoomWorker, session_id: str, now: float) -> None:
        """Start a meeting in an empty room; tell the newcomer what runs (R29)."""
        entry = worker.room.presence.entries.get(session_id)
        if entry is None:
            return
        live = self._live(worker)
        allowed = self.project_settings(worker.room.project_id).recording
        for ev in live.tracker.join(session_id, entry.user_id, entry.name, entry.role,
                                    now=now, seq=worker.room.seq, recording=allowed):
            if isinstance(ev, Started):
                self._started(worker, live, ev.meeting, now, presence=[])
        if live.recorder is not None:
            live.recorder.join(now, entry.to_json())
        self._send(worker, meeting_message(live.tracker.meeting), to=session_id)

    def left(self, worker: RoomWorker, session_id: str, now: float) -> None:
        """End the meeting when the last one left."""
        live = self.rooms.get(worker.room.room_id)
        if live is None:
            return
        if live.recorder is not None:
            live.recorder.leave(now, session_id)
        for ev in live.tracker.leave(session_id, now=now, seq=worker.room.seq):
            if isinstance(ev, Ended):
                self._ended(live, ev.meeting, now, worker.room.state.snapshot())

    def committed(self, worker: RoomWorker, commits: list[Commit], now: float) -> None:
        """Mark commits in the recording (the ops themselves stay in the op log)."""
        live = self.rooms.get(worker.room.room_id)
        if live is not None and live.recorder is not None:
            for c in commits:
                live.recorder.commit(now, c.seq)

    def ticked(self, worker: RoomWorker, now: float) -> None:
        """Sample poses; cut a chunk when one is due."""
        live = self.rooms.get(worker.room.room_id)
        if live is None or live.recorder is None:
            return
        rec = live.recorder
        room = worker.room
        rec.sample(now, {sid: p.data for sid, p in room.presence.poses.items()})
        if rec.due(now):
            chunk, data = rec.cut(now, room.seq, room.state.snapshot)
            self._append(live, chunk, data)

    def stopped(self, worker: RoomWorker, now: float) -> None:
        """The worker is gone (empty, shutdown or failure): end what still runs."""
        live = self.rooms.pop(worker.room.room_id, None)
        if live is not None and live.tracker.meeting is not None:
            ev = live.tracker.stop(now=now, seq=worker.room.seq)
            if ev is not None:
                self._ended(live, ev.meeting, now, worker.room.state.snapshot())

    # --- host start / stop -----------------------------------------------------------------

    def host_start(self, worker: RoomWorker) -> Meeting | None:
        """Start a meeting in a room with people in it (None when one runs already)."""
        live = self._live(worker)
        now = time.time()
        allowed = self.project_settings(worker.room.project_id).recording
        ev = live.tracker.start(now=now, seq=worker.room.seq, recording=allowed)
        if ev is None:
            return None
        presence = [e.to_json() for e in worker.room.presence.entries.values()]
        self._started(worker, live, ev.meeting, now, presence=presence)
        return ev.meeting

    def host_stop(self, worker: RoomWorker) -> Meeting | None:
        """Stop the running meeting (None when none runs); everyone is told (R29)."""
        live = self.rooms.get(worker.room.room_id)
        if live is None:
            return None
        now = time.time()
        ev = live.tracker.stop(now=now, seq=worker.room.seq)
        if ev is None:
            return None
        self._ended(live, ev.meeting, now, worker.room.state.snapshot())
        self._send(worker, meeting_message(None))
        return ev.meeting

    # --- internals -------------------------------------------------------------------------

    def _started(self, worker: RoomWorker, live: _Live, m: Meeting, now: float, *,
                 presence: list[dict[str, Any]]) -> None:
        room = worker.room
        record = MeetingRecord(meeting_id=m.meeting_id, project_id=m.project_id,
                               room_id=m.room_id, started=m.started, seq_start=m.seq_start,
                               recording=m.recording, model=room.model)
        self._background(lambda: self.store.create(record))
        if m.recording:
            o = self.options
            live.recorder = Recorder(started=now, seq=room.seq, state=room.state.snapshot(),
                                     presence=presence, pose_hz=o.pose_hz, chunk_s=o.chunk_s,
                                     state_every_s=o.state_every_s)
            path = self.log_path(m.meeting_id)
            holder: dict[str, LogWriter] = {}

            def open_log() -> None:
                holder["w"] = LogWriter(path)
            self._background(open_log).result()  # a small file create: before any append
            live.writer = holder["w"]
        self._send(worker, meeting_message(m))

    def _append(self, live: _Live, chunk: Chunk, data: bytes) -> None:
        writer = live.writer
        if writer is None:
            return
        t0, t1, seq, has_state = chunk.t0, chunk.t1, chunk.seq, chunk.state is not None
        self._background(lambda: writer.append(data, t0=t0, t1=t1, seq=seq,
                                               has_state=has_state))

    def _ended(self, live: _Live, m: Meeting, now: float, state: dict[str, Any]) -> None:
        rec, writer = live.recorder, live.writer
        live.recorder, live.writer = None, None
        size = 0
        if rec is not None:
            chunk, data = rec.finish(now)
            self._append(_Live(live.tracker, None, writer), chunk, data)
            size = rec.bytes_written
        if writer is not None:
            self._background(writer.close)
        end_path = self.end_state_path(m.meeting_id)

        def save_end() -> None:
            end_path.parent.mkdir(parents=True, exist_ok=True)
            end_path.write_bytes(zlib.compress(json.dumps(state).encode("utf-8"), 6))
        self._background(save_end)
        parts = m.participants_json()
        ended, seq_end = m.ended or now, m.seq_end if m.seq_end is not None else m.seq_start
        self._background(lambda: self.store.finish(m.meeting_id, ended=ended, seq_end=seq_end,
                                                   participants=parts, log_bytes=size))

    def _send(self, worker: RoomWorker, msg: MeetingMsg, to: str | None = None) -> None:
        text = encode_server(msg)
        conns = worker.conns.values() if to is None else [c for sid, c in worker.conns.items()
                                                          if sid == to]
        for conn in conns:
            conn.send(text, counted=False)

    # --- lifecycle -------------------------------------------------------------------------

    def recover(self, now: float, *, room_id: str | None = None) -> int:
        """Close meetings a crash left open: every one (start-up of the only process), or
        those of ``room_id`` (this process just took the room: nobody else runs it). They end
        at their log's last chunk, or at their start. Returns how many."""
        n = 0
        for m in self.store.running():
            if room_id is not None and m.room_id != room_id:
                continue
            ended, seq_end = m.started, m.seq_start
            path = self.log_path(m.meeting_id)
            if m.recording and path.exists():
                try:
                    index = read_index(path)
                except Exception:
                    index = []
                if index:
                    ended, seq_end = index[-1].t1, index[-1].seq
            self.store.finish(m.meeting_id, ended=min(ended, now), seq_end=seq_end,
                              participants=m.participants,
                              log_bytes=path.stat().st_size if path.exists() else 0)
            n += 1
        return n

    def close(self) -> None:
        """Finish queued writes."""
        self._io.shutdown(wait=True)
