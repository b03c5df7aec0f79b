"""The broker: what the room hub asks when several processes serve one service.

:class:`LocalBroker` is the embedded default (``broker_url=memory://``): this process owns every
room, sessions and presence are counted by the hub alone, nothing leaves the process.
:class:`vrcollab.cluster.redis_broker.RedisBroker` (``broker_url=redis://...``) elects one owner
per room with a lease, forwards the sessions of other processes to it and relays its commits
and poses (docs/cluster.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vrcollab.errors import ConfigError
from vrcollab.settings import Settings
from vrcollab.store.base import RoomRecord

if TYPE_CHECKING:
    from vrcollab.cluster.control import ControlEvent
    from vrcollab.cluster.job_relay import JobRelay
    from vrcollab.jobs.events import JobEvents
    from vrcollab.server.connection import Connection
    from vrcollab.server.hub import LiveRoom, RoomHub, RoomWorker

#: Broker URL schemes served by Redis (the ``redis`` extra, imported only for these).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Broker(Protocol):
    """Room ownership, forwarding and shared counters for the hub."""

    node_id: str
    #: True when :meth:`member_tokens` is the member budget (shared by every process).
    shared_rate: bool

    def start(self, hub: RoomHub) -> None:
        """Start background work (call from the running loop)."""
        ...

    async def claim(self, record: RoomRecord) -> LiveRoom | None:
        """None when this process now owns the room (the hub loads it and calls
        :meth:`attach`); otherwise a live room that forwards to the owner."""
        ...

    def attach(self, worker: RoomWorker) -> None:
        """The owned room's worker is running: relay its commits and poses."""
        ...

    def abandon(self, room_id: str) -> None:
        """Give up a claimed room whose load failed."""
        ...

    def detach(self, worker: RoomWorker) -> None:
        """The owned room's worker stopped: release the room."""
        ...

    def admit(self, user_id: str, limit: int) -> bool:
        """Count one more session of a member across processes; False beyond ``limit``."""
        ...

    def release(self, user_id: str) -> None:
        """A session of the member ended."""
        ...

    async def member_tokens(self, user_id: str, rate: float, burst: int,
                            want: int) -> int | None:
        """Take up to ``want`` tokens of the member's bucket shared by all processes (R3):
        how many were granted (at least 1), or minus the milliseconds until one is back;
        None when the shared bucket cannot be reached (use this process's bucket)."""
        ...

    def online(self, room_id: str) -> set[str] | None:
        """User ids present in a room owned elsewhere (None: not known here)."""
        ...

    async def announce(self, event: ControlEvent) -> int:
        """Hand a project control event (member closed, settings changed) to every other
        process, which applies it to its own rooms and sockets; how many sockets they closed."""
        ...

    def edge_sessions(self, project_id: str) -> list[tuple[str, Connection]]:
        """(user id, socket) of this process's sessions in the project's rooms owned by
        another process."""
        ...

    async def close(self) -> None:
        """Release every room and connection."""
        ...


class LocalBroker:
    """One process owns everything: every call is answered locally."""

    node_id = "local"
    shared_rate = False

    def start(self, hub: RoomHub) -> None:
        """Nothing to start."""

    async def claim(self, record: RoomRecord) -> LiveRoom | None:
        """Always ours."""
        return None

    def attach(self, worker: RoomWorker) -> None:
        """Nothing to relay."""

    def abandon(self, room_id: str) -> None:
        """Nothing was claimed."""

    def detach(self, worker: RoomWorker) -> None:
        """Nothing to release."""

    def admit(self, user_id: str, limit: int) -> bool:
        """The hub's own count is the whole count."""
        return True

    def release(self, user_id: str) -> None:
        """Nothing shared."""

    async def member_tokens(self, user_id: str, rate: float, burst: int,
                            want: int) -> int | None:
        """The hub's own bucket is the whole budget."""
        return None

    def online(self, room_id: str) -> set[str] | None:
        """Every live room is in the hub."""
        return None

    async def announce(self, event: ControlEvent) -> int:
        """There is no other process."""
        return 0

    def edge_sessions(self, project_id: str) -> list[tuple[str, Connection]]:
        """Every room is owned here."""
        return []

    async def close(self) -> None:
        """Nothing to close."""


def open_broker(settings: Settings) -> Broker:
    """The broker named by ``Settings.broker_url`` (memory:// or redis://...)."""
    url = settings.broker_url
    if url in ("", "memory://"):
        return LocalBroker()
    if url.startswith(REDIS_SCHEMES):
        from vrcollab.cluster.redis_broker import RedisBroker

        return RedisBroker(url, settings)
    raise ConfigError(f"unsupported broker_url {url!r} (use memory:// or redis://host:port/db)")


def open_job_relay(settings: Settings, events: JobEvents) -> JobRelay | None:
    """A running job-progress relay for a Redis broker; None for the embedded default (which
    needs no ``redis`` package), and on Postgres, whose catalog feeds job updates to every
    process itself (``Catalog.watch_jobs``)."""
    if not settings.broker_url.startswith(REDIS_SCHEMES):
        return None
    if settings.database_url.startswith(("postgresql://", "postgres://")):
        return None
    from vrcollab.cluster.job_relay import JobRelay

    relay = JobRelay(settings.broker_url, events)
    relay.start()
    return relay
