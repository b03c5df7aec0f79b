"""Persistence behind interfaces (:mod:`vrcollab.store.base`): memory and SQLite backends.

``open_store(settings)`` picks the backend from ``Settings.database_url``; ``load_room`` builds a
live :class:`~vrcollab.sync.room.Room` from what a store holds. A Postgres or Redis backend is a
new module implementing :class:`~vrcollab.store.base.Store` plus one branch in ``open_store``; it
must pass ``tests/store/test_contract.py``.
"""

from __future__ import annotations

from vrcollab.errors import ConfigError
from vrcollab.settings import Settings
from vrcollab.store.base import AuthStore, RoomLoad, RoomRecord, RoomStore, Store
from vrcollab.store.memory import MemoryStore
from vrcollab.store.sqlite import SqliteStore
from vrcollab.sync.room import Room
from vrcollab.sync.state import RoomState

__all__ = [
    "AuthStore",
    "MemoryStore",
    "RoomStore",
    "SqliteStore",
    "Store",
    "load_room",
    "open_store",
    "sqlite_path",
]


def sqlite_path(settings: Settings) -> str:
    """The SQLite file used when ``database_url`` is empty or ``sqlite:///path``."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    return str(settings.data_dir / "vrcollab.sqlite3")


def open_store(settings: Settings) -> Store:
    """The backend named by ``Settings.database_url`` ('' or sqlite:/// -> SQLite, memory://)."""
    url = settings.database_url
    if url == "memory://":
        return MemoryStore()
    if url == "" or url.startswith("sqlite:///"):
        return SqliteStore(sqlite_path(settings), synchronous=settings.sqlite_synchronous)
    raise ConfigError(f"unsupported database_url {url!r} (use '', sqlite:///path or memory://)")


def load_room(
    store: RoomStore,
    record: RoomRecord,
    *,
    replay_window: int,
    tick_hz: float,
    heartbeat_s: float,
) -> Room:
    """A live room from its latest snapshot plus the commits after it."""
    data: RoomLoad = store.load_room(record.room_id, replay_window=replay_window)
    state = RoomState.from_snapshot(data.snapshot) if data.snapshot is not None else RoomState()
    room = Room(
        record.room_id,
        record.project_id,
        model=record.model,
        state=state,
        seq=data.snapshot_seq,
        op_seqs=data.op_seqs,
        log=data.log_before,
        replay_window=replay_window,
        tick_hz=tick_hz,
        heartbeat_s=heartbeat_s,
    )
    for commit in data.tail:
        room.replay(commit)
    return room
