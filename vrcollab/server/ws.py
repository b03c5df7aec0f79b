"""The websocket endpoint ``/ws/rooms/{room_id}``: a thin shell around the sync core.

Authentication, Origin and room membership are checked before ``accept`` (protocol R2): a refused
upgrade gets HTTP 403 and not a byte of room state. After that this module only moves frames:
the per-connection rules (hello, version, size 1009, rate 4429, malformed input 4400, ping) are
the pure :class:`~vrcollab.sync.session.Session`'s, and its events go to the room worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from vrcollab.errors import VrcollabError
from vrcollab.server.auth import authorize_room, bearer_from, origin_allowed
from vrcollab.server.connection import (
    CLOSE_CREDENTIALS,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_SESSIONS,
    Connection,
    MemberGate,
)
from vrcollab.server.hub import RoomHub, RoomWorker
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord, new_id
from vrcollab.sync.codec import Limits
from vrcollab.sync.messages import Cmd, Hello, InvalidOp, Op, Pose
from vrcollab.sync.session import Closing, Deliver, Joined, Phase, Reply, Session, SessionConfig
from vrcollab.sync.text import clean_name
from vrcollab.voice.signal import VoiceMessage

log = logging.getLogger("vrcollab.server")
router = APIRouter()


@router.websocket("/ws/rooms/{room_id}")
async def room_socket(ws: WebSocket, room_id: str) -> None:
    """One client session in a room (see docs/protocol.md)."""
    app = ws.app
    settings: Settings = app.state.services.settings
    store: Store = app.state.services.store
    hub: RoomHub = app.state.services.hub
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"),
                          settings.allowed_origins):
        await ws.close(code=CLOSE_POLICY)  # before accept: the client sees HTTP 403
        return
    token = bearer_from(ws.headers, ws.query_params)
    try:
        user, record, role = await asyncio.to_thread(
            authorize_room, store, token, room_id, time.time()
        )
    except VrcollabError:  # bad token, another project's room and a missing room alike (R2)
        await ws.close(code=CLOSE_POLICY)
        return
    await ws.accept()
    gate = hub.admit(user.user_id)
    if gate is None:
        await ws.close(code=CLOSE_SESSIONS, reason="too many sessions for this member")
        return
    try:
        await _session(ws, hub, store, settings, token, room_id, user.user_id, user.name,
                       record, role, gate)
    finally:
        hub.release(user.user_id)


async def _session(ws: WebSocket, hub: RoomHub, store: Store, settings: Settings,
                   token: str | None, room_id: str, user_id: str, user_name: str,
                   record: RoomRecord, role: str, gate: MemberGate) -> None:
    limits = Limits(max_string_chars=settings.max_string_chars)
    session = Session(SessionConfig(
        max_message_bytes=settings.max_message_bytes, hello_timeout_s=settings.hello_timeout_s,
        rate_per_second=settings.rate_limit_per_second, rate_burst=settings.rate_limit_burst,
        limits=limits), time.monotonic())
    hello = await _read_hello(ws, session)
    if hello is None:
        return
    # R18: the name others see is the member's, never free text from hello
    hello = dataclasses.replace(hello, name=clean_name(user_name, limits.max_name_chars)
                                or "member")
    conn = Connection(ws, new_id("s"), max_queue=settings.max_send_queue)
    conn.start()
    worker = None
    for _ in range(3):
        worker = await hub.worker(record)
        if await worker.join(conn, user_id, role, hello):
            break
    else:
        conn.close(CLOSE_INTERNAL, "room unavailable")
    try:
        if worker is not None and conn.close_code is None:
            # the reader ends on disconnect; the writer may decide to close first (4413, 4408)
            reader = asyncio.create_task(_read_loop(ws, conn, worker, session, gate))
            closing = asyncio.create_task(conn.closing.wait())
            recheck = asyncio.create_task(_recheck_auth(conn, store, token, room_id, role,
                                                        settings.auth_recheck_s))
            try:
                await asyncio.wait({reader, closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reader, closing, recheck):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
    finally:
        if worker is not None:
            worker.leave(conn.session_id)
        if conn.close_code is None:
            conn.close(CLOSE_NORMAL)
        await conn.wait_closed()


async def _recheck_auth(conn: Connection, store: Store, token: str | None, room_id: str,
                        role: str, every_s: float) -> None:
    """Close with 4401 once the token is revoked or expired, or the role changed."""
    while conn.close_code is None:
        await asyncio.sleep(every_s)
        try:
            _, _, now_role = await asyncio.to_thread(authorize_room, store, token, room_id,
                                                     time.time())
        except VrcollabError:
            now_role = None
        if now_role != role:
            conn.close(CLOSE_CREDENTIALS, "credentials expired, revoked or changed")
            return


async def _read_hello(ws: WebSocket, session: Session) -> Hello | None:
    """The first message must be a hello of our version (R5; the rules are the session's);
    None after closing."""
    try:
        text = await asyncio.wait_for(ws.receive_text(), session.config.hello_timeout_s)
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        events = session.hello_timeout()
    else:
        events = session.receive(text, time.monotonic(), time.time())
    for ev in events:
        if isinstance(ev, Joined):
            return ev.hello
        if isinstance(ev, Closing):
            with contextlib.suppress(Exception):
                await ws.close(code=ev.code, reason=ev.reason)
    return None


async def _read_loop(ws: WebSocket, conn: Connection, worker: RoomWorker, session: Session,
                     gate: MemberGate) -> None:
    """Socket reads in, session events out: the protocol rules live in ``sync.session``."""
    sid = conn.session_id
    room = worker.room
    while conn.close_code is None:
        await asyncio.sleep(0)  # fairness: receive() does not yield while frames are queued
        try:
            message = await ws.receive()
        except (RuntimeError, WebSocketDisconnect):
            return
        if message["type"] == "websocket.disconnect":
            return
        now = time.monotonic()
        conn.last_seen = now
        text = message.get("text")
        frame = text if text is not None else (message.get("bytes") or b"")
        events = session.receive(frame, now, time.time())
        if session.phase is Phase.OPEN:
            await gate.throttle()  # R3: one member's sessions share one budget
        for ev in events:
            if isinstance(ev, Closing):
                conn.close(ev.code, ev.reason)
                return
            if isinstance(ev, Reply):
                conn.send_msg(ev.msg)
                continue
            if not isinstance(ev, Deliver):
                continue
            msg = ev.msg
            conn.last_active = now
            if isinstance(msg, Pose):
                room.set_pose(sid, msg)
            elif isinstance(msg, Op | InvalidOp):
                await conn.op_slots.acquire()  # fairness: a flood waits for its own ops only
                worker.submit_op(sid, msg)
            elif isinstance(msg, Cmd):
                worker.submit_cmd(sid, msg)
            elif isinstance(msg, VoiceMessage):  # voice signalling, relayed in order (R25)
                worker.voice.handle(sid, msg, now)
