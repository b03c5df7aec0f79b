"""Room rules of issue 8 in the pure core: field ownership (R21), bounds (R19), presenter and
gather (R22), per-room limits (R20), paged welcomes (R6) and safe encoding (R17)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vrcollab.sync.codec import EncodeError, dumps, encode_server, encode_welcome
from vrcollab.sync.limits import RoomLimits
from vrcollab.sync.messages import (
    Cmd,
    Commit,
    CommitMsg,
    ErrorMsg,
    Gather,
    Hello,
    Op,
    Outbox,
    Reject,
    Welcome,
)
from vrcollab.sync.mirror import Mirror
from vrcollab.sync.room import Room
from vrcollab.sync.text import clean_name, name_problem, scrub


def hello() -> Hello:
    return Hello(v=1, client_id="c", last_seq=None, name="n", color="#888888", device="desktop")


def ann(aid: str, pos: list[float] | None = None, **kw: Any) -> Op:
    return Op(f"op-{aid}", "annotation.create",
              {"annotation": {"id": aid, "position": pos or [0.0, 0.0, 0.0], "normal": [0, 0, 1],
                              "node_id": None, "element_id": None, "viewpoint": None,
                              "title": "", "text": "", "status": "open", "priority": "normal",
                              "assignee": None, "labels": [], **kw}})


def reply(out: Outbox, sid: str) -> Any:
    (msg,) = [s.msg for s in out.sends if s.to == sid]
    return msg


@pytest.fixture
def room() -> Room:
    r = Room("r", "p", model={"bounds": {"min": [0, 0, 0], "max": [10, 10, 10]}})
    for sid, uid, role in (("s-own", "u-own", "owner"), ("s-ed", "u-ed", "editor"),
                           ("s-r1", "u-r1", "reviewer"), ("s-r2", "u-r2", "reviewer")):
        r.join(sid, uid, role, hello())
    return r


@pytest.mark.parametrize(("props", "ok"), [
    ({"status": "closed"}, True), ({"assignee": None}, True), ({"priority": "low"}, True),
    ({"title": ""}, False), ({"text": ""}, False), ({"labels": []}, False),
    ({"position": [1, 1, 1]}, False), ({"viewpoint": None}, False),
    ({"node_id": None}, False), ({"status": "closed", "text": ""}, False),
])
def test_field_rules_for_another_authors_annotation(room: Room, props: dict[str, Any],
                                                   ok: bool) -> None:  # protocol R21
    room.apply("s-r1", ann("a"), 1.0)
    out = room.apply("s-r2", Op("u", "annotation.update", {"id": "a", "props": props}), 2.0)
    assert (out.commit is not None) == ok
    if not ok:
        assert reply(out, "s-r2").code == "forbidden"
    own = room.apply("s-r1", Op("u2", "annotation.update", {"id": "a", "props": props}), 3.0)
    assert own.commit is not None  # the author may change every field
    ed = room.apply("s-ed", Op("u3", "annotation.update", {"id": "a", "props": props}), 4.0)
    assert ed.commit is not None


def test_anchor_state_is_server_only(room: Room) -> None:
    room.apply("s-r1", ann("a"), 1.0)
    out = room.apply("s-own", Op("u", "annotation.update",
                                 {"id": "a", "props": {"anchor_state": "ok"}}), 2.0)
    assert reply(out, "s-own").code == "forbidden"


def test_positions_within_the_model_extent(room: Room) -> None:  # protocol R19
    # box 0..10, diagonal 17.3: margin 0.5 * 17.3 + 10 = 18.7
    assert room.apply("s-r1", ann("in", [28.0, -8.0, 5.0]), 1.0).commit is not None
    out = room.apply("s-r1", ann("out", [30.0, 0.0, 0.0]), 1.0)
    assert reply(out, "s-r1").code == "out_of_bounds"
    m = Op("m", "measurement.create", {"measurement": {"id": "m", "a": [0, 0, 0],
                                                       "b": [0, -100, 0], "unit": "m"}})
    assert reply(room.apply("s-r1", m, 1.0), "s-r1").code == "out_of_bounds"
    room.model = None  # unknown extent: only the codec's absolute bound applies
    assert room.apply("s-r1", ann("far", [5e5, 0.0, 0.0]), 1.0).commit is not None


def test_presenter_consent(room: Room) -> None:  # protocol R22
    def pres(sid: str, uid: str | None, n: int) -> Any:
        return room.apply(sid, Op(f"p{n}", "presenter.set", {"user_id": uid}), float(n))

    assert pres("s-r1", "u-r1", 1).commit is not None
    assert reply(pres("s-r2", "u-r2", 2), "s-r2").code == "forbidden"  # hijack
    assert reply(pres("s-r2", None, 3), "s-r2").code == "forbidden"  # ending another's
    assert pres("s-r1", "u-r1", 4).commit is not None  # idempotent
    assert pres("s-r1", None, 5).commit is not None  # the presenter hands over
    assert pres("s-r2", "u-r2", 6).commit is not None
    assert pres("s-ed", "u-r1", 7).commit is not None  # an editor may always
    assert room.state.presenter == "u-r1"
    room.leave("s-r1")  # a presenter who left holds nothing
    assert pres("s-r2", "u-r2", 8).commit is not None


def test_gather_rate_limited_per_sender(room: Room) -> None:  # protocol R22
    sent = [room.command("s-ed", Cmd("gather"), 100.0 + i * 0.01) for i in range(50)]
    gathers = [o for o in sent if any(isinstance(s.msg, Gather) for s in o.sends)]
    assert len(gathers) == 1
    assert isinstance(reply(sent[1], "s-ed"), ErrorMsg)
    assert reply(sent[1], "s-ed").code == "rate_limited"
    later = room.command("s-ed", Cmd("gather"), 103.0)
    assert any(isinstance(s.msg, Gather) for s in later.sends)


def test_room_limits(room: Room) -> None:  # protocol R20
    room.limits = RoomLimits(max_annotations=2, max_comments=3, max_comments_per_annotation=2,
                             max_state_bytes=6000)
    room.apply("s-r1", ann("a"), 1.0)
    room.apply("s-r1", ann("b"), 1.0)
    assert reply(room.apply("s-r1", ann("c"), 1.0), "s-r1").code == "room_full"
    for i, aid in enumerate("aab"):
        out = room.apply("s-r1", Op(f"c{i}", "comment.add", {
            "annotation_id": aid, "comment": {"id": f"c{i}", "text": "x"}}), 2.0)
        assert out.commit is not None
    out = room.apply("s-r1", Op("c9", "comment.add", {
        "annotation_id": "a", "comment": {"id": "c9", "text": "x"}}), 2.0)
    assert reply(out, "s-r1").code == "room_full"  # per annotation
    big = Op("t", "annotation.update", {"id": "b", "props": {"text": "y" * 6000}})
    assert reply(room.apply("s-r1", big, 3.0), "s-r1").code == "room_full"  # bytes
    fill = Op("f", "annotation.update", {"id": "b", "props": {"text": "y" * 3000}})
    assert room.apply("s-r1", fill, 3.0).commit is not None
    more = Op("f2", "annotation.update", {"id": "a", "props": {"text": "y" * 3000}})
    assert reply(room.apply("s-r1", more, 3.0), "s-r1").code == "room_full"
    # a full room still takes workflow changes and shorter texts
    for i, props in enumerate(({"status": "resolved"}, {"text": "short"})):
        upd = Op(f"w{i}", "annotation.update", {"id": "b", "props": props})
        assert room.apply("s-r1", upd, 3.5).commit is not None
    room.apply("s-r1", Op("d", "annotation.delete", {"id": "a"}), 4.0)
    assert room.usage.comments == 1
    assert room.apply("s-r1", ann("c"), 5.0).commit is not None
    batch = [Op(f"s{i}", "annotation.create", ann(f"s{i}").fields) for i in range(2)]
    assert room.server_problem(batch) is not None  # all or nothing


def test_record_limits(room: Room) -> None:  # protocol R20
    room.limits = RoomLimits(max_measurements=2, max_sections=1, max_nodes=2)

    def meas(i: int) -> Op:
        return Op(f"m{i}", "measurement.create", {"measurement": {
            "id": f"m{i}", "a": [0, 0, 0], "b": [1, 0, 0], "unit": "m"}})

    assert room.apply("s-r1", meas(0), 1.0).commit is not None
    assert room.apply("s-r1", meas(1), 1.0).commit is not None
    assert reply(room.apply("s-r1", meas(2), 1.0), "s-r1").code == "room_full"
    sec = {"id": "s0", "normal": [0, 1, 0], "offset": 0.0, "enabled": True}
    assert room.apply("s-ed", Op("s0", "section.set", {"section": sec}), 1.0).commit is not None
    again = Op("s0b", "section.set", {"section": {**sec, "offset": 1.0}})  # same id: an update
    assert room.apply("s-ed", again, 1.0).commit is not None
    other = Op("s1", "section.set", {"section": {**sec, "id": "s1"}})
    assert reply(room.apply("s-ed", other, 1.0), "s-ed").code == "room_full"
    for i in range(3):
        out = room.apply("s-ed", Op(f"n{i}", "node.set", {"node_id": f"n{i}",
                                                          "props": {"visible": False}}), 1.0)
        assert (out.commit is not None) == (i < 2)


def big_room() -> Room:
    r = Room("r", "p", replay_window=50_000)
    r.join("s", "u", "owner", hello())
    for i in range(300):
        r.apply_server("server", ann(f"a{i}", text="t" * 500), 1.0)
        for j in range(3):
            r.apply_server("server", Op(f"c{i}.{j}", "comment.add", {
                "annotation_id": f"a{i}", "comment": {"id": f"c{j}", "text": "c" * 300}}), 2.0)
    return r


@pytest.mark.parametrize("last_seq", [None, 0, 600])
def test_paged_welcome_rebuilds_the_state(last_seq: int | None) -> None:  # protocol R6
    r = big_room()
    h = Hello(v=1, client_id="x", last_seq=last_seq, name="n", color="#888888",
              device="desktop")
    w = reply(r.join("s2", "u2", "viewer", h), "s2")
    assert isinstance(w, Welcome)
    frames = encode_welcome(w, 64 * 1024)
    assert len(frames) > 5
    assert max(len(f) for f in frames) < 64 * 1024 + 4096
    m = Mirror()
    if last_seq:  # the client held the first commits already
        for c in list(r.log)[:last_seq]:
            m.apply(c)
        m.synced = True
    for i, f in enumerate(frames):
        msg = json.loads(f)
        m.handle(msg)
        assert m.synced == (i == len(frames) - 1 or last_seq is not None)
    assert m.seq == r.seq
    assert m.state == r.state


def test_small_welcome_is_one_frame(room: Room) -> None:
    w = reply(room.join("s-x", "u-x", "viewer", hello()), "s-x")
    (frame,) = encode_welcome(w)
    assert "parts" not in json.loads(frame)


def test_unsendable_strings_never_reach_a_socket() -> None:  # protocol R17
    with pytest.raises(EncodeError):
        dumps({"text": "\ud800"})
    with pytest.raises(EncodeError):
        encode_server(Reject("o", "x", "bad \udfff"))
    c = Commit(1, "o", "comment.add", "u", 1.0, {"comment": {"text": "a\ud800b"}})
    from vrcollab.server.hub import _broadcast_frame  # the hub's last line of defence

    frame = _broadcast_frame(CommitMsg(c))
    assert json.loads(frame.encode("utf-8"))["comment"]["text"] == "a\ufffdb"


def test_scrub_and_names() -> None:
    data = {"k\ud800": ["ok", "x\udc00", {"t": "\ud83d\ude00"}], "n": 1}
    fixed = scrub(data)
    assert fixed == {"k\ufffd": ["ok", "x\ufffd", {"t": "\U0001f600"}], "n": 1}
    clean = {"a": ["b"]}
    assert scrub(clean) is clean
    assert name_problem("Zoë 👩‍💻") is None  # ZWJ emoji sequence stays
    for bad in ("a\u202eb", "\x00", "\x1b[31m", "a\u2028b", "\u200fx", "\ufeff"):
        assert name_problem(bad) is not None, repr(bad)
    assert clean_name(" Eve\u202e\x00\x07  lin ") == "Eve lin"


def test_joiners_at_one_seq_share_the_welcome_parts() -> None:  # protocol R6
    r = big_room()
    cache: dict[Any, list[str]] = {}
    w1 = reply(r.join("s1", "u1", "viewer", hello()), "s1")
    w2 = reply(r.join("s2", "u2", "viewer", hello()), "s2")
    f1, f2 = encode_welcome(w1, 64 * 1024, cache), encode_welcome(w2, 64 * 1024, cache)
    assert json.loads(f1[0])["session_id"] != json.loads(f2[0])["session_id"]
    assert all(a is b for a, b in zip(f1[1:], f2[1:], strict=True))
    r.apply_server("server", ann("later"), 3.0)
    w3 = reply(r.join("s3", "u3", "viewer", hello()), "s3")
    f3 = encode_welcome(w3, 64 * 1024, cache)
    m = Mirror()
    for f in f3:
        m.handle(json.loads(f))
    assert "later" in m.state.annotations
    assert m.state == r.state
