"""Ordered, pipelined writes to Redis and the newest id of a stream.

Every process writes a room's entries through one :class:`OrderedWriter`, so entries reach
Redis in the order they were queued (one connection, one pipeline at a time): a join is always
before the ops of that session, an ack before the commits that follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger("vrcollab.cluster")

#: An entry: ("x", stream, fields) for XADD or ("p", channel, message) for PUBLISH.
Entry = tuple[str, str, Any]


class OrderedWriter:
    """Queue XADDs and PUBLISHes without awaiting; one task sends them in order, batched."""

    def __init__(self, r: aioredis.Redis, *, maxlen: int, name: str) -> None:
        self.r = r
        self.maxlen = maxlen
        self.queue: deque[Entry] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.create_task(self._run(), name=name)

    def xadd(self, stream: str, fields: dict[str, str]) -> None:
        """Append an entry to a stream (in order with everything queued before)."""
        self.queue.append(("x", stream, fields))
        self._idle.clear()
        self._wake.set()

    def publish(self, channel: str, message: str) -> None:
        """Publish on a channel (ephemeral: poses)."""
        self.queue.append(("p", channel, message))
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.queue:
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), 512))]
                pipe = self.r.pipeline(transaction=False)
                for kind, key, value in batch:
                    if kind == "x":
                        pipe.xadd(key, value, maxlen=self.maxlen, approximate=True)
                    else:
                        pipe.publish(key, value)
                try:
                    await pipe.execute()
                except Exception:  # Redis down: clients resend unacked ops after reconnecting
                    log.exception("redis write failed; %d entries dropped", len(batch))
            if not self.queue:
                self._idle.set()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far was sent."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self) -> None:
        """Send what is queued (up to a few seconds), then stop."""
        await self.drain()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


async def last_id(r: aioredis.Redis, stream: str) -> str:
    """The id of the newest entry of ``stream`` ("0-0" when empty): read after it."""
    rows = await r.xrevrange(stream, count=1)
    return str(rows[0][0]) if rows else "0-0"


async def subscription(r: aioredis.Redis, channel: str) -> AsyncIterator[str]:
    """The messages of a pub/sub channel, resubscribing after a lost connection (Redis drops
    subscribers whose output buffer overflows; poses are ephemeral, so a gap is harmless)."""
    while True:
        ps = r.pubsub(ignore_subscribe_messages=True)
        try:
            await ps.subscribe(channel)
            while True:
                msg: Any = await ps.get_message(timeout=1.0)
                if msg is not None:
                    yield msg["data"]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("subscription to %s lost; resubscribing", channel, exc_info=True)
            await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await ps.aclose()
