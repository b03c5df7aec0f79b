"""Replay of a scripted three-client meeting in headless Chromium (docs/meetings.md): the model
of the room's version loads, the annotation appears when it was made, avatars stand where they
were, the end equals the room's state at the meeting's end, and seeking back and forth equals
playing through."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trimesh

from tests.meetings.meeting_support import (
    MEETING_ENV,
    STEPS,
    ScriptedMeeting,
    head_at,
    run_meeting,
)
from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, prepare_room, wait_js


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("replay"), env=MEETING_ENV)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def recorded(replay_server: ServerProcess,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[PreparedRoom, ScriptedMeeting]:
    model = Path(tmp_path_factory.mktemp("model")) / "gate.stl"
    trimesh.creation.box(extents=(6.0, 3.0, 8.0)).export(model)
    room = prepare_room(replay_server, model)
    # the sync Playwright driver owns this thread's loop: run the asyncio clients in another
    with ThreadPoolExecutor(1) as pool:
        sm = pool.submit(lambda: asyncio.run(run_meeting(
            replay_server, room.project_id, room.room_id, room.owner_token))).result()
    return room, sm


def _open(browser: Any, room: PreparedRoom, sm: ScriptedMeeting, token: str) -> Any:
    ctx = browser.new_context(viewport={"width": 900, "height": 560})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{room.base_url}/meetings/{sm.meeting_id}/replay?token={token}&quality=low")
    wait_js(page, "document.body.dataset.ready === '1'", timeout=60)
    assert page.evaluate("window.__replay.ready") is True, page.evaluate(
        "window.__replay.error")
    assert errors == []
    page.errors = errors
    return page


def test_replay_in_the_browser(browser: Any, recorded: tuple[PreparedRoom, ScriptedMeeting],
                               replay_server: ServerProcess) -> None:
    room, sm = recorded
    viewer = replay_server.token(room.project_id, "viewer", "Vera")  # replay needs viewer only
    page = _open(browser, room, sm, viewer)
    assert page.evaluate("document.querySelectorAll('canvas').length") == 1
    # the model of the room's version is in the scene
    assert page.evaluate("document.getElementById('rp-status').textContent") == ""
    markers = page.evaluate("window.__replay.markers()")
    assert [(m["what"], m["id"]) for m in markers] == [
        ("created", sm.annotation_id), ("comment", sm.annotation_id),
        ("resolved", sm.annotation_id), ("decision", sm.annotation_id)]
    assert page.locator(".rp-marker").count() == 4

    t_ann = sm.commit_t["annotation"]
    page.evaluate(f"window.__replay.seek({t_ann - 0.2})")
    assert sm.annotation_id not in page.evaluate("window.__replay.pins()")
    page.evaluate(f"window.__replay.seek({t_ann + 0.01})")
    assert page.evaluate("window.__replay.pins()") == [sm.annotation_id]
    assert "Door clearance at gate 12" in page.locator("#rp-issues").inner_text()

    step = 3
    start, end = sm.steps[step]
    page.evaluate(f"window.__replay.seek({start + (end - start) * 0.8})")
    poses = page.evaluate("window.__replay.poses()")
    avatars = {a["session_id"]: a for a in page.evaluate("window.__replay.avatars()")}
    for name, sid in sm.sessions.items():
        assert poses[sid]["head"]["p"] == pytest.approx(head_at(name, step), abs=0.01)
        assert sid in avatars
        if avatars[sid]["head"] is not None:  # drawn (not faded out near the camera)
            assert avatars[sid]["head"] == pytest.approx(head_at(name, step), abs=0.01)
    assert page.locator("#rp-people li").count() == 3

    t1 = page.evaluate("window.__replay.t1")
    page.evaluate(f"window.__replay.seek({t1})")
    assert page.evaluate("window.__replay.seq()") == sm.final_seq
    assert page.evaluate("window.__replay.state()") == sm.final_state
    assert page.errors == []


def test_seeking_equals_playing_through(browser: Any,
                                        recorded: tuple[PreparedRoom, ScriptedMeeting]) -> None:
    room, sm = recorded
    page = _open(browser, room, sm, room.owner_token)
    t0, t1 = page.evaluate("[window.__replay.t0, window.__replay.t1]")
    times = [t0 + (t1 - t0) * i / 24 for i in range(25)]
    frame = "[window.__replay.seq(), window.__replay.state(), window.__replay.poses()]"
    page.evaluate(f"window.__replay.seek({t0})")
    played = {}
    for t in times:
        page.evaluate(f"window.__replay.advanceTo({t})")
        played[t] = page.evaluate(frame)
    order = times[:]
    random.Random(7).shuffle(order)
    for t in order:
        page.evaluate(f"window.__replay.seek({t})")
        assert page.evaluate(frame) == played[t], t
    # the clock plays to the end (8x) and stops there in the meeting's final state
    page.evaluate(f"window.__replay.seek({t0})")
    page.evaluate("window.__replay.play(8)")
    wait_js(page, "!window.__replay.playing()", timeout=60)
    wait_js(page, f"window.__replay.seq() === {sm.final_seq}", timeout=10)
    assert page.evaluate("window.__replay.state()") == sm.final_state
    assert page.errors == []
    assert page.evaluate("window.__replay.error()") is None
    assert STEPS > 3


def test_project_page_lists_meetings_with_replay_and_minutes(
        browser: Any, recorded: tuple[PreparedRoom, ScriptedMeeting]) -> None:
    room, sm = recorded
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    host = room.base_url.split("//", 1)[1].split(":")[0]
    ctx.add_cookies([{"name": "vrc_session", "value": room.owner_token, "domain": host,
                      "path": "/"}])
    try:
        page = ctx.new_page()
        page.goto(f"{room.base_url}/projects/{room.project_id}")
        wait_js(page, "document.body.dataset.ready === '1'", timeout=60)
        row = page.locator(f"#meeting-list tr[data-meeting='{sm.meeting_id}']")
        assert row.count() == 1
        assert row.locator(".meeting-people").inner_text() == "Olga, Bob, Carol"  # owner: Olga
        assert row.locator(".meeting-replay").get_attribute("href") == \
            f"/meetings/{sm.meeting_id}/replay"
        pdf = page.request.get(room.base_url + row.locator(".meeting-pdf").get_attribute(
            "href"))
        assert pdf.status == 200
        assert pdf.body().startswith(b"%PDF")
        assert page.locator("#meeting-recording").is_checked()  # the owner's settings form
    finally:
        ctx.close()


def test_everyone_in_the_room_sees_the_recording_badge(
        browser: Any, recorded: tuple[PreparedRoom, ScriptedMeeting]) -> None:
    room, sm = recorded
    ctxs = [browser.new_context(viewport={"width": 900, "height": 560}) for _ in range(2)]
    try:
        pages = []
        for ctx, name in zip(ctxs, ("bob", "carol"), strict=True):
            page = ctx.new_page()
            page.goto(room.url(sm.tokens[name]))
            pages.append(page)
        for page in pages:
            wait_js(page, "document.getElementById('meeting-badge')?.dataset.recording === '1'",
                    timeout=90)
            assert "Recording" in page.locator("#meeting-badge").inner_text()
        ids = {p.evaluate("document.getElementById('meeting-badge').dataset.meeting")
               for p in pages}
        assert len(ids) == 1
        assert sm.meeting_id not in ids  # a new meeting: the first one has ended
    finally:
        for ctx in ctxs:
            ctx.close()
