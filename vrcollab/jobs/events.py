"""Fan-out of job updates to listeners: asyncio queues (SSE/websocket) and plain callbacks.

:meth:`JobEvents.publish` is called from the job runner's thread; asyncio subscribers receive
updates through ``loop.call_soon_threadsafe`` so no event loop is ever touched from another thread.
A slow subscriber only ever holds the latest state (older updates are dropped, never queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator

from vrcollab.store.catalog import JobRecord

Listener = Callable[[JobRecord], None]


class JobEvents:
    """Publish job updates; subscribe per job (async) or to all jobs (callback)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[JobRecord]]]] = {}
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(job)`` (from the runner's thread) on every update."""
        with self._lock:
            self._listeners.append(listener)

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[JobRecord]]:
        """A queue receiving the updates of one job while the context is open."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[JobRecord] = asyncio.Queue(maxsize=1)
        entry = (loop, queue)
        with self._lock:
            self._subs.setdefault(job_id, set()).add(entry)
        try:
            yield queue
        finally:
            with self._lock:
                subs = self._subs.get(job_id)
                if subs is not None:
                    subs.discard(entry)
                    if not subs:
                        del self._subs[job_id]

    def wanted(self, job_id: str) -> bool:
        """True when someone here would receive an update of this job."""
        with self._lock:
            return bool(self._listeners) or job_id in self._subs

    def publish(self, job: JobRecord) -> None:
        """Deliver an update to every subscriber of the job and every listener."""
        with self._lock:
            subs = list(self._subs.get(job.job_id, ()))
            listeners = list(self._listeners)
        for loop, queue in subs:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(_put_latest, queue, job)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(job)


def _put_latest(queue: asyncio.Queue[JobRecord], job: JobRecord) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(job)
