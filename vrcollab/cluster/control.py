"""Project control events across processes: a member removed or its role changed (close its
sessions, 4401), the project's settings changed (live rooms apply them).

The process that served the REST request applies the event to its own rooms and sockets first
(:meth:`vrcollab.server.hub.RoomHub.apply_control`), then publishes it on ``vrc:ctl``; every
other process applies it to its own (the rooms it owns, the sockets it holds for rooms owned
elsewhere) and pushes the number of connections it closed to ``vrc:ctlr:<event id>``. The
publisher waits for as many answers as ``PUBLISH`` reported receivers (at most
:data:`REPLY_WAIT_S`), so the REST answer counts the connections closed everywhere.

Pub/sub delivers at most once: a process whose subscription is down misses the event. Its
sockets' periodic re-check (``auth_recheck_s``, 4401) is the backstop for a removed member, and
after a lost subscription the process re-reads the settings of the projects it serves
(:meth:`ControlRelay` ``on_resync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vrcollab.errors import ProtocolError

if TYPE_CHECKING:  # the events need no redis package (the embedded broker uses them too)
    import redis.asyncio as aioredis

log = logging.getLogger("vrcollab.cluster")

CHANNEL = "vrc:ctl"
REPLY_WAIT_S = 2.0
REPLY_TTL_S = 30


@dataclass(frozen=True)
class CloseMember:
    """Close the sessions of ``user_id`` (every member's when None) in the project's rooms."""

    project_id: str
    user_id: str | None
    code: int
    reason: str


@dataclass(frozen=True)
class SettingsChanged:
    """The project's settings in effect are now ``values``."""

    project_id: str
    values: dict[str, Any] = field(default_factory=dict)


ControlEvent = CloseMember | SettingsChanged


def encode(event: ControlEvent, node: str, reply: str) -> str:
    """The channel message for ``event`` from ``node``, answered on ``reply``."""
    if isinstance(event, CloseMember):
        body: dict[str, Any] = {"k": "close", "project": event.project_id,
                                "user": event.user_id, "code": event.code,
                                "reason": event.reason}
    else:
        body = {"k": "settings", "project": event.project_id, "values": event.values}
    return json.dumps({"node": node, "reply": reply, **body})


def decode(text: str) -> tuple[ControlEvent, str, str]:
    """(event, sending node, reply key); ProtocolError for anything else."""
    try:
        d = json.loads(text)
        node, reply, kind, project = d["node"], d["reply"], d["k"], d["project"]
        if kind == "close":
            user = d["user"]
            event: ControlEvent = CloseMember(project, None if user is None else str(user),
                                              int(d["code"]), str(d["reason"]))
        elif kind == "settings" and isinstance(d["values"], dict):
            event = SettingsChanged(project, d["values"])
        else:
            raise ValueError(kind)
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"bad control event: {exc}") from None
    return event, str(node), str(reply)


class ControlRelay:
    """Publishes this process's control events and applies the other processes' ones."""

    def __init__(self, r: aioredis.Redis, node_id: str, apply: Callable[[ControlEvent], int],
                 on_resync: Callable[[], None]) -> None:
        self.r = r
        self.node_id = node_id
        self._apply = apply
        self._on_resync = on_resync
        self._subscribed = False
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start listening (call from the running loop)."""
        self._task = asyncio.create_task(self._listen(), name="control")

    async def announce(self, event: ControlEvent) -> int:
        """Hand ``event`` to every other process; the connections they closed (those that
        answered within :data:`REPLY_WAIT_S`)."""
        reply = f"vrc:ctlr:{self.node_id}:{secrets.token_hex(8)}"
        try:
            receivers = int(await self.r.publish(CHANNEL, encode(event, self.node_id, reply)))
        except Exception:
            log.warning("cannot publish a control event; other processes rely on their "
                        "periodic re-check", exc_info=True)
            return 0
        others = receivers - (1 if self._subscribed else 0)
        closed = 0
        deadline = time.monotonic() + REPLY_WAIT_S
        with contextlib.suppress(Exception):
            for _ in range(max(0, others)):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                got: Any = await self.r.blpop([reply], timeout=max(0.01, left))
                if got is None:
                    break
                closed += int(got[1])
        with contextlib.suppress(Exception):
            await self.r.delete(reply)
        return closed

    async def _listen(self) -> None:
        lost = False
        while True:
            ps = self.r.pubsub(ignore_subscribe_messages=True)
            try:
                await ps.subscribe(CHANNEL)
                self._subscribed = True
                self.ready.set()
                if lost:  # events may have passed meanwhile: re-read what we apply
                    self._on_resync()
                while True:
                    msg: Any = await ps.get_message(timeout=1.0)
                    if msg is not None:
                        await self._handle(msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("control subscription lost; resubscribing", exc_info=True)
                lost = True
                await asyncio.sleep(0.5)
            finally:
                self._subscribed = False
                with contextlib.suppress(Exception):
                    await ps.aclose()

    async def _handle(self, text: str) -> None:
        try:
            event, node, reply = decode(text)
        except ProtocolError:
            log.error("ignoring a malformed control event: %.200s", text)
            return
        if node == self.node_id:
            return
        try:
            closed = self._apply(event)
        except Exception:
            log.exception("applying control event %s failed", event)
            closed = 0
        with contextlib.suppress(Exception):
            await self.r.rpush(reply, str(closed))
            await self.r.expire(reply, REPLY_TTL_S)

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
