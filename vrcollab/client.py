"""Python client of the sync protocol (``docs/protocol.md``), on the ``websockets`` library.

Used by tests, benchmarks and bots::

    async with RoomClient("http://127.0.0.1:8000", room_id, token, name="bot") as c:
        ack = await c.op("annotation.create", annotation={"id": "a1", "position": [0, 1, 2]})
        c.state.annotations["a1"]

The client keeps a mirror of the durable state (applying commits in seq order with the same
function the server uses), the presence list and the latest poses of the others. ``reconnect``
resumes with ``last_seq`` and resends every unacknowledged op with its original ``op_id``, so
nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from vrcollab.errors import ProtocolError, VrcollabError
from vrcollab.sync.codec import decode_server, dumps
from vrcollab.sync.messages import PROTOCOL_VERSION
from vrcollab.sync.mirror import Mirror
from vrcollab.sync.state import RoomState

Message = dict[str, Any]


class OpRejectedError(VrcollabError):
    """The server rejected an op (``code`` is the reject code)."""

    code = "rejected"


def ws_url(base_url: str, room_id: str) -> str:
    """``http://host:port`` -> ``ws://host:port/ws/rooms/<room_id>``."""
    base = base_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/ws/rooms/{room_id}"


class RoomClient:
    """One session in a room, with resume."""

    def __init__(
        self,
        base_url: str,
        room_id: str,
        token: str,
        *,
        client_id: str | None = None,
        name: str = "bot",
        color: str = "#3366cc",
        device: str = "desktop",
        origin: str | None = None,
        token_in_header: bool = False,
        max_size: int | None = 2**24,
    ) -> None:
        self.url = ws_url(base_url, room_id)
        self.room_id = room_id
        self.token = token
        self.client_id = client_id or f"py-{secrets.token_hex(6)}"
        self.name, self.color, self.device = name, color, device
        self.origin = origin
        self.token_in_header = token_in_header
        self.max_size = max_size
        self.mirror = Mirror()
        self.welcome: Message | None = None
        self.messages: list[Message] = []
        self.keep_messages = True
        self.close_code: int | None = None
        self.close_reason = ""
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, tuple[Message, asyncio.Future[Message]]] = {}
        self._waiters: list[tuple[Callable[[Message], bool], asyncio.Future[Message]]] = []
        self._ids = itertools.count(1)
        self.on_message: Callable[[Message], None] | None = None

    # --- connection ------------------------------------------------------------------------

    async def connect(self, *, timeout: float = 10.0) -> Message:
        """Open the socket, send hello (with ``last_seq`` when resuming), apply the welcome,
        resend unacknowledged ops. Returns the welcome."""
        url = self.url
        headers: dict[str, str] = {}
        if self.token_in_header:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            url = f"{url}?token={self.token}"
        self.close_code, self.close_reason = None, ""
        ws = await websockets.connect(
            url,
            additional_headers=headers,
            origin=self.origin,  # type: ignore[arg-type]
            max_size=self.max_size,
            open_timeout=timeout,
            ping_interval=None,
        )
        self._ws = ws
        hello = {
            "type": "hello", "v": PROTOCOL_VERSION, "client_id": self.client_id,
            "last_seq": self.mirror.last_seq,
            "name": self.name, "color": self.color, "device": self.device,
        }
        try:
            await ws.send(dumps(hello))
            first = decode_server(await asyncio.wait_for(ws.recv(), timeout))
        except ConnectionClosed as exc:
            self._closed(exc)
            raise
        if first.get("type") != "welcome":
            raise ProtocolError(f"expected welcome, got {first.get('type')}")
        self.welcome = first
        self.mirror.welcome(first)
        while self.mirror.parts_left:  # a paged welcome (R6): the state is complete after it
            try:
                part = decode_server(await asyncio.wait_for(ws.recv(), timeout))
            except ConnectionClosed as exc:
                self._closed(exc)
                raise
            self.mirror.handle(part)
            if self.keep_messages:
                self.messages.append(part)
        self._reader = asyncio.create_task(self._read())
        for payload, _fut in list(self._pending.values()):  # resume: same op ids, no duplicates
            await ws.send(dumps(payload))
        return first

    async def close(self) -> None:
        """Close normally (1000)."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def drop(self) -> None:
        """Simulate a network failure: abort the TCP connection without a close handshake."""
        if self._ws is not None:
            self._ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def reconnect(self, *, timeout: float = 10.0) -> Message:
        """Drop the current socket if any, then connect again and resume."""
        if self._ws is not None and self.close_code is None:
            await self.drop()
        return await self.connect(timeout=timeout)

    async def __aenter__(self) -> RoomClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """True while the socket is open."""
        return self._ws is not None and self.close_code is None

    # --- sending ---------------------------------------------------------------------------

    def new_op_id(self) -> str:
        """A fresh op id unique to this client."""
        return f"{self.client_id}:{next(self._ids)}"

    async def send_op(self, kind: str, *, op_id: str | None = None,
                      **fields: Any) -> asyncio.Future[Message]:
        """Send an op; the future resolves with the ack or reject message. The op is resent on
        reconnect until answered."""
        op_id = op_id or self.new_op_id()
        payload: Message = {"type": "op", "op_id": op_id, "kind": kind, **fields}
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[op_id] = (payload, fut)
        if self.connected:
            assert self._ws is not None
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(dumps(payload))
        return fut

    async def op(self, kind: str, *, op_id: str | None = None, timeout: float = 10.0,
                 **fields: Any) -> Message:
        """Send an op and wait for its ack; raises OpRejectedError on reject."""
        fut = await self.send_op(kind, op_id=op_id, **fields)
        msg = await asyncio.wait_for(asyncio.shield(fut), timeout)
        if msg["type"] == "reject":
            raise OpRejectedError(f"{kind} rejected: {msg['reason']}", code=msg["code"])
        return msg

    async def send_raw(self, data: str | bytes) -> None:
        """Send any frame as is (tests of bad input)."""
        assert self._ws is not None
        await self._ws.send(data)

    async def pose(self, head: tuple[list[float], list[float]], *,
                   left: tuple[list[float], list[float]] | None = None,
                   right: tuple[list[float], list[float]] | None = None,
                   laser: dict[str, Any] | None = None) -> None:
        """Send the latest pose (head/hands as (position, quaternion))."""
        def part(x: tuple[list[float], list[float]] | None) -> dict[str, Any] | None:
            return None if x is None else {"p": list(x[0]), "q": list(x[1])}

        msg = {"type": "pose", "head": part(head), "left": part(left), "right": part(right),
               "laser": laser}
        assert self._ws is not None
        await self._ws.send(dumps(msg))

    async def ping(self, timeout: float = 5.0) -> float:
        """Round-trip time of a ping, in seconds."""
        t0 = time.perf_counter()
        assert self._ws is not None
        await self._ws.send(dumps({"type": "ping", "t": t0}))
        await self.wait_for(lambda m: m["type"] == "pong" and m.get("t") == t0, timeout)
        return time.perf_counter() - t0

    async def command(self, name: str, session_id: str | None = None) -> None:
        """Send a room command (``gather`` or ``follow``)."""
        msg: Message = {"type": "cmd", "name": name}
        if name == "follow":
            msg["session_id"] = session_id
        assert self._ws is not None
        await self._ws.send(dumps(msg))

    @property
    def unacked(self) -> list[str]:
        """Op ids sent but not yet answered."""
        return list(self._pending)

    # --- receiving -------------------------------------------------------------------------

    async def wait_for(self, pred: Callable[[Message], bool], timeout: float = 10.0, *,
                       past: bool = True) -> Message:
        """The first message matching ``pred``: among those already received (when ``past``
        and ``keep_messages``), else the next one to arrive."""
        if past:
            for m in self.messages:
                if pred(m):
                    return m
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not fut]

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Wait until the server closes the socket; returns the close code."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def wait_seq(self, seq: int, timeout: float = 10.0) -> None:
        """Wait until the mirror has applied ``seq``."""
        deadline = time.monotonic() + timeout
        while self.seq < seq:
            if time.monotonic() > deadline:
                raise TimeoutError(f"seq {self.seq} < {seq}")
            await asyncio.sleep(0.01)

    # mirror views
    @property
    def state(self) -> RoomState:
        """Durable state as of :attr:`seq`."""
        return self.mirror.state

    @property
    def seq(self) -> int:
        """Last applied commit."""
        return self.mirror.seq

    @property
    def session_id(self) -> str | None:
        """This session's id (from the welcome)."""
        return self.mirror.session_id

    @property
    def presence(self) -> dict[str, Message]:
        """Other sessions in the room."""
        return self.mirror.presence

    @property
    def poses(self) -> dict[str, Message]:
        """Latest pose per other session."""
        return self.mirror.poses

    def _dispatch(self, m: Message) -> None:
        self.mirror.handle(m)
        if m["type"] in ("ack", "reject"):
            entry = self._pending.pop(m["op_id"], None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(m)

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for raw in ws:
                m = decode_server(raw)
                if m["type"] == "poses" and not _skip_own_pose(m, self.session_id):
                    continue  # R12: the room's shared frame held only our own pose
                self._dispatch(m)
                if self.keep_messages:
                    self.messages.append(m)
                if self.on_message is not None:
                    self.on_message(m)
                for pred, fut in list(self._waiters):
                    if not fut.done() and pred(m):
                        fut.set_result(m)
            self._closed(None)
        except ConnectionClosed as exc:
            self._closed(exc)

    def _closed(self, exc: ConnectionClosed | None) -> None:
        ws = self._ws
        rcvd = exc.rcvd if exc is not None else (ws.protocol.close_rcvd if ws is not None else None)
        self.close_code = rcvd.code if rcvd is not None else 1006
        self.close_reason = rcvd.reason if rcvd is not None else ""


def _skip_own_pose(m: Message, own: str | None) -> bool:
    """Drop our own entry from a shared ``poses`` frame (R12); False when nothing is left."""
    poses = m.get("poses")
    if isinstance(poses, dict) and own is not None:
        poses.pop(own, None)
    return bool(poses)
