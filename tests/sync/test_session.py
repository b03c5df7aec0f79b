"""The pure session layer (sync/session.py): hello first and its timeout, version, size, rate,
malformed counter and ping, without a server or a socket."""

from __future__ import annotations

import json

from vrcollab.sync.closes import Close
from vrcollab.sync.messages import PROTOCOL_VERSION, Cmd, ErrorMsg, InvalidOp, Op, Pong, Pose
from vrcollab.sync.session import (
    Closing,
    Deliver,
    Joined,
    Phase,
    Reply,
    Session,
    SessionConfig,
)

HELLO = json.dumps({"type": "hello", "v": PROTOCOL_VERSION, "client_id": "c1", "name": "n"})
POSE = json.dumps({"type": "pose", "head": {"p": [0, 1.6, 0], "q": [0, 0, 0, 1]}})


def _open(**cfg: object) -> Session:
    s = Session(SessionConfig(**cfg), now=0.0)  # type: ignore[arg-type]
    (ev,) = s.receive(HELLO, 0.0)
    assert isinstance(ev, Joined)
    assert ev.hello.client_id == "c1"
    assert s.phase is Phase.OPEN
    return s


def _closed(events: list[object], code: Close) -> None:
    assert isinstance(events[-1], Closing), events
    assert events[-1].code == code


def test_first_message_must_be_hello() -> None:
    s = Session(SessionConfig(), now=0.0)
    _closed(s.receive(POSE, 0.1), Close.PROTOCOL)
    assert s.phase is Phase.CLOSED
    assert s.receive(HELLO, 0.2) == []  # closed: nothing more is accepted


def test_bad_hello_and_binary_hello_close_4400() -> None:
    _closed(Session(SessionConfig(), 0.0).receive("{nope", 0.0), Close.PROTOCOL)
    _closed(Session(SessionConfig(), 0.0).receive(b"\x00", 0.0), Close.PROTOCOL)


def test_wrong_version_closes_4426() -> None:
    s = Session(SessionConfig(), now=0.0)
    hello = json.dumps({"type": "hello", "v": PROTOCOL_VERSION + 1, "client_id": "c"})
    _closed(s.receive(hello, 0.0), Close.VERSION)


def test_hello_timeout() -> None:
    s = Session(SessionConfig(hello_timeout_s=5.0), now=10.0)
    assert s.tick(14.9) == []
    _closed(s.tick(15.0), Close.PROTOCOL)
    opened = _open()
    assert opened.tick(1e9) == []  # the deadline only applies before hello


def test_size_limit_in_bytes_closes_1009() -> None:
    s = _open(max_message_bytes=200)
    (ev,) = s.receive(POSE, 1.0)
    assert isinstance(ev, Deliver)
    _closed(s.receive(json.dumps({"type": "ping", "t": 1, "x": "é" * 150}), 1.1),
            Close.TOO_BIG)  # 150 characters, 300 bytes
    big_hello = Session(SessionConfig(max_message_bytes=50), 0.0)
    _closed(big_hello.receive(HELLO + " " * 60, 0.0), Close.TOO_BIG)
    _closed(_open(max_message_bytes=100).receive(b"x" * 101, 1.0), Close.TOO_BIG)


def test_token_bucket_closes_4429_and_refills() -> None:
    s = _open(rate_per_second=10.0, rate_burst=3)
    for i in range(3):
        assert isinstance(s.receive(POSE, 1.0 + i * 1e-6)[0], Deliver)
    _closed(s.receive(POSE, 1.0), Close.RATE)
    slow = _open(rate_per_second=10.0, rate_burst=3)
    for i in range(50):  # 10 per second is fine forever
        assert isinstance(slow.receive(POSE, 1.0 + i * 0.1)[0], Deliver)


def test_malformed_counter_answers_errors_then_closes() -> None:
    s = _open(max_malformed=3)
    for _ in range(2):
        (ev,) = s.receive("[1]", 1.0)
        assert isinstance(ev, Reply)
        assert isinstance(ev.msg, ErrorMsg)
        assert ev.msg.code == "bad_message"
    events = s.receive(HELLO, 1.0)  # a second hello counts as malformed too
    assert isinstance(events[0], Reply)
    _closed(events, Close.PROTOCOL)


def test_binary_frames_are_malformed_not_fatal() -> None:
    s = _open()
    (ev,) = s.receive(b"\x01\x02", 1.0)
    assert isinstance(ev, Reply)
    assert isinstance(ev.msg, ErrorMsg)
    assert s.phase is Phase.OPEN


def test_ping_is_answered_by_the_session() -> None:
    s = _open()
    (ev,) = s.receive(json.dumps({"type": "ping", "t": 7}), 1.0, wall=1234.5)
    assert ev == Reply(Pong(7.0, 1234.5))


def test_room_messages_are_delivered_decoded() -> None:
    s = _open()
    op = json.dumps({"type": "op", "op_id": "o1", "kind": "annotation.delete", "id": "a"})
    bad = json.dumps({"type": "op", "op_id": "o2", "kind": "annotation.delete"})
    cmd = json.dumps({"type": "cmd", "name": "gather"})
    kinds = [type(e.msg) for t in (POSE, op, bad, cmd) for e in s.receive(t, 1.0)
             if isinstance(e, Deliver)]
    assert kinds == [Pose, Op, InvalidOp, Cmd]
    assert s.malformed == 0  # an invalid op is answered by the room (reject), not counted
