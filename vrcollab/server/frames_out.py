"""Outgoing text frames written straight to the socket's transport (the send fast path).

Under uvicorn's ``websockets-sansio`` protocol, every ASGI ``send`` encodes the text to UTF-8,
frames it and writes it on its own (one copy and one system call per message and receiver).
The room sends the same text to every receiver (one shared ``poses`` frame per tick, one
encoding per commit), so here a text is framed once (:func:`text_frame`, cached) and a
connection's writer hands all frames it has ready to the transport in one write
(:class:`DirectSink`).

Used only where it is exactly what uvicorn would write: an accepted socket of that protocol
with no extension negotiated (the server turns per-message deflate off,
``vrcollab.server.serve``). Everything else (other servers, Starlette's test client, a closing
socket) gets ``None`` from :func:`direct_sink` and sends through ASGI as before. Flow control
is uvicorn's: a write waits while the transport is paused (its buffer above the high-water
mark), exactly like uvicorn's own ``send``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from starlette.websockets import WebSocket
from websockets.frames import Frame, Opcode

#: Texts up to this size are framed once and shared (poses frames, commits); larger ones (a
#: welcome page) are framed per receiver.
CACHE_MAX_CHARS = 64 * 1024

_PROTOCOL = "WebSocketsSansIOProtocol"
MAX_WRAPPERS = 8


class SocketClosedError(ConnectionError):
    """The peer went away or the socket is closing: nothing more is written."""


def _frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


_cached_frame = functools.lru_cache(maxsize=256)(_frame)


def text_frame(text: str) -> bytes:
    """The server-to-client frame (unmasked, no extension) carrying ``text``."""
    if len(text) <= CACHE_MAX_CHARS:
        return _cached_frame(text)
    return _frame(text)


class DirectSink:
    """Writes ready frames of one accepted uvicorn websocket to its transport."""

    __slots__ = ("_proto",)

    def __init__(self, proto: Any) -> None:
        self._proto = proto

    def _open(self) -> bool:
        p = self._proto
        return not (p.disconnected or p.close_sent or p.transport.is_closing())

    async def write(self, frames: Sequence[bytes]) -> None:
        """Write ``frames`` in order, in one call; SocketClosedError once the socket is gone."""
        p = self._proto
        await p.writable.wait()
        if not self._open():
            raise SocketClosedError("websocket closed")
        if len(frames) == 1:
            p.transport.write(frames[0])
        else:
            p.transport.write(b"".join(frames))


def _protocol(send: Any) -> Any:
    """uvicorn's protocol behind an ASGI ``send``: its bound method, possibly inside the
    closures of pass-through wrappers (Starlette's exception handling wraps ``send`` in one)."""
    for _ in range(MAX_WRAPPERS):
        owner = getattr(send, "__self__", None)
        if type(owner).__name__ == _PROTOCOL:
            return owner
        cells = getattr(send, "__closure__", None) or ()
        inner = [c.cell_contents for c in cells
                 if callable(getattr(c, "cell_contents", None))]
        if len(inner) != 1:  # not a plain pass-through: leave it to ASGI
            return None
        send = inner[0]
    return None


def direct_sink(ws: WebSocket) -> DirectSink | None:
    """The fast path for an accepted socket, or None where frames must go through ASGI."""
    proto = _protocol(getattr(ws, "_send", None))
    if proto is None:
        return None
    conn = getattr(proto, "conn", None)
    if (conn is None or getattr(conn, "extensions", None) or not proto.handshake_complete
            or proto.transport is None):
        return None
    return DirectSink(proto)
