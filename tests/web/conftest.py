"""Fixtures for the browser tests: one real server with a converted IFC model in a room, and
headless Chromium (Debian's, never a downloaded one) driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import shared_model
from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, CHROMIUM_ARGS, PreparedRoom, prepare_room


def _skip_without_browser() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.skip("needs /usr/bin/chromium and node")


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real vrcollab server subprocess on 127.0.0.1 (fast ticks, SQLite in a temp dir)."""
    _skip_without_browser()
    srv = ServerProcess(tmp_path_factory.mktemp("web-server"), env={"VRCOLLAB_TICK_HZ": "30"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def web_room(web_server: ServerProcess) -> PreparedRoom:
    """A room opened on the converted FZK-Haus (uploaded through the REST API)."""
    return prepare_room(web_server, shared_model("ifc/AC20-FZK-Haus.ifc"))  # or its zip


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright driver for the browser tests (a second sync driver cannot start while
    one runs): every browser they launch, with whatever flags, comes from it. It lives in
    tests/web, which runs last: while it runs, no asyncio test can start in this thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[object]:
    """Headless Chromium (from the session's Playwright driver)."""
    _skip_without_browser()
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
