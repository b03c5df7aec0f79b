"""Issue 14 op kinds: 3D markup (create, erase: the author or an editor) and measurement kinds
(angle needs its third point, area its value; absent optional members stay absent)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from vrcollab.sync.codec import decode_client, encode_welcome
from vrcollab.sync.messages import Hello, InvalidOp, Op, Outbox, Welcome
from vrcollab.sync.mirror import Mirror
from vrcollab.sync.room import Room


def hello() -> Hello:
    return Hello(v=1, client_id="c", last_seq=None, name="n", color="#888888", device="desktop")


_IDS = itertools.count()


def op(kind: str, **fields: Any) -> Op | InvalidOp:
    msg = decode_client(json.dumps({"type": "op", "op_id": f"o{next(_IDS)}", "kind": kind,
                                    **fields}))
    assert isinstance(msg, (Op, InvalidOp))
    return msg


def code(out: Outbox, sid: str) -> str | None:
    msgs = [s.msg for s in out.sends if s.to == sid and hasattr(s.msg, "code")]
    return msgs[0].code if msgs else None


@pytest.fixture
def room() -> Room:
    r = Room("r", "p", model={"bounds": {"min": [0, 0, 0], "max": [10, 10, 10]}})
    for sid, uid, role in (("s-ed", "u-ed", "editor"), ("s-r1", "u-r1", "reviewer"),
                           ("s-r2", "u-r2", "reviewer"), ("s-v", "u-v", "viewer")):
        r.join(sid, uid, role, hello())
    return r


def markup(mid: str, **kw: Any) -> dict[str, Any]:
    return {"markup": {"id": mid, "points": [[0, 0, 0], [1, 2, 3], [4, 4, 4]], **kw}}


def test_markup_is_a_room_record_erasable_by_its_author_and_editors(room: Room) -> None:
    out = room.apply("s-r1", op("markup.create", **markup("k1", color="#3d8bfd")), 1.0)
    assert out.commit is not None
    rec = room.state.markups["k1"]
    assert rec == {"id": "k1", "points": [[0, 0, 0], [1, 2, 3], [4, 4, 4]], "color": "#3d8bfd",
                   "author": "u-r1", "created": 1.0}
    assert room.apply("s-r1", op("markup.create", **markup("k1")), 1.5).commit is None
    assert code(room.apply("s-v", op("markup.create", **markup("kv")), 1.6), "s-v") == "forbidden"
    # Another reviewer may not erase it; its author and an editor may.
    out = room.apply("s-r2", op("markup.delete", id="k1"), 2.0)
    assert code(out, "s-r2") == "forbidden"
    assert room.apply("s-r1", op("markup.delete", id="k1"), 3.0).commit is not None
    assert "k1" not in room.state.markups
    room.apply("s-r2", op("markup.create", **markup("k2", annotation_id="a1")), 4.0)
    assert room.state.markups["k2"]["color"] == "#ff3b30"  # the default
    assert room.state.markups["k2"]["annotation_id"] == "a1"
    assert room.apply("s-ed", op("markup.delete", id="k2"), 5.0).commit is not None
    assert code(room.apply("s-ed", op("markup.delete", id="k2"), 6.0), "s-ed") == "not_found"


@pytest.mark.parametrize(("points", "why"), [
    ([[0, 0, 0]], "bad_op"),  # one point is no line
    ([[0, 0, 0], [1, 1]], "bad_op"),
    ([[0, 0, 0], ["1", 0, 0]], "bad_op"),
    ([[0, 0, 0]] * 501, "too_large"),
    ([[0, 0, 0], [100, 0, 0]], "out_of_bounds"),  # R19: beyond the model's extent
])
def test_bad_markup_points_are_refused(room: Room, points: list[Any], why: str) -> None:
    out = room.apply("s-r1", op("markup.create", markup={"id": "k", "points": points}), 1.0)
    assert out.commit is None
    assert code(out, "s-r1") == why


def test_measurement_kinds_keep_their_members_and_plain_ones_stay_as_they_were(
    room: Room,
) -> None:
    plain = {"id": "m0", "a": [0, 0, 0], "b": [1, 0, 0]}
    room.apply("s-r1", op("measurement.create", measurement=plain), 1.0)
    assert room.state.measurements["m0"] == {**plain, "unit": "m", "author": "u-r1",
                                             "created": 1.0}
    angle = {"id": "m1", "a": [1, 0, 0], "b": [0, 0, 0], "c": [0, 1, 0], "kind": "angle"}
    assert room.apply("s-r1", op("measurement.create", measurement=angle), 2.0).commit
    assert room.state.measurements["m1"]["c"] == [0, 1, 0]
    no_c = {"id": "m2", "a": [1, 0, 0], "b": [0, 0, 0], "kind": "angle"}
    assert code(room.apply("s-r1", op("measurement.create", measurement=no_c), 3.0),
                "s-r1") == "bad_op"
    area = {"id": "m3", "a": [1, 1, 1], "b": [1, 1, 1.001], "kind": "area", "value": 12.5}
    assert room.apply("s-r1", op("measurement.create", measurement=area), 4.0).commit
    far = {"id": "m4", "a": [1, 0, 0], "b": [0, 0, 0], "c": [0, 99, 0], "kind": "angle"}
    assert code(room.apply("s-r1", op("measurement.create", measurement=far), 5.0),
                "s-r1") == "out_of_bounds"


def test_markup_survives_a_paged_welcome() -> None:
    room = Room("r", "p")
    room.join("s1", "u1", "editor", hello())
    for i in range(400):
        room.apply("s1", op("markup.create", markup={
            "id": f"k{i}", "points": [[0, 0, 0], [1, 1, 1]] * 50}), float(i))
    assert len(room.state.markups) == 400
    snap = room.state.snapshot()
    w = Welcome(session_id="s2", user={"user_id": "u2", "name": "n", "color": "#888888",
                                       "role": "viewer", "device": "desktop"},
                room={"room_id": "r", "project_id": "p", "model": None}, seq=room.seq,
                snapshot=snap, ops=None, presence=(), tick_hz=30.0, heartbeat_s=10.0)
    frames = encode_welcome(w, part_bytes=64 * 1024)
    assert len(frames) > 2
    m = Mirror()
    for f in frames:
        m.handle(json.loads(f))
    assert m.state.markups == room.state.markups


def test_saved_views_are_room_records_changed_by_their_author_or_editors(room: Room) -> None:
    view = {"id": "v1", "name": "Level 1 from the east",
            "camera": {"position": [1, 2, 3], "target": [0, 0, 0]},
            "section": {"normal": [0, 0, 1], "offset": 2.5}, "hidden": ["wall-1"],
            "colors": {"door-2": "#ff0000"}}
    assert room.apply("s-r1", op("view.save", view=view), 1.0).commit is not None
    saved = room.state.views["v1"]
    assert saved["camera"] == {"position": [1, 2, 3], "target": [0, 0, 0], "up": [0, 1, 0],
                               "fov": 60.0}
    assert saved["section"] == {"normal": [0, 0, 1], "offset": 2.5, "enabled": True}
    assert saved["isolated"] is None
    assert (saved["author"], saved["created"]) == ("u-r1", 1.0)
    renamed = {**view, "name": "Level 1"}
    assert code(room.apply("s-r2", op("view.save", view=renamed), 2.0), "s-r2") == "forbidden"
    assert room.apply("s-ed", op("view.save", view=renamed), 3.0).commit is not None
    assert room.state.views["v1"]["name"] == "Level 1"
    assert room.state.views["v1"]["author"] == "u-r1"  # the author stays
    assert code(room.apply("s-r2", op("view.delete", id="v1"), 4.0), "s-r2") == "forbidden"
    assert room.apply("s-r1", op("view.delete", id="v1"), 5.0).commit is not None
    assert room.state.snapshot().get("views") is None
    too_many = {"id": "v2", "hidden": [f"n{i}" for i in range(5001)]}
    assert code(room.apply("s-r1", op("view.save", view=too_many), 6.0), "s-r1") == "too_large"


def test_a_saved_view_keeps_its_section_box(room: Room) -> None:
    box = {"min": [0.0, 0.0, 0.0], "max": [1.0, 2.0, 3.0]}
    assert room.apply("s-r1", op("view.save", view={"id": "vb", "box": box}), 1.0).commit
    assert room.state.views["vb"]["box"] == box
    assert room.apply("s-r1", op("view.save", view={"id": "vn"}), 2.0).commit
    assert "box" not in room.state.views["vn"]
    flipped = {"id": "vx", "box": {"min": [2.0, 0.0, 0.0], "max": [1.0, 2.0, 3.0]}}
    assert code(room.apply("s-r1", op("view.save", view=flipped), 3.0), "s-r1") == "bad_op"
    assert "vx" not in room.state.views
