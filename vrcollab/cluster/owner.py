"""The owner's side of a room served by several processes.

The process holding a room's lease runs its :class:`~vrcollab.server.hub.RoomWorker` as in the
single-process server. :class:`OwnerRelay` adds the other processes' sessions to it:

- it reads the room's inbound stream (``vrc:in:<room>``: joins, ops, commands, voice
  signalling, leaves that edges forward, addressed to this lease) and queues them on the worker
  in stream order; each remote session is a :class:`RemoteConnection` in the worker;
- everything the worker delivers to remote sessions goes to the outbound stream
  (``vrc:out:<room>``) in delivery order: a broadcast once, an ack or welcome addressed to one
  session. The worker delivers only after the store write, so entries follow the durable write;
- poses: edges publish their sessions' poses on ``vrc:pin:<room>``; each tick the owner
  publishes one frame of encoded fragments on ``vrc:pout:<room>``;
- the lease (``vrc:lease:<room>`` = this claim's token, PX ``cluster_lease_ms``) is renewed every
  third of its time; when it cannot be renewed the room is given up (1012 to everyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from vrcollab.cluster import wire
from vrcollab.cluster.streams import OrderedWriter, subscription
from vrcollab.sync.codec import EncodeError, encode_server
from vrcollab.sync.messages import ServerMessage
from vrcollab.sync.presence import PoseFrame
from vrcollab.sync.room import RoomFullError

if TYPE_CHECKING:
    from vrcollab.server.hub import RoomWorker

log = logging.getLogger("vrcollab.cluster")

CLOSE_MOVED = 1012  # service restart: the room moved to another process; reconnect

RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def node_key(node_id: str) -> str:
    """A process's liveness key (refreshed every second, expires after NODE_TTL_MS)."""
    return f"vrc:node:{node_id}"


NODE_TTL_MS = 5000


def keys(room_id: str) -> dict[str, str]:
    """The Redis names of one room."""
    return {"lease": f"vrc:lease:{room_id}", "in": f"vrc:in:{room_id}",
            "out": f"vrc:out:{room_id}", "pin": f"vrc:pin:{room_id}",
            "pout": f"vrc:pout:{room_id}", "online": f"vrc:online:{room_id}"}


class _Slots:
    """The owner's side of a remote session's op slots: a release tells the edge."""

    __slots__ = ("relay", "sid")

    def __init__(self, relay: OwnerRelay, sid: str) -> None:
        self.relay, self.sid = relay, sid

    def release(self) -> None:
        self.relay.entry(self.sid, "rel")


class RemoteConnection:
    """A session whose socket is on another process, as the owner's worker sees it."""

    remote = True

    def __init__(self, relay: OwnerRelay, session_id: str, node: str) -> None:
        self.relay = relay
        self.session_id = session_id
        self.node = node  # the edge process holding the socket
        self.close_code: int | None = None
        self.close_reason = ""
        self.op_slots = _Slots(relay, session_id)

    @property
    def last_seen(self) -> float:
        """The edge enforces heartbeat and idle timeouts on its socket."""
        return time.monotonic()

    last_active = last_seen

    def send(self, text: str, *, counted: bool = True) -> None:
        """Queue a frame for this session (the edge's connection applies its queue limit)."""
        if self.close_code is None:
            self.relay.entry(self.session_id, "m", text, counted=counted)

    def send_msg(self, msg: ServerMessage, *, counted: bool = True) -> None:
        """Encode and queue one message (a server bug closes only this session)."""
        try:
            text = encode_server(msg)
        except (EncodeError, ValueError, TypeError):
            log.error("cannot encode %s for %s", type(msg).__name__, self.session_id,
                      exc_info=True)
            self.close(1011, "server could not encode a message")
            return
        self.send(text, counted=counted)

    def offer_poses(self, frame: PoseFrame) -> None:
        """Poses reach remote sessions through the room's pose frame instead."""

    def close(self, code: int, reason: str = "") -> None:
        """Ask the edge to close the socket (first call wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.relay.entry(self.session_id, "close", reason, code=code)


class OwnerRelay:
    """Relays one owned room between its worker and the other processes."""

    def __init__(self, r: aioredis.Redis, room_id: str, token: str, in_id: str, *,
                 lease_ms: int, maxlen: int, on_lost: Any) -> None:
        self.r = r
        self.room_id = room_id
        self.token = token
        self.k = keys(room_id)
        self.lease_ms = lease_ms
        self.in_id = in_id
        self.worker: RoomWorker | None = None
        self.remote: dict[str, RemoteConnection] = {}
        self._n = 0
        self.lost = False
        self.writer = OrderedWriter(r, maxlen=maxlen, name=f"relay-{room_id}")
        self._on_lost = on_lost
        self._renew = r.register_script(RENEW_LUA)
        self._tasks = [asyncio.create_task(self._keep_lease(), name=f"lease-{room_id}")]
        self._srv: set[asyncio.Task[None]] = set()

    # --- outbound --------------------------------------------------------------------------

    def entry(self, to: str, kind: str, text: str = "", *, counted: bool = True,
              code: int = 0, exclude: str = "") -> None:
        """Queue one outbound entry (``to`` = session id, '' for a broadcast)."""
        self._n += 1  # numbered: an edge that finds a number missing (trimmed) resyncs
        fields = {"own": self.token, "n": str(self._n), "k": kind, "to": to, "f": text}
        if kind == "m":
            fields["c"] = "1" if counted else "0"
            if exclude:
                fields["ex"] = exclude
        if code:
            fields["code"] = str(code)
        self.writer.xadd(self.k["out"], fields)

    def broadcast(self, text: str, exclude: str | None, counted: bool) -> None:
        """One entry for every remote session of the room."""
        if self.remote:
            self.entry("", "m", text, counted=counted, exclude=exclude or "")

    def poses(self, frame: PoseFrame) -> None:
        """The tick's shared pose frame, once for all edges."""
        if self.remote:
            self.writer.publish(self.k["pout"], wire.pose_frame(frame))

    # --- inbound ---------------------------------------------------------------------------

    def bind(self, worker: RoomWorker) -> None:
        """Start relaying for the loaded worker."""
        self.worker = worker
        worker.relay = self
        self._tasks.append(asyncio.create_task(self._read(), name=f"inbound-{self.room_id}"))
        self._tasks.append(asyncio.create_task(self._poses_in(), name=f"pin-{self.room_id}"))

    async def _read(self) -> None:
        last = self.in_id
        while True:
            try:
                rows: Any = await self.r.xread({self.k["in"]: last}, block=1000, count=256)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the inbound stream of %s", self.room_id)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in rows or ():
                for entry_id, fields in entries:
                    last = entry_id
                    if fields.get("own") == self.token:
                        self._dispatch(fields)

    def _dispatch(self, f: dict[str, str]) -> None:
        w = self.worker
        assert w is not None
        sid, kind = f["sid"], f["k"]
        if kind == "join":
            if w.stopped or self.lost:
                self.entry(sid, "retry")
                return
            rc = RemoteConnection(self, sid, f["node"])
            self.remote[sid] = rc
            w.enqueue_join(rc, f["user"], f["role"], wire.hello_from(f["b"]))
        elif kind in ("op", "cmd", "voice"):
            if sid not in self.remote:  # dropped here (its edge stalled): it must rejoin
                self.entry(sid, "close", "session unknown to the room's owner; reconnect",
                           code=CLOSE_MOVED)
            elif kind == "op":
                w.submit_op(sid, wire.op_from(f["b"]))
            elif kind == "cmd":
                w.submit_cmd(sid, wire.cmd_from(f["b"]))
            else:  # voice signalling (R25): the room's voice answers through RemoteConnection
                w.voice.handle(sid, wire.voice_from(f["b"]), time.monotonic())
        elif kind == "leave":
            if self.remote.pop(sid, None) is not None:
                w.leave(sid)
        elif kind == "srv":
            task = asyncio.create_task(self._server_ops(w, sid, f["b"]))
            self._srv.add(task)
            task.add_done_callback(self._srv.discard)

    async def _server_ops(self, w: RoomWorker, request_id: str, body: str) -> None:
        """Server-authored ops (BCF import, model change) forwarded by an edge's API."""
        o = json.loads(body)
        if o.get("model") is not None:
            w.room.model = dict(o["model"])
        items = [(a, wire.server_op_from(op)) for a, op in o["items"]]
        try:
            commits = await w.server_ops(items)
            reply: dict[str, Any] = (
                {"retry": 1} if commits is None else {"commits": [c.to_json() for c in commits]})
        except RoomFullError as exc:
            reply = {"full": str(exc)}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        self.entry(request_id, "srvdone", json.dumps(reply))

    async def _poses_in(self) -> None:
        async for data in subscription(self.r, self.k["pin"]):
            if self.worker is None:
                continue
            room = self.worker.room
            for sid, pose in wire.poses_from(data).items():
                if sid in self.remote:
                    room.set_pose(sid, pose)

    # --- lease -----------------------------------------------------------------------------

    async def _keep_lease(self) -> None:
        period = self.lease_ms / 3000.0
        deadline = time.monotonic() + self.lease_ms / 1000.0
        while True:
            await asyncio.sleep(period)
            try:
                ok = await self._renew(keys=[self.k["lease"]], args=[self.token, self.lease_ms])
                if not ok and await self.r.set(self.k["lease"], self.token, nx=True,
                                               px=self.lease_ms):
                    # expired while this loop was stalled, and nobody took it meanwhile (SET NX
                    # is atomic): still the only owner; edges that saw it vacant reconnect
                    log.warning("lease of %s expired (stalled loop); taken again", self.room_id)
                    ok = True
                if ok:
                    deadline = time.monotonic() + self.lease_ms / 1000.0
                    await self._drop_dead_edges()
                    w = self.worker
                    if w is not None:
                        users = sorted({e.user_id for e in w.room.presence.entries.values()})
                        await self.r.set(self.k["online"], json.dumps(users),
                                         px=self.lease_ms * 2)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot renew the lease of %s", self.room_id, exc_info=True)
                if time.monotonic() < deadline:
                    continue
            self._give_up()
            return

    async def _drop_dead_edges(self) -> None:
        """Sessions of an edge process that stopped beating (killed) leave the room: no ghost
        avatars (R11), just as a missed heartbeat ends a local session."""
        nodes = sorted({rc.node for rc in self.remote.values()})
        if not nodes or self.worker is None:
            return
        pipe = self.r.pipeline(transaction=False)
        for n in nodes:
            pipe.exists(node_key(n))
        dead = {n for n, up in zip(nodes, await pipe.execute(), strict=True) if not up}
        for sid, rc in list(self.remote.items()):
            if rc.node in dead:
                log.warning("room %s: edge %s is gone; %s leaves", self.room_id, rc.node, sid)
                rc.close(CLOSE_MOVED, "your server stalled; reconnect")  # if it was only paused
                del self.remote[sid]
                self.worker.leave(sid)

    def _give_up(self) -> None:
        """The lease is gone (expired while we could not renew): another process may own the
        room now, so stop serving it; everyone reconnects and lands on the new owner."""
        log.warning("lost the lease of room %s; closing its sessions", self.room_id)
        self.lost = True
        self._on_lost(self)
        w = self.worker
        if w is not None:
            for conn in list(w.conns.values()):
                conn.close(CLOSE_MOVED, "room moved to another server; reconnect")

    async def release(self) -> None:
        """Stop relaying; drop the lease if it is still ours."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.writer.close()
        with contextlib.suppress(Exception):
            await self.r.eval(RELEASE_LUA, 1, self.k["lease"], self.token)
            await self.r.delete(self.k["online"])
