"""Voice in VR (docs/voice.md "In the browser"): the iwer WebXR emulator plays a Quest 3 in the
page (``?xr=emulate``). B on the right controller toggles mute (A/X teleport, Y opens the menu:
they must not); the speaking ring over a speaker's avatar and the people list's speaking mark
follow the decoded audio. Real Chromium, real WebRTC on 127.0.0.1, a fake microphone tone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

PAD = "window.__vrcollab.xrDevice.controllers.{hand}.updateButtonValue('{button}', {value})"
RINGS = "window.__vrcollab.voice.ui.describe().rings"


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("voice-xr"), env={"VRCOLLAB_TICK_HZ": "20"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def voice_browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    b = launch(playwright, write_tone(tmp_path_factory.mktemp("tone") / "tone.wav"))
    yield b
    b.close()


def _press(page: Any, hand: str, button: str) -> None:
    """Press and release a controller button, each edge seen by the voice UI's 20 Hz poll."""
    page.evaluate(PAD.format(hand=hand, button=button, value=1))
    wait_js(page, f"window.__vrcollab.voice.ui._xrPressed.get('{hand}') === true"
            if hand == "right" else "true")
    page.evaluate(PAD.format(hand=hand, button=button, value=0))
    wait_js(page, f"window.__vrcollab.voice.ui._xrPressed.get('{hand}') !== true")


def _ring(page: Any, sid: str, shown: bool) -> None:
    wait_js(page, f"{RINGS}.includes('{sid}') === {'true' if shown else 'false'}", timeout=60)


def test_vr_controller_b_toggles_mute_and_the_speaking_ring_follows(
        voice_server: ServerProcess, voice_browser: Any) -> None:
    boot = voice_server.bootstrap(owner_name="Desk")
    quest = voice_server.token(boot.project_id, "editor", "Quest user")
    desk = open_page(voice_browser, room_url(voice_server.base_url, boot.room_id,
                                             boot.owner_token))
    vr = open_page(voice_browser, room_url(voice_server.base_url, boot.room_id, quest)
                   + "&xr=emulate")
    try:
        join(desk)
        join(vr)  # before entering VR: the emulator's canvas covers the page's buttons then
        vr.click("#enter-vr")
        wait_js(vr, "window.__vrcollab.info().scene.xr === 'vr'")
        sv, sd = session_id(vr), session_id(desk)
        wait_audio(desk, sv)
        wait_audio(vr, sd)
        # the headset speaks: a ring over its avatar on the desktop, a speaking mark in the list
        _ring(desk, sv, True)
        desk.click("[data-tab=people]")
        wait_js(desk, f"document.querySelector('.person[data-session=\"{sv}\"] .voice')"
                      "?.dataset.speaking === 'true'")
        # A (teleport) and Y (menu) do not touch the microphone
        for hand, button in (("right", "a-button"), ("left", "y-button"), ("left", "x-button")):
            vr.evaluate(PAD.format(hand=hand, button=button, value=1))
            frames = vr.evaluate("window.__vrcollab.info().scene.frames")
            wait_js(vr, f"window.__vrcollab.info().scene.frames >= {frames + 3}")
            vr.evaluate(PAD.format(hand=hand, button=button, value=0))
            assert voice(vr)["muted"] is False
        # B mutes: no more audio reaches the desktop, the ring and the speaking mark go
        _press(vr, "right", "b-button")
        wait_js(vr, "window.__vrcollab.voice.describe().muted === true")
        wait_silent(desk, sv)
        wait_js(desk, f"window.__vrcollab.voice.describe().peers.find(p => p.session_id === "
                      f"'{sv}')?.muted === true")
        _ring(desk, sv, False)
        wait_js(desk, f"document.querySelector('.person[data-session=\"{sv}\"] .voice')"
                      "?.dataset.speaking === 'false'")
        wait_audio(vr, sd)  # the headset still hears the desktop
        # B again unmutes: audio and the ring come back
        _press(vr, "right", "b-button")
        wait_js(vr, "window.__vrcollab.voice.describe().muted === false")
        wait_audio(desk, sv)
        _ring(desk, sv, True)
        # the headset sees the desktop speaker's ring too (rings work in VR)
        _ring(vr, sd, True)
        assert not desk.errors
        assert not vr.errors
    finally:
        close(desk, vr)
