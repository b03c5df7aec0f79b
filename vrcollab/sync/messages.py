"""Typed protocol messages (frozen dataclasses), one per message type of ``docs/protocol.md``.

Client messages are produced only by :mod:`vrcollab.sync.codec` after validation, so their
payloads (``fields``, ``data``) are already normalised plain JSON values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vrcollab.voice.signal import VOICE_SERVER_TYPES, VOICE_TYPES, VoiceMessage

PROTOCOL_VERSION = 1

Role = Literal["owner", "editor", "reviewer", "viewer"]
ROLES: tuple[str, ...] = ("viewer", "reviewer", "editor", "owner")
DEVICES: tuple[str, ...] = ("desktop", "vr", "ar", "phone")
STATUSES: tuple[str, ...] = ("open", "in_progress", "resolved", "closed")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "critical")
UNITS: tuple[str, ...] = ("m", "mm", "cm", "ft", "in")
#: Message ``type`` values of each direction (the web client's list is generated from these).
#: Voice signalling (R25-R28) adds its ``voice.*`` types (vrcollab/voice/signal.py).
CLIENT_TYPES: tuple[str, ...] = ("hello", "op", "pose", "cmd", "ping", *VOICE_TYPES)
SERVER_TYPES: tuple[str, ...] = ("welcome", "welcome_part", "ack", "reject", "commit",
                                 "presence", "poses", "gather", "view", "pong", "error",
                                 *VOICE_SERVER_TYPES)


def role_at_least(role: str, minimum: str) -> bool:
    """True when ``role`` ranks at or above ``minimum`` (owner > editor > reviewer > viewer)."""
    return ROLES.index(role) >= ROLES.index(minimum)


# --- client -> server ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello:
    """First message of a session (R5)."""

    v: int
    client_id: str
    last_seq: int | None
    name: str
    color: str
    device: str


@dataclass(frozen=True, slots=True)
class Ping:
    """Liveness probe (R14)."""

    t: float | int | None


@dataclass(frozen=True, slots=True)
class Pose:
    """Latest head/hands/laser pose of a session (R12); ``data`` is the validated JSON object."""

    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Cmd:
    """Room command (R13): ``gather``, ``follow`` or ``view`` (R23: the sender's view state)."""

    name: str
    session_id: str | None = None
    view: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Op:
    """A validated durable op (R7); ``fields`` holds the kind-specific fields."""

    op_id: str
    kind: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class InvalidOp:
    """An op whose ``op_id`` was readable but whose body was not: answered with ``reject``."""

    op_id: str
    code: str
    reason: str


# Voice signalling (R25-R28): its messages and rules live in vrcollab/voice/signal.py (pure).
ClientMessage = Hello | Ping | Pose | Cmd | Op | InvalidOp | VoiceMessage


# --- server -> client ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commit:
    """A committed op: server-assigned ``seq``, author and time, plus the fields as applied."""

    seq: int
    op_id: str
    kind: str
    author: str
    t: float
    fields: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The commit object of R8."""
        return {
            "seq": self.seq,
            "op_id": self.op_id,
            "kind": self.kind,
            "author": self.author,
            "t": self.t,
            **self.fields,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Commit:
        """Inverse of :meth:`to_json` (for trusted data: the store and the server's own output)."""
        base = {"seq", "op_id", "kind", "author", "t", "type"}
        return cls(
            seq=int(obj["seq"]),
            op_id=str(obj["op_id"]),
            kind=str(obj["kind"]),
            author=str(obj["author"]),
            t=float(obj["t"]),
            fields={k: v for k, v in obj.items() if k not in base},
        )


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    """One session's presence (R11)."""

    session_id: str
    user_id: str
    name: str
    color: str
    role: str
    device: str
    following: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form of the entry."""
        return {
            "session_id": self.session_id,
            "user_id": self.user_id,
            "name": self.name,
            "color": self.color,
            "role": self.role,
            "device": self.device,
            "following": self.following,
        }


@dataclass(frozen=True, slots=True)
class Welcome:
    """Answer to ``hello`` (R6)."""

    session_id: str
    user: Mapping[str, Any]
    room: Mapping[str, Any]
    seq: int
    snapshot: Mapping[str, Any] | None
    ops: tuple[Commit, ...] | None
    presence: tuple[PresenceEntry, ...]
    tick_hz: float
    heartbeat_s: float


@dataclass(frozen=True, slots=True)
class Ack:
    """The op was committed (or had been committed before: same ``seq``)."""

    op_id: str
    seq: int
    commit: Commit | None


@dataclass(frozen=True, slots=True)
class Reject:
    """The op was refused; ``code`` is one of the documented reject codes."""

    op_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommitMsg:
    """Broadcast of a commit to the other sessions."""

    commit: Commit


@dataclass(frozen=True, slots=True)
class PresenceMsg:
    """A presence change of another session."""

    event: Literal["join", "leave", "update"]
    entry: PresenceEntry


@dataclass(frozen=True, slots=True)
class Gather:
    """Room command ``gather`` as received by the others."""

    from_session: str
    pose: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class SharedView:
    """Room command ``view`` as received by the others (R23): someone showed their view."""

    from_session: str
    view: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Pong:
    """Answer to ``ping``."""

    t: float | int | None
    server_t: float


@dataclass(frozen=True, slots=True)
class ErrorMsg:
    """A malformed non-op message (R15)."""

    code: str
    reason: str


ServerMessage = (
    Welcome | Ack | Reject | CommitMsg | PresenceMsg | Gather | SharedView | Pong | ErrorMsg
)


@dataclass(frozen=True, slots=True)
class Send:
    """One outbox entry: ``to`` a session, or to every session except ``exclude`` when ``to``
    is None."""

    msg: ServerMessage
    to: str | None = None
    exclude: str | None = None


@dataclass(slots=True)
class Outbox:
    """Messages a step of the room produced, in order, plus the commit to persist (if any)."""

    sends: list[Send] = field(default_factory=list)
    commit: Commit | None = None

    def unicast(self, to: str, msg: ServerMessage) -> None:
        """Queue ``msg`` for one session."""
        self.sends.append(Send(msg, to=to))

    def broadcast(self, msg: ServerMessage, exclude: str | None = None) -> None:
        """Queue ``msg`` for every session except ``exclude``."""
        self.sends.append(Send(msg, exclude=exclude))
