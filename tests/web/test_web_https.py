"""The headset page over ``vrcollab serve --https``: a secure context with WebXR (emulated
headset, Enter VR, the room websocket over wss://), and over plain HTTP on a LAN name a notice
that explains the missing Enter VR button. The browser trusts the generated certificate the way
a headset does after accepting it once (``tests/https_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.https_support import LAN_NAME, HttpsServer, spki_hash
from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, CHROMIUM_ARGS, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    srv = HttpsServer(tmp_path_factory.mktemp("https"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium(https_server: HttpsServer, playwright: Any) -> Iterator[Any]:
    """Chromium that trusts the server's certificate and resolves the LAN name to 127.0.0.1."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium")
    if not LAN_NAME:
        pytest.skip("this machine's host name is 'localhost': no LAN name to test with")
    spki = spki_hash(https_server.data_dir / "tls" / "cert.pem")
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={spki}"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield browser
    browser.close()


def _page_state(browser: Any, url: str) -> dict[str, Any]:
    ctx = browser.new_context(viewport={"width": 900, "height": 600})
    page = ctx.new_page()
    try:
        page.goto(url)
        wait_js(page, "window.__vrcollab && window.__vrcollab.ready && "
                      "window.__vrcollab.info().xr_support !== null", timeout=60)
        state: dict[str, Any] = page.evaluate("""() => ({
            secure: window.isSecureContext, xr: Boolean(navigator.xr),
            protocol: location.protocol, host: location.host,
            vrButton: Boolean(document.querySelector('#enter-vr')),
            notice: document.querySelector('#xr-notice')?.dataset.reason ?? null,
            noticeText: document.querySelector('#xr-notice')?.textContent ?? '',
        })""")
        if state["vrButton"]:
            wait_js(page, "window.__vrcollab.info().state === 'online'", timeout=60)
            state["online"] = True  # the room websocket works (wss:// through the same TLS)
        return state
    finally:
        ctx.close()


def test_https_page_is_a_secure_context_with_webxr(https_server: HttpsServer,
                                                   chromium: Any) -> None:
    boot = https_server.bootstrap()
    token = https_server.token(boot.project_id, "editor", "Quest")
    base = f"https://{LAN_NAME}:{https_server.port}/r/{boot.room_id}?token={token}&quality=low"
    headset = _page_state(chromium, base + "&xr=emulate")
    assert headset["protocol"] == "https:"
    assert headset["host"] == f"{LAN_NAME}:{https_server.port}"
    assert headset["secure"] is True
    assert headset["xr"] is True
    assert headset["vrButton"] is True
    assert headset["notice"] is None
    assert headset["online"] is True
    # the same page without a headset explains the missing button, but not as "insecure"
    desk = _page_state(chromium, base)
    assert desk["secure"] is True
    assert desk["vrButton"] is False
    assert desk["notice"] in ("no-headset", "no-webxr")


def test_plain_http_on_a_lan_name_explains_the_missing_button(
    chromium: Any, tmp_path: Path
) -> None:
    with ServerProcess(tmp_path / "plain") as plain:
        boot = plain.bootstrap()
        url = f"http://{LAN_NAME}:{plain.port}/r/{boot.room_id}?token={boot.owner_token}"
        state = _page_state(chromium, url + "&quality=low")
    assert state["protocol"] == "http:"
    assert state["secure"] is False
    assert state["vrButton"] is False
    assert state["notice"] == "insecure"
    assert "--https" in state["noticeText"]
    assert "adb reverse" in state["noticeText"]
