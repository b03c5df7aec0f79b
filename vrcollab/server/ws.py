"""The websocket endpoint ``/ws/rooms/{room_id}``: a thin shell around the sync core.

Authentication, Origin and room membership are checked before ``accept`` (protocol R2): a refused
upgrade gets HTTP 403 and not a byte of room state. After that the reader loop enforces size
(1009), rate (4429) and malformed-input (4400) limits and hands messages to the room worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from vrcollab.errors import ProtocolError, VrcollabError
from vrcollab.server.auth import authorize_room, bearer_from, origin_allowed
from vrcollab.server.connection import (
    CLOSE_CREDENTIALS,
    CLOSE_PROTOCOL,
    CLOSE_RATE,
    CLOSE_SESSIONS,
    CLOSE_TOO_BIG,
    CLOSE_VERSION,
    Connection,
    MemberGate,
    TokenBucket,
)
from vrcollab.server.hub import RoomHub, RoomWorker
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord, new_id
from vrcollab.sync.codec import Limits, decode_client
from vrcollab.sync.messages import (
    PROTOCOL_VERSION,
    Cmd,
    ErrorMsg,
    Hello,
    InvalidOp,
    Op,
    Ping,
    Pong,
    Pose,
)
from vrcollab.sync.text import clean_name
from vrcollab.voice.signal import VoiceMessage

log = logging.getLogger("vrcollab.server")
router = APIRouter()

MAX_MALFORMED = 10


@router.websocket("/ws/rooms/{room_id}")
async def room_socket(ws: WebSocket, room_id: str) -> None:
    """One client session in a room (see docs/protocol.md)."""
    app = ws.app
    settings: Settings = app.state.settings
    store: Store = app.state.store
    hub: RoomHub = app.state.hub
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"),
                          settings.allowed_origins):
        await ws.close(code=1008)  # before accept: the client sees HTTP 403
        return
    token = bearer_from(ws.headers, ws.query_params)
    try:
        user, record, role = await asyncio.to_thread(
            authorize_room, store, token, room_id, time.time()
        )
    except VrcollabError:  # bad token, another project's room and a missing room alike (R2)
        await ws.close(code=1008)
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
    hello = await _read_hello(ws, settings, limits)
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
        conn.close(1011, "room unavailable")
    try:
        if worker is not None and conn.close_code is None:
            # the reader ends on disconnect; the writer may decide to close first (4413, 4408)
            reader = asyncio.create_task(_read_loop(ws, conn, worker, settings, limits, gate))
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
            conn.close(1000)
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


async def _read_hello(ws: WebSocket, settings: Settings, limits: Limits) -> Hello | None:
    """The first message must be a hello of our version (R5); None after closing."""
    try:
        text = await asyncio.wait_for(ws.receive_text(), settings.hello_timeout_s)
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        with contextlib.suppress(Exception):
            await ws.close(code=CLOSE_PROTOCOL, reason="expected hello")
        return None
    if len(text) > settings.max_message_bytes:
        await ws.close(code=CLOSE_TOO_BIG, reason="message too big")
        return None
    try:
        msg = decode_client(text, limits)
    except ProtocolError as exc:
        await ws.close(code=CLOSE_PROTOCOL, reason=f"bad hello: {exc}"[:120])
        return None
    if not isinstance(msg, Hello):
        await ws.close(code=CLOSE_PROTOCOL, reason="first message must be hello")
        return None
    if msg.v != PROTOCOL_VERSION:
        await ws.close(code=CLOSE_VERSION, reason=f"server speaks v{PROTOCOL_VERSION}")
        return None
    return msg


async def _read_loop(
    ws: WebSocket, conn: Connection, worker: RoomWorker, settings: Settings, limits: Limits,
    gate: MemberGate,
) -> None:
    bucket = TokenBucket(settings.rate_limit_per_second, settings.rate_limit_burst,
                         time.monotonic())
    malformed = 0
    sid = conn.session_id
    room = worker.room
    max_bytes = settings.max_message_bytes
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
        if text is None:
            data = message.get("bytes") or b""
            if len(data) > max_bytes:
                conn.close(CLOSE_TOO_BIG, "message too big")
                return
            text = None
        elif len(text) > max_bytes and len(text.encode("utf-8")) > max_bytes:
            conn.close(CLOSE_TOO_BIG, "message too big")
            return
        if not bucket.take(now):
            conn.close(CLOSE_RATE, "rate limit exceeded")
            return
        await gate.throttle()  # R3: one member's sessions share one budget
        try:
            if text is None:
                raise ProtocolError("text frames only", code="bad_message")
            msg = decode_client(text, limits)
        except ProtocolError as exc:
            malformed += 1
            conn.send_msg(ErrorMsg(exc.code, str(exc)))
            if malformed >= MAX_MALFORMED:
                conn.close(CLOSE_PROTOCOL, "too many malformed messages")
                return
            continue
        if isinstance(msg, Pose):
            conn.last_active = now
            room.set_pose(sid, msg)
        elif isinstance(msg, Ping):
            conn.send_msg(Pong(msg.t, time.time()))
        elif isinstance(msg, Op | InvalidOp):
            conn.last_active = now
            await conn.op_slots.acquire()  # fairness: a flood waits for its own ops only
            worker.submit_op(sid, msg)
        elif isinstance(msg, Cmd):
            conn.last_active = now
            worker.submit_cmd(sid, msg)
        elif isinstance(msg, VoiceMessage):  # voice signalling, relayed in order (R25)
            conn.last_active = now
            worker.voice.handle(sid, msg, now)
        else:
            malformed += 1
            conn.send_msg(ErrorMsg("bad_message", "hello was already sent"))
