"""One client process: many simulated headsets on one asyncio loop (uvloop when available).

Each client is a raw websocket (see ``wire``) sending its pre-encoded pose at ``pose_hz`` and an
annotation every ``op_interval_s``. Every client drains its socket and times the ack of its own
op (a search for that one marker while the op is outstanding). *Measuring* clients (a spread
subset, see ``phase``) also count every pose marker they receive (deliveries) and time every
probe-pose and op marker against ``time.time()``, which all processes on this machine share.
Scanning every received byte in every client would make the clients, not the server, the
bottleneck at 100+ clients; for the same reason non-measuring clients set ``SO_RCVLOWAT`` so the
kernel wakes them once per 16 KiB instead of once per small y-websocket frame (they still read
every byte; the server sees no difference), except while their op is outstanding, so acks are
timed without batching delay. Only arrivals inside the window ``[m0, m1]`` count.

Lifecycle (driven by the parent through queues): connect + handshake (+ ``hello``/``welcome``
for vrcollab) -> put ``ready`` -> get the schedule -> send until ``m1`` -> close -> put result.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import heapq
import os
import queue
import random
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any, cast

from . import payloads as pl
from . import wire
from .stats import Histogram

VRCOLLAB = "vrcollab"
YWEBSOCKET = "y-websocket"
_PR_SET_PDEATHSIG = 1
_LOWAT = 16 * 1024  # SO_RCVLOWAT of non-measuring clients while no op is outstanding
_SLOT_S = 0.001  # sends due within one slot go out together (loop timers have 1 ms resolution)


@dataclass(frozen=True)
class ClientSpec:
    """One simulated headset: its sender id, whether its poses are timed, its URL target."""

    sender: int
    probe: bool
    measure: bool
    target: str


@dataclass(frozen=True)
class WorkerConfig:
    server: str
    host: str
    port: int
    clients: tuple[ClientSpec, ...]
    pose_hz: float = 30.0
    op_interval_s: float = 3.0
    cores: tuple[int, ...] | None = None
    connect_timeout_s: float = 20.0
    max_lifetime_s: float = 300.0
    nice: int = 0


@dataclass
class Schedule:
    """Absolute ``time.time()`` instants: start sending, window start/end, close."""

    start: float
    m0: float
    m1: float
    stop: float


@dataclass
class Recorder:
    """Per-process counters and histograms (only arrivals within ``[m0, m1]`` are recorded)."""

    m0: float = float("inf")
    m1: float = float("-inf")
    pose: Histogram = field(default_factory=Histogram)
    ack: Histogram = field(default_factory=Histogram)
    commit: Histogram = field(default_factory=Histogram)
    lag: Histogram = field(default_factory=Histogram)
    poses_delivered: int = 0
    measuring: int = 0
    poses_sent: int = 0
    ops_sent: int = 0
    bytes_in: int = 0
    reorders: int = 0
    rejects: int = 0
    errors: int = 0
    fragments: int = 0
    first_error: str = ""
    closes: dict[int, int] = field(default_factory=dict)

    def result(self) -> dict[str, Any]:
        return {
            "pose": self.pose.bins, "ack": self.ack.bins, "commit": self.commit.bins,
            "lag": self.lag.bins, "poses_delivered": self.poses_delivered,
            "measuring": self.measuring,
            "poses_sent": self.poses_sent, "ops_sent": self.ops_sent, "bytes_in": self.bytes_in,
            "reorders": self.reorders, "rejects": self.rejects, "errors": self.errors,
            "fragments": self.fragments, "first_error": self.first_error,
            "closes": dict(self.closes),
        }


class Client(asyncio.BufferedProtocol):
    """A raw websocket client with pre-encoded pose frames and marker-scanning receive."""

    def __init__(self, spec: ServerSpec, cs: ClientSpec, rec: Recorder) -> None:
        self.spec, self.cs, self.rec = spec, cs, rec
        self.vr = spec.server == VRCOLLAB
        self.transport: asyncio.Transport | None = None
        self.rbuf = wire.RecvBuffer()
        self.key = b""
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.stopping = False
        self.seq = 0
        self.op_seq = 0
        self.next_op = 0.0
        self.own_sid = b"%05d" % cs.sender
        self.own_tag = b"~%s:%05d:" % (b"Q" if cs.probe else b"P", cs.sender)
        self.last_seq: dict[bytes, int] = {}
        self.awaiting: list[bytes] = []  # marker prefixes of outstanding ops (non-measuring)
        self.lowat = 1
        if self.vr:
            head, tail = pl.vr_pose_parts(cs.sender)
            size = len(head) + pl.MARKER_LEN + len(tail)
            self.pre = wire.frame_header(wire.OP_TEXT, size) + head
            self.mid = b""
        else:
            head, mid, tail = pl.yws_pose_parts(cs.sender)
            size = len(head) + 4 + len(mid) + pl.MARKER_LEN + len(tail)
            self.pre = wire.frame_header(wire.OP_BINARY, size) + head
            self.mid = mid
        self.tail = tail

    # --- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        req, self.key = wire.upgrade_request(self.spec.host, self.spec.port, self.cs.target)
        self.transport.write(req)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.rbuf.free()

    def buffer_updated(self, nbytes: int) -> None:
        rb = self.rbuf
        rb.write += nbytes
        buf = rb.data
        if not self.open:
            try:
                used = wire.parse_upgrade_response(bytes(buf[rb.read : rb.write]), self.key)
            except wire.HandshakeError as exc:
                if not self.upgraded.done():
                    self.upgraded.set_exception(exc)
                return
            if used is None:
                return
            rb.read += used
            self.open = True
            self.upgraded.set_result(None)
            if not self.vr and not self.welcomed.done():
                self.welcomed.set_result(None)
        now = time.time()
        start = rb.read
        end, controls, frags = wire.scan_frames(buf, start, rb.write)
        rb.read = end
        rec = self.rec
        if end > start:
            if self.cs.measure:
                if rec.m0 <= now <= rec.m1:
                    self._measure(buf, start, end, now)
                if self.vr:
                    self._check_vr(buf, start, end)
            else:
                if self.awaiting:
                    self._find_ack(buf, start, end, now)
                if not self.welcomed.done():
                    self._check_vr(buf, start, end)
        if frags:
            rec.fragments += frags
        for op, body in controls:
            if op == wire.OP_PING and self.transport is not None:
                self.transport.write(wire.frame(wire.OP_PONG, body))
            elif op == wire.OP_CLOSE:
                self._closed(wire.close_code(body))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed(1006)
        for fut in (self.upgraded, self.welcomed):
            if not fut.done():
                fut.set_exception(ConnectionError("connection lost during setup"))

    # --- receive path -------------------------------------------------------------------
    def _measure(self, buf: bytearray, start: int, end: int, now: float) -> None:
        rec = self.rec
        rec.bytes_in += end - start
        rec.poses_delivered += (buf.count(b"~P:", start, end) + buf.count(b"~Q:", start, end)
                                - buf.count(self.own_tag, start, end))
        own = self.own_sid
        for kind, sid, seq, t in pl.MARKER_RE.findall(buf, start, end):
            lat = now - float(t)
            if kind == b"Q":
                if sid == own:
                    continue
                rec.pose.add(lat)
                s = int(seq)
                if s <= self.last_seq.get(sid, -1):
                    rec.reorders += 1
                else:
                    self.last_seq[sid] = s
            elif sid == own:
                rec.ack.add(lat)
            else:
                rec.commit.add(lat)

    def _find_ack(self, buf: bytearray, start: int, end: int, now: float) -> None:
        for tag in list(self.awaiting):
            i = buf.find(tag, start, end)
            if i >= 0:
                self.awaiting.remove(tag)
                if self.rec.m0 <= now <= self.rec.m1:
                    j = i + len(tag)
                    self.rec.ack.add(now - float(buf[j : j + 17]))
        if not self.awaiting:
            self.set_lowat(_LOWAT)

    def set_lowat(self, nbytes: int) -> None:
        """``SO_RCVLOWAT``: wake this client only once ``nbytes`` are queued (batched reads)."""
        if nbytes != self.lowat and self.transport is not None and not self.transport.is_closing():
            sock = self.transport.get_extra_info("socket")
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, nbytes)
                self.lowat = nbytes

    def _check_vr(self, buf: bytearray, start: int, end: int) -> None:
        if not self.welcomed.done() and buf.find(b'"type":"welcome"', start, end) >= 0:
            self.welcomed.set_result(None)
        rej = buf.count(b'"type":"reject"', start, end)
        err = buf.count(b'"type":"error"', start, end)
        if rej or err:
            self.rec.rejects += rej
            self.rec.errors += err
            if not self.rec.first_error:
                i = max(buf.find(b'"type":"reject"', start, end),
                        buf.find(b'"type":"error"', start, end))
                self.rec.first_error = bytes(buf[i : i + 200]).decode("utf-8", "replace")

    def _closed(self, code: int) -> None:
        if self.open and not self.stopping:
            self.rec.closes[code] = self.rec.closes.get(code, 0) + 1
        self.open = False
        if self.transport is not None:
            self.transport.close()

    # --- send path ----------------------------------------------------------------------
    def send_pose(self, now: float) -> None:
        seq = self.seq
        self.seq = seq + 1
        mark = self.own_tag + b"%09d:%.6f" % (seq, now)
        assert self.transport is not None
        if self.vr:
            self.transport.write(self.pre + mark + self.tail)
        else:
            self.transport.write(self.pre + pl.awareness_clock(seq) + self.mid + mark + self.tail)

    def send_op(self, now: float) -> None:
        seq = self.op_seq
        self.op_seq = seq + 1
        assert self.transport is not None
        if not self.cs.measure:
            self.awaiting.append(b"~O:%05d:%09d:" % (self.cs.sender, seq))
            self.set_lowat(1)
        if self.vr:
            self.transport.write(wire.frame(wire.OP_TEXT, pl.vr_op(self.cs.sender, seq, now)))
        else:
            self.transport.write(wire.frame(wire.OP_BINARY, pl.yws_op(self.cs.sender, seq, now)))

    def send_hello(self) -> None:
        assert self.transport is not None
        hello = pl.vr_hello(f"bench-{self.cs.sender:05d}", f"bot {self.cs.sender}")
        self.transport.write(wire.frame(wire.OP_TEXT, hello))

    def close(self) -> None:
        self.stopping = True
        if self.transport is not None and not self.transport.is_closing():
            if self.open:
                self.transport.write(wire.frame(wire.OP_CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()


@dataclass(frozen=True)
class ServerSpec:
    server: str
    host: str
    port: int


async def _connect(spec: ServerSpec, cs: ClientSpec, rec: Recorder, timeout: float) -> Client:
    loop = asyncio.get_running_loop()
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: Client(spec, cs, rec), spec.host, spec.port), timeout)
    await asyncio.wait_for(proto.upgraded, timeout)
    if proto.vr:
        proto.send_hello()
    await asyncio.wait_for(proto.welcomed, timeout)
    return proto


async def _drive(clients: list[Client], sched: Schedule, rec: Recorder, cfg: WorkerConfig) -> None:
    period = 1.0 / cfg.pose_hz
    heap: list[tuple[float, int]] = []
    for i, c in enumerate(clients):
        rng = random.Random(c.cs.sender)
        heap.append((sched.start + period * rng.random(), i))
        c.next_op = sched.start + cfg.op_interval_s * rng.random()
    heapq.heapify(heap)
    while heap:
        now = time.time()
        if now >= sched.m1:
            return
        in_window = sched.m0 <= now <= sched.m1
        horizon = now + _SLOT_S
        while heap[0][0] <= horizon:
            due, i = heapq.heappop(heap)
            c = clients[i]
            if c.open:
                t = time.time()
                c.send_pose(t)
                if in_window:
                    rec.poses_sent += 1
                    rec.lag.add(t - due)  # negative (sent up to one slot early) -> bin 0
                if t >= c.next_op:
                    c.send_op(t)
                    c.next_op += cfg.op_interval_s
                    if in_window:
                        rec.ops_sent += 1
                nxt = due + period
                heapq.heappush(heap, (nxt if nxt > now else now + period, i))
            if not heap:
                return
        await asyncio.sleep(max(_SLOT_S, heap[0][0] - time.time()))


async def _main(cfg: WorkerConfig, ready_q: Any, go_q: Any, result_q: Any, index: int) -> None:
    spec = ServerSpec(cfg.server, cfg.host, cfg.port)
    rec = Recorder()
    sem = asyncio.Semaphore(16)

    async def one(cs: ClientSpec) -> Client | BaseException:
        async with sem:
            try:
                return await _connect(spec, cs, rec, cfg.connect_timeout_s)
            except (OSError, TimeoutError, wire.HandshakeError, ConnectionError) as exc:
                return exc

    got = await asyncio.gather(*(one(cs) for cs in cfg.clients))
    clients = [c for c in got if isinstance(c, Client)]
    rec.measuring = sum(1 for c in clients if c.cs.measure)
    errors = sorted({f"{type(e).__name__}: {e}" for e in got if not isinstance(e, Client)})
    ready_q.put(("ready", index, len(clients), errors))
    loop = asyncio.get_running_loop()
    try:
        msg = await loop.run_in_executor(None, go_q.get, True, cfg.max_lifetime_s)
    except queue.Empty:
        msg = None
    if msg is None or not clients:
        for c in clients:
            c.close()
        result_q.put(("result", index, rec.result()))
        return
    sched = Schedule(*msg)
    rec.m0, rec.m1 = sched.m0, sched.m1
    for c in clients:
        if not c.cs.measure:
            c.set_lowat(_LOWAT)
    await _drive(clients, sched, rec, cfg)
    await asyncio.sleep(max(0.0, sched.stop - time.time()))
    for c in clients:
        c.close()
    await asyncio.sleep(0.05)
    result_q.put(("result", index, rec.result()))


def die_with_parent(sig: int) -> None:
    """Linux ``PR_SET_PDEATHSIG``: get ``sig`` when the parent (the benchmark) dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)


def prioritize(nice: int) -> None:
    """Run at scheduling priority ``nice`` even where the kernel groups tasks per session.

    With ``sched_autogroup`` a plain ``nice`` only ranks tasks within one session, so a shared
    machine's other sessions still take their fair share of the pinned core; the process gets
    a session (autogroup) of its own and that group gets ``nice``. Best effort (needs root for
    negative values).
    """
    if not nice:
        return
    with contextlib.suppress(OSError):
        os.setsid()
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as f:
        f.write(str(nice))
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, nice)


def run_worker(cfg: WorkerConfig, ready_q: Any, go_q: Any, result_q: Any, index: int) -> None:
    """Process entry point (multiprocessing target)."""
    die_with_parent(signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    if cfg.cores:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, set(cfg.cores))
    prioritize(cfg.nice)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run

    async def bounded() -> None:
        await asyncio.wait_for(_main(cfg, ready_q, go_q, result_q, index), cfg.max_lifetime_s)

    runner(bounded())
