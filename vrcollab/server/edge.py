"""The HTTP edge below the ASGI app: connection caps, header timeout and size, open-file limit.

uvicorn (0.54, h11 and httptools alike) starts no timer before a request's head is complete, so a
socket that sends nothing, or a request head one byte at a time (slowloris), stays open for ever
and holds a file descriptor. The ASGI app never sees such a socket, so the guard is a subclass of
uvicorn's h11 protocol (:func:`guarded_protocol`), passed as ``uvicorn.Config(http=...)``:

- **caps**: a new connection beyond ``max_connections`` in all (HTTP and websocket together:
  uvicorn's shared connection set) gets ``503``, beyond ``max_connections_per_address`` from one
  client address ``429``; the answer is written at once (nothing is read) and the socket closed;
- **header timeout**: the whole request head must arrive within ``header_timeout_s`` of the
  connection (or of the previous response on a keep-alive connection), else the socket is
  closed without an answer; idle keep-alive connections close after ``keep_alive_timeout_s``
  (uvicorn's ``timeout_keep_alive``);
- **header size**: a request head over ``max_header_bytes`` answers ``431`` and closes (h11's own
  buffer bound, a little higher, answers 400 as a backstop);
- **stalled requests**: once the head is in, a connection that makes no progress for
  ``request_idle_timeout_s`` is closed: a client that stops sending a body it declared, or stops
  reading its response (slow read). A server still working on an answer (a job's event stream)
  or an app that is not reading yet does not count as a stall.

The header count, declared body sizes and JSON bodies are checked in the ASGI middleware
(:mod:`vrcollab.server.middleware`). :func:`raise_open_files_limit` lifts the soft
``RLIMIT_NOFILE`` to the hard limit at start and returns the connection cap that fits it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from vrcollab.settings import Settings

log = logging.getLogger("vrcollab.server.edge")

#: File descriptors kept free for the store, asset files, job pipes and logs.
FD_RESERVE = 128


def raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete ``Connection: close`` HTTP/1.1 response with the JSON error body."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n"
            "x-content-type-options: nosniff\r\n")
    if status in (429, 503):
        head += "retry-after: 5\r\n"
    return head.encode() + b"\r\n" + body


def raise_open_files_limit(wanted_connections: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return the connection cap that fits
    (``wanted_connections``, or fewer with a warning when descriptors are short)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return wanted_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    fits = max(soft - FD_RESERVE, 16)
    if fits < wanted_connections:
        log.warning("open-file limit %d allows only %d of max_connections=%d; raise the hard "
                    "limit (ulimit -Hn / LimitNOFILE=) to at least %d", soft, fits,
                    wanted_connections, wanted_connections + FD_RESERVE)
        return fits
    return wanted_connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the caps and timeouts of this module (configure with
    :func:`guarded_protocol`)."""

    header_timeout_s: float = 10.0
    max_connections: int = 2000
    max_connections_per_address: int = 100
    max_header_bytes: int = 32 * 1024
    request_idle_timeout_s: float = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._progress = 0
        self._seen_progress = 0
        self._upgraded = False  # the socket now belongs to the websocket protocol
        self._head_bytes = 0
        self._tail = b""
        self._refused = False

    # --- connection caps ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        refusal = self._over_cap()
        if refusal is not None:
            self._refused = True
            transport.write(raw_response(*refusal))
            transport.close()
            return
        self._arm_head_timer()

    def _over_cap(self) -> tuple[int, str, str, str] | None:
        if len(self.connections) > self.max_connections:
            log.warning("refusing a connection: %d open (max_connections)", len(self.connections))
            return (503, "Service Unavailable", "too_many_connections",
                    f"the server holds its limit of {self.max_connections} connections "
                    "(max_connections)")
        host = self.client[0] if self.client else None
        if host is not None:
            same = sum(1 for c in self.connections
                       if (getattr(c, "client", None) or (None,))[0] == host)
            if same > self.max_connections_per_address:
                return (429, "Too Many Requests", "too_many_connections",
                        f"at most {self.max_connections_per_address} connections per address "
                        "(max_connections_per_address)")
        return None

    # --- header timeout and size -------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_bytes, self._tail = 0, b""
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    # --- stalled requests (slow body, slow read) ---------------------------------------------

    def _arm_stall_timer(self) -> None:
        if self._stall_timer is None and not self._upgraded and not self.transport.is_closing():
            self._seen_progress = self._progress
            self._stall_timer = self.loop.call_later(self.request_idle_timeout_s,
                                                     self._stall_check)

    def _stall_check(self) -> None:
        self._stall_timer = None
        if self._upgraded or self.transport.is_closing() or self.conn.their_state is h11.IDLE:
            return
        stalled = self._progress == self._seen_progress and (
            self.flow.write_paused
            or (self.conn.their_state is h11.SEND_BODY and not self.flow.read_paused))
        if stalled:
            log.info("closing a stalled HTTP connection from %s", self.client)
            self.transport.close()
            return
        self._arm_stall_timer()

    def resume_writing(self) -> None:
        self._progress += 1
        super().resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._progress += 1
        reading_head = self.conn.their_state is h11.IDLE and self._head_timer is not None
        if reading_head and (self._tail + data).find(b"\r\n\r\n") < 0:
            self._head_bytes += len(data)
            self._tail = data[-3:]
            if self._head_bytes > self.max_header_bytes:
                self._disarm_head_timer()
                self.transport.write(raw_response(
                    431, "Request Header Fields Too Large", "headers_too_large",
                    f"request head over {self.max_header_bytes} bytes (max_header_bytes)"))
                self.transport.close()
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_timer()
            self._arm_stall_timer()  # (not after an upgrade: the websocket has its own limits)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()

    def _disarm_stall_timer(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True
        self._disarm_head_timer()
        self._disarm_stall_timer()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self._disarm_stall_timer()
        super().connection_lost(exc)


def guarded_protocol(settings: Settings, *, max_connections: int | None = None
                     ) -> type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` subclass configured from ``settings``."""
    attrs = {
        "header_timeout_s": settings.header_timeout_s,
        "max_connections": max_connections or settings.max_connections,
        "max_connections_per_address": settings.max_connections_per_address,
        "max_header_bytes": settings.max_header_bytes,
        "request_idle_timeout_s": settings.request_idle_timeout_s,
    }
    return type("VrcollabH11Protocol", (GuardedH11Protocol,), attrs)
