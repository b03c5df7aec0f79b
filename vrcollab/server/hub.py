"""Live rooms: one worker task per room that orders, persists and delivers; one tick loop.

The worker takes joins, leaves, commands and ops from a queue in order. Consecutive ops are
applied to the pure :class:`~vrcollab.sync.room.Room`, their commits are written to the store in
one transaction (group commit, off the event loop), and only then are acks and broadcasts
delivered (protocol R9). A join first flushes pending commits, so a welcome never contains state
that is not yet durable. If the store fails, the room is closed (1011) and dropped: the next
join reloads it from what is durable, and clients resend their unacked ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from vrcollab.cluster.broker import Broker, LocalBroker, open_broker
from vrcollab.cluster.control import CloseMember, ControlEvent, SettingsChanged
from vrcollab.errors import StoreError
from vrcollab.server import project_settings
from vrcollab.server.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_TIMEOUT,
    Connection,
    MemberGate,
)
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord
from vrcollab.store.room_loader import load_room
from vrcollab.sync.codec import (
    EncodeError,
    dumps,
    encode_server,
    encode_welcome,
    server_json,
)
from vrcollab.sync.limits import RoomLimits
from vrcollab.sync.messages import (
    Cmd,
    Commit,
    Hello,
    InvalidOp,
    Op,
    Outbox,
    Pose,
    ServerMessage,
    Welcome,
)
from vrcollab.sync.room import Room, RoomFullError
from vrcollab.sync.text import scrub
from vrcollab.voice.janus import JanusRooms
from vrcollab.voice.service import RoomVoice, janus_from, policy_from

if TYPE_CHECKING:
    from vrcollab.cluster.owner import OwnerRelay

log = logging.getLogger("vrcollab.server")


class RoomView(Protocol):
    """The part of a live room its callers touch: poses in, the model it welcomes with."""

    model: dict[str, Any] | None

    def set_pose(self, session_id: str, pose: Pose) -> None:
        """Record the pose."""
        ...


class VoiceSink(Protocol):
    """Where the reader hands a session's voice signalling (R25)."""

    def handle(self, session_id: str, msg: Any, now: float) -> None:
        """One voice message."""
        ...


class LiveRoom(Protocol):
    """What the websocket endpoint talks to: the room's worker when this process owns it,
    or a :class:`vrcollab.cluster.forward.RemoteRoom` forwarding to the owner."""

    @property
    def room(self) -> RoomView:
        """Takes poses; holds the model."""
        ...

    @property
    def voice(self) -> VoiceSink:
        """Takes voice signalling."""
        ...

    async def join(self, conn: Connection, user_id: str, role: str, hello: Hello) -> bool:
        """Join; False when the room moved or stopped (ask the hub again)."""
        ...

    def submit_op(self, session_id: str, op: Op | InvalidOp) -> None:
        """Queue an op."""
        ...

    def submit_cmd(self, session_id: str, cmd: Cmd) -> None:
        """Queue a command."""
        ...

    def leave(self, session_id: str) -> None:
        """The session ended."""
        ...


@dataclass(frozen=True, slots=True)
class _Join:
    conn: Connection
    user_id: str
    role: str
    hello: Hello
    done: asyncio.Future[None]


@dataclass(frozen=True, slots=True)
class _Leave:
    session_id: str


@dataclass(frozen=True, slots=True)
class _Cmd:
    session_id: str
    cmd: Cmd


@dataclass(frozen=True, slots=True)
class _Op:
    session_id: str
    op: Op | InvalidOp


@dataclass(frozen=True, slots=True)
class _Server:
    items: list[tuple[str, Op]]
    done: asyncio.Future[list[Commit]]


_Item = _Join | _Leave | _Cmd | _Op | _Server


class RoomObserver(Protocol):
    """Hook for parts that follow live rooms (meetings, docs/meetings.md). Called on the
    event loop after the fact; must be quick and must not raise (errors are logged)."""

    def joined(self, worker: RoomWorker, session_id: str, now: float) -> None:
        """A session's welcome was queued."""

    def left(self, worker: RoomWorker, session_id: str, now: float) -> None:
        """A session left the room."""

    def committed(self, worker: RoomWorker, commits: list[Commit], now: float) -> None:
        """Commits were made durable and delivered."""

    def ticked(self, worker: RoomWorker, now: float) -> None:
        """One pose tick passed."""

    def stopped(self, worker: RoomWorker, now: float) -> None:
        """The worker stopped (empty room, shutdown or failure)."""


class RoomWorker:
    """Owns one live room: its connections, its queue and its writes."""

    def __init__(self, room: Room, store: Store, settings: Settings,
                 on_empty: Callable[[RoomWorker], None], *,
                 janus: JanusRooms | None = None,
                 observers: list[RoomObserver] | None = None,
                 project_settings: dict[str, Any] | None = None) -> None:
        self.room = room
        self.observers = observers if observers is not None else []
        self.store = store
        self.settings = settings
        self.conns: dict[str, Connection] = {}
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.snapshot_seq = room.seq
        self.failed = False
        self.stopped = False
        self._on_empty = on_empty
        self._task = asyncio.create_task(self._run(), name=f"room-{room.room_id}")
        self.commit_latency_s: list[float] = []
        self._parts: dict[Any, list[str]] = {}  # welcome parts of the latest state (R6)
        self.relay: OwnerRelay | None = None  # set when other processes have sessions here
        self.voice = RoomVoice(room.room_id, policy_from(settings, project_settings), janus,
                               self.conns, room.presence.entries.get)

    # --- called by the websocket endpoint --------------------------------------------------

    async def join(self, conn: Connection, user_id: str, role: str, hello: Hello) -> bool:
        """Queue a join and wait until the welcome is queued on ``conn``; False if this worker
        has stopped (get a fresh one from the hub)."""
        if self.stopped:
            return False
        await self.enqueue_join(conn, user_id, role, hello)
        return True

    def enqueue_join(self, conn: Any, user_id: str, role: str,
                     hello: Hello) -> asyncio.Future[None]:
        """Queue a join now (in order with what is queued after it); the future resolves once
        the welcome is queued on ``conn``."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(_Join(conn, user_id, role, hello, done))
        return done

    def submit_op(self, session_id: str, op: Op | InvalidOp) -> None:
        """Queue an op (answered with ack or reject after the write)."""
        self.queue.put_nowait(_Op(session_id, op))

    def submit_cmd(self, session_id: str, cmd: Cmd) -> None:
        """Queue a room command."""
        self.queue.put_nowait(_Cmd(session_id, cmd))

    async def server_ops(self, items: list[tuple[str, Op]]) -> list[Commit] | None:
        """Commit ``(author, op)`` pairs on the server's authority (see ``Room.apply_server``);
        returns their commits once durable and delivered, or None if this worker has stopped."""
        if self.stopped:
            return None
        done: asyncio.Future[list[Commit]] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(_Server(items, done))
        return await done

    def leave(self, session_id: str) -> None:
        """Queue a leave (close, timeout or error); its voice ends at once."""
        conn = self.conns.get(session_id)
        self.voice.leave(session_id, None if conn is None else conn.close_code)
        self.queue.put_nowait(_Leave(session_id))

    # --- worker ----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                items = [await self.queue.get()]
                while not self.queue.empty():
                    items.append(self.queue.get_nowait())
                await self._process(items)
                if not self.conns and self.queue.empty():
                    await self._save_snapshot(force=True)
                    if not self.conns and self.queue.empty():  # nobody came in meanwhile
                        self.stopped = True
                        self._on_empty(self)
                        self._notify("stopped")
                        return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s failed; closing it", self.room.room_id)
            self._fail()

    async def _process(self, items: list[_Item]) -> None:
        pending: list[Outbox] = []
        released: list[Connection] = []
        for item in items:
            if isinstance(item, _Op):
                if item.session_id in self.room.presence.entries:
                    pending.append(self.room.apply(item.session_id, item.op, time.time()))
                conn = self.conns.get(item.session_id)
                if conn is not None:
                    released.append(conn)
                continue
            if isinstance(item, _Server):
                problem = self.room.server_problem(op for _, op in item.items)
                if problem is not None:  # R20: all or nothing, nobody is disconnected
                    item.done.set_exception(RoomFullError(problem))
                    continue
                outs = [self.room.apply_server(a, op, time.time()) for a, op in item.items]
                try:
                    await self._flush(pending)
                    pending = []
                    await self._flush(outs, counted=False)  # bulk: not the readers' fault
                except Exception as exc:
                    item.done.set_exception(exc)
                    raise
                pending = []
                item.done.set_result([o.commit for o in outs if o.commit is not None])
                continue
            await self._flush(pending)
            pending = []
            if isinstance(item, _Join):
                conn = item.conn
                if conn.close_code is None:
                    self.conns[conn.session_id] = conn
                    self._deliver(self.room.join(conn.session_id, item.user_id, item.role,
                                                 item.hello))
                    self._notify("joined", conn.session_id)
                if not item.done.done():
                    item.done.set_result(None)
            elif isinstance(item, _Leave):
                self.conns.pop(item.session_id, None)
                self._deliver(self.room.leave(item.session_id))
                self._notify("left", item.session_id)
            else:
                self._deliver(self.room.command(item.session_id, item.cmd, time.monotonic()))
        await self._flush(pending)
        for conn in released:  # the reader may queue more ops of this session now
            conn.op_slots.release()

    async def _flush(self, pending: list[Outbox], *, counted: bool = True) -> None:
        commits = [o.commit for o in pending if o.commit is not None]
        if commits:
            t0 = time.perf_counter()
            await asyncio.to_thread(self.store.append_commits, self.room.room_id, commits)
            self.commit_latency_s.append(time.perf_counter() - t0)
            del self.commit_latency_s[:-1000]
        for out in pending:
            self._deliver(out, counted=counted)
        if commits:
            self._notify("committed", commits)
            await self._save_snapshot(force=False)

    def _deliver(self, out: Outbox, *, counted: bool = True) -> None:
        for send in out.sends:
            if send.to is not None:
                conn = self.conns.get(send.to)
                if conn is None:
                    continue
                if isinstance(send.msg, Welcome):
                    self._welcome(conn, send.msg)
                else:
                    conn.send_msg(send.msg, counted=counted)
                continue
            text = _broadcast_frame(send.msg)
            for sid, conn in self.conns.items():
                if sid != send.exclude and not getattr(conn, "remote", False):
                    conn.send(text, counted=counted)
            if self.relay is not None:  # other processes' sessions: one entry for all
                self.relay.broadcast(text, send.exclude, counted)

    def _welcome(self, conn: Connection, msg: Welcome) -> None:
        """Queue a welcome, paged into parts when large (R6); bounded by the room limits, so
        not counted toward the reader's send queue."""
        try:
            frames = encode_welcome(msg, self.settings.welcome_part_bytes, self._parts)
        except (EncodeError, ValueError, TypeError):
            log.error("cannot encode the welcome of room %s for %s; closing it",
                      self.room.room_id, conn.session_id, exc_info=True)
            conn.close(CLOSE_INTERNAL, "server could not encode the welcome")
            return
        for text in frames:
            conn.send(text, counted=False)

    async def _save_snapshot(self, *, force: bool) -> None:
        room = self.room
        due = room.seq - self.snapshot_seq
        if due <= 0 or (not force and due < self.settings.snapshot_every_ops):
            return
        snap, seq = room.state.snapshot(), room.seq
        await asyncio.to_thread(self.store.save_snapshot, room.room_id, seq, snap)
        self.snapshot_seq = seq

    def _notify(self, event: str, *args: Any) -> None:
        for obs in self.observers:
            try:
                getattr(obs, event)(self, *args, time.time())
            except Exception:
                log.exception("room observer failed on %s in room %s", event, self.room.room_id)

    def _fail(self) -> None:
        self.failed = self.stopped = True
        self._notify("stopped")
        for conn in list(self.conns.values()):
            conn.close(CLOSE_INTERNAL, "room store failure; reconnect")
        self.conns.clear()
        self._on_empty(self)
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if isinstance(item, _Server):
                item.done.set_exception(StoreError("room store failure"))
            if isinstance(item, _Join):
                item.conn.close(CLOSE_INTERNAL, "room store failure; reconnect")
                if not item.done.done():
                    item.done.set_result(None)

    # --- tick ------------------------------------------------------------------------------

    def tick(self, now_wall: float, now_mono: float) -> None:
        """Send coalesced poses; close sessions that missed their heartbeat or idled out."""
        frame = self.room.take_pose_frame(now_wall)  # one shared frame per room per tick
        if self.observers:
            self._notify("ticked")
        if frame is not None:
            for sid in frame.dropped:  # the codec let it through: a bug of ours
                log.error("cannot encode the pose of %s; dropped", sid)
            for conn in self.conns.values():
                conn.offer_poses(frame)
            if self.relay is not None:  # other processes' sessions: one frame for all
                self.relay.poses(frame)
        hb, idle = self.settings.heartbeat_timeout_s, self.settings.idle_timeout_s
        for conn in self.conns.values():
            if now_mono - conn.last_seen > hb:
                conn.close(CLOSE_TIMEOUT, "heartbeat timeout")
            elif now_mono - conn.last_active > idle:
                conn.close(CLOSE_TIMEOUT, "idle timeout")

    async def shutdown(self) -> None:
        """Close every session with 1001 and stop (snapshot first)."""
        for conn in list(self.conns.values()):
            conn.close(CLOSE_GOING_AWAY, "server shutting down")
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        with contextlib.suppress(Exception):
            await self._save_snapshot(force=True)
        if not self.stopped:
            self.stopped = True
            self._notify("stopped")
        await self.voice.close()  # pending Janus calls


def _broadcast_frame(msg: ServerMessage) -> str:
    """The frame of a broadcast. The codec rejects unsendable strings on input, so failing here
    is a bug of ours: it is logged at error level and the strings are repaired, never letting
    one bad value close a room (R17)."""
    try:
        return encode_server(msg)
    except EncodeError:
        log.error("cannot encode a %s broadcast; sending it repaired", type(msg).__name__,
                  exc_info=True)
        return dumps(scrub(server_json(msg)))


def room_limits(s: Settings) -> RoomLimits:
    """The per-room limits (R20) from the settings."""
    return RoomLimits(max_annotations=s.room_max_annotations, max_comments=s.room_max_comments,
                      max_comments_per_annotation=s.room_max_comments_per_annotation,
                      max_state_bytes=s.room_max_annotation_bytes)


class RoomHub:
    """Loads rooms on first join, runs the tick loop, shuts everything down."""

    def __init__(self, store: Store, settings: Settings, broker: Broker | None = None) -> None:
        self.store = store
        self.settings = settings
        self._given_broker = broker
        self.broker: Broker = broker if broker is not None else LocalBroker()  # until start()
        self.workers: dict[str, RoomWorker] = {}
        self.members: dict[str, MemberGate] = {}
        self._load_lock = asyncio.Lock()
        self._tick_task: asyncio.Task[None] | None = None
        self.janus = janus_from(settings)  # voice through Janus (docs/voice.md)
        self.observers: list[RoomObserver] = []  # e.g. meetings (vrcollab.meetings.service)
        self._bg: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start the tick loop (call from the running loop)."""
        self._tick_task = asyncio.create_task(self._tick_loop(), name="tick")
        if self._given_broker is None:
            self.broker = open_broker(self.settings)
        self.broker.start(self)

    async def worker(self, record: RoomRecord) -> LiveRoom:
        """The live room: its worker (loaded from the store if needed) when this process owns
        it, else the broker's forwarder to the owning process."""
        w = self.workers.get(record.room_id)
        if w is not None:
            return w
        async with self._load_lock:
            w = self.workers.get(record.room_id)
            if w is None:
                remote = await self.broker.claim(record)
                if remote is not None:
                    return remote
                s = self.settings
                try:
                    room = await asyncio.to_thread(
                        load_room, self.store, record, replay_window=s.replay_window,
                        tick_hz=s.tick_hz, heartbeat_s=min(10.0, s.heartbeat_timeout_s / 3),
                    )
                    project = await asyncio.to_thread(
                        project_settings.read, self.store, record.project_id, s)
                except BaseException:
                    self.broker.abandon(record.room_id)
                    raise
                room.limits = room_limits(s)
                w = RoomWorker(room, self.store, s, self._drop, janus=self.janus,
                               observers=self.observers, project_settings=project)
                self.workers[record.room_id] = w
                self.broker.attach(w)
            return w

    def forget(self, w: RoomWorker) -> None:
        """Stop handing out a worker whose room moved to another process (it drains alone)."""
        if self.workers.get(w.room.room_id) is w:
            del self.workers[w.room.room_id]

    def online_users(self, room_id: str) -> set[str]:
        """User ids with a live session in the room, on any process."""
        w = self.workers.get(room_id)
        if w is not None:
            return {e.user_id for e in w.room.presence.entries.values()}
        return self.broker.online(room_id) or set()

    def admit(self, user_id: str) -> MemberGate | None:
        """Count a new session of a member; None when it already has ``max_sessions_per_member``
        (R3, close 4409). Pair every admitted session with :meth:`release`."""
        s = self.settings
        gate = self.members.get(user_id)
        if gate is None:
            gate = self.members[user_id] = MemberGate(
                s.member_rate_limit_per_second, s.member_rate_limit_burst, time.monotonic(),
                user_id=user_id,
                shared=self.broker.member_tokens if self.broker.shared_rate else None)
        if gate.sessions >= s.max_sessions_per_member or not self.broker.admit(
                user_id, s.max_sessions_per_member):
            if gate.sessions == 0:
                del self.members[user_id]
            return None
        gate.sessions += 1
        return gate

    def release(self, user_id: str) -> None:
        """A session of the member ended."""
        gate = self.members.get(user_id)
        if gate is not None:
            self.broker.release(user_id)
            gate.sessions -= 1
            if gate.sessions <= 0:
                del self.members[user_id]

    async def close_user(self, project_id: str, user_id: str | None, code: int,
                         reason: str) -> int:
        """Close the live connections of ``user_id`` (every user's when None) in the project's
        rooms on every process, e.g. after the member was removed or its role changed;
        returns how many sockets closed (here and in the processes that answered)."""
        event = CloseMember(project_id, user_id, code, reason)
        return self.apply_control(event) + await self.broker.announce(event)

    async def project_settings_changed(self, project_id: str, values: dict[str, Any]) -> None:
        """An owner changed the project's settings (:mod:`vrcollab.server.project_settings`):
        the project's live rooms on every process apply them now (voice: R27)."""
        event = SettingsChanged(project_id, dict(values))
        self.apply_control(event)
        await self.broker.announce(event)

    def apply_control(self, event: ControlEvent) -> int:
        """Apply a project control event to this process's rooms and sockets (the broker
        calls it for other processes' events); returns how many sockets it closed here."""
        if isinstance(event, SettingsChanged):
            for w in list(self.workers.values()):
                if w.room.project_id == event.project_id:
                    w.voice.set_viewers_may_speak(bool(event.values["voice_viewers_may_speak"]))
            return 0
        closed = 0
        for w in list(self.workers.values()):
            if w.room.project_id != event.project_id:
                continue
            for sid, entry in list(w.room.presence.entries.items()):
                conn = w.conns.get(sid)
                if conn is not None and event.user_id in (None, entry.user_id):
                    conn.close(event.code, event.reason)  # a remote one: through its room
                    closed += isinstance(conn, Connection)  # counted by the socket's process
        for user_id, conn in self.broker.edge_sessions(event.project_id):
            if event.user_id in (None, user_id) and conn.close_code is None:
                conn.close(event.code, event.reason)
                closed += 1
        return closed

    def resync_controls(self) -> None:
        """Control events may have been missed: re-read the settings of the projects whose
        rooms this process owns (a removed member's sockets close at their re-check)."""
        task = asyncio.get_running_loop().create_task(self._resync_settings())
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    async def _resync_settings(self) -> None:
        for project_id in {w.room.project_id for w in list(self.workers.values())}:
            try:
                values = await asyncio.to_thread(
                    project_settings.read, self.store, project_id, self.settings)
            except Exception:
                log.warning("cannot re-read the settings of project %s", project_id,
                            exc_info=True)
                continue
            self.apply_control(SettingsChanged(project_id, values))

    def _drop(self, w: RoomWorker) -> None:
        if self.workers.get(w.room.room_id) is w:
            del self.workers[w.room.room_id]
        self.broker.detach(w)

    async def _tick_loop(self) -> None:
        period = 1.0 / max(1.0, self.settings.tick_hz)
        next_t = time.monotonic()
        while True:
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -period:  # fell behind (GC, load): skip ticks instead of bursting
                next_t = time.monotonic()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
            wall, mono = time.time(), time.monotonic()
            for w in list(self.workers.values()):
                try:
                    w.tick(wall, mono)
                except Exception:
                    log.exception("tick failed in room %s", w.room.room_id)

    def stats(self) -> dict[str, Any]:
        """Live counters for the health endpoint (store write latency over recent flushes)."""
        lat = sorted(x for w in self.workers.values() for x in w.commit_latency_s)
        return {
            "rooms": len(self.workers),
            "sessions": sum(len(w.conns) for w in self.workers.values()),
            "store_write_ms_p50": round(lat[len(lat) // 2] * 1e3, 2) if lat else None,
            "store_write_ms_p99": round(lat[int(len(lat) * 0.99)] * 1e3, 2) if lat else None,
        }

    async def shutdown(self) -> None:
        """Stop ticking, close every session with 1001, snapshot every room."""
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        for w in list(self.workers.values()):
            await w.shutdown()
        self.workers.clear()
        if self.janus is not None:
            await self.janus.close()
        await self.broker.close()
