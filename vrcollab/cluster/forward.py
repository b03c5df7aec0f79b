"""An edge's side of a room owned by another process.

:class:`RemoteRoom` looks like a room worker to the websocket endpoint (``join``, ``submit_op``,
``submit_cmd``, ``leave``, ``room.set_pose``), but forwards everything to the owner through the
room's inbound stream and delivers the owner's outbound stream to its local connections. It
watches the lease: when the owner changes or the lease expires (owner died), it closes its
sessions with 1012 so they reconnect and resume with ``last_seq``, and takes the room over when
nobody holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from vrcollab.cluster import wire
from vrcollab.cluster.owner import CLOSE_MOVED, keys
from vrcollab.cluster.streams import OrderedWriter, subscription
from vrcollab.errors import StoreError
from vrcollab.server.connection import CLOSE_TIMEOUT, Connection
from vrcollab.store.base import RoomRecord
from vrcollab.sync.messages import Cmd, Commit, Hello, InvalidOp, Op, Pose
from vrcollab.sync.room import RoomFullError
from vrcollab.voice.signal import VoiceMessage

if TYPE_CHECKING:
    from vrcollab.settings import Settings

log = logging.getLogger("vrcollab.cluster")

JOIN_TIMEOUT_S = 15.0
SERVER_OPS_TIMEOUT_S = 60.0
WATCH_S = 0.5


class RemoteRoom:
    """Forwards the local sessions of one room to its owner (lease token ``owner``)."""

    def __init__(self, r: aioredis.Redis, record: RoomRecord, owner: str, node_id: str,
                 out_id: str, settings: Settings, *, maxlen: int,
                 on_stop: Callable[[RemoteRoom], None],
                 on_vacant: Callable[[RoomRecord], None]) -> None:
        self.r = r
        self.record = record
        self.room_id = record.room_id
        self.owner = owner
        self.node_id = node_id
        self.settings = settings
        self.k = keys(record.room_id)
        self.conns: dict[str, Connection] = {}
        self.users: dict[str, str] = {}  # session id -> user id (control events close them)
        self.model: dict[str, Any] | None = record.model
        self.stopped = False
        self._server: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._joins: dict[str, asyncio.Future[bool]] = {}
        self._poses: dict[str, Pose] = {}
        self._n: int | None = None  # number of the owner's last entry read (gap check)
        self._on_stop = on_stop
        self._on_vacant = on_vacant
        self.writer = OrderedWriter(r, maxlen=maxlen, name=f"fwd-{record.room_id}")
        self._tasks = [
            asyncio.create_task(self._read(out_id), name=f"out-{self.room_id}"),
            asyncio.create_task(self._poses_out(), name=f"pout-{self.room_id}"),
            asyncio.create_task(self._watch(), name=f"watch-{self.room_id}"),
            asyncio.create_task(self._flush_poses(), name=f"pflush-{self.room_id}"),
        ]

    @property
    def voice(self) -> RemoteRoom:
        """Where the reader hands voice signalling: forwarded to the owner like ops."""
        return self

    def handle(self, session_id: str, msg: VoiceMessage, now: float) -> None:
        """Forward one ``voice.*`` message to the owner's room voice, in the session's order
        with its ops and commands; the answers come back on the outbound stream."""
        if session_id in self.conns:
            self._send("voice", session_id, wire.voice_json(msg))

    @property
    def room(self) -> RemoteRoom:
        """What the reader loop calls ``set_pose`` on."""
        return self

    # --- called by the websocket endpoint --------------------------------------------------

    async def join(self, conn: Connection, user_id: str, role: str, hello: Hello) -> bool:
        """Forward a join and wait until the owner's welcome is queued on ``conn``; False when
        the room moved meanwhile (ask the hub again)."""
        if self.stopped:
            return False
        sid = conn.session_id
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._joins[sid] = fut
        self.conns[sid] = conn
        self.users[sid] = user_id
        self._send("join", sid, wire.hello_json(hello), user=user_id, role=role)
        try:
            ok = await asyncio.wait_for(asyncio.shield(fut), JOIN_TIMEOUT_S)
        except TimeoutError:
            ok = False
        finally:
            self._joins.pop(sid, None)
        if not ok:
            self.users.pop(sid, None)
            if self.conns.pop(sid, None) is not None:
                self._send("leave", sid)
            self._stop_if_empty()
        return ok

    def submit_op(self, session_id: str, op: Op | InvalidOp) -> None:
        """Forward an op (its slot is released when the owner has answered it)."""
        self._send("op", session_id, wire.op_json(op))

    def submit_cmd(self, session_id: str, cmd: Cmd) -> None:
        """Forward a room command."""
        self._send("cmd", session_id, wire.cmd_json(cmd))

    def leave(self, session_id: str) -> None:
        """The session ended here."""
        self.users.pop(session_id, None)
        if self.conns.pop(session_id, None) is not None and not self.stopped:
            self._send("leave", session_id)
        self._poses.pop(session_id, None)
        self._stop_if_empty()

    async def server_ops(self, items: list[tuple[str, Op]]) -> list[Commit] | None:
        """Commit server-authored ops through the owner; None when the room moved (retry)."""
        if self.stopped:
            return None
        rid = "srv-" + secrets.token_hex(8)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._server[rid] = fut
        body = {"model": self.model, "items": [(a, wire.op_json(op)) for a, op in items]}
        self._send("srv", rid, json.dumps(body))
        try:
            reply = await asyncio.wait_for(asyncio.shield(fut), SERVER_OPS_TIMEOUT_S)
        except TimeoutError:
            raise StoreError("the room's owner did not answer") from None
        finally:
            self._server.pop(rid, None)
            self._stop_if_empty()
        if "full" in reply:
            raise RoomFullError(reply["full"])
        if "error" in reply:
            raise StoreError(reply["error"])
        if "retry" in reply:
            return None
        return [Commit.from_json(c) for c in reply["commits"]]

    def set_pose(self, session_id: str, pose: Pose) -> None:
        """Latest pose of a local session; sent once per tick."""
        if session_id in self.conns:
            self._poses[session_id] = pose

    # --- internals -------------------------------------------------------------------------

    def _send(self, kind: str, sid: str, body: str = "", **extra: str) -> None:
        self.writer.xadd(self.k["in"], {"own": self.owner, "k": kind, "sid": sid,
                                        "node": self.node_id, "b": body, **extra})

    async def _read(self, last: str) -> None:
        while True:
            try:
                rows: Any = await self.r.xread({self.k["out"]: last}, block=1000, count=512)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the outbound stream of %s", self.room_id)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in rows or ():
                for entry_id, fields in entries:
                    last = entry_id
                    if fields.get("own") != self.owner:
                        continue
                    n = int(fields.get("n", 0))
                    if self._n is not None and n != self._n + 1:  # trimmed before we read it
                        log.warning("room %s: fell behind the owner's stream (%s -> %s); "
                                    "resyncing", self.room_id, self._n, n)
                        self.stop("fell behind; reconnect")
                        return
                    self._n = n
                    self._deliver(fields)

    def _deliver(self, f: dict[str, str]) -> None:
        kind, to = f["k"], f["to"]
        if kind == "m":
            counted = f.get("c") != "0"
            if not to:
                ex = f.get("ex", "")
                for sid, conn in self.conns.items():
                    if sid != ex and sid not in self._joins:
                        conn.send(f["f"], counted=counted)
                return
            target = self.conns.get(to)
            if target is not None:
                target.send(f["f"], counted=counted)
                self._answer(to, True)
        elif kind == "rel":
            target = self.conns.get(to)
            if target is not None:
                target.op_slots.release()
        elif kind == "close":
            target = self.conns.get(to)
            if target is not None:
                target.close(int(f.get("code") or 1011), f["f"])
                self._answer(to, True)
        elif kind == "retry":
            self._answer(to, False)
        elif kind == "srvdone":
            fut = self._server.get(to)
            if fut is not None and not fut.done():
                fut.set_result(json.loads(f["f"]))

    def _answer(self, sid: str, ok: bool) -> None:
        # popped now, not when join() resumes: the broadcasts after the welcome in this same
        # batch of entries are for this session already
        fut = self._joins.pop(sid, None)
        if fut is not None and not fut.done():
            fut.set_result(ok)

    async def _poses_out(self) -> None:
        async for data in subscription(self.r, self.k["pout"]):
            frame = wire.pose_frame_from(data)
            for conn in self.conns.values():
                conn.offer_poses(frame)

    async def _flush_poses(self) -> None:
        period = 1.0 / max(1.0, self.settings.tick_hz)
        while True:
            await asyncio.sleep(period)
            if self._poses:
                poses, self._poses = self._poses, {}
                self.writer.publish(self.k["pin"], wire.poses_json(poses))

    async def _watch(self) -> None:
        """Follow the lease; enforce heartbeat and idle timeouts of the local sockets."""
        hb, idle = self.settings.heartbeat_timeout_s, self.settings.idle_timeout_s
        while True:
            await asyncio.sleep(WATCH_S)
            now = time.monotonic()
            for conn in list(self.conns.values()):
                if now - conn.last_seen > hb:
                    conn.close(CLOSE_TIMEOUT, "heartbeat timeout")
                elif now - conn.last_active > idle:
                    conn.close(CLOSE_TIMEOUT, "idle timeout")
            try:
                owner = await self.r.get(self.k["lease"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot read the lease of %s", self.room_id, exc_info=True)
                continue
            if owner != self.owner:
                log.info("room %s: owner %s gone (now %s)", self.room_id, self.owner, owner)
                self.stop("room moved to another server; reconnect")
                if owner is None:
                    self._on_vacant(self.record)  # take it over now, not at the next join
                return

    def stop(self, reason: str) -> None:
        """Close every local session with 1012 (they reconnect and resume) and stop."""
        if self.stopped:
            return
        self.stopped = True
        for sid in list(self._joins):
            self._answer(sid, False)
        for fut in self._server.values():
            if not fut.done():
                fut.set_result({"retry": 1})
        for conn in list(self.conns.values()):
            conn.close(CLOSE_MOVED, reason)
        self.conns.clear()
        self.users.clear()
        self._on_stop(self)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        asyncio.get_running_loop().create_task(self.writer.close())

    def _stop_if_empty(self) -> None:
        if not self.conns and not self._joins and not self._server and not self.stopped:
            self.stopped = True
            self._on_stop(self)
            for task in self._tasks:
                task.cancel()
            asyncio.get_running_loop().create_task(self.writer.close())

    async def close(self) -> None:
        """Shut down (server stopping)."""
        self.stop("server shutting down")
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

