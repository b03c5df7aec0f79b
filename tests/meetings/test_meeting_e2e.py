"""A scripted meeting of three Python clients on a real server: the meeting is listed, its
recording replays to the room's state at the end, poses are where they were, seeking in any
order equals playing through, and recording follows the project setting (docs/meetings.md)."""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.meetings.meeting_support import (
    MEETING_ENV,
    STEPS,
    ScriptedMeeting,
    head_at,
    run_meeting,
)
from tests.server_process import ServerProcess
from vrcollab.meetings.chunks import decode_chunk
from vrcollab.meetings.logfile import ChunkInfo
from vrcollab.meetings.replay import Replay
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState, apply_commit


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("meetings"), env=MEETING_ENV)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def meeting(server: ServerProcess) -> ScriptedMeeting:
    boot = server.bootstrap(owner_name="Alice")
    return asyncio.run(run_meeting(server, boot.project_id, boot.room_id, boot.owner_token))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _replay(server: ServerProcess, sm: ScriptedMeeting, token: str | None = None) -> Replay:
    h = _auth(token or sm.owner_token)
    data = httpx.get(f"{server.base_url}/api/meetings/{sm.meeting_id}/replay", headers=h)
    data.raise_for_status()
    body = data.json()
    index = [ChunkInfo(c["index"], 0, c["bytes"], c["t0"], c["t1"], c["seq"], c["has_state"])
             for c in body["chunks"]]

    def read(info: ChunkInfo) -> bytes:
        res = httpx.get(f"{server.base_url}/api/meetings/{sm.meeting_id}/chunks/{info.index}",
                        headers=h)
        res.raise_for_status()
        return res.content

    return Replay(index, read, [Commit.from_json(c) for c in body["commits"]])


def test_meeting_is_listed_with_length_and_participants(server: ServerProcess,
                                                       meeting: ScriptedMeeting) -> None:
    res = httpx.get(f"{server.base_url}/api/projects/{meeting.project_id}/meetings",
                    headers=_auth(meeting.tokens["carol"]))  # any member (reviewer)
    res.raise_for_status()
    (m,) = [x for x in res.json() if x["meeting_id"] == meeting.meeting_id]
    assert m["room_id"] == meeting.room_id
    assert m["recording"] is True
    assert m["ended"] is not None
    assert m["duration_s"] > (STEPS - 1) * 1.0
    assert sorted(p["name"] for p in m["participants"]) == ["Alice", "Bob", "Carol"]
    assert all(p["seconds"] > 0 for p in m["participants"])
    assert m["log_bytes"] > 0


def test_recording_is_visible_to_everyone(meeting: ScriptedMeeting) -> None:
    ids = {m["meeting_id"] for m in meeting.meeting_messages.values()}
    assert ids == {meeting.meeting_id}
    assert all(m["recording"] is True for m in meeting.meeting_messages.values())


def test_replay_ends_in_the_room_state_at_the_end(server: ServerProcess,
                                                  meeting: ScriptedMeeting) -> None:
    rp = _replay(server, meeting)
    end = rp.index[-1].t1
    state, seq = rp.state_at(end + 1)
    assert seq == meeting.final_seq
    assert state.snapshot() == meeting.final_state
    ann = state.annotations[meeting.annotation_id]
    assert ann["status"] == "resolved"
    assert [c["id"] for c in ann["comments"]] == [
        "c-reply", "c-decision"]
    assert state.nodes["door-12"]["transform"][12] == 2.5


def test_annotation_appears_when_it_was_made(server: ServerProcess,
                                             meeting: ScriptedMeeting) -> None:
    rp = _replay(server, meeting)
    t = meeting.commit_t["annotation"]
    assert meeting.annotation_id not in rp.state_at(t - 0.05)[0].annotations
    assert meeting.annotation_id in rp.state_at(t)[0].annotations
    assert "c-reply" not in [c["id"] for c in
                             rp.state_at(meeting.commit_t["reply"] - 0.05)[0]
                             .annotations[meeting.annotation_id]["comments"]]


def test_avatars_are_where_they_were(server: ServerProcess, meeting: ScriptedMeeting) -> None:
    rp = _replay(server, meeting)
    for step in range(1, STEPS):  # late in each step: that step's pose was sent long before
        start, end = meeting.steps[step]
        t = start + (end - start) * 0.8
        frame = rp.at(t)
        for name, sid in meeting.sessions.items():
            assert sid in frame.presence
            head = frame.poses[sid]["head"]["p"]
            assert head == pytest.approx(head_at(name, step), abs=0.002), (name, step)
            assert frame.poses[sid]["laser"]["hit"][2] == pytest.approx(-5.0, abs=0.002)


def test_seeking_in_any_order_equals_playing_through(server: ServerProcess,
                                                     meeting: ScriptedMeeting) -> None:
    rp = _replay(server, meeting)
    t0, t1 = rp.index[0].t0, rp.index[-1].t1
    times = [t0 + (t1 - t0) * i / 40 for i in range(41)]
    # play-through: the commits applied one by one in order
    state = RoomState.from_snapshot(decode_chunk(rp._read(rp.index[0])).state or {})
    played = {}
    pending = list(rp.commits)
    for t in times:
        while pending and pending[0].t <= t:
            apply_commit(state, pending.pop(0))
        played[t] = (state.snapshot(), rp.presence_and_poses(t))
    order = times[:]
    random.Random(15).shuffle(order)
    fresh = _replay(server, meeting)
    for t in order:
        f = fresh.at(t)
        assert (f.state.snapshot(), (f.presence, f.poses)) == played[t], t


def test_a_viewer_may_replay_a_non_member_may_not(server: ServerProcess,
                                                  meeting: ScriptedMeeting) -> None:
    viewer = server.token(meeting.project_id, "viewer", "Vera")
    assert _replay(server, meeting, viewer).index
    other = server.bootstrap(project_name="Other", owner_name="Otto")
    res = httpx.get(f"{server.base_url}/api/meetings/{meeting.meeting_id}/replay",
                    headers=_auth(other.owner_token))
    assert res.status_code == 404


def test_recording_off_when_the_project_disallows_it(server: ServerProcess) -> None:
    boot = server.bootstrap(project_name="No recording", owner_name="Alice")
    sm = asyncio.run(run_meeting(server, boot.project_id, boot.room_id, boot.owner_token,
                                 record=False))
    assert all(m["recording"] is False for m in sm.meeting_messages.values())
    h = _auth(boot.owner_token)
    m = httpx.get(f"{server.base_url}/api/meetings/{sm.meeting_id}", headers=h).json()
    assert m["recording"] is False
    assert m["log_bytes"] == 0
    assert m["ended"] is not None
    assert len(m["participants"]) == 3
    res = httpx.get(f"{server.base_url}/api/meetings/{sm.meeting_id}/replay", headers=h)
    assert res.status_code == 404
    assert not list(Path(server.data_dir, "meetings").glob(f"{sm.meeting_id}.vrcm"))
    # the minutes exist without a recording
    minutes = httpx.get(f"{server.base_url}/api/meetings/{sm.meeting_id}/minutes",
                        headers=h).json()
    assert [i["id"] for i in minutes["issues"]] == [sm.annotation_id]


def test_minutes_list_issues_decisions_and_replay_links(server: ServerProcess,
                                                       meeting: ScriptedMeeting) -> None:
    h = _auth(meeting.tokens["bob"])
    minutes = httpx.get(f"{server.base_url}/api/meetings/{meeting.meeting_id}/minutes",
                        headers=h).json()
    (issue,) = minutes["issues"]
    assert issue["id"] == meeting.annotation_id
    assert issue["created"] is True
    assert issue["resolved"] is True
    assert issue["status"] == "resolved"
    assert issue["assignee"] == "Bob"
    assert issue["has_snapshot"] is True
    assert [c["text"] for c in issue["comments"]] == ["Agreed, needs 90 cm",
                                                      "Decision: widen the door to 90 cm"]
    assert [d["text"] for d in minutes["decisions"]] == ["Decision: widen the door to 90 cm"]
    assert f"/meetings/{meeting.meeting_id}/replay?t=" in issue["replay_url"]
    page = httpx.get(f"{server.base_url}/api/meetings/{meeting.meeting_id}/minutes.html",
                     headers=h)
    assert page.status_code == 200
    assert "Door clearance at gate 12" in page.text
    assert 'src="data:image/png;base64,' in page.text
    assert "widen the door" in page.text


def test_minutes_pdf_renders_with_the_issue_and_its_snapshot(server: ServerProcess,
                                                             meeting: ScriptedMeeting,
                                                             tmp_path: Path) -> None:
    if not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfimages")):
        pytest.skip("needs poppler-utils (pdftoppm, pdftotext)")
    res = httpx.get(f"{server.base_url}/api/meetings/{meeting.meeting_id}/minutes.pdf",
                    headers=_auth(meeting.tokens["carol"]), timeout=120)
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(res.content)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Door clearance at gate 12" in text
    assert "Decision: widen the door to 90 cm" in text
    assert "Alice" in text
    assert "Carol" in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True,
                            text=True).stdout.splitlines()[2:]
    assert [row.split()[3:5] for row in images] == [["64", "48"]]  # the issue's snapshot


def test_owners_delete_recordings_and_meetings_and_retention_purges(
        server: ServerProcess) -> None:
    boot = server.bootstrap(project_name="Retention", owner_name="Alice")
    sm = asyncio.run(run_meeting(server, boot.project_id, boot.room_id, boot.owner_token))
    base, h = server.base_url, _auth(boot.owner_token)
    reviewer = _auth(sm.tokens["bob"])
    log = Path(server.data_dir, "meetings", f"{sm.meeting_id}.vrcm")
    assert log.exists()
    assert httpx.delete(f"{base}/api/meetings/{sm.meeting_id}/recording",
                        headers=reviewer).status_code == 403
    res = httpx.delete(f"{base}/api/meetings/{sm.meeting_id}/recording", headers=h)
    assert res.status_code == 200
    assert res.json()["recording"] is False
    assert not log.exists()
    assert httpx.get(f"{base}/api/meetings/{sm.meeting_id}/replay", headers=h).status_code \
        == 404
    assert httpx.get(f"{base}/api/meetings/{sm.meeting_id}/minutes", headers=h).json()[
        "issues"]  # the minutes stay
    # a second meeting, then a retention period: both are older than "0.00001 days"
    sm2 = asyncio.run(run_meeting(server, boot.project_id, boot.room_id, boot.owner_token))
    assert httpx.put(f"{base}/api/projects/{boot.project_id}/meeting-settings",
                     json={"recording": True, "retention_days": -1},
                     headers=h).status_code == 422
    res = httpx.put(f"{base}/api/projects/{boot.project_id}/meeting-settings",
                    json={"recording": True, "retention_days": 0.00001}, headers=h)
    assert res.status_code == 200
    time.sleep(1.0)  # older than the retention period (0.86 s), not a timing assertion
    assert httpx.post(f"{base}/api/projects/{boot.project_id}/meetings/purge",
                      headers=reviewer).status_code == 403
    res = httpx.post(f"{base}/api/projects/{boot.project_id}/meetings/purge", headers=h)
    assert sorted(res.json()["deleted"]) == sorted([sm.meeting_id, sm2.meeting_id])
    assert httpx.get(f"{base}/api/projects/{boot.project_id}/meetings",
                     headers=h).json() == []
    assert not Path(server.data_dir, "meetings", f"{sm2.meeting_id}.vrcm").exists()
    assert httpx.get(f"{base}/api/meetings/{sm2.meeting_id}", headers=h).status_code == 404
