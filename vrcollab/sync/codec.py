"""The only parser of the sync protocol: text frames <-> typed messages.

``decode_client`` turns one client frame into a :mod:`~vrcollab.sync.messages` object or raises
:class:`~vrcollab.errors.ProtocolError` (``code`` says why). An op whose ``op_id`` is readable
but whose body is bad becomes an :class:`InvalidOp`, so the room can answer it with ``reject``.
Numbers must be finite, coordinates bounded, quaternions unit, strings and lists bounded and
valid Unicode (:mod:`vrcollab.sync.text`, both directions), unknown fields inside ops refused.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from vrcollab.errors import ProtocolError
from vrcollab.sync.fields import (
    DEFAULT_LIMITS,
    MAX_COORD,
    QUAT_TOLERANCE,
    BadFieldError,
    Limits,
    boolean,
    color,
    enum,
    ident,
    num,
    only,
    quat,
    text,
    vec,
)
from vrcollab.sync.fields import (
    obj as as_object,
)
from vrcollab.sync.messages import (
    DEVICES,
    Ack,
    ClientMessage,
    Cmd,
    CommitMsg,
    ErrorMsg,
    Gather,
    Hello,
    InvalidOp,
    MeetingMsg,
    Op,
    Ping,
    Pong,
    Pose,
    PresenceMsg,
    Reject,
    ServerMessage,
    SharedView,
    Welcome,
)
from vrcollab.sync.ops import OP_KINDS, VIEWPOINT
from vrcollab.sync.text import bad_string_in, frame_is_clean, may_hold_surrogates, name_problem
from vrcollab.voice.signal import decode_voice

__all__ = ["DEFAULT_LIMITS", "MAX_COORD", "QUAT_TOLERANCE", "EncodeError", "Limits",
           "decode_client", "decode_server", "dumps", "encode_poses", "encode_server",
           "encode_welcome", "loads_strict", "pose_fragment", "server_json"]

def _reject_constant(name: str) -> Any:
    raise BadFieldError("bad_json", f"non-finite number literal {name} is not allowed")


class EncodeError(ValueError):
    """A message cannot be sent as a UTF-8 text frame (a lone surrogate got past validation:
    a bug on the sending side, never the receiver's fault)."""


def _text_of(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")  # strict: no surrogates smuggled in as bytes
        except UnicodeDecodeError:
            raise ProtocolError("frame is not valid UTF-8", code="bad_json") from None
    return text


# one decoder for every frame (``json.loads`` with a hook builds a new decoder per call)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _parse(text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except BadFieldError as exc:
        raise ProtocolError(exc.reason, code=exc.code) from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed JSON: {exc}", code="bad_json") from None


def _bad_string(obj: Any) -> bool:
    try:
        return bad_string_in(obj) is not None
    except RecursionError:
        return True


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that refuses NaN/Infinity literals, overflowing numbers and strings that
    are not valid Unicode (lone surrogates, protocol R17)."""
    text = _text_of(text)
    obj = _parse(text)
    if may_hold_surrogates(text) and _bad_string(obj):
        raise ProtocolError("strings must be valid Unicode (lone surrogate)", code="bad_string")
    return obj


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(obj: Any) -> str:
    """Compact JSON; refuses non-finite numbers (ValueError) and strings that cannot be sent as
    UTF-8 (:class:`EncodeError`), so nothing unsendable ever reaches a socket."""
    frame = _ENCODER.encode(obj)
    if not frame_is_clean(frame):
        raise EncodeError("message holds a string that is not valid Unicode")
    return frame


_OP_ENVELOPE = ("type", "op_id", "kind")


def _op_fields(kind: str, o: Mapping[str, Any], lim: Limits) -> dict[str, Any]:
    """Validate the kind-specific fields of an op against the op-kind table
    (:data:`vrcollab.sync.ops.OP_KINDS`); returns the normalised fields."""
    spec = OP_KINDS.get(kind)
    if spec is None or spec.min_role is None:  # server-only kinds (R16) are not for clients
        raise BadFieldError("unknown_kind", f"unknown op kind {kind!r}")
    fields = {k: v for k, v in o.items() if k not in _OP_ENVELOPE}
    out: dict[str, Any] = spec.fields.check(fields, kind, lim)
    return out


def _viewpoint(v: Any) -> dict[str, Any]:
    out: dict[str, Any] = VIEWPOINT.check(v, "viewpoint", DEFAULT_LIMITS)
    return out


#: At most this many node ids in a shared view's ``hidden`` or ``isolated`` list (R23).
MAX_VIEW_NODES = 5000


def _node_ids(v: Any, name: str, lim: Limits) -> list[str]:
    if type(v) is not list:
        raise BadFieldError("bad_op", f"{name} must be a list of node ids")
    if len(v) > MAX_VIEW_NODES:
        raise BadFieldError("too_large", f"{name} holds more than {MAX_VIEW_NODES} ids")
    return [ident(x, name, lim) for x in v]


def _shared_view(v: Any, lim: Limits) -> dict[str, Any]:
    """A ``view`` command's view state (R23): ``hidden`` [ids], ``isolated`` [ids]|null,
    ``section`` {normal, offset, enabled}|null, ``camera`` viewpoint|null, ``colors``
    {node id: "#rrggbb"} (colour by property), ``box`` {min, max} (section box, model space;
    present only when given)."""
    o = as_object(v, "view")
    only(o, {"hidden", "isolated", "section", "camera", "colors", "box"}, "view")
    colors = as_object(o.get("colors", {}), "view.colors")
    if len(colors) > MAX_VIEW_NODES:
        raise BadFieldError("too_large", f"view.colors holds more than {MAX_VIEW_NODES} ids")
    section = o.get("section")
    if section is not None:
        sec = as_object(section, "view.section")
        only(sec, {"normal", "offset", "enabled"}, "view.section")
        section = {"normal": vec(sec.get("normal"), 3, "view.section.normal"),
                   "offset": num(sec.get("offset"), "view.section.offset"),
                   "enabled": boolean(sec.get("enabled", True), "view.section.enabled")}
    isolated = o.get("isolated")
    camera = o.get("camera")
    box = o.get("box")
    extra: dict[str, Any] = {}
    if box is not None:
        b = as_object(box, "view.box")
        only(b, {"min", "max"}, "view.box")
        lo, hi = vec(b.get("min"), 3, "view.box.min"), vec(b.get("max"), 3, "view.box.max")
        if any(x > y for x, y in zip(lo, hi, strict=True)):
            raise BadFieldError("bad_message", "view.box needs min <= max on every axis")
        extra["box"] = {"min": lo, "max": hi}
    return {
        "hidden": _node_ids(o.get("hidden", []), "view.hidden", lim),
        "isolated": None if isolated is None else _node_ids(isolated, "view.isolated", lim),
        "section": section,
        "camera": None if camera is None else _viewpoint(camera),
        "colors": {ident(k, "view.colors", lim): color(c, "view.colors")
                   for k, c in colors.items()},
        **extra,
    }


def _pose_part(v: Any, name: str) -> dict[str, Any] | None:
    if v is None:
        return None
    o = as_object(v, name)
    return {"p": vec(o.get("p"), 3, f"{name}.p"), "q": quat(o.get("q"), f"{name}.q")}


def _pose(o: Mapping[str, Any], lim: Limits) -> dict[str, Any]:
    only(o, {"type", "head", "left", "right", "laser"}, "pose")
    head = _pose_part(o.get("head"), "head")
    if head is None:
        raise BadFieldError("bad_message", "pose.head is required")
    laser = o.get("laser")
    if laser is not None:
        lo = as_object(laser, "laser")
        only(lo, {"origin", "dir", "hit", "node_id"}, "laser")
        hit = lo.get("hit")
        node = lo.get("node_id")
        laser = {
            "origin": vec(lo.get("origin"), 3, "laser.origin"),
            "dir": vec(lo.get("dir"), 3, "laser.dir", 10.0),
            "hit": None if hit is None else vec(hit, 3, "laser.hit"),
            "node_id": None if node is None else ident(node, "laser.node_id", lim),
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
        raise BadFieldError("bad_message", "hello.v must be an integer")
    last = o.get("last_seq")
    if last is not None and (type(last) is not int or last < 0):
        raise BadFieldError("bad_message", "hello.last_seq must be null or a non-negative integer")
    device = o.get("device", "desktop")
    col = o.get("color", "#888888")
    name = text(o.get("name", ""), "name", lim.max_name_chars)
    problem = name_problem(name)
    if problem is not None:
        raise BadFieldError("bad_name", problem)
    return Hello(
        v=v,
        client_id=ident(o.get("client_id"), "client_id", lim),
        last_seq=last,
        name=name,
        color=color(col, "color"),
        device=enum(device, "device", DEVICES),
    )


def decode_client(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> ClientMessage:
    """Parse one client frame. Raises ProtocolError for anything that is not a valid message;
    returns :class:`InvalidOp` for an op with a readable ``op_id`` but a bad body."""
    text = _text_of(text)
    obj = _parse(text)
    if type(obj) is not dict:
        raise ProtocolError("a message must be a JSON object", code="bad_message")
    mtype = obj.get("type")
    if may_hold_surrogates(text) and _bad_string(obj):  # R17: one check, every field
        op_id = obj.get("op_id")
        if (mtype == "op" and type(op_id) is str and 0 < len(op_id) <= limits.max_id_chars
                and not _bad_string(op_id)):
            return InvalidOp(op_id, "bad_string", "strings must be valid Unicode")
        raise ProtocolError("strings must be valid Unicode (lone surrogate)", code="bad_string")
    if type(mtype) is str and mtype.startswith("voice."):  # voice signalling (R29-R28)
        return decode_voice(obj)
    try:
        if mtype == "pose":
            return Pose(_pose(obj, limits))
        if mtype == "op":
            op_id = obj.get("op_id")
            if type(op_id) is not str or not 0 < len(op_id) <= limits.max_id_chars:
                raise BadFieldError(
                    "bad_message",
                    f"op.op_id must be a non-empty string of at most {limits.max_id_chars} chars",
                )
            kind = obj.get("kind")
            try:
                if type(kind) is not str:
                    raise BadFieldError("bad_op", "op.kind must be a string")
                return Op(op_id, kind, _op_fields(kind, obj, limits))
            except BadFieldError as exc:
                code = exc.code if exc.code in ("too_large", "unknown_kind") else "bad_op"
                return InvalidOp(op_id, code, exc.reason)
        if mtype == "ping":
            t = obj.get("t")
            return Ping(None if t is None else num(t, "t"))
        if mtype == "hello":
            return _hello(obj, limits)
        if mtype == "cmd":
            name = obj.get("name")
            if name == "gather":
                return Cmd("gather")
            if name == "follow":
                sid = obj.get("session_id")
                return Cmd("follow", None if sid is None else ident(sid, "session_id", limits))
            if name == "view":
                only(obj, {"type", "name", "view"}, "cmd")
                return Cmd("view", view=_shared_view(obj.get("view"), limits))
            raise BadFieldError("bad_message", f"unknown command {name!r}")
    except BadFieldError as exc:
        code = exc.code if exc.code in ("too_large", "bad_name") else "bad_message"
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
    if isinstance(msg, SharedView):
        return {"type": "view", "from": msg.from_session, "view": dict(msg.view)}
    if isinstance(msg, ErrorMsg):
        return {"type": "error", "code": msg.code, "reason": msg.reason}
    if isinstance(msg, MeetingMsg):
        return {"type": "meeting", "meeting_id": msg.meeting_id, "started": msg.started,
                "recording": msg.recording}
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


WELCOME_PART_BYTES = 256 * 1024
_COLLECTIONS = ("nodes", "annotations", "measurements", "sections", "markups", "views")


def encode_welcome(msg: Welcome, part_bytes: int = WELCOME_PART_BYTES,
                   cache: dict[Any, list[str]] | None = None) -> list[str]:
    """The frames of a welcome (R6): one frame when it fits in ``part_bytes``, else a welcome
    with an empty state and ``"parts": n`` followed by ``n`` ``welcome_part`` frames that
    carry the records (comments of a large annotation may span parts), each about
    ``part_bytes`` or one record, so clients with a 1 MiB frame limit can join big rooms.

    ``cache`` (held by the caller, e.g. per room) keeps the parts of the last state encoded:
    joiners at the same ``seq`` share one copy of the part frames."""
    head = server_json(dataclasses.replace(msg, snapshot=None, ops=None))
    if msg.snapshot is not None:
        head["snapshot"] = {**{c: {} for c in _COLLECTIONS[:4]},  # as before markups
                            "presenter": msg.snapshot.get("presenter")}
        key: Any = ("snapshot", msg.seq, part_bytes)
    else:
        head["ops"] = []
        ops = msg.ops or ()
        key = ("ops", ops[0].seq if ops else None, msg.seq, part_bytes)
    parts = cache.get(key) if cache is not None else None
    if parts is None:
        parts = _welcome_parts(msg, part_bytes)
        if cache is not None and parts:
            cache.clear()
            cache[key] = parts
    if not parts:
        return [encode_server(msg)]
    head["parts"] = len(parts)
    return [dumps(head), *parts]


def _welcome_parts(msg: Welcome, part_bytes: int) -> list[str]:
    """The ``welcome_part`` frames of a large welcome; empty when it fits in one frame."""
    items: list[tuple[str, str, str]] = []  # (section, key, encoded value)
    if msg.snapshot is not None:
        snap = msg.snapshot
        for c in _COLLECTIONS:
            for key, rec in (snap.get(c) or {}).items():
                if c == "annotations" and rec.get("comments"):
                    items.append((c, key, dumps({**rec, "comments": []})))
                    items.extend(("comments", key, dumps(com)) for com in rec["comments"])
                else:
                    items.append((c, key, dumps(rec)))
    else:
        items = [("ops", "", dumps(c.to_json())) for c in msg.ops or ()]
    if sum(len(it[2]) for it in items) <= part_bytes // 2:
        return []
    groups: list[list[tuple[str, str, str]]] = [[]]
    size = 0
    for it in items:
        if groups[-1] and size + len(it[2]) > part_bytes:
            groups.append([])
            size = 0
        groups[-1].append(it)
        size += len(it[2]) + len(it[1]) + 4
    return [_welcome_part(i, len(groups), g) for i, g in enumerate(groups)]


def _welcome_part(index: int, count: int, items: list[tuple[str, str, str]]) -> str:
    sections: dict[str, list[str]] = {}
    comments: dict[str, list[str]] = {}
    for section, key, enc in items:
        if section == "ops":
            sections.setdefault("ops", []).append(enc)
        elif section == "comments":
            comments.setdefault(key, []).append(enc)
        else:
            sections.setdefault(section, []).append(f"{dumps(key)}:{enc}")
    body = [f'"type":"welcome_part","part":{index},"of":{count}']
    for section, encs in sections.items():
        if section == "ops":
            body.append(f'"ops":[{",".join(encs)}]')
        else:
            body.append(f'"{section}":{{{",".join(encs)}}}')
    if comments:
        body.append('"comments":{' + ",".join(
            f'{dumps(k)}:[{",".join(v)}]' for k, v in comments.items()) + "}")
    return "{" + ",".join(body) + "}"


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
