"""One websocket session's outgoing side: bounded durable queue, coalesced poses, one writer.

Only the writer task sends on the socket. Durable messages (welcome, ack, reject, commit,
presence) queue in order; when more than ``max_send_queue`` are waiting the client is too slow
for durable ops and is closed with 4413 (protocol R12). Poses never queue: a :class:`PoseSlot`
holds at most one shared ``poses`` frame (the room's, encoded once per tick) until the writer
is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket

from vrcollab.server.frames_out import DirectSink, direct_sink, text_frame
from vrcollab.sync.closes import Close
from vrcollab.sync.codec import EncodeError, encode_server
from vrcollab.sync.messages import ServerMessage
from vrcollab.sync.presence import PoseFrame, PoseSlot
from vrcollab.sync.session import TokenBucket

log = logging.getLogger("vrcollab.server")

# The protocol's close-code table lives in the sync core; these names are kept for the shells.
CLOSE_NORMAL = Close.NORMAL
CLOSE_GOING_AWAY = Close.GOING_AWAY
CLOSE_POLICY = Close.POLICY
CLOSE_TOO_BIG = Close.TOO_BIG
CLOSE_INTERNAL = Close.INTERNAL
CLOSE_PROTOCOL = Close.PROTOCOL
CLOSE_CREDENTIALS = Close.CREDENTIALS
CLOSE_NO_ROOM = Close.NO_ROOM
CLOSE_TIMEOUT = Close.TIMEOUT
CLOSE_SESSIONS = Close.SESSIONS
CLOSE_SLOW = Close.SLOW
CLOSE_VERSION = Close.VERSION
CLOSE_RATE = Close.RATE

CLOSE_WAIT_S = 10.0
BATCH_BYTES = 256 * 1024  # one transport write holds at most about this much (fast path)
MAX_OPS_IN_FLIGHT = 8  # per connection: beyond this the reader stops reading (TCP backpressure)


#: Takes tokens of a member's bucket shared by several processes (the broker's
#: ``member_tokens``): (user id, rate, burst, want) -> granted, or -ms to wait, or None.
SharedTokens = Callable[[str, float, int, int], Awaitable[int | None]]


class MemberGate:
    """What one member's sessions share: a session count and a token bucket (R3). The member
    bucket throttles (the reader waits for a token: TCP backpressure on that member only);
    the per-connection bucket closes with 4429.

    With ``shared`` (several processes, docs/cluster.md) the budget is the member's bucket in
    the broker, taken in chunks of about a quarter second of the rate; this process's bucket
    stands in only while the broker cannot be reached."""

    __slots__ = ("bucket", "chunk", "fetching", "reserve", "sessions", "shared", "user_id")

    def __init__(self, rate: float, burst: int, now: float, *, user_id: str = "",
                 shared: SharedTokens | None = None) -> None:
        self.sessions = 0
        self.bucket = TokenBucket(rate, burst, now)
        self.user_id = user_id
        self.shared = shared
        self.reserve = 0  # tokens taken from the shared bucket, not spent yet
        self.chunk = max(1, min(burst // 4, math.ceil(rate / 4)))
        self.fetching = asyncio.Lock()  # one broker call at a time per member and process

    async def throttle(self) -> None:
        """Wait until the member may send one more message."""
        if self.shared is not None and self.reserve <= 0:
            async with self.fetching:  # the member's other sessions here wait for this take
                while self.reserve <= 0:
                    got = await self.shared(self.user_id, self.bucket.rate,
                                            int(self.bucket.burst), self.chunk)
                    if got is None:
                        break  # broker unreachable: this process's bucket for now
                    if got > 0:
                        self.reserve += got
                    else:
                        await asyncio.sleep(-got / 1000.0)
        if self.shared is not None and self.reserve > 0:
            self.reserve -= 1
            return
        while not self.bucket.take(time.monotonic()):
            await asyncio.sleep(1.0 / max(self.bucket.rate, 1e-3))


class Connection:
    """Send side of one session."""

    def __init__(self, ws: WebSocket, session_id: str, *, max_queue: int) -> None:
        self.ws = ws
        self.session_id = session_id
        self.max_queue = max_queue
        self.queue: deque[tuple[str, bool]] = deque()
        self.uncounted = 0  # queued messages that do not count toward max_queue
        self.poses = PoseSlot()
        self.close_code: int | None = None
        self.close_reason = ""
        self.last_seen = time.monotonic()
        self.last_active = self.last_seen
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.closing = asyncio.Event()
        self.op_slots = asyncio.Semaphore(MAX_OPS_IN_FLIGHT)

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._writer(), name=f"writer-{self.session_id}")

    def send(self, text: str, *, counted: bool = True) -> None:
        """Queue a durable message; closes with 4413 when more than ``max_queue`` counted
        messages wait. Server-authored bulk (welcome parts, imported commits) is queued with
        ``counted=False``: its size is bounded by the room limits (R20), not by the reader."""
        if self.close_code is not None:
            return
        if not counted:
            self.uncounted += 1
        elif len(self.queue) - self.uncounted >= self.max_queue:
            self.close(CLOSE_SLOW, "too slow for durable ops; reconnect with last_seq")
            return
        self.queue.append((text, counted))
        self._wake.set()

    def _pop(self) -> str:
        text, counted = self.queue.popleft()
        if not counted:
            self.uncounted -= 1
        return text

    def send_msg(self, msg: ServerMessage, *, counted: bool = True) -> None:
        """Encode and queue one message. A message that cannot be encoded is a server bug: it
        closes this connection only (1011), logged at error level (protocol R17)."""
        try:
            text = encode_server(msg)
        except (EncodeError, ValueError, TypeError):
            log.error("cannot encode %s for %s; closing it", type(msg).__name__,
                      self.session_id, exc_info=True)
            self.close(CLOSE_INTERNAL, "server could not encode a message")
            return
        self.send(text, counted=counted)

    def offer_poses(self, frame: PoseFrame) -> None:
        """Hold this tick's shared ``poses`` frame (replacing an unsent one); sent when the
        writer is free."""
        if self.close_code is None:
            self.poses.offer(frame)
            self._wake.set()

    def close(self, code: int, reason: str = "") -> None:
        """Ask the writer to close the socket (first call wins). A 4413 skips the queue."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        self.closing.set()
        if code == CLOSE_SLOW and self._task is not None:
            self._task.cancel()  # the socket may be stuck in send(); do not wait for it
        self._wake.set()

    async def _writer(self) -> None:
        ws = self.ws
        sink = direct_sink(ws)
        try:
            while self.close_code is None:
                await self._wake.wait()
                self._wake.clear()
                if sink is not None:
                    await self._write_batches(sink)
                    continue
                while self.queue and self.close_code is None:
                    await ws.send_text(self._pop())
                if self.close_code is None:
                    frame = self.poses.take()
                    if frame is not None:
                        await ws.send_text(frame)
            while self.queue and self.close_code != CLOSE_SLOW:  # flush e.g. a final error
                if sink is not None:
                    await sink.write([text_frame(self._pop())])
                else:
                    await ws.send_text(self._pop())
        except asyncio.CancelledError:
            pass
        except (UnicodeError, TypeError, ValueError):  # a bug of ours, not the peer's doing
            log.error("writer %s could not send a frame; closing it", self.session_id,
                      exc_info=True)
            if self.close_code is None:
                self.close_code, self.close_reason = CLOSE_INTERNAL, "server send error"
        except Exception as exc:  # the peer went away while we were sending
            log.debug("writer %s stopped: %r", self.session_id, exc)
            if self.close_code is None:
                self.close_code = CLOSE_GOING_AWAY
        finally:
            self.closing.set()
            # a slow peer must drain what is buffered before it sees the close frame
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    ws.close(self.close_code or CLOSE_NORMAL, self.close_reason[:120]),
                    CLOSE_WAIT_S,
                )
            self.done.set()

    async def _write_batches(self, sink: DirectSink) -> None:
        """The fast path: durable messages in order, then the poses frame once the queue is
        empty, each batch of ready frames in one transport write."""
        while self.close_code is None:
            batch: list[bytes] = []
            size = 0
            while self.queue and size < BATCH_BYTES:
                frame = text_frame(self._pop())
                batch.append(frame)
                size += len(frame)
            if not self.queue:
                poses = self.poses.take()
                if poses is not None:
                    batch.append(text_frame(poses))
            if not batch:
                return
            await sink.write(batch)

    async def wait_closed(self, timeout: float = CLOSE_WAIT_S + 1.0) -> None:
        """Wait for the writer to finish (after :meth:`close` or a send failure)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout)
        if self._task is not None and not self._task.done():
            self._task.cancel()
