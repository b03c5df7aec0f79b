"""The meeting service's lifetime inside the server: opened and registered on the live-room hub
by the server's one lifespan (:func:`vrcollab.server.services.lifespan`), purged on a timer,
closed after the hub has ended the running meetings."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from vrcollab.meetings.service import MeetingService, RecordingOptions
from vrcollab.meetings.store import MeetingStore, MemoryMeetingStore
from vrcollab.meetings.store_sqlite import SqliteMeetingStore
from vrcollab.settings import Settings
from vrcollab.store.factory import engine, sqlite_path


def open_meeting_store(settings: Settings) -> MeetingStore:
    """The meeting tables in the service's database: SQLite beside the main store, the shared
    Postgres database (every process sees every meeting), or memory for ``memory://``."""
    kind, _ = engine(settings)
    if kind == "memory":
        return MemoryMeetingStore()
    if kind == "postgres":
        from vrcollab.meetings.store_postgres import PostgresMeetingStore

        return PostgresMeetingStore(settings.database_url)
    return SqliteMeetingStore(sqlite_path(settings), synchronous=settings.sqlite_synchronous)


async def _purge_loop(svc: MeetingService, every_s: float) -> None:
    while True:
        await asyncio.to_thread(svc.purge, time.time())
        await asyncio.sleep(every_s)


@asynccontextmanager
async def meetings_running(state: Any, hub: Any,
                           settings: Settings) -> AsyncIterator[MeetingService]:
    """Run the meeting service for one app: ``state.meetings`` when a test put one there, else
    one opened from ``settings``; registered as an observer of ``hub``. On exit the hub is shut
    down first (idempotent), so running meetings end and are written before the store closes."""
    given: MeetingService | None = getattr(state, "meetings", None)
    svc = given
    if svc is None:
        store = await asyncio.to_thread(open_meeting_store, settings)
        svc = MeetingService(store, settings.meetings_path, options=RecordingOptions(
            pose_hz=settings.meeting_pose_hz, chunk_s=settings.meeting_chunk_s,
            state_every_s=settings.meeting_state_every_s))
    state.meetings = svc
    if engine(settings)[0] != "postgres":
        # the only process: every open meeting was left by a crash. On Postgres other live
        # processes may run meetings; a room's stale one is closed when a process takes the
        # room (MeetingService._live)
        await asyncio.to_thread(svc.recover, time.time())
    hub.observers.append(svc)
    purger = asyncio.create_task(_purge_loop(svc, settings.meeting_purge_every_s))
    try:
        yield svc
    finally:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
        await hub.shutdown()
        if given is None:
            await asyncio.to_thread(svc.close)
            await asyncio.to_thread(svc.store.close)
