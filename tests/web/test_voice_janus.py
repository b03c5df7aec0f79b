"""Voice through the Janus SFU (docs/voice.md): Debian's ``janus`` started by the fixture with a
config of its own, a vrcollab server pointed at it (VRCOLLAB_VOICE=janus), real Chromium
clients with a fake microphone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
    room_url,
    session_id,
    voice,
    wait_audio,
    wait_silent,
    write_tone,
)

pytestmark = [
    pytest.mark.timeout(480),
    pytest.mark.skipif(shutil.which("janus") is None, reason="needs Debian's janus package"),
]


@pytest.fixture(scope="module")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from vrcollab.voice.janus_process import JanusProcess

    proc = JanusProcess(tmp_path_factory.mktemp("janus"))
    cfg = proc.start()
    yield cfg
    proc.stop()


@pytest.fixture(scope="module")
def sfu_server(janus: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("voice-janus"),
                        env={"VRCOLLAB_TICK_HZ": "20", **janus.env()})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def voice_browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    b = launch(playwright, write_tone(tmp_path_factory.mktemp("tone") / "tone.wav"))
    yield b
    b.close()


def test_four_people_through_janus_and_a_removed_member_loses_audio(
        sfu_server: ServerProcess, voice_browser: Any) -> None:
    srv = sfu_server
    boot = srv.bootstrap(owner_name="Olga")
    tokens = [boot.owner_token, *(srv.token(boot.project_id, role, f"P{i}")
                                  for i, role in enumerate(("reviewer", "editor", "reviewer")))]
    pages = [open_page(voice_browser, room_url(srv.base_url, boot.room_id, t)) for t in tokens]
    try:
        for p in pages:
            join(p)
        assert all(voice(p)["mode"] == "janus" for p in pages)
        sids = [session_id(p) for p in pages]
        for i, p in enumerate(pages):
            for j, sid in enumerate(sids):
                if i != j:
                    wait_audio(p, sid, timeout=90)
        # mute through the SFU: the others stop hearing; unmute restores
        pages[1].keyboard.press("m")
        for p in (pages[0], pages[2]):
            wait_silent(p, sids[1])
        pages[1].click("#voice-mute")
        wait_audio(pages[0], sids[1])

        # the fourth is removed from the project; its client ignores the close (hostile), yet
        # it hears nothing more: the server rotated the Janus room
        gone = pages[3]
        gone.evaluate("window.__vrcollab.voice.keepOnDrop = true")
        uid = gone.evaluate("window.__vrcollab.info().user_id")
        res = httpx.delete(f"{srv.base_url}/api/projects/{boot.project_id}/members/{uid}",
                           headers={"Authorization": f"Bearer {boot.owner_token}"})
        assert res.status_code == 200, res.text
        wait_js(gone, "window.__vrcollab.info().state === 'closed'")
        for sid in sids[:3]:
            wait_silent(gone, sid, timeout=60)
        for p in pages[:3]:
            wait_js(p, f"!window.__vrcollab.voice.describe().peers.some(x => x.session_id === "
                       f"'{sids[3]}')")
        # the others carry on in the new room
        for i, p in enumerate(pages[:3]):
            for j, sid in enumerate(sids[:3]):
                if i != j:
                    wait_audio(p, sid, timeout=90)
    finally:
        close(*pages)
