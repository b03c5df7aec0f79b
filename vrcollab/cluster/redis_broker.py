"""The Redis broker (``broker_url=redis://...``): room leases, forwarding, shared counters.

- **Lease**: ``SET vrc:lease:<room> <token> NX PX cluster_lease_ms``; the token names this process
  and claim (``<node>.<n>``), so a late release never drops a newer claim. The owner renews it
  every third of its time (:mod:`.owner`); edges read it to address their entries and to notice
  a dead owner (:mod:`.forward`).
- **Sessions per member** (R3 across processes): a sorted set ``vrc:sess:<user>`` of this
  process's sessions scored by expiry, refreshed every few seconds, so a killed process's
  sessions age out.
- **Rate limit per member** (R3 across processes): one token bucket per member in Redis
  (``vrc:rate:<user>``, a hash of tokens and time, refilled by :data:`TAKE_LUA` on Redis'
  clock); each process takes tokens in small chunks (:meth:`RedisBroker.member_tokens`).
- **Who is in the room**: the owner writes the user ids present to ``vrc:online:<room>`` with
  every lease renewal.
- **Job events**: job updates are published on ``vrc:jobs`` and re-delivered by every other
  process to its own subscribers (:func:`relay_job_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio as aioredis

from vrcollab.cluster.control import ControlEvent, ControlRelay
from vrcollab.cluster.forward import RemoteRoom
from vrcollab.cluster.owner import NODE_TTL_MS, OwnerRelay, keys, node_key
from vrcollab.cluster.streams import last_id
from vrcollab.settings import Settings
from vrcollab.store.base import RoomRecord

if TYPE_CHECKING:
    from vrcollab.server.connection import Connection
    from vrcollab.server.hub import LiveRoom, RoomHub, RoomWorker

log = logging.getLogger("vrcollab.cluster")

SESSION_TTL_S = 15.0
RATE_CONNECTIONS = 4  # Redis connections per process for the member buckets
REFRESH_S = 5.0

ADMIT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
REFRESH_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
for i = 1, #ARGV - 1 do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[#ARGV]), ARGV[i]) end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[#ARGV])) + 1)
return 1
"""

# Token bucket of one member over all processes: refill by Redis' clock, grant up to ARGV[3]
# tokens; when none is left, minus the milliseconds until the next one. The key expires once
# the bucket would be full again (nothing to remember).
TAKE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tok', 'ts')
local tok = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tok = math.min(burst, tok + math.max(0, now - ts) * rate)
local got = math.min(want, math.floor(tok))
tok = tok - got
redis.call('HSET', KEYS[1], 'tok', tostring(tok), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tok) / rate * 1000) + 1000)
if got > 0 then return got end
return -math.max(1, math.ceil((1 - tok) / rate * 1000))
"""


class RedisBroker:
    """Several ``vrcollab serve`` processes with the same database and Redis form one service."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.node_id = "n_" + secrets.token_hex(6)
        self.shared_rate = True
        self.lease_ms = settings.cluster_lease_ms
        self.maxlen = settings.cluster_stream_maxlen
        self.r: aioredis.Redis = aioredis.from_url(url, decode_responses=True)
        self.sync: redis.Redis = redis.Redis.from_url(url, decode_responses=True)
        self.hub: RoomHub | None = None
        self.relays: dict[str, OwnerRelay] = {}
        self.remotes: dict[str, RemoteRoom] = {}
        self.sessions: dict[str, list[str]] = {}
        self._claims = itertools.count(1)
        self._admit = self.sync.register_script(ADMIT_LUA)
        # the member buckets get their own small pool: a burst of sessions taking tokens waits
        # for a connection there and never starves lease renewals and streams of theirs
        self.rate_r: aioredis.Redis = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                url, max_connections=RATE_CONNECTIONS, timeout=5, decode_responses=True))
        self._take = self.rate_r.register_script(TAKE_LUA)
        self._rate_warned = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._bg: set[asyncio.Task[Any]] = set()
        self.control: ControlRelay | None = None

    def start(self, hub: RoomHub) -> None:
        """Start refreshing this process's session counts."""
        self.hub = hub
        self.control = ControlRelay(self.r, self.node_id, hub.apply_control,
                                    hub.resync_controls)
        self.control.start()
        self._tasks.append(asyncio.create_task(self._refresh_sessions(), name="sessions"))
        self._tasks.append(asyncio.create_task(self._beat(), name="node-beat"))

    async def _beat(self) -> None:
        """This process is alive: owners drop the remote sessions of a process that stops."""
        while True:
            with contextlib.suppress(Exception):
                await self.r.set(node_key(self.node_id), "1", px=NODE_TTL_MS)
            await asyncio.sleep(1.0)

    # --- rooms -----------------------------------------------------------------------------

    async def claim(self, record: RoomRecord) -> LiveRoom | None:
        """Take the room's lease if free (None: ours now), else the room forwarding to its
        owner."""
        room_id = record.room_id
        remote = self.remotes.get(room_id)
        if remote is not None and not remote.stopped:
            return remote
        k = keys(room_id)
        while True:
            in_id = await last_id(self.r, k["in"])
            token = f"{self.node_id}.{next(self._claims)}"
            if await self.r.set(k["lease"], token, nx=True, px=self.lease_ms):
                self.relays[room_id] = OwnerRelay(
                    self.r, room_id, token, in_id, lease_ms=self.lease_ms, maxlen=self.maxlen,
                    on_lost=self._lost)
                log.info("room %s: owned here (%s)", room_id, token)
                return None
            held = await self.r.get(k["lease"])
            if held is None:
                continue  # expired meanwhile: try again
            owner = str(held)
            if owner.startswith(self.node_id + "."):  # our own, from a worker that stopped
                await self.r.delete(k["lease"])
                continue
            out_id = await last_id(self.r, k["out"])
            remote = RemoteRoom(self.r, record, owner, self.node_id, out_id, self.settings,
                                maxlen=self.maxlen, on_stop=self._remote_stopped,
                                on_vacant=self._take_over)
            self.remotes[room_id] = remote
            return remote

    def attach(self, worker: RoomWorker) -> None:
        """Relay the freshly loaded room."""
        relay = self.relays.get(worker.room.room_id)
        if relay is not None:
            relay.bind(worker)

    def abandon(self, room_id: str) -> None:
        """The load failed: release the lease."""
        relay = self.relays.pop(room_id, None)
        if relay is not None:
            self._spawn(relay.release())

    def detach(self, worker: RoomWorker) -> None:
        """The room emptied or failed here: release it."""
        relay = self.relays.get(worker.room.room_id)
        if relay is not None and relay.worker is worker:
            del self.relays[worker.room.room_id]
            self._spawn(relay.release())

    def _lost(self, relay: OwnerRelay) -> None:
        if self.relays.get(relay.room_id) is relay:
            del self.relays[relay.room_id]
        if self.hub is not None and relay.worker is not None:
            self.hub.forget(relay.worker)
        self._spawn(relay.release())

    def _remote_stopped(self, remote: RemoteRoom) -> None:
        if self.remotes.get(remote.room_id) is remote:
            del self.remotes[remote.room_id]

    def _take_over(self, record: RoomRecord) -> None:
        if self.hub is not None:
            self._spawn(self.hub.worker(record))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    # --- sessions and presence -------------------------------------------------------------

    def admit(self, user_id: str, limit: int) -> bool:
        """Count a session of ``user_id`` over all processes (``limit`` at most)."""
        member = f"{self.node_id}:{secrets.token_hex(4)}"
        try:
            ok = bool(self._admit(keys=[f"vrc:sess:{user_id}"],
                                  args=[limit, SESSION_TTL_S, member]))
        except redis.RedisError:
            log.warning("session count unavailable; admitting on the local count", exc_info=True)
            return True
        if ok:
            self.sessions.setdefault(user_id, []).append(member)
        return ok

    def release(self, user_id: str) -> None:
        """Forget one of this process's sessions of ``user_id``."""
        members = self.sessions.get(user_id)
        if not members:
            return
        member = members.pop()
        if not members:
            del self.sessions[user_id]
        with contextlib.suppress(redis.RedisError):
            self.sync.zrem(f"vrc:sess:{user_id}", member)

    async def member_tokens(self, user_id: str, rate: float, burst: int,
                            want: int) -> int | None:
        """Take up to ``want`` tokens of the member's shared bucket (see :data:`TAKE_LUA`)."""
        try:
            got = await self._take(keys=[f"vrc:rate:{user_id}"],
                                   args=[repr(float(rate)), burst, want])
        except redis.RedisError:
            if not self._rate_warned:
                self._rate_warned = True
                log.warning("shared member rate limit unavailable; using this process's",
                            exc_info=True)
            return None
        self._rate_warned = False
        return int(got)

    async def _refresh_sessions(self) -> None:
        refresh = self.r.register_script(REFRESH_LUA)
        while True:
            await asyncio.sleep(REFRESH_S)
            for user_id, members in list(self.sessions.items()):
                with contextlib.suppress(Exception):
                    await refresh(keys=[f"vrc:sess:{user_id}"], args=[*members, SESSION_TTL_S])

    def online(self, room_id: str) -> set[str] | None:
        """User ids the owner last reported in the room (None when nobody owns it)."""
        try:
            raw = self.sync.get(keys(room_id)["online"])
        except redis.RedisError:
            return None
        return set(json.loads(raw)) if raw else None

    async def announce(self, event: ControlEvent) -> int:
        """Publish a control event to the other processes (:mod:`.control`)."""
        if self.control is None:
            return 0
        return await self.control.announce(event)

    def edge_sessions(self, project_id: str) -> list[tuple[str, Connection]]:
        """The sockets this process holds for the project's rooms owned elsewhere."""
        return [(remote.users[sid], conn) for remote in list(self.remotes.values())
                if remote.record.project_id == project_id
                for sid, conn in list(remote.conns.items()) if sid in remote.users]

    async def close(self) -> None:
        """Release every owned room and stop forwarding."""
        if self.control is not None:
            await self.control.close()
        for task in self._tasks:
            task.cancel()
        for remote in list(self.remotes.values()):
            await remote.close()
        for relay in list(self.relays.values()):
            await relay.release()
        self.relays.clear()
        for task in list(self._bg):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5.0)
        with contextlib.suppress(Exception):
            await self.r.delete(node_key(self.node_id))
        for member_user, members in self.sessions.items():
            with contextlib.suppress(redis.RedisError):
                self.sync.zrem(f"vrc:sess:{member_user}", *members)
        await self.r.aclose()
        await self.rate_r.aclose()
        self.sync.close()
