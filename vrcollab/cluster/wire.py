"""What edges forward to a room's owner: decoded client messages as plain JSON, and back.

The edge process already ran the codec on the client's frame (``vrcollab.sync.codec``), so these
are trusted, validated values inside the cluster (Redis is inside the trust boundary, like the
database): the owner rebuilds the same frozen dataclasses without parsing the frame again.
"""

from __future__ import annotations

import json
from typing import Any

from vrcollab.sync.messages import Cmd, Hello, InvalidOp, Op, Pose
from vrcollab.sync.presence import PoseFrame
from vrcollab.voice.signal import (
    VoiceHostMute,
    VoiceJoin,
    VoiceLeave,
    VoiceMessage,
    VoiceMute,
    VoiceRefresh,
    VoiceSignal,
    decode_voice,
)


def hello_json(h: Hello) -> str:
    """A hello as JSON."""
    return json.dumps({"v": h.v, "client_id": h.client_id, "last_seq": h.last_seq,
                       "name": h.name, "color": h.color, "device": h.device})


def hello_from(text: str) -> Hello:
    """The hello back."""
    o = json.loads(text)
    return Hello(int(o["v"]), o["client_id"], o["last_seq"], o["name"], o["color"], o["device"])


def op_json(op: Op | InvalidOp) -> str:
    """An op (or an op that failed validation on the edge) as JSON."""
    if isinstance(op, InvalidOp):
        return json.dumps({"bad": 1, "op_id": op.op_id, "code": op.code, "reason": op.reason})
    return json.dumps({"op_id": op.op_id, "kind": op.kind, "fields": dict(op.fields)})


def op_from(text: str) -> Op | InvalidOp:
    """The op back."""
    o = json.loads(text)
    if o.get("bad"):
        return InvalidOp(o["op_id"], o["code"], o["reason"])
    return Op(o["op_id"], o["kind"], o["fields"])


def server_op_from(text: str) -> Op:
    """A server-authored op back (never an invalid one)."""
    op = op_from(text)
    if isinstance(op, InvalidOp):
        raise ValueError("a server op cannot be invalid")
    return op


def cmd_json(cmd: Cmd) -> str:
    """A room command as JSON."""
    view = dict(cmd.view) if cmd.view is not None else None
    return json.dumps({"name": cmd.name, "session_id": cmd.session_id, "view": view})


def cmd_from(text: str) -> Cmd:
    """The command back."""
    o = json.loads(text)
    return Cmd(o["name"], o.get("session_id"), o.get("view"))


def voice_json(msg: VoiceMessage) -> str:
    """A decoded ``voice.*`` client message as its wire JSON again (docs/voice.md)."""
    o: dict[str, Any]
    if isinstance(msg, VoiceJoin):
        o = {"type": "voice.join", "muted": msg.muted}
    elif isinstance(msg, VoiceLeave):
        o = {"type": "voice.leave"}
    elif isinstance(msg, VoiceRefresh):
        o = {"type": "voice.refresh"}
    elif isinstance(msg, VoiceMute):
        o = {"type": "voice.mute", "muted": msg.muted}
    elif isinstance(msg, VoiceHostMute):
        o = {"type": "voice.host_mute", "session_id": msg.session_id}
    elif isinstance(msg, VoiceSignal):
        o = {"type": "voice.signal", "to": msg.to, "kind": msg.kind}
        if msg.kind == "candidate":
            o["candidate"] = None if msg.candidate is None else dict(msg.candidate)
        else:
            o["sdp"] = msg.sdp
    else:
        raise TypeError(f"not a voice message: {type(msg).__name__}")
    return json.dumps(o)


def voice_from(text: str) -> VoiceMessage:
    """The voice message back (through the voice decoder: the same checks as on the edge)."""
    return decode_voice(json.loads(text))


def poses_json(poses: dict[str, Pose]) -> str:
    """Latest poses of an edge's sessions, one message per room and tick."""
    return json.dumps({sid: dict(p.data) for sid, p in poses.items()})


def poses_from(text: str | bytes) -> dict[str, Pose]:
    """The poses back."""
    o: dict[str, Any] = json.loads(text)
    return {sid: Pose(data) for sid, data in o.items()}


def pose_frame(frame: PoseFrame) -> str:
    """The owner's shared pose frame of one tick for the edges: ``t``, the delta frame and the
    full frame, one a line (compact JSON holds no newline), so edges never re-encode."""
    return "\n".join([repr(frame.t), frame.delta, frame.full()])


class RelayedPoseFrame(PoseFrame):
    """An owner's :class:`PoseFrame` rebuilt on an edge from its encoded texts."""

    __slots__ = ()

    def __init__(self, t: float, delta: str, full: str) -> None:
        self.t = t
        self.delta = delta
        self.dropped = ()
        self._fragments = {}
        self._full = full


def pose_frame_from(text: str) -> RelayedPoseFrame:
    """The frame back."""
    t, delta, full = text.split("\n", 2)
    return RelayedPoseFrame(float(t), delta, full)
