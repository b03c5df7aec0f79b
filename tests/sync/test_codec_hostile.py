"""Hostile strings and numbers in every field of every client message (protocol R17-R19).

Property: decoding either raises ProtocolError or yields a message whose every server-side use
(ack/commit, presence, poses, reject) encodes back without error, as strict UTF-8 JSON. Every
(template, field, hostile value) triple is run exhaustively, then hypothesis mixes several.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client, encode_server, pose_fragment
from vrcollab.sync.messages import (
    Cmd,
    Commit,
    CommitMsg,
    Hello,
    InvalidOp,
    Op,
    Ping,
    Pong,
    Pose,
    PresenceEntry,
    PresenceMsg,
    Reject,
)

POSE = {"type": "pose", "head": {"p": [0, 1.6, 0], "q": [0, 0, 0, 1]},
        "left": {"p": [0.2, 1.2, 0], "q": [0, 0, 0, 1]},
        "right": {"p": [-0.2, 1.2, 0], "q": [0, 0.7071, 0, 0.7071]},
        "laser": {"origin": [0, 1, 0], "dir": [0, 0, 1], "hit": [0, 1, 5], "node_id": "n1"}}
VIEW = {"position": [1, 2, 3], "target": [0, 0, 0], "up": [0, 1, 0], "fov": 60}
ANN = {"id": "a1", "position": [1, 2, 3], "normal": [0, 0, 1], "node_id": "n1",
       "element_id": "g1", "viewpoint": VIEW, "title": "t", "text": "x", "status": "open",
       "priority": "high", "assignee": "u1", "labels": ["l1", "l2"]}


def op(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": "op", "op_id": "o1", "kind": kind, **fields}


TEMPLATES: list[dict[str, Any]] = [
    {"type": "hello", "v": 1, "client_id": "c1", "last_seq": 3, "name": "Al",
     "color": "#aabbcc", "device": "vr"},
    {"type": "ping", "t": 1.5},
    POSE,
    {"type": "cmd", "name": "gather"},
    {"type": "cmd", "name": "follow", "session_id": "s1"},
    op("node.set", node_id="n1", props={"transform": [1.0] * 16, "visible": True,
                                        "color": "#112233"}),
    op("annotation.create", annotation=ANN),
    op("annotation.update", id="a1", props={k: v for k, v in ANN.items() if k != "id"}),
    op("annotation.delete", id="a1"),
    op("comment.add", annotation_id="a1", comment={"id": "c1", "text": "hi"}),
    op("comment.edit", annotation_id="a1", comment_id="c1", text="hi"),
    op("comment.delete", annotation_id="a1", comment_id="c1"),
    op("measurement.create", measurement={"id": "m1", "a": [0, 0, 0], "b": [1, 1, 1],
                                          "unit": "mm"}),
    op("measurement.delete", id="m1"),
    op("section.set", section={"id": "s1", "normal": [0, 1, 0], "offset": 2.5,
                               "enabled": False}),
    op("section.delete", id="s1"),
    op("presenter.set", user_id="u1"),
]

MARK = "\x01HOSTILE\x01"
DEEP = 5_000
HOSTILE: list[str] = [  # raw JSON texts spliced in where a value (or key) was
    '"\\ud800"', '"\\udfff"', '"a\\udc00\\ud800b"', '"\\ud83d"', '"x\\ude00"',
    '"\\ud83d\\ude00"',  # a valid pair: fine
    '"\\u202eevil"', '"\\u2066x\\u2069"', '"nul\\u0000"', '"bel\\u0007"', '"\\u2028"',
    '"' + "x" * 1_000_000 + '"', '"' + "\U0001f600" * 3000 + '"',
    "[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP,
    "NaN", "Infinity", "-Infinity", "1e999", "-1e308", "1" + "0" * 400, "-0.0",
    "null", "true", "[]", "{}", '[1e308,1e308,1e308]', '[0,0,0,0]',
]


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every value position (dict keys and list indices) in a template."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def frame_with(template: dict[str, Any], path: tuple[Any, ...], snippet: str, *,
               as_key: bool = False) -> str:
    obj = json.loads(json.dumps(template))
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    last = path[-1]
    if as_key and isinstance(cur, dict):
        cur[MARK] = cur.pop(last)
        text = json.dumps(obj)
        key = snippet if snippet.startswith('"') and len(snippet) < 100 else '"\\ud800"'
        return text.replace(json.dumps(MARK), key, 1)
    cur[last] = MARK
    return json.dumps(obj).replace(json.dumps(MARK), snippet, 1)


def reencodes(msg: Any) -> None:
    """Every server-side use of a decoded message encodes to strict, clean UTF-8 JSON."""
    frames: list[str] = []
    if isinstance(msg, Op):
        c = Commit(1, msg.op_id, msg.kind, "u1", 1.0, msg.fields)
        frames.append(encode_server(CommitMsg(c)))
    elif isinstance(msg, InvalidOp):
        frames.append(encode_server(Reject(msg.op_id, msg.code, msg.reason)))
    elif isinstance(msg, Hello):
        e = PresenceEntry("s1", "u1", msg.name, msg.color, "viewer", msg.device)
        frames.append(encode_server(PresenceMsg("join", e)))
    elif isinstance(msg, Pose):
        frames.append("{" + pose_fragment("s1", msg) + "}")
    elif isinstance(msg, Cmd):
        e = PresenceEntry("s1", "u1", "n", "#888888", "viewer", "vr", following=msg.session_id)
        frames.append(encode_server(PresenceMsg("update", e)))
    elif isinstance(msg, Ping):
        frames.append(encode_server(Pong(msg.t, 1.0)))
    else:
        raise AssertionError(f"unexpected message {msg!r}")
    for f in frames:
        json.loads(f.encode("utf-8"))  # strict UTF-8 (raises on a lone surrogate)


def check(frame: str) -> None:
    code = None
    try:
        msg = decode_client(frame)
    except ProtocolError as exc:
        code = exc.code
    if code is not None:
        assert code in ("bad_json", "bad_message", "bad_string", "bad_name", "too_large",
                        "unknown_type"), code
        return
    reencodes(msg)
    if isinstance(msg, Hello):
        assert not any(ch in msg.name for ch in "\u202e\u2066\x00\x07\u2028")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.get("kind", t["type"]))
def test_every_field_with_every_hostile_value(template: dict[str, Any]) -> None:
    for path in paths(template):
        if path == ("type",):
            continue
        for snippet in HOSTILE:
            check(frame_with(template, path, snippet))
        check(frame_with(template, path, '"\\ud800"', as_key=True))
        check(frame_with(template, path, '"\\u202e"', as_key=True))


def test_templates_themselves_decode() -> None:
    for t in TEMPLATES:
        msg = decode_client(json.dumps(t))
        assert not isinstance(msg, InvalidOp), msg
        reencodes(msg)


def test_lone_surrogates_are_refused_valid_pairs_kept() -> None:
    bad = decode_client(json.dumps(op("comment.edit", annotation_id="a", comment_id="c",
                                      text="\ud800")))
    assert bad == InvalidOp("o1", "bad_string", "strings must be valid Unicode")
    good = decode_client(json.dumps(op("comment.edit", annotation_id="a", comment_id="c",
                                       text="\U0001f600")))
    assert isinstance(good, Op)
    assert good.fields["text"] == "\U0001f600"
    with pytest.raises(ProtocolError) as info:
        decode_client(b'{"type":"ping","t":1,"x":"\xed\xa0\x80"}')  # a surrogate as raw bytes
    assert info.value.code == "bad_json"


snippets = st.sampled_from(HOSTILE[:11] + HOSTILE[15:]) | st.text(max_size=30).map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TEMPLATES), st.data())
def test_several_hostile_fields_at_once(template: dict[str, Any], data: st.DataObject) -> None:
    all_paths = [p for p in paths(template) if p != ("type",)]
    chosen = data.draw(st.lists(st.sampled_from(all_paths), min_size=1, max_size=4,
                                unique=True))
    obj = json.loads(json.dumps(template))
    marks: list[str] = []
    for i, path in enumerate(sorted(chosen, key=len, reverse=True)):
        cur = obj
        try:
            for p in path[:-1]:
                cur = cur[p]
            mark = f"\x02M{i}\x02"
            cur[path[-1]] = mark
            marks.append(mark)
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(obj)
    for mark in marks:
        text = text.replace(json.dumps(mark), data.draw(snippets), 1)
    check(text)
