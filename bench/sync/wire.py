"""Minimal websocket framing for benchmark clients (RFC 6455, client side, pure).

The clients must never be the bottleneck: the y-websocket peer sends one frame per pose per
receiver (N² frames per tick), so a general-purpose client that decodes every message would
saturate long before the server. This module only

- builds the upgrade request and checks the ``101`` answer (``Sec-WebSocket-Accept``);
- builds pre-encoded client frames. The masking key is all zeros, a value RFC 6455 allows, so a
  frame is ``header + payload`` and pre-encoded payloads stay pre-encoded; servers still run
  their unmasking over every byte;
- receives into one reusable buffer (``RecvBuffer``, for ``asyncio.BufferedProtocol``) and walks
  frame boundaries without copying payloads (``scan_frames``), returning the control frames
  (ping, close). Timing markers are then found with one search over the region of complete
  frames (a marker never spans frames; no compression is negotiated).
"""

from __future__ import annotations

import base64
import hashlib
import os

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADER = 16 * 1024


class HandshakeError(Exception):
    """The server refused or botched the websocket upgrade."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"upgrade refused: {status} {reason}")
        self.status = status


def upgrade_request(host: str, port: int, target: str) -> tuple[bytes, bytes]:
    """(request bytes, key) of a websocket upgrade for ``target`` (path with query)."""
    key = base64.b64encode(os.urandom(16))
    req = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n"
        "User-Agent: vrcollab-sync-bench\r\n"
    ).encode() + b"Sec-WebSocket-Key: " + key + b"\r\n\r\n"
    return req, key


def parse_upgrade_response(buf: bytes, key: bytes) -> int | None:
    """Length of the complete ``101`` response in ``buf``, or None while incomplete.

    Raises HandshakeError on any other status or a wrong ``Sec-WebSocket-Accept``.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > _MAX_HEADER:
            raise HandshakeError(0, "response header too large")
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if status != 101:
        raise HandshakeError(status, parts[2] if len(parts) > 2 else "")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    expected = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
    if headers.get("sec-websocket-accept") != expected:
        raise HandshakeError(status, "bad Sec-WebSocket-Accept")
    if headers.get("sec-websocket-extensions"):
        raise HandshakeError(status, "unexpected extension " + headers["sec-websocket-extensions"])
    return end + 4


def frame_header(opcode: int, length: int) -> bytes:
    """Header of one final, masked (zero key) client frame carrying ``length`` bytes."""
    b0 = 0x80 | opcode
    if length < 126:
        return bytes((b0, 0x80 | length)) + b"\0\0\0\0"
    if length < 1 << 16:
        return bytes((b0, 0x80 | 126)) + length.to_bytes(2, "big") + b"\0\0\0\0"
    return bytes((b0, 0x80 | 127)) + length.to_bytes(8, "big") + b"\0\0\0\0"


def frame(opcode: int, payload: bytes) -> bytes:
    """One complete client frame."""
    return frame_header(opcode, len(payload)) + payload


def close_code(payload: bytes) -> int:
    """The status code of a close frame payload (1005 = none given)."""
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005


def scan_frames(buf: bytes | bytearray, start: int, end: int
                ) -> tuple[int, list[tuple[int, bytes]], int]:
    """Walk the complete server frames in ``buf[start:end]`` (server frames are never masked).

    Returns ``(pos, controls, fragments)``: ``buf[start:pos]`` holds only complete frames (the
    rest is a partial frame), ``controls`` lists ``(opcode, payload)`` of ping/pong/close frames
    and ``fragments`` counts non-final data frames (none are expected; a marker could straddle
    them). Payloads are not copied.
    """
    pos = start
    controls: list[tuple[int, bytes]] = []
    fragments = 0
    while end - pos >= 2:
        ln = buf[pos + 1] & 0x7F
        if ln < 126:
            first = pos + 2
        elif ln == 126:
            if end - pos < 4:
                break
            ln = (buf[pos + 2] << 8) | buf[pos + 3]
            first = pos + 4
        else:
            if end - pos < 10:
                break
            ln = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            first = pos + 10
        last = first + ln
        if last > end:
            break
        b0 = buf[pos]
        if b0 & 0x08:
            controls.append((b0 & 0x0F, bytes(buf[first:last])))
        elif b0 < 0x80:
            fragments += 1
        pos = last
    return pos, controls, fragments


class RecvBuffer:
    """A receive buffer for ``asyncio.BufferedProtocol``: the kernel writes straight into it.

    ``free()`` hands out the writable tail (compacting or growing first), ``wrote(n)`` commits
    received bytes; ``data[read:write]`` is the unconsumed part.
    """

    __slots__ = ("data", "read", "view", "write")

    def __init__(self, size: int = 256 * 1024) -> None:
        self.data = bytearray(size)
        self.view = memoryview(self.data)
        self.read = 0
        self.write = 0

    def free(self, want: int = 64 * 1024) -> memoryview:
        if len(self.data) - self.write < want:
            pending = self.write - self.read
            if self.read and len(self.data) - pending >= want:
                self.view[:pending] = self.view[self.read : self.write]
            else:
                grown = bytearray(max(2 * len(self.data), pending + want))
                grown[:pending] = self.view[self.read : self.write]
                self.data, self.view = grown, memoryview(grown)
            self.read, self.write = 0, pending
        return self.view[self.write :]
