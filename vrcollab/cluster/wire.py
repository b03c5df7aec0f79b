"""What edges forward to a room's owner: decoded client messages as plain JSON, and back.

The edge process already ran the codec on the client's frame (``vrcollab.sync.codec``), so these
are trusted, validated values inside the cluster (Redis is inside the trust boundary, like the
database): the owner rebuilds the same frozen dataclasses without parsing the frame again.
"""

from __future__ import annotations

import json
from typing import Any

from vrcollab.sync.messages import Cmd, Hello, InvalidOp, Op, Pose


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


def poses_json(poses: dict[str, Pose]) -> str:
    """Latest poses of an edge's sessions, one message per room and tick."""
    return json.dumps({sid: dict(p.data) for sid, p in poses.items()})


def poses_from(text: str | bytes) -> dict[str, Pose]:
    """The poses back."""
    o: dict[str, Any] = json.loads(text)
    return {sid: Pose(data) for sid, data in o.items()}


def pose_frame(t: float, batch: dict[str, str]) -> str:
    """The owner's encoded pose fragments of one tick: ``t`` then one ``sid<TAB>fragment`` a
    line (session ids and compact JSON hold no tab or newline), so edges never re-encode."""
    return "\n".join([repr(t), *(f"{sid}\t{frag}" for sid, frag in batch.items())])


def pose_frame_from(text: str) -> tuple[float, dict[str, str]]:
    """``(t, {sid: fragment})`` of a pose frame."""
    lines = text.split("\n")
    batch = {}
    for line in lines[1:]:
        sid, _, frag = line.partition("\t")
        batch[sid] = frag
    return float(lines[0]), batch
