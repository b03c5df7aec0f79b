"""Durable ops the server makes on its own authority (re-anchoring, BCF import, model switch).

They go through the room's worker like client ops: sequenced, written to the store before any
session sees them (protocol R9), and broadcast as ``commit`` messages to every session in the
room. This module is the one place that talks to the room hub for that, through
``RoomWorker.server_ops(items)`` (``items``: ``(author, Op)`` pairs; returns the commits once
durable, or ``None`` when that worker has just stopped and a fresh one must be asked).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from vrcollab.errors import StoreError
from vrcollab.server.deps import services_of
from vrcollab.store.room_loader import load_room
from vrcollab.sync.messages import Commit, Op
from vrcollab.sync.state import RoomState

SERVER_AUTHOR = "server"
MODEL_KIND = "room.model"  # server-only commit: {"model": {...}}; clients reload the model


def server_op(kind: str, fields: Mapping[str, Any], *, op_id: str | None = None) -> Op:
    """An op made by the server (``op_id`` defaults to a fresh ``srv-...`` id)."""
    return Op(op_id or f"srv-{secrets.token_hex(8)}", kind, dict(fields))


async def room_state(app: FastAPI, room_id: str) -> RoomState:
    """The durable state of a room: the live one, else read from the store (no worker is
    started for a room nobody is in)."""
    services = services_of(app)
    store = services.store
    worker = services.hub.workers.get(room_id)
    if worker is not None and not worker.stopped:
        live: RoomState = worker.room.state
        return live
    record = await asyncio.to_thread(store.get_room, room_id)
    s = services.settings
    room = await asyncio.to_thread(
        load_room, store, record, replay_window=s.replay_window, tick_hz=s.tick_hz,
        heartbeat_s=10.0,
    )
    return room.state


async def commit_server_ops(
    app: FastAPI,
    room_id: str,
    items: list[tuple[str, Op]],
    *,
    model: dict[str, Any] | None = None,
) -> list[Commit]:
    """Commit ``(author, op)`` pairs in order in a room; returns the commits once durable.

    With ``model``, the room's model is replaced first (store, live room, and a ``room.model``
    commit ahead of ``items`` so connected clients reload)."""
    services = services_of(app)
    store = services.store
    if model is not None:
        await asyncio.to_thread(store.set_room_model, room_id, model)
        items = [(SERVER_AUTHOR, server_op(MODEL_KIND, {"model": model})), *items]
    if not items:
        return []
    for _ in range(5):
        record = await asyncio.to_thread(store.get_room, room_id)
        worker = await services.hub.worker(record)
        submit = getattr(worker, "server_ops", None)
        if submit is None:
            raise StoreError("this room hub cannot commit server-side ops")
        if model is not None:
            worker.room.model = dict(model)
        commits: list[Commit] | None = await submit(items)
        if commits is not None:
            return commits
    raise StoreError(f"room {room_id} kept stopping while committing server ops")
