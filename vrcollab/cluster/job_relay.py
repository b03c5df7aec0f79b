"""Job progress across processes over the broker, for catalogs without a feed of their own
(Postgres has ``LISTEN/NOTIFY``, see ``Catalog.watch_jobs``): every job update is published on
``vrc:jobs`` and every other process re-delivers it to its own subscribers
(``GET /api/jobs/{id}/events`` on any process).

The runner publishes from its own thread; :class:`JobRelay` publishes with a synchronous Redis
client there, and re-delivers on the event loop from one subscriber task. A thread-local flag
keeps a re-delivered update from being published again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import threading
from typing import Any

import redis
import redis.asyncio as aioredis

from vrcollab.jobs.events import JobEvents
from vrcollab.store.catalog import JobRecord

log = logging.getLogger("vrcollab.cluster")

CHANNEL = "vrc:jobs"


class JobRelay:
    """Bridges one process's :class:`JobEvents` to every other process's."""

    def __init__(self, url: str, events: JobEvents) -> None:
        self.events = events
        self.node = secrets.token_hex(6)
        self.sync = redis.Redis.from_url(url, decode_responses=True)
        self.r = aioredis.from_url(url, decode_responses=True)
        self._local = threading.local()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        events.add_listener(self._publish)

    def start(self) -> None:
        """Start re-delivering other processes' updates (call from the running loop)."""
        self._task = asyncio.create_task(self._listen(), name="job-relay")

    async def ready(self) -> None:
        """Wait until subscribed."""
        await self._ready.wait()

    def _publish(self, job: JobRecord) -> None:
        if getattr(self._local, "relaying", False):
            return
        body = json.dumps({"node": self.node, "job": dataclasses.asdict(job)})
        try:
            self.sync.publish(CHANNEL, body)
        except redis.RedisError:
            log.warning("cannot publish job %s to other processes", job.job_id, exc_info=True)

    async def _listen(self) -> None:
        ps = self.r.pubsub(ignore_subscribe_messages=True)
        await ps.subscribe(CHANNEL)
        self._ready.set()
        try:
            while True:
                msg: Any = await ps.get_message(timeout=1.0)
                if msg is None:
                    continue
                body = json.loads(msg["data"])
                if body["node"] == self.node:
                    continue
                self._local.relaying = True
                try:
                    self.events.publish(JobRecord(**body["job"]))
                finally:
                    self._local.relaying = False
        finally:
            with contextlib.suppress(Exception):
                await ps.aclose()

    async def close(self) -> None:
        """Stop listening and close the connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.r.aclose()
        self.sync.close()
