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
from vrcollab.sync.messages import Commit
from vrcollab.sync.room import Room
from vrcollab.sync.state import RoomState
from vrcollab.sync.text import scrub

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
    if url.startswith(("postgresql://", "postgres://")):
        from vrcollab.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(f"unsupported database_url {url!r} "
                      "(use '', sqlite:///path, postgresql://... or memory://)")


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
