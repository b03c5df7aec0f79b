"""The pure room: roles, exactly-once op ids, LWW, late join and resume, presence."""

from __future__ import annotations

from typing import Any

import pytest

from vrcollab.sync.messages import (
    Ack,
    Cmd,
    CommitMsg,
    ErrorMsg,
    Gather,
    Hello,
    InvalidOp,
    Op,
    Outbox,
    Pose,
    PresenceMsg,
    Reject,
    SharedView,
    Welcome,
)
from vrcollab.sync.room import Room


def hello(last_seq: int | None = None, name: str = "x") -> Hello:
    return Hello(v=1, client_id=f"c-{name}", last_seq=last_seq, name=name, color="#112233",
                 device="desktop")


def to(out: Outbox, sid: str) -> list[Any]:
    return [s.msg for s in out.sends if s.to == sid]


def bcast(out: Outbox) -> list[Any]:
    return [s.msg for s in out.sends if s.to is None]


def ann(aid: str, **kw: Any) -> Op:
    a = {"id": aid, "position": [0.0, 0.0, 0.0], "normal": [0.0, 0.0, 1.0], "node_id": None,
         "element_id": None, "viewpoint": None, "title": "", "text": "", "status": "open",
         "priority": "normal", "assignee": None, "labels": [], **kw}
    return Op(f"op-{aid}", "annotation.create", {"annotation": a})


@pytest.fixture
def room() -> Room:
    r = Room("r1", "p1", replay_window=5)
    r.join("s-own", "u-own", "owner", hello(name="own"))
    r.join("s-rev", "u-rev", "reviewer", hello(name="rev"))
    r.join("s-view", "u-view", "viewer", hello(name="view"))
    return r


def test_commit_acks_sender_and_broadcasts_to_others(room: Room) -> None:
    out = room.apply("s-rev", ann("a1"), now=100.0)
    assert out.commit is not None
    assert out.commit.seq == 1
    assert out.commit.author == "u-rev"
    (ack,) = to(out, "s-rev")
    assert isinstance(ack, Ack)
    assert ack.seq == 1
    (b,) = [s for s in out.sends if s.to is None]
    assert isinstance(b.msg, CommitMsg)
    assert b.exclude == "s-rev"
    rec = room.state.annotations["a1"]
    assert rec["author"] == "u-rev"
    assert rec["created"] == 100.0
    assert rec["comments"] == []


def test_op_id_applied_exactly_once(room: Room) -> None:  # protocol R7
    room.apply("s-rev", ann("a1"), 1.0)
    again = room.apply("s-rev", ann("a1"), 2.0)
    assert again.commit is None
    assert room.seq == 1
    (ack,) = to(again, "s-rev")
    assert isinstance(ack, Ack)
    assert ack.seq == 1
    assert ack.commit is not None
    assert bcast(again) == []


@pytest.mark.parametrize(
    ("sid", "op", "code"),
    [
        ("s-view", ann("a9"), "forbidden"),
        ("s-rev", Op("o", "node.set", {"node_id": "n", "props": {"visible": False}}), "forbidden"),
        ("s-rev", Op("o", "section.delete", {"id": "s"}), "forbidden"),
        ("s-rev", Op("o", "presenter.set", {"user_id": "u-own"}), "forbidden"),
        ("s-own", Op("o", "annotation.update", {"id": "nope", "props": {"text": "x"}}),
         "not_found"),
        ("s-own", Op("o", "comment.add", {"annotation_id": "nope",
                                          "comment": {"id": "c", "text": "t"}}), "not_found"),
        ("s-own", Op("o", "section.delete", {"id": "nope"}), "not_found"),
        ("s-own", Op("o", "teleport", {}), "unknown_kind"),
        ("s-own", InvalidOp("o", "bad_op", "broken"), "bad_op"),
    ],
)
def test_rejects(room: Room, sid: str, op: Op | InvalidOp, code: str) -> None:  # protocol R8
    out = room.apply(sid, op, 1.0)
    (msg,) = to(out, sid)
    assert isinstance(msg, Reject)
    assert msg.code == code
    assert out.commit is None
    assert room.seq == 0
    assert bcast(out) == []


def test_conflicting_ids(room: Room) -> None:
    room.apply("s-rev", ann("a1"), 1.0)
    out = room.apply("s-own", Op("other", "annotation.create",
                                 ann("a1").fields), 2.0)
    assert isinstance(to(out, "s-own")[0], Reject)
    assert to(out, "s-own")[0].code == "conflict"


def test_comment_ownership(room: Room) -> None:
    room.join("s-rev2", "u-rev2", "reviewer", hello(name="rev2"))
    room.apply("s-rev", ann("a1"), 1.0)
    room.apply("s-rev", Op("c1", "comment.add",
                           {"annotation_id": "a1", "comment": {"id": "c1", "text": "hi"}}), 2.0)
    edit = {"annotation_id": "a1", "comment_id": "c1", "text": "changed"}
    out = room.apply("s-rev2", Op("e1", "comment.edit", edit), 3.0)
    assert to(out, "s-rev2")[0].code == "forbidden"
    out = room.apply("s-own", Op("e2", "comment.edit", edit), 4.0)  # editor+ may
    assert out.commit is not None
    c = room.state.find_comment("a1", "c1")
    assert c is not None
    assert c["text"] == "changed"
    assert c["updated"] == 4.0
    assert c["author"] == "u-rev"
    room.apply("s-rev", Op("d1", "comment.delete", {"annotation_id": "a1", "comment_id": "c1"}),
               5.0)
    assert room.state.annotations["a1"]["comments"] == []


def test_last_writer_wins_per_property(room: Room) -> None:  # protocol R10
    t = [float(i) for i in range(16)]
    room.apply("s-own", Op("o1", "node.set", {"node_id": "n", "props": {"transform": t}}), 1.0)
    room.apply("s-own", Op("o2", "node.set", {"node_id": "n", "props": {"visible": False}}), 2.0)
    room.apply("s-own", Op("o3", "node.set", {"node_id": "n", "props": {"color": "#ff0000"}}), 3.0)
    room.apply("s-own", Op("o4", "node.set", {"node_id": "n", "props": {"visible": True}}), 4.0)
    assert room.state.nodes["n"] == {"transform": t, "visible": True, "color": "#ff0000"}


def test_records_survive_author_leaving(room: Room) -> None:
    room.apply("s-rev", ann("a1"), 1.0)
    out = room.leave("s-rev")
    (msg,) = bcast(out)
    assert isinstance(msg, PresenceMsg)
    assert msg.event == "leave"
    assert "a1" in room.state.annotations


def test_late_join_snapshot_and_resume_with_ops(room: Room) -> None:  # protocol R6
    for i in range(3):
        room.apply("s-rev", ann(f"a{i}"), float(i))
    out = room.join("s-new", "u-new", "viewer", hello())
    (w,) = to(out, "s-new")
    assert isinstance(w, Welcome)
    assert w.ops is None
    assert w.seq == 3
    assert w.snapshot is not None
    assert set(w.snapshot["annotations"]) == {"a0", "a1", "a2"}
    assert {p.session_id for p in w.presence} == {"s-own", "s-rev", "s-view"}
    out = room.join("s-back", "u-new", "viewer", hello(last_seq=1))
    (w,) = to(out, "s-back")
    assert w.snapshot is None
    assert w.ops is not None
    assert [c.seq for c in w.ops] == [2, 3]
    out = room.join("s-same", "u-new", "viewer", hello(last_seq=3))
    assert to(out, "s-same")[0].ops == ()


def test_resume_too_old_gets_snapshot(room: Room) -> None:
    for i in range(8):  # replay window is 5
        room.apply("s-rev", ann(f"a{i}"), float(i))
    (w,) = to(room.join("s-x", "u", "viewer", hello(last_seq=1)), "s-x")
    assert w.snapshot is not None
    assert w.ops is None
    (w,) = to(room.join("s-y", "u", "viewer", hello(last_seq=3)), "s-y")
    assert w.ops is not None
    assert [c.seq for c in w.ops] == [4, 5, 6, 7, 8]
    (w,) = to(room.join("s-z", "u", "viewer", hello(last_seq=99)), "s-z")  # from the future
    assert w.snapshot is not None


def test_presenter_and_gather(room: Room) -> None:
    out = room.command("s-rev", Cmd("gather"))
    assert isinstance(to(out, "s-rev")[0], ErrorMsg)
    room.apply("s-rev", Op("p", "presenter.set", {"user_id": "u-rev"}), 1.0)
    room.set_pose("s-rev", Pose({"head": {"p": [1.0, 2.0, 3.0], "q": [0.0, 0.0, 0.0, 1.0]}}))
    out = room.command("s-rev", Cmd("gather"))
    (g,) = bcast(out)
    assert isinstance(g, Gather)
    assert g.pose is not None
    assert g.pose["head"]["p"] == [1.0, 2.0, 3.0]


def test_follow_updates_presence(room: Room) -> None:
    out = room.command("s-view", Cmd("follow", "s-own"))
    (msg,) = bcast(out)
    assert isinstance(msg, PresenceMsg)
    assert msg.event == "update"
    assert msg.entry.following == "s-own"


def test_poses_coalesce_latest_per_session(room: Room) -> None:  # protocol R12
    for x in range(5):
        room.set_pose("s-own", Pose({"head": {"p": [float(x), 0.0, 0.0], "q": [0, 0, 0, 1]}}))
    room.set_pose("s-ghost", Pose({"head": None}))  # not in the room: ignored
    changed = room.take_poses()
    assert list(changed) == ["s-own"]
    assert changed["s-own"].data["head"]["p"][0] == 4.0
    assert room.take_poses() == {}


def test_server_ops_reach_everyone_once(room: Room) -> None:  # protocol R16
    op = Op("srv-1", "room.model", {"model": {"version_id": "v2"}})
    out = room.apply_server("server", op, 9.0)
    assert out.commit is not None
    assert out.commit.author == "server"
    (send,) = out.sends
    assert send.to is None
    assert send.exclude is None
    assert room.apply_server("server", op, 10.0).commit is None
    assert room.seq == 1


def test_view_needs_editor_or_presenter(room: Room) -> None:  # protocol R23
    view = {"hidden": ["n1"], "isolated": None, "section": None, "camera": None, "colors": {}}
    out = room.command("s-rev", Cmd("view", view=view))
    (err,) = to(out, "s-rev")
    assert isinstance(err, ErrorMsg)
    assert err.code == "forbidden"
    assert not bcast(out)
    room.apply("s-rev", Op("p", "presenter.set", {"user_id": "u-rev"}), 1.0)
    (shared,) = bcast(room.command("s-rev", Cmd("view", view=view)))
    assert isinstance(shared, SharedView)
    assert shared.from_session == "s-rev"
    assert shared.view["hidden"] == ["n1"]
    (shared,) = bcast(room.command("s-own", Cmd("view", view=view)))
    assert isinstance(shared, SharedView)
