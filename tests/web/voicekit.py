"""Test support for voice (docs/voice.md): Chromium with a fake microphone playing a generated
tone, rooms without a model (voice needs none), and polls of the client's WebRTC stats.

Every check polls until the wanted state is reached (no timed assertions): "audio flows" is
``bytesReceived`` growing between two polls *and* an ``audioLevel`` above silence; "no audio" is
``bytesReceived`` that stays put over several polls.
"""

from __future__ import annotations

import contextlib
import math
import struct
import time
import wave
from pathlib import Path
from typing import Any

from tests.web.roomkit import CHROMIUM, CHROMIUM_ARGS, wait_js

# Level (0..1) above which audio is not silence. getStats' audioLevel stays 0 in headless
# Chromium (no playout device), so the decoded level of the remote stream (RMS at the entrance of
# the client's Web Audio graph) counts too; the tone arrives at about 0.03 after noise
# suppression and Opus, silence (muted sender, no RTP) at 0.
SILENCE = 0.005
VOICE_ARGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def write_tone(path: Path, *, seconds: float = 2.0, hz: float = 440.0, rate: int = 48_000,
               gaps: bool = False) -> Path:
    """A mono 16-bit WAV of a sine tone (``gaps``: 200 ms tone bursts every second, for onset
    timing). Chromium loops it as the fake microphone."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        on = not gaps or (t % 1.0) < 0.2
        v = int(12_000 * math.sin(2 * math.pi * hz * t)) if on else 0
        frames += struct.pack("<h", v)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def launch(playwright: Any, tone: Path) -> Any:
    """Headless Chromium whose microphone plays ``tone``."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, *VOICE_ARGS, f"--use-file-for-fake-audio-capture={tone}"])


def room_url(base_url: str, room_id: str, token: str) -> str:
    """The room link of a token (low quality: software GL)."""
    return f"{base_url}/r/{room_id}?token={token}&quality=low"


def open_page(browser: Any, url: str, *, init_script: str | None = None) -> Any:
    """A new context on the room (``init_script`` runs before the page's own), waiting until
    online."""
    ctx = browser.new_context(viewport={"width": 800, "height": 500})
    if init_script is not None:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(url)
    wait_js(page, "window.__vrcollab && window.__vrcollab.ready && "
                  "window.__vrcollab.info().state === 'online'", timeout=60)
    return page


def voice(page: Any) -> dict[str, Any]:
    """The client's voice state (``VoiceClient.describe()``)."""
    out: dict[str, Any] = page.evaluate("window.__vrcollab.voice.describe()")
    return out


def join(page: Any) -> None:
    """Click "Join voice" and wait until voice is on."""
    page.click("#voice-join")
    wait_js(page, "window.__vrcollab.voice.describe().state === 'on'", timeout=30)


def session_id(page: Any) -> str:
    sid: str = page.evaluate("window.__vrcollab.info().session_id")
    return sid


def stats(page: Any) -> dict[str, Any]:
    out: dict[str, Any] = page.evaluate("window.__vrcollab.voice.stats()")
    return out


def wait_audio(page: Any, sid: str, timeout: float = 60.0) -> dict[str, float]:
    """Wait until ``page`` receives ``sid``'s audio: bytes grow and the level is above silence
    (the tone reaches the other side). Returns the last inbound stats."""
    deadline = time.monotonic() + timeout
    last_bytes, level, last = None, 0.0, {}
    while time.monotonic() < deadline:
        last = stats(page).get(sid) or {}
        b = last.get("bytes_received")
        level = max(level, float(last.get("audio_level") or 0.0),
                    float(last.get("decoded_level") or 0.0))
        if b is not None and last_bytes is not None and b > last_bytes and level > SILENCE:
            return last
        if b is not None:
            last_bytes = b
        time.sleep(0.5)
    raise AssertionError(f"no audio from {sid}: {last} (bytes before {last_bytes}, level "
                         f"{level}); voice {voice(page)}")


def wait_silent(page: Any, sid: str, polls: int = 4, timeout: float = 60.0) -> None:
    """Wait until no more audio bytes arrive from ``sid`` (``polls`` consecutive polls 0.5 s
    apart without growth), or no inbound stream from it exists at all."""
    deadline = time.monotonic() + timeout
    same, prev = 0, None
    while time.monotonic() < deadline:
        b = (stats(page).get(sid) or {}).get("bytes_received")
        if b is None:
            return
        same = same + 1 if b == prev else 0
        prev = b
        if same >= polls:
            return
        time.sleep(0.5)
    raise AssertionError(f"audio from {sid} never stopped; voice {voice(page)}")


def peer(page: Any, sid: str) -> dict[str, Any] | None:
    """The voice peer entry of ``sid`` as ``page`` sees it."""
    for p in voice(page)["peers"]:
        if p["session_id"] == sid:
            return p  # type: ignore[no-any-return]
    return None


def close(*pages: Any) -> None:
    """Close the pages' browser contexts (keeps the machine light)."""
    for p in pages:
        with contextlib.suppress(Exception):
            p.context.close()
