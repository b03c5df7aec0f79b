"""Per-connection protocol rules as a pure state machine (websockets-style: frames in, events
out; the shell does the socket I/O and passes the time in).

A :class:`Session` enforces hello-first and its timeout, the protocol version (R5), the message
size limit (R3, 1009), the per-connection token bucket (R3, 4429), the malformed-input counter
(R15, 4400) and answers pings (R14). What it returns, in order:

- :class:`Joined`: a valid hello arrived; the shell admits the session to its room;
- :class:`Deliver`: a decoded message for the room (pose, op, invalid op, command);
- :class:`Reply`: a message to send back on this connection only (error, pong);
- :class:`Closing`: close the connection with this code (the session accepts nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from vrcollab.errors import ProtocolError
from vrcollab.sync.closes import Close
from vrcollab.sync.codec import Limits, decode_client
from vrcollab.sync.fields import DEFAULT_LIMITS
from vrcollab.sync.messages import (
    PROTOCOL_VERSION,
    ClientMessage,
    ErrorMsg,
    Hello,
    Ping,
    Pong,
    ServerMessage,
)

#: R15: after this many malformed messages in one session the server closes with 4400.
MAX_MALFORMED = 10


class TokenBucket:
    """Rate limit: ``rate`` tokens/s, at most ``burst`` saved up."""

    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.last = float(burst), now

    def take(self, now: float) -> bool:
        """Spend one token; False when the bucket is empty."""
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """The limits one session enforces (from the server settings)."""

    max_message_bytes: int = 1024 * 1024
    hello_timeout_s: float = 10.0
    rate_per_second: float = 200.0
    rate_burst: int = 400
    max_malformed: int = MAX_MALFORMED
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class Joined:
    """The hello was valid (right version): admit the session."""

    hello: Hello


@dataclass(frozen=True, slots=True)
class Deliver:
    """A valid message for the room (``Pose``, ``Op``, ``InvalidOp`` or ``Cmd``)."""

    msg: ClientMessage


@dataclass(frozen=True, slots=True)
class Reply:
    """Send this to the peer (an ``error`` or a ``pong``)."""

    msg: ServerMessage


@dataclass(frozen=True, slots=True)
class Closing:
    """Close the connection with ``code``; nothing more is accepted."""

    code: Close
    reason: str


Event = Joined | Deliver | Reply | Closing


class Phase(Enum):
    """Where a session stands."""

    HELLO = "hello"  # waiting for the first message
    OPEN = "open"
    CLOSED = "closed"


class Session:
    """One connection's protocol state. ``now`` is a monotonic clock in seconds; ``wall`` the
    server's wall-clock time (only for ``pong.server_t``)."""

    def __init__(self, config: SessionConfig, now: float) -> None:
        self.config = config
        self.phase = Phase.HELLO
        self.hello_deadline = now + config.hello_timeout_s
        self.bucket = TokenBucket(config.rate_per_second, config.rate_burst, now)
        self.malformed = 0

    def _close(self, code: Close, reason: str) -> list[Event]:
        self.phase = Phase.CLOSED
        return [Closing(code, reason[:120])]

    def hello_timeout(self) -> list[Event]:
        """No hello arrived in time (or the peer went away first, or sent a binary hello)."""
        if self.phase is not Phase.HELLO:
            return []
        return self._close(Close.PROTOCOL, "expected hello")

    def tick(self, now: float) -> list[Event]:
        """Time passed: the hello deadline (R5)."""
        if self.phase is Phase.HELLO and now >= self.hello_deadline:
            return self.hello_timeout()
        return []

    def _too_big(self, frame: str | bytes) -> bool:
        limit = self.config.max_message_bytes
        if isinstance(frame, bytes):
            return len(frame) > limit
        return len(frame) > limit and len(frame.encode("utf-8", "surrogatepass")) > limit

    def receive(self, frame: str | bytes, now: float, wall: float = 0.0) -> list[Event]:
        """One frame from the peer: text (``str``) or binary (``bytes``)."""
        if self.phase is Phase.CLOSED:
            return []
        if self.phase is Phase.HELLO:
            return self._hello(frame)
        if self._too_big(frame):
            return self._close(Close.TOO_BIG, "message too big")
        if not self.bucket.take(now):
            return self._close(Close.RATE, "rate limit exceeded")
        try:
            if isinstance(frame, bytes):
                raise ProtocolError("text frames only", code="bad_message")
            msg = decode_client(frame, self.config.limits)
        except ProtocolError as exc:
            return self._malformed(exc.code, str(exc))
        if isinstance(msg, Ping):
            return [Reply(Pong(msg.t, wall))]
        if isinstance(msg, Hello):
            return self._malformed("bad_message", "hello was already sent")
        return [Deliver(msg)]

    def _malformed(self, code: str, reason: str) -> list[Event]:
        self.malformed += 1
        out: list[Event] = [Reply(ErrorMsg(code, reason))]
        if self.malformed >= self.config.max_malformed:
            out += self._close(Close.PROTOCOL, "too many malformed messages")
        return out

    def _hello(self, frame: str | bytes) -> list[Event]:
        if isinstance(frame, bytes):
            return self.hello_timeout()
        if self._too_big(frame):
            return self._close(Close.TOO_BIG, "message too big")
        try:
            msg = decode_client(frame, self.config.limits)
        except ProtocolError as exc:
            return self._close(Close.PROTOCOL, f"bad hello: {exc}")
        if not isinstance(msg, Hello):
            return self._close(Close.PROTOCOL, "first message must be hello")
        if msg.v != PROTOCOL_VERSION:
            return self._close(Close.VERSION, f"server speaks v{PROTOCOL_VERSION}")
        self.phase = Phase.OPEN
        return [Joined(msg)]
