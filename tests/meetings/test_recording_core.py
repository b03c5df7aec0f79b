"""The pure parts: meeting lifecycle, pose vectors, chunks, recorder sampling, replay seeks."""

from __future__ import annotations

import pytest

from vrcollab.meetings.chunks import Chunk, RecordingError, decode_chunk, encode_chunk
from vrcollab.meetings.logfile import LogWriter, read_index, read_payload
from vrcollab.meetings.poses import WIDTH, dequantize, quantize
from vrcollab.meetings.recorder import Recorder
from vrcollab.meetings.replay import Replay
from vrcollab.meetings.report import is_decision
from vrcollab.meetings.tracker import Ended, MeetingTracker, Started
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState

POSE = {"head": {"p": [1.2345, 1.6, -3.0], "q": [0, 0.7071, 0, 0.7071]},
        "left": None, "right": {"p": [1.0, 1.0, -3.1], "q": [0, 0, 0, 1]},
        "laser": {"origin": [1, 1, -3], "dir": [0, 0, -1], "hit": None, "node_id": "n"}}


def test_meeting_starts_with_the_first_and_ends_with_the_last() -> None:
    tr = MeetingTracker("r", "p")
    (ev,) = tr.join("s1", "u1", "A", "owner", now=10, seq=4, recording=True)
    assert isinstance(ev, Started)
    assert ev.meeting.seq_start == 4
    assert tr.join("s2", "u2", "B", "reviewer", now=12, seq=4, recording=True) == []
    assert tr.join("s3", "u1", "A", "owner", now=13, seq=5, recording=True) == []  # 2nd tab
    assert tr.leave("s1", now=14, seq=6) == []
    assert tr.leave("s2", now=20, seq=7) == []
    (end,) = tr.leave("s3", now=30, seq=8)
    assert isinstance(end, Ended)
    m = end.meeting
    assert (m.ended, m.seq_end) == (30, 8)
    parts = {p["user_id"]: p for p in m.participants_json()}
    assert parts["u1"]["seconds"] == 20.0  # 10..30, one person despite two sessions
    assert parts["u2"]["seconds"] == 8.0
    assert tr.leave("s3", now=31, seq=8) == []


def test_host_stop_holds_the_room_until_start_or_empty() -> None:
    tr = MeetingTracker("r", "p")
    tr.join("s1", "u1", "A", "editor", now=0, seq=0, recording=False)
    assert tr.stop(now=5, seq=1) is not None
    assert tr.stop(now=6, seq=1) is None
    assert tr.join("s2", "u2", "B", "viewer", now=7, seq=1, recording=False) == []  # held
    started = tr.start(now=8, seq=1, recording=False)
    assert started is not None
    assert sorted(started.meeting.participants) == ["u1", "u2"]
    assert tr.start(now=9, seq=1, recording=False) is None


def test_pose_vectors_round_trip_to_a_millimetre() -> None:
    v = quantize(POSE)
    assert v is not None
    assert len(v) == WIDTH
    back = dequantize(v)
    assert back["head"]["p"] == pytest.approx(POSE["head"]["p"], abs=1e-3)
    assert back["left"] is None
    assert back["right"]["q"] == pytest.approx([0, 0, 0, 1], abs=1e-4)
    assert back["laser"]["hit"] is None
    assert back["laser"]["dir"] == pytest.approx([0, 0, -1])
    assert quantize({"head": None}) is None


def test_chunks_round_trip_and_bad_bytes_are_refused() -> None:
    v1, v2 = quantize(POSE), quantize({**POSE, "head": {"p": [2, 1.6, -3], "q": [0, 0, 0, 1]}})
    assert v1 is not None
    assert v2 is not None
    ch = Chunk(t0=100.0, t1=110.0, seq=3, state={"nodes": {}}, presence=[{"session_id": "s"}],
               tracks={"s": [(100.0, v1), (100.2, v2)]},
               events=[(100.5, "commit", 4), (101.0, "leave", "s")])
    back = decode_chunk(encode_chunk(ch))
    assert back.tracks["s"][1][1] == v2
    assert back.tracks["s"][1][0] == pytest.approx(100.2, abs=1e-3)
    assert back.events == [(100.5, "commit", 4), (101.0, "leave", "s")]
    with pytest.raises(RecordingError):
        decode_chunk(b"not zlib")


def test_recorder_samples_at_most_at_its_rate_and_only_changes() -> None:
    rec = Recorder(started=0.0, seq=0, state=RoomState().snapshot(), presence=[], pose_hz=5)
    rec.join(0.0, {"session_id": "s"})
    for k in range(30):  # one second of 30 Hz ticks, the pose changing every tick
        p = {"head": {"p": [k * 0.01, 1.6, 0], "q": [0, 0, 0, 1]}}
        rec.sample(k / 30, {"s": p, "ghost": p})
    assert rec.samples == 5  # 5 Hz, and nothing for a session not present
    for k in range(30, 60):  # standing still: one sample, then nothing
        rec.sample(k / 30, {"s": {"head": {"p": [1, 1.6, 0], "q": [0, 0, 0, 1]}}})
    assert rec.samples == 6


def test_replay_seeks_with_keyframes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.vrcm"
    state = RoomState()
    rec = Recorder(started=0.0, seq=0, state=state.snapshot(), presence=[], chunk_s=1.0,
                   state_every_s=2.0)
    w = LogWriter(path)
    commits = []
    rec.join(0.0, {"session_id": "s"})
    for k in range(1, 120):
        t = k / 20
        rec.sample(t, {"s": {"head": {"p": [t, 1.6, 0], "q": [0, 0, 0, 1]}}})
        if k % 10 == 0:
            c = Commit(k // 10, f"o{k}", "node.set", "u", t,
                       {"node_id": f"n{k}", "props": {"visible": False}})
            from vrcollab.sync.state import apply_commit
            apply_commit(state, c)
            commits.append(c)
            rec.commit(t, c.seq)
        if rec.due(t):
            ch, data = rec.cut(t, len(commits), state.snapshot)
            w.append(data, t0=ch.t0, t1=ch.t1, seq=ch.seq, has_state=ch.state is not None)
    ch, data = rec.finish(6.0)
    w.append(data, t0=ch.t0, t1=ch.t1, seq=ch.seq, has_state=ch.state is not None)
    w.close()
    index = read_index(path)
    assert len(index) == 6
    assert sum(c.has_state for c in index) >= 2
    rp = Replay(index, lambda i: read_payload(path, i), commits)
    st, seq = rp.state_at(3.26)
    assert seq == 6  # commits at 0.5, 1.0, ..., 3.0
    assert sorted(st.nodes) == sorted(f"n{k}" for k in range(10, 70, 10))
    _, poses = rp.presence_and_poses(3.26)
    assert poses["s"]["head"]["p"][0] == pytest.approx(3.2, abs=0.06)
    with path.open("ab") as fh:  # a torn last frame (crash mid-write) is ignored
        fh.write(b"\x00\x00\x10\x00partial")
    assert len(read_index(path)) == 6


def test_decisions_are_comments_starting_with_decision() -> None:
    assert is_decision("Decision: widen the door")
    assert is_decision("  decision:  x")
    assert not is_decision("We made no decision: yet")
