"""Voice signalling in a room (docs/voice.md, protocol R25-R28): pure, no I/O.

Clients send ``voice.*`` messages over the room websocket; :func:`decode_voice` validates them
(the codec hands every ``voice.*`` frame here) and :class:`VoiceRoom` decides who hears what:
who is in voice, who may speak (role and the viewers policy), who is muted, and which signalling
messages are relayed to which single peer. Media never passes through here: offers, answers and
ICE candidates are opaque strings relayed peer to peer, except that an SDP from a session that
may not speak must not send audio (``publish_forbidden``).
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vrcollab.errors import ProtocolError

VOICE_TYPES = ("voice.join", "voice.leave", "voice.signal", "voice.mute", "voice.host_mute",
               "voice.refresh")
VOICE_SERVER_TYPES = ("voice.welcome", "voice.joined", "voice.left", "voice.signal",
                      "voice.muted", "voice.error")
#: ``code`` of a ``voice.error`` (R25).
VOICE_ERROR_CODES = ("not_in_voice", "no_such_peer", "publish_forbidden", "forbidden",
                     "rate_limited", "voice_full", "bad_transport", "sfu_unavailable")
SIGNAL_KINDS = ("offer", "answer", "candidate")
MAX_SDP_CHARS = 16_000
MAX_CANDIDATE_CHARS = 1_000
MAX_ID_CHARS = 200

#: Voice messages per session and second (and burst) before ``voice.error`` ``rate_limited``;
#: on top of the connection's own bucket (R3), which every message spends.
VOICE_RATE_PER_S = 20.0
VOICE_BURST = 120

# a=sendrecv / a=sendonly in an audio m-section means the SDP's author sends audio
_M_LINE = re.compile(r"^m=(\w+) ", re.MULTILINE)
_DIRECTION = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class VoiceJoin:
    """Join the room's voice (R25); ``muted`` false asks to speak at once."""

    muted: bool


@dataclass(frozen=True, slots=True)
class VoiceLeave:
    """Leave the room's voice."""


@dataclass(frozen=True, slots=True)
class VoiceRefresh:
    """Ask for fresh transport credentials (Janus tokens expire; docs/voice.md "Janus")."""


@dataclass(frozen=True, slots=True)
class VoiceSignal:
    """An offer, answer or ICE candidate for one peer (mesh, R26)."""

    to: str
    kind: Literal["offer", "answer", "candidate"]
    sdp: str | None
    candidate: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class VoiceMute:
    """The sender's own mute state."""

    muted: bool


@dataclass(frozen=True, slots=True)
class VoiceHostMute:
    """A host (editor or owner) mutes one session, or everyone else with ``"*"`` (R28)."""

    session_id: str


VoiceMessage = VoiceJoin | VoiceLeave | VoiceRefresh | VoiceSignal | VoiceMute | VoiceHostMute


def _bad(reason: str, code: str = "bad_message") -> ProtocolError:
    return ProtocolError(reason, code=code)


def _only(obj: Mapping[str, Any], allowed: set[str]) -> None:
    extra = set(obj) - allowed - {"type"}
    if extra:
        raise _bad(f"{obj.get('type')}: unknown field(s) {', '.join(sorted(map(str, extra)))}")


def _sid(v: Any, name: str) -> str:
    if type(v) is not str or not 0 < len(v) <= MAX_ID_CHARS:
        raise _bad(f"{name} must be a session id")
    return v


def _bool(v: Any, name: str) -> bool:
    if type(v) is not bool:
        raise _bad(f"{name} must be true or false")
    return v


def _candidate(v: Any) -> dict[str, Any] | None:
    """An RTCIceCandidateInit: ``candidate`` str, ``sdpMid`` str|null, ``sdpMLineIndex``
    int|null (null as a whole: end of candidates)."""
    if v is None:
        return None
    if type(v) is not dict:
        raise _bad("candidate must be an object or null")
    if set(v) - {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}:
        raise _bad("candidate has unknown fields")
    cand, mid, idx, ufrag = (v.get("candidate", ""), v.get("sdpMid"), v.get("sdpMLineIndex"),
                             v.get("usernameFragment"))
    if type(cand) is not str or len(cand) > MAX_CANDIDATE_CHARS:
        raise _bad("candidate.candidate must be a string", "too_large" if type(cand) is str
                   else "bad_message")
    if mid is not None and (type(mid) is not str or len(mid) > 64):
        raise _bad("candidate.sdpMid must be a short string or null")
    if idx is not None and (type(idx) is not int or not 0 <= idx < 64):
        raise _bad("candidate.sdpMLineIndex must be a small integer or null")
    if ufrag is not None and (type(ufrag) is not str or len(ufrag) > 256):
        raise _bad("candidate.usernameFragment must be a short string or null")
    return {"candidate": cand, "sdpMid": mid, "sdpMLineIndex": idx, "usernameFragment": ufrag}


def decode_voice(obj: Mapping[str, Any]) -> VoiceMessage:
    """Validate one ``voice.*`` client message (already parsed, strings checked by the codec);
    raises ProtocolError (``bad_message``, ``too_large``, ``unknown_type``)."""
    mtype = obj.get("type")
    if mtype == "voice.join":
        _only(obj, {"muted"})
        return VoiceJoin(_bool(obj.get("muted", False), "muted"))
    if mtype == "voice.leave":
        _only(obj, set())
        return VoiceLeave()
    if mtype == "voice.refresh":
        _only(obj, set())
        return VoiceRefresh()
    if mtype == "voice.mute":
        _only(obj, {"muted"})
        return VoiceMute(_bool(obj.get("muted"), "muted"))
    if mtype == "voice.host_mute":
        _only(obj, {"session_id"})
        return VoiceHostMute(_sid(obj.get("session_id"), "session_id"))
    if mtype == "voice.signal":
        _only(obj, {"to", "kind", "sdp", "candidate"})
        kind = obj.get("kind")
        if kind not in SIGNAL_KINDS:
            raise _bad(f"voice.signal kind must be one of {', '.join(SIGNAL_KINDS)}")
        sdp, cand = obj.get("sdp"), obj.get("candidate")
        if kind == "candidate":
            if sdp is not None:
                raise _bad("a candidate carries no sdp")
            return VoiceSignal(_sid(obj.get("to"), "to"), "candidate", None, _candidate(cand))
        if type(sdp) is not str or not sdp.startswith("v=0"):
            raise _bad(f"voice.signal {kind} needs an sdp string")
        if len(sdp) > MAX_SDP_CHARS:
            raise _bad(f"sdp is longer than {MAX_SDP_CHARS} characters", "too_large")
        if cand is not None:
            raise _bad(f"an {kind} carries no candidate")
        return VoiceSignal(_sid(obj.get("to"), "to"), kind, sdp, None)
    raise _bad(f"unknown message type {mtype!r}", "unknown_type")


def sends_audio(sdp: str) -> bool:
    """True when the SDP's author offers or answers to *send* audio (an audio m-section that is
    sendrecv or sendonly; a section without a direction attribute defaults to sendrecv)."""
    sections = [m.start() for m in _M_LINE.finditer(sdp)] + [len(sdp)]
    for start, end in itertools.pairwise(sections):
        section = sdp[start:end]
        if not section.startswith("m=audio "):
            continue
        if section.split(" ", 2)[1] == "0":  # port 0: rejected section
            continue
        found = _DIRECTION.search(section)
        if found is None or found.group(1) in ("sendrecv", "sendonly"):
            return True
    return False


# --- the room's voice state ----------------------------------------------------------------

#: Who may speak: owner, editor and reviewer always; a viewer only when the policy allows.
SPEAKING_ROLES = ("owner", "editor", "reviewer")
HOST_ROLES = ("owner", "editor")


@dataclass(frozen=True, slots=True)
class VoicePolicy:
    """The voice settings a room runs with."""

    mode: Literal["mesh", "janus"] = "mesh"
    viewers_may_speak: bool = False
    max_mesh_peers: int = 6
    ice_servers: tuple[Mapping[str, Any], ...] = ()


@dataclass(slots=True)
class VoicePeer:
    """One session in voice."""

    session_id: str
    user_id: str
    role: str
    can_speak: bool
    muted: bool
    feed: int | None = None  # Janus mode: the VideoRoom feed id this session publishes as
    tokens: float = float(VOICE_BURST)
    last: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The peer as others see it."""
        out: dict[str, Any] = {"session_id": self.session_id, "user_id": self.user_id,
                               "can_speak": self.can_speak, "muted": self.muted}
        if self.feed is not None:
            out["feed"] = self.feed
        return out


@dataclass(frozen=True, slots=True)
class VoiceSend:
    """One outgoing voice message: to a session, or to every room session except ``exclude``
    when ``to`` is None. ``janus`` marks a welcome whose transport credentials the server
    still has to add (``{"publish": bool}``)."""

    msg: dict[str, Any]
    to: str | None = None
    exclude: str | None = None
    janus: Mapping[str, Any] | None = None


@dataclass(slots=True)
class VoiceOut:
    """What one step of :class:`VoiceRoom` produced."""

    sends: list[VoiceSend] = field(default_factory=list)
    left: str | None = None  # a session that left voice (the transport forgets it)

    def to(self, sid: str, msg: dict[str, Any]) -> None:
        """Queue ``msg`` for one session."""
        self.sends.append(VoiceSend(msg, to=sid))

    def all(self, msg: dict[str, Any], exclude: str | None = None) -> None:
        """Queue ``msg`` for every session of the room except ``exclude``."""
        self.sends.append(VoiceSend(msg, exclude=exclude))

    def error(self, sid: str, code: str, reason: str) -> None:
        """A typed voice error for one session (R25)."""
        self.to(sid, {"type": "voice.error", "code": code, "reason": reason})


class VoiceRoom:
    """The voice state of one room: peers, mute state and relays. Time is passed in."""

    def __init__(self, policy: VoicePolicy) -> None:
        self.policy = policy
        self.peers: dict[str, VoicePeer] = {}

    def may_speak(self, role: str) -> bool:
        """Whether a member of ``role`` may publish audio in this room."""
        return role in SPEAKING_ROLES or (role == "viewer" and self.policy.viewers_may_speak)

    def _spend(self, peer: VoicePeer, now: float) -> bool:
        peer.tokens = min(float(VOICE_BURST), peer.tokens + (now - peer.last) * VOICE_RATE_PER_S)
        peer.last = now
        if peer.tokens < 1.0:
            return False
        peer.tokens -= 1.0
        return True

    def handle(self, sid: str, user_id: str, role: str, msg: VoiceMessage,
               now: float) -> VoiceOut:
        """Apply one voice message of session ``sid`` (a member of the room with ``role``)."""
        out = VoiceOut()
        peer = self.peers.get(sid)
        if isinstance(msg, VoiceJoin):
            return self._join(sid, user_id, role, msg.muted, now)
        if peer is None:
            out.error(sid, "not_in_voice", "send voice.join first")
            return out
        if not self._spend(peer, now):
            out.error(sid, "rate_limited", "too many voice messages")
            return out
        if isinstance(msg, VoiceLeave):
            return self.leave(sid)
        if isinstance(msg, VoiceRefresh):
            if self.policy.mode == "janus":
                out.sends.append(VoiceSend(self.welcome(peer, refresh=True), to=sid,
                                           janus={"publish": peer.can_speak}))
            return out
        if isinstance(msg, VoiceMute):
            if not msg.muted and not peer.can_speak:
                out.error(sid, "publish_forbidden", "viewers may not speak in this project")
                return out
            if peer.muted != msg.muted:
                peer.muted = msg.muted
                out.all({"type": "voice.muted", "session_id": sid, "muted": msg.muted,
                         "by": None})
            return out
        if isinstance(msg, VoiceHostMute):
            if role not in HOST_ROLES:
                out.error(sid, "forbidden", "muting others needs editor or owner")
                return out
            targets = ([p for s, p in self.peers.items() if s != sid]
                       if msg.session_id == "*" else
                       [p for p in (self.peers.get(msg.session_id),) if p is not None])
            if not targets and msg.session_id != "*":
                out.error(sid, "no_such_peer", "that session is not in voice")
            for p in targets:
                if not p.muted:
                    p.muted = True
                    out.all({"type": "voice.muted", "session_id": p.session_id, "muted": True,
                             "by": sid})
            return out
        # VoiceSignal
        target = self.peers.get(msg.to)
        if self.policy.mode != "mesh":
            out.error(sid, "bad_transport", "this room's voice runs through the SFU")
        elif target is None or msg.to == sid:
            out.error(sid, "no_such_peer", "that session is not in this room's voice")
        elif msg.sdp is not None and not peer.can_speak and sends_audio(msg.sdp):
            out.error(sid, "publish_forbidden",
                      "viewers may not speak in this project (send recvonly)")
        else:
            relay: dict[str, Any] = {"type": "voice.signal", "from": sid, "kind": msg.kind}
            if msg.sdp is not None:
                relay["sdp"] = msg.sdp
            else:
                relay["candidate"] = None if msg.candidate is None else dict(msg.candidate)
            out.to(msg.to, relay)
        return out

    def welcome(self, peer: VoicePeer, *, refresh: bool = False) -> dict[str, Any]:
        return {"type": "voice.welcome", "mode": self.policy.mode,
                "session_id": peer.session_id, "can_speak": peer.can_speak,
                "muted": peer.muted, "refresh": refresh,
                "ice_servers": [dict(s) for s in self.policy.ice_servers],
                "peers": [p.to_json() for s, p in self.peers.items() if s != peer.session_id],
                "janus": None}

    def _join(self, sid: str, user_id: str, role: str, muted: bool, now: float) -> VoiceOut:
        out = VoiceOut()
        can_speak = self.may_speak(role)
        if sid in self.peers:  # a second join (reconnect race): leave first, join again
            out.sends.extend(self.leave(sid).sends)
        if self.policy.mode == "mesh" and len(self.peers) >= self.policy.max_mesh_peers:
            out.error(sid, "voice_full",
                      f"peer-to-peer voice holds {self.policy.max_mesh_peers} people; "
                      "ask the admin to run the SFU (VRCOLLAB_VOICE=janus)")
            return out
        if not muted and not can_speak:
            out.error(sid, "publish_forbidden", "viewers may not speak in this project; "
                      "joined to listen")
            muted = True
        feed = secrets.randbelow(2**52) + 1 if self.policy.mode == "janus" else None
        peer = VoicePeer(sid, user_id, role, can_speak, muted, feed=feed, last=now)
        self.peers[sid] = peer
        out.sends.append(VoiceSend(self.welcome(peer), to=sid,
                                   janus={"publish": can_speak}
                                   if self.policy.mode == "janus" else None))
        out.all({"type": "voice.joined", "peer": peer.to_json()}, exclude=sid)
        return out

    def set_viewers_may_speak(self, allowed: bool, now: float) -> VoiceOut:
        """The project's "viewers may speak" setting changed (R27): viewers in voice whose
        right changes are joined again by the server (muted; the others get ``voice.left``
        and ``voice.joined``, the viewer a fresh ``voice.welcome`` with the new
        ``can_speak``). Refused at once when turned off, whatever the viewer's client does."""
        out = VoiceOut()
        if allowed == self.policy.viewers_may_speak:
            return out
        self.policy = replace(self.policy, viewers_may_speak=allowed)
        for sid, peer in list(self.peers.items()):
            if peer.role == "viewer" and peer.can_speak != allowed:
                out.sends.extend(self._join(sid, peer.user_id, peer.role, True, now).sends)
        return out

    def leave(self, sid: str) -> VoiceOut:
        """The session left voice, or the room (close, timeout, removal): silent at once."""
        out = VoiceOut()
        if self.peers.pop(sid, None) is not None:
            out.all({"type": "voice.left", "session_id": sid}, exclude=sid)
            out.left = sid
        return out
