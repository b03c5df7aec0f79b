"""Shared pose frames (protocol R12, revision 5): one frame per room per tick, each pose
encoded once; a receiver's unsent frame is replaced (newest wins), and a receiver that missed a
frame or just joined gets the full frame, so it misses no session's latest pose."""

from __future__ import annotations

import json

from vrcollab.sync.messages import Pose, PresenceEntry
from vrcollab.sync.presence import PoseSlot, PresenceTable


def _pose(x: float) -> Pose:
    return Pose({"head": {"p": [x, 1.6, 0.0], "q": [0.0, 0.0, 0.0, 1.0]}, "left": None,
                 "right": None, "laser": None})


def _table(*sids: str) -> PresenceTable:
    t = PresenceTable()
    for sid in sids:
        t.add(PresenceEntry(sid, f"u-{sid}", sid, "#888888", "editor", "vr"))
    return t


def _poses(text: str | None) -> dict[str, float]:
    assert text is not None
    m = json.loads(text)
    assert m["type"] == "poses"
    return {sid: p["head"]["p"][0] for sid, p in m["poses"].items()}


def test_one_shared_frame_per_tick_holds_the_changed_poses() -> None:
    t = _table("a", "b", "c")
    assert t.take_frame(1.0) is None  # nothing moved
    t.set_pose("a", _pose(1.0))
    t.set_pose("b", _pose(2.0))
    t.set_pose("a", _pose(3.0))  # later in the same tick wins
    frame = t.take_frame(2.0)
    assert frame is not None
    assert _poses(frame.delta) == {"a": 3.0, "b": 2.0}  # the sender's own entry included
    assert json.loads(frame.delta)["t"] == 2.0
    t.set_pose("c", _pose(4.0))
    frame2 = t.take_frame(3.0)
    assert frame2 is not None
    assert _poses(frame2.delta) == {"c": 4.0}
    assert _poses(frame2.full()) == {"a": 3.0, "b": 2.0, "c": 4.0}
    assert frame2.full() is frame2.full()  # encoded once per tick


def test_receivers_share_the_frame_text() -> None:
    t = _table("a", "b")
    slots = [PoseSlot(), PoseSlot()]
    t.set_pose("a", _pose(1.0))
    first = t.take_frame(1.0)
    assert first is not None
    for s in slots:
        s.offer(first)
        s.take()  # new receivers start with the full frame
    t.set_pose("b", _pose(2.0))
    frame = t.take_frame(2.0)
    assert frame is not None
    for s in slots:
        s.offer(frame)
    texts = [s.take() for s in slots]
    assert texts[0] is texts[1] is frame.delta  # one encoded frame, no per-receiver copy


def test_slow_receiver_gets_every_latest_pose_not_a_queue() -> None:
    t = _table("a", "b", "c")
    slot = PoseSlot()
    assert not slot
    assert slot.take() is None
    t.set_pose("a", _pose(1.0))
    f1 = t.take_frame(1.0)
    assert f1 is not None
    slot.offer(f1)
    assert slot.take() == f1.full()  # a new receiver: every latest pose
    slot.offer(f1)
    assert slot.take() == f1.delta  # then deltas
    t.set_pose("b", _pose(2.0))
    f2 = t.take_frame(2.0)
    t.set_pose("c", _pose(3.0))
    f3 = t.take_frame(3.0)
    assert f2 is not None
    assert f3 is not None
    slot.offer(f2)
    slot.offer(f3)  # busy writer: f2 was never sent; f3's delta alone would lose b
    assert _poses(slot.take()) == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert slot.take() is None  # one frame, not a queue


def test_a_session_that_left_is_not_in_later_frames() -> None:
    t = _table("a", "b")
    t.set_pose("a", _pose(1.0))
    t.set_pose("b", _pose(2.0))
    t.take_frame(1.0)
    t.remove("a")
    t.set_pose("a", _pose(5.0))  # a pose racing the leave is ignored
    t.set_pose("b", _pose(3.0))
    frame = t.take_frame(2.0)
    assert frame is not None
    assert _poses(frame.full()) == {"b": 3.0}
