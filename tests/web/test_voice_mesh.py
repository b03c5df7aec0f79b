"""Voice in mesh mode (docs/voice.md): real Chromium, real WebRTC on this machine, a fake
microphone playing a tone; signalling through a real vrcollab server's room websocket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import wait_js
from tests.web.voicekit import (
    close,
    join,
    launch,
    open_page,
    peer,
    room_url,
    session_id,
    voice,
    wait_audio,
    wait_silent,
    write_tone,
)

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A vrcollab server in mesh mode (the default); viewers may not speak (the default)."""
    srv = ServerProcess(tmp_path_factory.mktemp("voice-mesh"), env={"VRCOLLAB_TICK_HZ": "20"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def voice_browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tone = write_tone(tmp_path_factory.mktemp("tone") / "tone.wav")
    b = launch(playwright, tone)
    yield b
    b.close()


def _room(srv: ServerProcess, *roles: str) -> tuple[list[str], Any]:
    boot = srv.bootstrap(owner_name="Olga")
    tokens = [boot.owner_token] + [srv.token(boot.project_id, r, f"{r.title()} {i}")
                                   for i, r in enumerate(roles)]
    return [room_url(srv.base_url, boot.room_id, t) for t in tokens], boot


def test_two_people_hear_each_other_mute_stops_unmute_restores(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    (owner_url, rev_url), _ = _room(voice_server, "reviewer")
    a = open_page(voice_browser, owner_url)
    b = open_page(voice_browser, rev_url)
    try:
        assert voice(a)["mic"] is False  # no microphone before joining voice
        join(a)
        join(b)
        sa, sb = session_id(a), session_id(b)
        wait_audio(a, sb)
        wait_audio(b, sa)
        assert voice(a)["mode"] == "mesh"
        assert voice(a)["can_speak"] is True
        # M mutes: the other side stops receiving our audio; everyone sees the mute state
        a.keyboard.press("m")
        wait_js(a, "window.__vrcollab.voice.describe().muted === true")
        wait_silent(b, sa)
        wait_js(b, f"window.__vrcollab.voice.describe().peers.find(p => p.session_id === "
                   f"'{sa}')?.muted === true")
        wait_audio(a, sb)  # b still talks to a
        # the button unmutes: audio flows again
        a.click("#voice-mute")
        wait_js(a, "window.__vrcollab.voice.describe().muted === false")
        wait_audio(b, sa)
        # ICE restart (what the offerer does when a connection fails): audio carries on
        b.evaluate(f"window.__vrcollab.voice.transport.restart('{sa}')")
        wait_js(b, "window.__vrcollab.voice.describe().links[0].restarts === 1 && "
                   "window.__vrcollab.voice.describe().links[0].ice === 'connected'")
        wait_audio(a, sb)
        wait_audio(b, sa)
        # speaking indicator: the people list marks a as speaking on b's side
        b.click("[data-tab=people]")
        wait_js(b, f"document.querySelector('.person[data-session=\"{sa}\"] .voice')"
                   "?.dataset.speaking === 'true'")
        assert not a.errors
        assert not b.errors
    finally:
        close(a, b)


def test_three_people_mesh_and_a_leaver_is_silent_at_once(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    urls, _ = _room(voice_server, "reviewer", "editor")
    pages = [open_page(voice_browser, u) for u in urls]
    try:
        for p in pages:
            join(p)
        sids = [session_id(p) for p in pages]
        for i, p in enumerate(pages):
            for j, sid in enumerate(sids):
                if i != j:
                    wait_audio(p, sid)
        # the third leaves voice: the others drop its connection and audio at once
        pages[2].click("#voice-join")  # "Leave voice"
        for p in pages[:2]:
            wait_js(p, f"!window.__vrcollab.voice.describe().peers.some(p => p.session_id === "
                       f"'{sids[2]}')")
            assert sids[2] not in p.evaluate("window.__vrcollab.voice.stats()")
        wait_audio(pages[0], sids[1])
    finally:
        close(*pages)


#: The microphone answers only when the test says so (``window.__releaseMic()``).
MIC_GATE = """
(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__micAsked = false;
  const gate = new Promise((r) => { window.__releaseMic = r; });
  navigator.mediaDevices.getUserMedia = async (c) => {
    window.__micAsked = true;
    await gate;
    return real(c);
  };
})();
"""


def test_someone_joining_while_we_wait_for_the_microphone_is_heard(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    """The join race behind the stalled 6-person mesh: B's welcome waits for its microphone;
    C joins meanwhile and offers to B. B must answer that offer once its microphone is there
    (it used to drop it, and C's voice.joined, so B and C never heard each other)."""
    (a_url, b_url, c_url), _ = _room(voice_server, "reviewer", "editor")
    a = open_page(voice_browser, a_url)
    b = open_page(voice_browser, b_url, init_script=MIC_GATE)
    c = open_page(voice_browser, c_url)
    try:
        join(a)
        b.click("#voice-join")
        wait_js(b, "window.__micAsked === true")  # B has its welcome, waits for the microphone
        join(c)  # C is welcomed with A and B in voice and offers to both
        wait_js(c, "window.__vrcollab.voice.describe().links.length === 2")
        b.evaluate("window.__releaseMic()")
        wait_js(b, "window.__vrcollab.voice.describe().state === 'on'")
        sa, sb, sc = session_id(a), session_id(b), session_id(c)
        for page, others in ((a, (sb, sc)), (b, (sa, sc)), (c, (sa, sb))):
            for sid in others:
                wait_audio(page, sid)
        assert {p["session_id"] for p in voice(b)["peers"]} == {sa, sc}
    finally:
        close(a, b, c)


def test_no_ghost_audio_after_a_closed_tab_or_a_removal(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    """A person whose tab closes, or who is removed from the project while its client keeps its
    connections open (``keepOnDrop``), is not heard any more: the others drop it at once."""
    (a_url, b_url, c_url), boot = _room(voice_server, "reviewer", "editor")
    a, b, c = (open_page(voice_browser, u) for u in (a_url, b_url, c_url))
    try:
        for p in (a, b, c):
            join(p)
        sa, sb, sc = session_id(a), session_id(b), session_id(c)
        for page, others in ((a, (sb, sc)), (b, (sa, sc)), (c, (sa, sb))):
            for sid in others:
                wait_audio(page, sid)
        # C's tab closes: its websocket ends, the server tells the others, they drop C
        c.context.close()
        for page in (a, b):
            wait_js(page, f"!window.__vrcollab.voice.describe().peers.some(p => p.session_id "
                          f"=== '{sc}') && !window.__vrcollab.voice.transport.pcs.has('{sc}')")
            assert sc not in page.evaluate("window.__vrcollab.voice.stats()")
        # B is removed from the project; its client ignores it and keeps its connections
        b.evaluate("window.__vrcollab.voice.keepOnDrop = true")
        uid = b.evaluate("window.__vrcollab.info().user_id")
        res = httpx.delete(f"{voice_server.base_url}/api/projects/{boot.project_id}/members/"
                           f"{uid}", headers={"Authorization": f"Bearer {boot.owner_token}"})
        assert res.status_code == 200
        wait_js(a, f"!window.__vrcollab.voice.transport.pcs.has('{sb}')")
        assert sb not in a.evaluate("window.__vrcollab.voice.stats()")
        wait_silent(b, sa)  # A closed its side: B hears nothing more from A either
        assert voice(a)["state"] == "on"
    finally:
        close(a, b, c)


def test_host_mutes_all_and_viewer_listens_only(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    (owner_url, rev_url, viewer_url), _ = _room(voice_server, "reviewer", "viewer")
    owner, rev, viewer = (open_page(voice_browser, u) for u in (owner_url, rev_url, viewer_url))
    try:
        for p in (owner, rev, viewer):
            join(p)
        so, sr, sv = session_id(owner), session_id(rev), session_id(viewer)
        v = voice(viewer)
        assert v["can_speak"] is False
        assert v["mic"] is False
        assert v["muted"] is True
        wait_audio(viewer, so)  # viewers listen
        wait_audio(owner, sr)
        # a viewer's unmute is refused with a typed error; nothing of it reaches the others
        viewer.click("#voice-mute")
        wait_js(viewer, "(window.__vrcollab.voice.describe().last_error || '')"
                        ".startsWith('publish_forbidden')")
        assert (peer(owner, sv) or {}).get("muted") is True
        assert sv not in owner.evaluate("window.__vrcollab.voice.stats()") or \
            owner.evaluate("window.__vrcollab.voice.stats()")[sv]["bytes_received"] == 0
        # the host mutes everyone else
        owner.click("#voice-mute-all")
        wait_js(rev, "window.__vrcollab.voice.describe().muted === true")
        wait_silent(owner, sr)
        # a reviewer is no host
        rev.evaluate(f"window.__vrcollab.voice.hostMute('{so}')")
        wait_js(rev, "(window.__vrcollab.voice.describe().last_error || '')"
                     ".startsWith('forbidden')")
        assert voice(owner)["muted"] is False
    finally:
        close(owner, rev, viewer)


def test_viewer_refused_then_allowed_by_the_project_setting(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    """The owner ticks "Viewers may speak" on the project page while a viewer is in voice: the
    viewer is joined again with the right to speak (muted), unmutes, and is heard."""
    (owner_url, viewer_url), boot = _room(voice_server, "viewer")
    owner, viewer = (open_page(voice_browser, u) for u in (owner_url, viewer_url))
    ctx = voice_browser.new_context()
    host = voice_server.base_url.split("//", 1)[1].split(":")[0]
    ctx.add_cookies([{"name": "vrc_session", "value": boot.owner_token, "domain": host,
                      "path": "/"}])
    settings = ctx.new_page()
    try:
        join(owner)
        join(viewer)
        so, sv = session_id(owner), session_id(viewer)
        assert voice(viewer)["can_speak"] is False
        wait_audio(viewer, so)
        viewer.click("#voice-mute")  # refused: this project does not let viewers speak
        wait_js(viewer, "(window.__vrcollab.voice.describe().last_error || '')"
                        ".startsWith('publish_forbidden')")
        assert voice(viewer)["mic"] is False
        # the owner changes the setting where project settings live: the project page
        settings.goto(f"{voice_server.base_url}/projects/{boot.project_id}")
        box = settings.locator("#setting-viewers-speak")
        box.wait_for()
        wait_js(settings, "!document.querySelector('#setting-viewers-speak').disabled")
        assert box.is_checked() is False
        box.check()
        wait_js(settings, "!document.querySelector('#setting-viewers-speak').disabled && "
                          "document.querySelector('#setting-viewers-speak').checked")
        got = httpx.get(f"{voice_server.base_url}/api/projects/{boot.project_id}/settings",
                        headers={"Authorization": f"Bearer {boot.owner_token}"}).json()
        assert got["voice_viewers_may_speak"] is True
        # the live room joins the viewer again, muted, now allowed to speak
        wait_js(viewer, "window.__vrcollab.voice.describe().can_speak === true && "
                        "window.__vrcollab.voice.describe().state === 'on'")
        assert voice(viewer)["muted"] is True
        viewer.click("#voice-mute")  # unmute
        wait_js(viewer, "window.__vrcollab.voice.describe().muted === false")
        wait_audio(owner, sv)
        wait_audio(viewer, so)
        # turned off again: the viewer is muted and listens only
        box.uncheck()
        wait_js(viewer, "window.__vrcollab.voice.describe().can_speak === false && "
                        "window.__vrcollab.voice.describe().muted === true")
        wait_silent(owner, sv)
        wait_audio(viewer, so)
        assert not owner.errors
        assert not viewer.errors
    finally:
        close(owner, viewer, settings)


def test_panner_follows_head_pose_and_meeting_mode(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    (owner_url, rev_url), _ = _room(voice_server, "reviewer")
    a = open_page(voice_browser, owner_url)
    b = open_page(voice_browser, rev_url)
    try:
        join(a)
        join(b)
        sb = session_id(b)
        wait_audio(a, sb)
        for spot in ([4.0, 1.6, -3.0], [-6.0, 2.5, 5.0]):
            b.evaluate(f"window.__vrcollab.placeCamera({spot}, [0, 1.5, 0])")
            head = b.evaluate("window.__vrcollab.pose().head.p")
            assert max(abs(h - s) for h, s in zip(head, spot, strict=True)) < 0.5
            wait_js(a, "(() => { const p = window.__vrcollab.voice.describe().peers.find("
                       f"x => x.session_id === '{sb}'); const h = {head}; return p && p.panner &&"
                       " p.panner.every((v, i) => Math.abs(v - h[i]) < 0.05); })()")
        assert (peer(a, sb) or {})["spatial"] is True
        # per-person volume from the people list's slider
        a.click("[data-tab=people]")
        a.evaluate(f"(() => {{ const s = document.querySelector('.person[data-session=\"{sb}\"]"
                   " .vol'); s.value = '0.5'; s.dispatchEvent(new Event('input')); })()")
        wait_js(a, f"window.__vrcollab.voice.describe().peers.find(x => x.session_id === "
                   f"'{sb}').volume === 0.5")
        a.click("#voice-meeting")
        wait_js(a, "window.__vrcollab.voice.describe().peers.every(p => p.spatial === false)")
        wait_audio(a, sb)
    finally:
        close(a, b)


def test_server_restart_mid_call_audio_resumes(
        tmp_path: Path, voice_browser: Any) -> None:
    srv = ServerProcess(tmp_path / "srv", env={"VRCOLLAB_TICK_HZ": "20"})
    srv.start()
    try:
        (owner_url, rev_url), _ = _room(srv, "reviewer")
        a = open_page(voice_browser, owner_url)
        b = open_page(voice_browser, rev_url)
        try:
            join(a)
            join(b)
            wait_audio(a, session_id(b))
            joins = voice(a)["joins"]
            srv.stop()
            srv.start()  # same port and data: the clients reconnect on their own
            for p in (a, b):
                wait_js(p, "window.__vrcollab.info().state === 'online' && "
                           f"window.__vrcollab.voice.describe().joins > {joins} && "
                           "window.__vrcollab.voice.describe().state === 'on'", timeout=90)
            wait_audio(a, session_id(b))
            wait_audio(b, session_id(a))
            assert a.evaluate("location.href") == owner_url or "r/" in a.evaluate("location.href")
        finally:
            close(a, b)
    finally:
        srv.stop()
