"""Benchmark payloads and their encoders for both servers under test (pure, no I/O).

Every pose and durable op carries a fixed-width *timing marker* in one of its string fields:
``~K:SSSSS:QQQQQQQQQ:TTTTTTTTTT.TTTTTT`` (kind, sender id, sequence, ``time.time()`` at send).
Receivers find markers with one regex over the raw bytes of complete frames, so they never
decode JSON or Yjs, and both servers carry the marker through untouched (vrcollab in
``laser.node_id`` / ``annotation.title``; y-websocket inside the awareness JSON state and the
Yjs ``ContentAny`` string). Kinds: ``P`` pose (counted), ``Q`` pose of a probe sender (counted and
timed), ``O`` durable op (timed).

Because the marker has a fixed width, a client's pose frame has a constant length and is
pre-encoded once as ``head + marker + tail`` (plus a fixed-width awareness clock for Yjs).
"""

from __future__ import annotations

import json
import random
import re
import struct
from typing import Any

MARKER_LEN = 36
MARKER_RE = re.compile(rb"~([QO]):(\d{5}):(\d{9}):(\d{10}\.\d{6})")
"""Timed markers: probe poses and ops. Groups: kind, sender, seq, send time."""
POSE_TAGS = (b"~P:", b"~Q:")
_PLACEHOLDER = "~X:00000:000000000:0000000000.000000"
_ANN_PARENT = "annotations"
_AWARENESS_CLOCK0 = 1 << 21  # clocks in [2**21, 2**28) encode as exactly 4 varuint bytes
_YJS_CLIENT0 = 1 << 21  # client ids in [2**21, 2**28) encode as exactly 4 varuint bytes


def marker(kind: str, sender: int, seq: int, t: float) -> bytes:
    """The fixed-width timing marker (see module docstring)."""
    out = b"~%s:%05d:%09d:%.6f" % (kind.encode(), sender, seq, t)
    if len(out) != MARKER_LEN:
        raise ValueError(f"marker out of range: {out!r}")
    return out


def _r(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 4)


def pose_object(sender: int) -> dict[str, Any]:
    """A realistic headset pose (head, both controllers, laser) with the marker placeholder."""
    rng = random.Random(sender)

    def part(y: float) -> dict[str, Any]:
        q = [_r(rng, -1, 1) for _ in range(4)]
        norm = sum(c * c for c in q) ** 0.5 or 1.0
        return {
            "p": [_r(rng, -5, 5), round(y + rng.uniform(-0.1, 0.1), 4), _r(rng, -5, 5)],
            "q": [round(c / norm, 4) for c in q],
        }

    return {
        "head": part(1.65),
        "left": part(1.1),
        "right": part(1.1),
        "laser": {
            "origin": [_r(rng, -5, 5), 1.2, _r(rng, -5, 5)],
            "dir": [0.0, -0.2, -0.98],
            "hit": [_r(rng, -5, 5), 0.0, _r(rng, -5, 5)],
            "node_id": _PLACEHOLDER,
        },
    }


def annotation_object(sender: int, seq: int) -> dict[str, Any]:
    """An ``annotation.create`` payload (R7) with the marker placeholder in ``title``."""
    rng = random.Random(sender * 1_000_003 + seq)
    return {
        "id": f"a{sender:05d}-{seq:09d}",
        "position": [_r(rng, -5, 5), _r(rng, 0, 3), _r(rng, -5, 5)],
        "normal": [0.0, 1.0, 0.0],
        "node_id": None,
        "element_id": None,
        "viewpoint": None,
        "title": _PLACEHOLDER,
        "text": "Clash between duct and beam, please check the clearance.",
        "status": "open",
        "priority": "normal",
        "assignee": None,
        "labels": ["bench"],
    }


def _split(text: str) -> tuple[bytes, bytes]:
    head, sep, tail = text.partition(_PLACEHOLDER)
    if not sep:
        raise ValueError("placeholder missing")
    return head.encode(), tail.encode()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# --- vrcollab (JSON text frames, docs/protocol.md) ------------------------------------------


def vr_hello(client_id: str, name: str) -> bytes:
    """The R5 ``hello`` of a fresh session."""
    msg = {"type": "hello", "v": 1, "client_id": client_id, "last_seq": None, "name": name,
           "color": "#3182bd", "device": "vr"}
    return _dumps(msg).encode()


def vr_pose_parts(sender: int) -> tuple[bytes, bytes]:
    """(head, tail) of the R12 ``pose`` message around the marker."""
    return _split(_dumps({"type": "pose", **pose_object(sender)}))


def vr_op(sender: int, seq: int, t: float) -> bytes:
    """An R7 ``annotation.create`` op whose title is the marker."""
    msg = {"type": "op", "op_id": f"b{sender:05d}-{seq:09d}", "kind": "annotation.create",
           "annotation": annotation_object(sender, seq)}
    head, tail = _split(_dumps(msg))
    return head + marker("O", sender, seq, t) + tail


# --- y-websocket (binary frames: lib0 encoding, y-protocols, Yjs update v1) -----------------

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
SYNC_UPDATE = 2


def varuint(n: int) -> bytes:
    """lib0 ``writeVarUint``: 7 bits per byte, little end first, high bit = more."""
    if n < 0:
        raise ValueError("varuint must be non-negative")
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def varuint4(n: int) -> bytes:
    """Fixed 4-byte varuint for ``2**21 <= n < 2**28`` (keeps pre-encoded lengths constant)."""
    if not (1 << 21) <= n < (1 << 28):
        raise ValueError("varuint4 out of range")
    return bytes(((n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, ((n >> 14) & 0x7F) | 0x80, n >> 21))


def varbytes(b: bytes) -> bytes:
    """lib0 ``writeVarUint8Array`` / ``writeVarString`` (UTF-8)."""
    return varuint(len(b)) + b


def lib0_any(v: Any) -> bytes:
    """lib0 ``writeAny`` for JSON-like values (numbers always as float64, type 123)."""
    if v is None:
        return b"\x7e"
    if v is True:
        return b"\x78"
    if v is False:
        return b"\x79"
    if isinstance(v, str):
        return b"\x77" + varbytes(v.encode())
    if isinstance(v, int | float):
        return b"\x7b" + struct.pack(">d", float(v))
    if isinstance(v, list):
        return b"\x75" + varuint(len(v)) + b"".join(lib0_any(x) for x in v)
    if isinstance(v, dict):
        body = b"".join(varbytes(str(k).encode()) + lib0_any(x) for k, x in v.items())
        return b"\x76" + varuint(len(v)) + body
    raise TypeError(f"cannot encode {type(v).__name__}")


def yjs_client_id(sender: int) -> int:
    """The sender's Yjs / awareness client id (fixed 4-byte varuint)."""
    return _YJS_CLIENT0 + sender


def awareness_clock(seq: int) -> bytes:
    """The awareness clock of the sender's ``seq``-th update (strictly increasing)."""
    return varuint4(_AWARENESS_CLOCK0 + seq)


def yws_pose_parts(sender: int) -> tuple[bytes, bytes, bytes]:
    """(head, mid, tail) of a y-websocket awareness message: ``head + clock + mid + marker + tail``.

    Layout: ``varuint(messageAwareness) varuint(len) [ varuint(1) varuint(client)
    varuint(clock) varstring(JSON state) ]`` where the state is the same pose object as vrcollab.
    """
    state = _dumps(pose_object(sender))
    s_head, s_tail = _split(state)
    state_len = len(state.encode())
    update_len = 1 + 4 + 4 + len(varuint(state_len)) + state_len
    head = (varuint(MESSAGE_AWARENESS) + varuint(update_len) + varuint(1)
            + varuint4(yjs_client_id(sender)))
    mid = varuint(state_len) + s_head
    return head, mid, s_tail


def yjs_map_set_update(client: int, clock: int, parent: str, key: str, value: Any) -> bytes:
    """A Yjs v1 update holding one ``Y.Map(parent).set(key, value)`` item for a *new* key.

    Struct layout (yjs ``Item.write``): info = ContentAny ref (8) | parentSub bit (0x20),
    parent = root type name, parentSub = key, content = [value]; then an empty delete set.
    """
    item = (bytes((8 | 0x20,)) + varuint(1) + varbytes(parent.encode())
            + varbytes(key.encode()) + varuint(1) + lib0_any(value))
    structs = varuint(1) + varuint(1) + varuint(client) + varuint(clock) + item
    return structs + varuint(0)


def yws_op(sender: int, seq: int, t: float) -> bytes:
    """A sync-update message inserting the sender's ``seq``-th annotation (Yjs clock ``seq``)."""
    ann = annotation_object(sender, seq)
    ann["title"] = marker("O", sender, seq, t).decode()
    update = yjs_map_set_update(yjs_client_id(sender), seq, _ANN_PARENT, ann["id"], ann)
    return varuint(MESSAGE_SYNC) + varuint(SYNC_UPDATE) + varbytes(update)
