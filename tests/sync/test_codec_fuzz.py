"""Property: whatever a peer sends, the codec returns a message or raises ProtocolError."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client, dumps
from vrcollab.sync.messages import InvalidOp, Op

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
KEYS = ["type", "op_id", "kind", "annotation", "props", "node_id", "id", "head", "laser",
        "position", "comment", "measurement", "section", "user_id", "v", "client_id", "t"]
TYPES = ["hello", "op", "pose", "ping", "cmd", "nope"]
KINDS = ["node.set", "annotation.create", "annotation.update", "comment.add", "comment.edit",
         "measurement.create", "section.set", "presenter.set", "x"]


@settings(max_examples=250, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6),
       st.sampled_from(TYPES), st.sampled_from(KINDS))
def test_structured_garbage_never_crashes(obj: dict[str, Any], mtype: str, kind: str) -> None:
    obj = {**obj, "type": mtype}
    if mtype == "op":
        obj.setdefault("op_id", "o1")
        obj["kind"] = kind
    try:
        msg = decode_client(json.dumps(obj))
    except ProtocolError:
        return
    if isinstance(msg, Op):  # what passes validation is re-encodable, strict JSON
        json.loads(dumps(msg.fields))
    assert msg is not None
    if mtype == "op" and isinstance(obj.get("op_id"), str):
        assert isinstance(msg, Op | InvalidOp)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_random_frames_never_crash(frame: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client(frame)
