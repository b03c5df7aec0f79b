"""Live rooms from stored ones: :func:`load_room` (snapshot + commits -> a running
:class:`~vrcollab.sync.room.Room`). Kept out of the package face so importing the store does
not import the room machine; the server's hub and room operations call it."""

from __future__ import annotations

from vrcollab.store.base import RoomLoad, RoomRecord, RoomStore
from vrcollab.sync.messages import Commit
from vrcollab.sync.room import Room
from vrcollab.sync.state import RoomState
from vrcollab.sync.text import scrub


def load_room(
    store: RoomStore,
    record: RoomRecord,
    *,
    replay_window: int,
    tick_hz: float,
    heartbeat_s: float,
) -> Room:
    """A live room from its latest snapshot plus the commits after it.

    Repairs on load (protocol R17): strings stored before the codec refused lone surrogates
    get U+FFFD instead, so such a room loads and serves again."""
    data: RoomLoad = store.load_room(record.room_id, replay_window=replay_window)
    snap = scrub(data.snapshot)
    state = RoomState.from_snapshot(snap) if snap is not None else RoomState()
    room = Room(
        record.room_id,
        record.project_id,
        model=scrub(record.model),
        state=state,
        seq=data.snapshot_seq,
        op_seqs={scrub(k): v for k, v in data.op_seqs.items()},
        log=[_repaired(c) for c in data.log_before],
        replay_window=replay_window,
        tick_hz=tick_hz,
        heartbeat_s=heartbeat_s,
    )
    for commit in data.tail:
        room.replay(_repaired(commit))
    return room


def _repaired(c: Commit) -> Commit:
    obj = c.to_json()
    fixed = scrub(obj)
    return c if fixed is obj else Commit.from_json(fixed)
