"""The web app's empty states and errors in words (issue 10), real Chromium and server: an
unsupported file shows the server's message, a conversion that fails shows the ingest error,
and signing out ends the session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium")
    srv = ServerProcess(tmp_path / "data")
    srv.start()
    yield srv
    srv.stop()


def ready(page: Any) -> None:
    wait_js(page, "document.body.dataset.ready === '1'", timeout=30)


def test_errors_in_words_and_sign_out(app_server: ServerProcess, browser: Any,
                                      tmp_path: Path) -> None:
    srv = app_server
    link = re.findall(r"owner sign-in link \(one-time, 24 h\): (\S+)", srv.log())[-1]
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(link)
        ready(page)
        page.click("#signin-submit")
        page.wait_for_url(re.compile(r"/projects$"))
        ready(page)
        page.fill("#new-project-name", "Errors")
        page.click("#create-project button[type=submit]")
        page.wait_for_url(re.compile(r"/projects/p_"))
        ready(page)
        assert "create one on a model version" in page.inner_text("#no-rooms")
        # a file no loader knows: refused at upload with the server's message
        junk = tmp_path / "notes.txt"
        junk.write_text("just some text\n" * 50)
        page.set_input_files("#upload-file", str(junk))
        wait_js(page, "document.getElementById('upload-error').textContent.length > 0")
        assert "not a supported model format" in page.inner_text("#upload-error")
        # an IFC that cannot be parsed: queued, then the conversion fails with the ingest error
        broken = tmp_path / "broken.ifc"
        broken.write_text("ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n"
                          "#1=IFCWALL('x',$,$,$,$,$,$,$);\n#2=garbage(((;\n")
        page.set_input_files("#upload-file", str(broken))
        wait_js(page, "document.getElementById('upload').dataset.jobStatus === 'failed'",
                timeout=120)
        message = page.inner_text("#upload-error")
        assert message.startswith("Conversion failed: ")
        assert len(message) > len("Conversion failed: ") + 5
        wait_js(page, "document.querySelector('#models td') && "
                      "document.getElementById('models').innerText.includes('failed: ')")
        # signing out ends the session everywhere in this browser
        page.click("#signout")
        page.wait_for_url(re.compile(r"/welcome"))
        ready(page)
        page.goto(f"{srv.base_url}/projects")
        page.wait_for_url(re.compile(r"/welcome"))
        state = page.evaluate("fetch('/api/session').then(r => r.json())")
        assert state == {"signed_in": False}
    finally:
        ctx.close()
