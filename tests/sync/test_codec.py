"""Codec: the only parser. Valid messages decode to typed objects; bad input is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import (
    Limits,
    decode_client,
    decode_server,
    encode_poses,
    encode_server,
    pose_fragment,
)
from vrcollab.sync.messages import (
    Ack,
    Cmd,
    Commit,
    CommitMsg,
    Hello,
    InvalidOp,
    Op,
    Ping,
    Pose,
)


def frame(**obj: Any) -> str:
    return json.dumps(obj)


def test_hello_defaults_and_fields() -> None:
    m = decode_client(frame(type="hello", v=1, client_id="tab-1", last_seq=None, name="Al",
                            color="#E34A33", device="vr"))
    assert m == Hello(v=1, client_id="tab-1", last_seq=None, name="Al", color="#e34a33",
                      device="vr")


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "hello", "v": "1", "client_id": "x"},
        {"type": "hello", "v": 1, "client_id": ""},
        {"type": "hello", "v": 1, "client_id": "x", "last_seq": -1},
        {"type": "hello", "v": 1, "client_id": "x", "device": "toaster"},
        {"type": "hello", "v": 1, "client_id": "x", "color": "red"},
    ],
)
def test_bad_hello(bad: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        decode_client(json.dumps(bad))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1,2]", "bad_message"),
        ('{"type":"pose","head":{"p":[NaN,0,0],"q":[0,0,0,1]}}', "bad_json"),
        ('{"type":"pose","head":{"p":[Infinity,0,0],"q":[0,0,0,1]}}', "bad_json"),
        ('{"type":"pose","head":{"p":[1e999,0,0],"q":[0,0,0,1]}}', "bad_message"),
        ('{"type":"pose","head":{"p":[0,0],"q":[0,0,0,1]}}', "bad_message"),
        ('{"type":"pose","head":{"p":["0",0,0],"q":[0,0,0,1]}}', "bad_message"),
        ('{"type":"pose"}', "bad_message"),
        ('{"type":"teleport"}', "unknown_type"),
        ('{"type":"op","kind":"node.set"}', "bad_message"),
        ('{"type":"cmd","name":"explode"}', "bad_message"),
    ],
)
def test_malformed_messages(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(text)
    assert info.value.code == code


def test_pose_is_normalised() -> None:
    m = decode_client(frame(type="pose", head={"p": [0, 1, 0], "q": [0, 0, 0, 1]},
                            laser={"origin": [0, 1, 0], "dir": [0, 0, -1], "hit": None}))
    assert isinstance(m, Pose)
    assert m.data["left"] is None
    assert m.data["laser"]["node_id"] is None
    assert m.data["head"]["p"] == [0.0, 1.0, 0.0]


def test_ping_and_cmd() -> None:
    assert decode_client(frame(type="ping", t=12.5)) == Ping(12.5)
    assert decode_client(frame(type="cmd", name="gather")) == Cmd("gather")
    assert decode_client(frame(type="cmd", name="follow", session_id="s1")) == Cmd("follow", "s1")


def test_annotation_create_defaults() -> None:
    m = decode_client(frame(type="op", op_id="o1", kind="annotation.create",
                            annotation={"id": "a1", "position": [1, 2, 3]}))
    assert isinstance(m, Op)
    a = m.fields["annotation"]
    assert a["status"] == "open"
    assert a["priority"] == "normal"
    assert a["labels"] == []
    assert a["normal"] == [0.0, 0.0, 1.0]
    assert a["viewpoint"] is None


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"kind": "node.set", "node_id": "n", "props": {"transform": [0] * 15}}, "bad_op"),
        ({"kind": "node.set", "node_id": "n", "props": {"visible": 1}}, "bad_op"),
        ({"kind": "node.set", "node_id": "n", "props": {}}, "bad_op"),
        ({"kind": "node.set", "node_id": "n", "props": {"speed": 1}}, "bad_op"),
        ({"kind": "node.set", "node_id": "n", "props": {"color": "blue"}}, "bad_op"),
        ({"kind": "annotation.create", "annotation": {"id": "a", "position": [0, 0]}}, "bad_op"),
        ({"kind": "annotation.create",
          "annotation": {"id": "a", "position": [0, 0, 0], "status": "done"}}, "bad_op"),
        ({"kind": "annotation.create",
          "annotation": {"id": "a", "position": [0, 0, 0], "text": "x" * 20_000}}, "too_large"),
        ({"kind": "annotation.create",
          "annotation": {"id": "a", "position": [0, 0, 0], "labels": ["l"] * 100}}, "too_large"),
        ({"kind": "annotation.update", "id": "a", "props": {"author": "me"}}, "bad_op"),
        ({"kind": "comment.add", "annotation_id": "a", "comment": {"id": "c"}}, "bad_op"),
        ({"kind": "measurement.create",
          "measurement": {"id": "m", "a": [0, 0, 0], "b": [1, 1, 1], "unit": "cubit"}}, "bad_op"),
        ({"kind": "section.set", "section": {"id": "s", "normal": [0, 1, 0]}}, "bad_op"),
        ({"kind": "presenter.set"}, "bad_op"),
        ({"kind": "world.destroy"}, "unknown_kind"),
    ],
)
def test_bad_ops_become_invalid_op(op: dict[str, Any], code: str) -> None:
    m = decode_client(json.dumps({"type": "op", "op_id": "o9", **op}))
    assert isinstance(m, InvalidOp)
    assert (m.op_id, m.code) == ("o9", code)


def test_nan_in_op_is_refused_as_malformed_json() -> None:
    with pytest.raises(ProtocolError):
        decode_client('{"type":"op","op_id":"o","kind":"node.set","node_id":"n",'
                      '"props":{"transform":[NaN,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}')


def test_string_limit_is_configurable() -> None:
    text = frame(type="op", op_id="o", kind="comment.add", annotation_id="a",
                 comment={"id": "c", "text": "x" * 50})
    assert isinstance(decode_client(text), Op)
    m = decode_client(text, Limits(max_string_chars=10))
    assert isinstance(m, InvalidOp)
    assert m.code == "too_large"


def test_server_messages_roundtrip() -> None:
    c = Commit(3, "o1", "node.set", "u1", 10.5, {"node_id": "n", "props": {"visible": False}})
    assert decode_server(encode_server(CommitMsg(c))) == {"type": "commit", **c.to_json()}
    ack = decode_server(encode_server(Ack("o1", 3, c)))
    assert ack["seq"] == 3
    assert Commit.from_json(ack["commit"]) == c
    poses = decode_server(encode_poses(1.0, [pose_fragment("s1", Pose({"head": None}))]))
    assert poses == {"type": "poses", "t": 1.0, "poses": {"s1": {"head": None}}}


def test_view_cmd_is_bounded() -> None:  # protocol R23
    m = decode_client(frame(type="cmd", name="view", view={
        "hidden": ["n1"], "section": {"normal": [0, 1, 0], "offset": 2}}))
    assert isinstance(m, Cmd)
    assert m.view == {"hidden": ["n1"], "isolated": None, "camera": None, "colors": {},
                      "section": {"normal": [0, 1, 0], "offset": 2.0, "enabled": True}}
    bad: list[dict[str, Any]] = [
        {"hidden": "n1"}, {"hidden": [""]}, {"isolated": [1]}, {"colour": {}},
        {"section": {"normal": [0, 1], "offset": 0}},
        {"section": {"normal": [0, 1, 0], "offset": float("nan")}},
        {"camera": {"position": [0, 0, 0]}},
        {"colors": {"n1": "red"}}, {"colors": ["#ff0000"]}, {"colors": {"": "#ff0000"}},
    ]
    for view in bad:
        with pytest.raises(ProtocolError):
            decode_client(frame(type="cmd", name="view", view=view))
    with pytest.raises(ProtocolError) as info:
        decode_client(frame(type="cmd", name="view", view={"hidden": ["n"] * 5001}))
    assert info.value.code == "too_large"
    m = decode_client(frame(type="cmd", name="view", view={"colors": {"n1": "#FF0000"}}))
    assert isinstance(m, Cmd)
    assert m.view is not None
    assert m.view["colors"] == {"n1": "#ff0000"}


def test_view_cmd_carries_a_section_box() -> None:  # protocol R23, issue 14
    m = decode_client(frame(type="cmd", name="view", view={
        "box": {"min": [0, 1, 2], "max": [3, 4, 5]}}))
    assert isinstance(m, Cmd)
    assert m.view is not None
    assert m.view["box"] == {"min": [0.0, 1.0, 2.0], "max": [3.0, 4.0, 5.0]}
    plain = decode_client(frame(type="cmd", name="view", view={}))
    assert isinstance(plain, Cmd)
    assert plain.view is not None
    assert "box" not in plain.view
    for box in ({"min": [3, 0, 0], "max": [0, 1, 1]}, {"min": [0, 0], "max": [1, 1, 1]},
                {"min": [0, 0, 0], "max": [1, 1, 1], "size": 1}, [0, 0, 0]):
        with pytest.raises(ProtocolError):
            decode_client(frame(type="cmd", name="view", view={"box": box}))
