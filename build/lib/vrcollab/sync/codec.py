"""The only parser of the sync protocol: text frames <-> typed messages.

``decode_client`` turns one client frame into a :mod:`~vrcollab.sync.messages` object or raises
:class:`~vrcollab.errors.ProtocolError` (``code`` says why). An op whose ``op_id`` is readable
but whose body is bad becomes an :class:`InvalidOp`, so the room can answer it with ``reject``.
Numbers must be finite, strings and lists are bounded, unknown fields inside ops are refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vrcollab.errors import ProtocolError
from vrcollab.sync.messages import (
    DEVICES,
    PRIORITIES,
    STATUSES,
    UNITS,
    Ack,
    ClientMessage,
    Cmd,
    CommitMsg,
    ErrorMsg,
    Gather,
    Hello,
    InvalidOp,
    Op,
    Ping,
    Pong,
    Pose,
    PresenceMsg,
    Reject,
    ServerMessage,
    Welcome,
)

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Limits:
    """Input bounds enforced by the codec."""

    max_string_chars: int = 10_000
    max_id_chars: int = 200
    max_name_chars: int = 100
    max_labels: int = 32
    max_label_chars: int = 64


DEFAULT_LIMITS = Limits()


class _BadFieldError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise _BadFieldError("bad_json", f"non-finite number literal {name} is not allowed")


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that refuses NaN/Infinity literals and overflowing numbers."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except _BadFieldError as exc:
        raise ProtocolError(exc.reason, code=exc.code) from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed JSON: {exc}", code="bad_json") from None


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(obj: Any) -> str:
    """Compact JSON; refuses non-finite numbers."""
    return _ENCODER.encode(obj)


# --- field validators (raise _BadFieldError) ---------------------------------------------


def _num(v: Any, name: str) -> float:
    if type(v) is float:
        if not math.isfinite(v):
            raise _BadFieldError("bad_op", f"{name} must be finite")
        return v
    if type(v) is int:
        if abs(v) > 2**53:
            raise _BadFieldError("bad_op", f"{name} is out of range")
        return float(v)
    raise _BadFieldError("bad_op", f"{name} must be a number")


_NUMBER_TYPES = frozenset((float, int))


def _vec(v: Any, n: int, name: str) -> list[float]:
    """A list of ``n`` finite numbers (the hot path of every pose: C-level checks only)."""
    if type(v) is not list or len(v) != n:
        raise _BadFieldError("bad_op", f"{name} must be a list of {n} numbers")
    if not set(map(type, v)) <= _NUMBER_TYPES:  # no bools, strings, nulls, lists
        raise _BadFieldError("bad_op", f"{name} must be a list of {n} numbers")
    try:  # fsum converts every item to float: huge ints overflow, NaN/inf propagate
        if not math.isfinite(math.fsum(v)):
            raise _BadFieldError("bad_op", f"{name} must be finite")
    except OverflowError:
        raise _BadFieldError("bad_op", f"{name} is out of range") from None
    return v


def _str(v: Any, name: str, limit: int) -> str:
    if type(v) is not str:
        raise _BadFieldError("bad_op", f"{name} must be a string")
    if len(v) > limit:
        raise _BadFieldError("too_large", f"{name} is longer than {limit} characters")
    return v


def _id(v: Any, name: str, lim: Limits) -> str:
    s = _str(v, name, lim.max_id_chars)
    if not s:
        raise _BadFieldError("bad_op", f"{name} must not be empty")
    return s


def _opt(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else fn(v)


def _bool(v: Any, name: str) -> bool:
    if type(v) is not bool:
        raise _BadFieldError("bad_op", f"{name} must be true or false")
    return v


def _enum(v: Any, name: str, allowed: tuple[str, ...]) -> str:
    if v not in allowed or type(v) is not str:
        raise _BadFieldError("bad_op", f"{name} must be one of {', '.join(allowed)}")
    return str(v)


def _obj(v: Any, name: str) -> dict[str, Any]:
    if type(v) is not dict:
        raise _BadFieldError("bad_op", f"{name} must be an object")
    return v


def _color(v: Any, name: str) -> str:
    if type(v) is not str or not _COLOR.match(v):
        raise _BadFieldError("bad_op", f'{name} must be "#rrggbb"')
    return v.lower()


def _labels(v: Any, lim: Limits) -> list[str]:
    if type(v) is not list:
        raise _BadFieldError("bad_op", "labels must be a list of strings")
    if len(v) > lim.max_labels:
        raise _BadFieldError("too_large", f"more than {lim.max_labels} labels")
    return [_str(x, "label", lim.max_label_chars) for x in v]


def _viewpoint(v: Any) -> dict[str, Any]:
    o = _obj(v, "viewpoint")
    _only(o, {"position", "target", "up", "fov"}, "viewpoint")
    fov = _num(o.get("fov", 60.0), "viewpoint.fov")
    if not 1.0 <= fov <= 179.0:
        raise _BadFieldError("bad_op", "viewpoint.fov must be between 1 and 179 degrees")
    return {
        "position": _vec(o.get("position"), 3, "viewpoint.position"),
        "target": _vec(o.get("target"), 3, "viewpoint.target"),
        "up": _vec(o.get("up", [0, 1, 0]), 3, "viewpoint.up"),
        "fov": fov,
    }


def _only(o: Mapping[str, Any], allowed: set[str], name: str) -> None:
    extra = set(o) - allowed
    if extra:
        raise _BadFieldError("bad_op", f"unknown field(s) in {name}: {', '.join(sorted(extra))}")


def _props(o: Any, validators: Mapping[str, Callable[[Any], Any]], name: str) -> dict[str, Any]:
    p = _obj(o, name)
    if not p:
        raise _BadFieldError("bad_op", f"{name} must not be empty")
    _only(p, set(validators), name)
    return {k: validators[k](v) for k, v in p.items()}


def _annotation_props(lim: Limits) -> dict[str, Callable[[Any], Any]]:
    s = lim.max_string_chars
    return {
        "title": lambda v: _str(v, "title", min(s, 500)),
        "text": lambda v: _str(v, "text", s),
        "status": lambda v: _enum(v, "status", STATUSES),
        "priority": lambda v: _enum(v, "priority", PRIORITIES),
        "assignee": _opt(lambda v: _id(v, "assignee", lim)),
        "labels": lambda v: _labels(v, lim),
        "position": lambda v: _vec(v, 3, "position"),
        "normal": lambda v: _vec(v, 3, "normal"),
        "viewpoint": _opt(_viewpoint),
        "node_id": _opt(lambda v: _id(v, "node_id", lim)),
        "element_id": _opt(lambda v: _id(v, "element_id", lim)),
    }


_ANNOTATION_DEFAULTS: dict[str, Any] = {
    "normal": [0.0, 0.0, 1.0],
    "node_id": None,
    "element_id": None,
    "viewpoint": None,
    "title": "",
    "text": "",
    "status": "open",
    "priority": "normal",
    "assignee": None,
    "labels": [],
}


def _op_fields(kind: str, o: Mapping[str, Any], lim: Limits) -> dict[str, Any]:
    """Validate the kind-specific fields of an op; returns the normalised fields."""
    fields = {k: v for k, v in o.items() if k not in ("type", "op_id", "kind")}
    if kind == "node.set":
        _only(fields, {"node_id", "props"}, kind)
        props = _props(
            fields.get("props"),
            {
                "transform": _opt(lambda v: _vec(v, 16, "transform")),
                "visible": lambda v: _bool(v, "visible"),
                "color": _opt(lambda v: _color(v, "color")),
            },
            "props",
        )
        return {"node_id": _id(fields.get("node_id"), "node_id", lim), "props": props}
    if kind == "annotation.create":
        _only(fields, {"annotation"}, kind)
        a = _obj(fields.get("annotation"), "annotation")
        validators = _annotation_props(lim)
        _only(a, {"id", *validators}, "annotation")
        out: dict[str, Any] = {"id": _id(a.get("id"), "annotation.id", lim)}
        out["position"] = _vec(a.get("position"), 3, "position")
        for k, default in _ANNOTATION_DEFAULTS.items():
            out[k] = validators[k](a[k]) if k in a else default
        return {"annotation": out}
    if kind == "annotation.update":
        _only(fields, {"id", "props"}, kind)
        props = _props(fields.get("props"), _annotation_props(lim), "props")
        return {"id": _id(fields.get("id"), "id", lim), "props": props}
    if kind in ("annotation.delete", "measurement.delete", "section.delete"):
        _only(fields, {"id"}, kind)
        return {"id": _id(fields.get("id"), "id", lim)}
    if kind == "comment.add":
        _only(fields, {"annotation_id", "comment"}, kind)
        c = _obj(fields.get("comment"), "comment")
        _only(c, {"id", "text"}, "comment")
        return {
            "annotation_id": _id(fields.get("annotation_id"), "annotation_id", lim),
            "comment": {
                "id": _id(c.get("id"), "comment.id", lim),
                "text": _str(c.get("text"), "text", lim.max_string_chars),
            },
        }
    if kind in ("comment.edit", "comment.delete"):
        allowed = {"annotation_id", "comment_id"} | ({"text"} if kind == "comment.edit" else set())
        _only(fields, allowed, kind)
        out = {
            "annotation_id": _id(fields.get("annotation_id"), "annotation_id", lim),
            "comment_id": _id(fields.get("comment_id"), "comment_id", lim),
        }
        if kind == "comment.edit":
            out["text"] = _str(fields.get("text"), "text", lim.max_string_chars)
        return out
    if kind == "measurement.create":
        _only(fields, {"measurement"}, kind)
        m = _obj(fields.get("measurement"), "measurement")
        _only(m, {"id", "a", "b", "unit"}, "measurement")
        return {
            "measurement": {
                "id": _id(m.get("id"), "measurement.id", lim),
                "a": _vec(m.get("a"), 3, "a"),
                "b": _vec(m.get("b"), 3, "b"),
                "unit": _enum(m.get("unit", "m"), "unit", UNITS),
            }
        }
    if kind == "section.set":
        _only(fields, {"section"}, kind)
        s = _obj(fields.get("section"), "section")
        _only(s, {"id", "normal", "offset", "enabled"}, "section")
        return {
            "section": {
                "id": _id(s.get("id"), "section.id", lim),
                "normal": _vec(s.get("normal"), 3, "normal"),
                "offset": _num(s.get("offset"), "offset"),
                "enabled": _bool(s.get("enabled", True), "enabled"),
            }
        }
    if kind == "presenter.set":
        _only(fields, {"user_id"}, kind)
        if "user_id" not in fields:
            raise _BadFieldError("bad_op", "user_id is required (null clears the presenter)")
        uid = fields["user_id"]
        return {"user_id": None if uid is None else _id(uid, "user_id", lim)}
    raise _BadFieldError("unknown_kind", f"unknown op kind {kind!r}")


def _pose_part(v: Any, name: str) -> dict[str, Any] | None:
    if v is None:
        return None
    o = _obj(v, name)
    return {"p": _vec(o.get("p"), 3, f"{name}.p"), "q": _vec(o.get("q"), 4, f"{name}.q")}


def _pose(o: Mapping[str, Any], lim: Limits) -> dict[str, Any]:
    _only(o, {"type", "head", "left", "right", "laser"}, "pose")
    head = _pose_part(o.get("head"), "head")
    if head is None:
        raise _BadFieldError("bad_message", "pose.head is required")
    laser = o.get("laser")
    if laser is not None:
        lo = _obj(laser, "laser")
        _only(lo, {"origin", "dir", "hit", "node_id"}, "laser")
        hit = lo.get("hit")
        node = lo.get("node_id")
        laser = {
            "origin": _vec(lo.get("origin"), 3, "laser.origin"),
            "dir": _vec(lo.get("dir"), 3, "laser.dir"),
            "hit": None if hit is None else _vec(hit, 3, "laser.hit"),
            "node_id": None if node is None else _id(node, "laser.node_id", lim),
        }
    return {
        "head": head,
        "left": _pose_part(o.get("left"), "left"),
        "right": _pose_part(o.get("right"), "right"),
        "laser": laser,
    }


def _hello(o: Mapping[str, Any], lim: Limits) -> Hello:
    v = o.get("v")
    if type(v) is not int:
        raise _BadFieldError("bad_message", "hello.v must be an integer")
    last = o.get("last_seq")
    if last is not None and (type(last) is not int or last < 0):
        raise _BadFieldError("bad_message", "hello.last_seq must be null or a non-negative integer")
    device = o.get("device", "desktop")
    color = o.get("color", "#888888")
    return Hello(
        v=v,
        client_id=_id(o.get("client_id"), "client_id", lim),
        last_seq=last,
        name=_str(o.get("name", ""), "name", lim.max_name_chars),
        color=_color(color, "color"),
        device=_enum(device, "device", DEVICES),
    )


def decode_client(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> ClientMessage:
    """Parse one client frame. Raises ProtocolError for anything that is not a valid message;
    returns :class:`InvalidOp` for an op with a readable ``op_id`` but a bad body."""
    obj = loads_strict(text)
    if type(obj) is not dict:
        raise ProtocolError("a message must be a JSON object", code="bad_message")
    mtype = obj.get("type")
    try:
        if mtype == "pose":
            return Pose(_pose(obj, limits))
        if mtype == "op":
            op_id = obj.get("op_id")
            if type(op_id) is not str or not 0 < len(op_id) <= limits.max_id_chars:
                raise _BadFieldError(
                    "bad_message",
                    f"op.op_id must be a non-empty string of at most {limits.max_id_chars} chars",
                )
            kind = obj.get("kind")
            try:
                if type(kind) is not str:
                    raise _BadFieldError("bad_op", "op.kind must be a string")
                return Op(op_id, kind, _op_fields(kind, obj, limits))
            except _BadFieldError as exc:
                code = exc.code if exc.code in ("too_large", "unknown_kind") else "bad_op"
                return InvalidOp(op_id, code, exc.reason)
        if mtype == "ping":
            t = obj.get("t")
            return Ping(None if t is None else _num(t, "t"))
        if mtype == "hello":
            return _hello(obj, limits)
        if mtype == "cmd":
            name = obj.get("name")
            if name == "gather":
                return Cmd("gather")
            if name == "follow":
                sid = obj.get("session_id")
                return Cmd("follow", None if sid is None else _id(sid, "session_id", limits))
            raise _BadFieldError("bad_message", f"unknown command {name!r}")
    except _BadFieldError as exc:
        code = exc.code if exc.code in ("too_large",) else "bad_message"
        raise ProtocolError(exc.reason, code=code) from None
    raise ProtocolError(f"unknown message type {mtype!r}", code="unknown_type")


# --- server messages ----------------------------------------------------------------------


def server_json(msg: ServerMessage) -> dict[str, Any]:
    """The JSON object of a server message."""
    if isinstance(msg, CommitMsg):
        return {"type": "commit", **msg.commit.to_json()}
    if isinstance(msg, Ack):
        return {
            "type": "ack",
            "op_id": msg.op_id,
            "seq": msg.seq,
            "commit": None if msg.commit is None else msg.commit.to_json(),
        }
    if isinstance(msg, Reject):
        return {"type": "reject", "op_id": msg.op_id, "code": msg.code, "reason": msg.reason}
    if isinstance(msg, PresenceMsg):
        return {"type": "presence", "event": msg.event, "entry": msg.entry.to_json()}
    if isinstance(msg, Pong):
        return {"type": "pong", "t": msg.t, "server_t": msg.server_t}
    if isinstance(msg, Gather):
        return {"type": "gather", "from": msg.from_session, "pose": msg.pose}
    if isinstance(msg, ErrorMsg):
        return {"type": "error", "code": msg.code, "reason": msg.reason}
    if isinstance(msg, Welcome):
        return {
            "type": "welcome",
            "v": 1,
            "session_id": msg.session_id,
            "user": dict(msg.user),
            "room": dict(msg.room),
            "seq": msg.seq,
            "snapshot": msg.snapshot,
            "ops": None if msg.ops is None else [c.to_json() for c in msg.ops],
            "presence": [p.to_json() for p in msg.presence],
            "tick_hz": msg.tick_hz,
            "heartbeat_s": msg.heartbeat_s,
        }
    raise TypeError(f"not a server message: {msg!r}")


def encode_server(msg: ServerMessage) -> str:
    """One text frame for a server message."""
    return dumps(server_json(msg))


def pose_fragment(session_id: str, pose: Pose) -> str:
    """``"<session_id>":{pose}`` — joined per receiver into a ``poses`` frame."""
    return f"{dumps(session_id)}:{dumps(pose.data)}"


def encode_poses(t: float, fragments: list[str]) -> str:
    """A ``poses`` frame from pre-encoded fragments (see :func:`pose_fragment`)."""
    return f'{{"type":"poses","t":{dumps(t)},"poses":{{{",".join(fragments)}}}}}'


def decode_server(text: str | bytes) -> dict[str, Any]:
    """Parse a server frame (client side). Returns the JSON object; raises ProtocolError."""
    obj = loads_strict(text)
    if type(obj) is not dict or type(obj.get("type")) is not str:
        raise ProtocolError("a server message must be an object with a type", code="bad_message")
    return obj
