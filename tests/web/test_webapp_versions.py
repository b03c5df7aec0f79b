"""Versions in the web app (issue 10), real Chromium and server: a model dropped onto the drop
zone (drag and drop) and the same file again through the picker make versions 1 and 2; the
compare summary counts elements; a room is created on v1 and switched to v2 from the list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

# the sample shipped in the repo (licence: assets/README.md), so no ../shared is needed
HOUSE = Path(__file__).resolve().parents[2] / "assets" / "IfcOpenHouse_IFC4.ifc"

DROP_JS = """([name, bytes]) => {
  const file = new File([new Uint8Array(bytes)], name, { type: 'application/octet-stream' });
  const dt = new DataTransfer();
  dt.items.add(file);
  const zone = document.getElementById('drop');
  for (const type of ['dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }
}"""


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


def converted(page: Any) -> None:
    wait_js(page, "document.getElementById('upload').dataset.jobStatus === 'done' && "
                  "document.querySelector('#upload-result #budget')", timeout=240)


def test_versions_compare_and_switch(app_server: ServerProcess, browser: Any,
                                     tmp_path: Path) -> None:
    srv = app_server
    link = re.findall(r"owner sign-in link \(one-time, 24 h\): (\S+)", srv.log())[-1]
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(link)
        ready(page)
        page.click("#signin-submit")
        page.wait_for_url(re.compile(r"/projects$"))
        ready(page)
        page.fill("#new-project-name", "Versions")
        page.click("#create-project button[type=submit]")
        page.wait_for_url(re.compile(r"/projects/p_"))
        ready(page)
        project_url = page.url
        page.evaluate(DROP_JS, ["house.ifc", list(HOUSE.read_bytes())])
        converted(page)
        assert "version 1 ready" in page.inner_text("#upload-result")
        page.evaluate("document.getElementById('upload').dataset.jobStatus = ''")
        again = tmp_path / "house.ifc"  # same name: the next version of the same model
        again.write_bytes(HOUSE.read_bytes())
        page.set_input_files("#upload-file", str(again))
        converted(page)
        assert "version 2 ready" in page.inner_text("#upload-result")
        wait_js(page, "document.querySelectorAll('#models table tr').length === 3")

        # compare: the same file twice changes nothing
        model_id = page.get_attribute("#models .model", "data-model")
        page.select_option(f"#cmp-a-{model_id}", index=0)
        page.click("#models form.row button[type=submit]")
        page.wait_for_selector("#compare-summary")
        summary = page.inner_text("#compare-summary")
        assert re.search(r"v1 → v2: 0 added, 0 changed, 0 removed, [1-9]\d* unchanged", summary)

        # a room on v1 from the rooms form, then switched to v2 from the list
        page.fill("#room-name", "On v1")
        labels = page.locator("#room-version option").all_inner_texts()
        page.select_option("#room-version", label=next(t for t in labels if t.endswith("v1")))
        page.click("#create-room button[type=submit]")
        page.wait_for_url(re.compile(r"/r/r_"))
        wait_js(page, "document.getElementById('room-title').dataset.room === 'On v1'")
        assert page.inner_text("#room-title").endswith("v1")
        page.goto(project_url)
        ready(page)
        row = page.locator("#room-list tr[data-room]")
        assert row.locator("td").nth(1).inner_text().startswith("house v1")
        labels = row.locator("select.room-switch option").all_inner_texts()
        with page.expect_navigation():
            row.locator("select.room-switch").select_option(
                label=next(t for t in labels if t.endswith("v2")))
        ready(page)
        assert page.locator("#room-list tr[data-room] td").nth(1).inner_text().startswith(
            "house v2")
    finally:
        ctx.close()
