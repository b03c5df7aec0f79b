"""The web app end to end (issue 10), real Chromium against a real server on 127.0.0.1:

an engineer signs in with the link the server printed, creates a project, uploads the bundled
IFC house with the file input, watches the upload and conversion progress reach done, sees the
device budget table and creates an invite; a reviewer in a second browser accepts it and both
meet in the room; the reviewer's second tab is the same person; a revoked invite is refused;
a cross-origin form post with the engineer's browser creates nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import CHROMIUM, drop_annotation, info, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

# the sample shipped in the repo (licence: assets/README.md), so no ../shared is needed
HOUSE = Path(__file__).resolve().parents[2] / "assets" / "IfcOpenHouse_IFC4.ifc"


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium")
    srv = ServerProcess(tmp_path / "data", env={"VRCOLLAB_TICK_HZ": "30"})
    srv.start()
    yield srv
    srv.stop()


def ready(page: Any) -> None:
    wait_js(page, "document.body.dataset.ready === '1'", timeout=30)


def wait_online(page: Any) -> None:
    wait_js(page, "window.__vrcollab?.info && window.__vrcollab.info().state === 'online'",
            timeout=90)


def test_engineer_uploads_invites_and_reviewer_joins(app_server: ServerProcess,
                                                     browser: Any) -> None:
    srv = app_server
    link = re.findall(r"owner sign-in link \(one-time, 24 h\): (\S+)", srv.log())[-1]
    assert link.startswith(f"{srv.base_url}/signin?code=")
    engineer = browser.new_context(viewport={"width": 1100, "height": 800})
    reviewer = browser.new_context(viewport={"width": 1000, "height": 700})
    stranger = browser.new_context()
    try:
        # a link preview fetching the URL does not spend it: only the page's button does
        assert httpx.get(link).status_code == 303
        page = engineer.new_page()
        page.goto(link)
        assert page.url == f"{srv.base_url}/signin"  # the code left the address bar
        ready(page)
        page.click("#signin-submit")
        page.wait_for_url(f"{srv.base_url}/projects")
        ready(page)
        assert page.locator("#no-projects").is_visible()
        # the link was one-time
        again = stranger.new_page()
        again.goto(link)
        ready(again)
        again.click("#signin-submit")
        wait_js(again, "document.getElementById('signin-error').textContent.length > 0")
        assert "already used" in again.locator("#signin-error").inner_text()

        page.fill("#new-project-name", "Office tower")
        page.click("#create-project button[type=submit]")
        page.wait_for_url(re.compile(r"/projects/p_"))
        ready(page)
        assert page.locator("#no-models").is_visible()

        # upload with the file input: both bars move, the conversion reaches done
        page.set_input_files("#upload-file", str(HOUSE))
        seen: list[str] = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = page.evaluate("document.getElementById('upload').dataset.jobStatus || ''")
            text = page.locator("#convert-percent").inner_text()
            if not seen or seen[-1] != text:
                seen.append(text)
            if status in ("done", "failed"):
                break
            time.sleep(0.05)
        assert page.locator("#upload-error").inner_text() == ""
        assert page.locator("#upload-percent").inner_text() == "100%"
        assert seen[-1] == "done"
        assert len(seen) >= 3, seen  # waiting -> some percent(s) -> done
        numbers = [int(s.rstrip("%")) for s in seen if s.endswith("%")]
        assert numbers == sorted(numbers)  # one overall percent, never restarting per stage
        page.wait_for_selector("#budget tr[data-device=quest2]")
        statuses = page.locator("#budget td.status-pass, #budget td.status-warn, "
                                "#budget td.status-fail").all_inner_texts()
        assert len(statuses) >= 3
        assert set(statuses) <= {"pass", "warn", "fail"}

        # an invite (single use, reviewer) with a QR code and a short code
        page.select_option("#invite-role", "reviewer")
        page.click("#create-invite button[type=submit]")
        page.wait_for_selector("#invite-code")
        invite_url = page.input_value("#invite-url")
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", page.inner_text("#invite-code"))
        assert page.locator("#invite-made .qr svg").count() == 1

        # the engineer opens a room on the version
        page.fill("#version-room-name", "Design review")
        page.click("#version-open-room")
        page.wait_for_url(re.compile(r"/r/r_"))
        wait_online(page)
        room_url = page.url
        assert info(page)["role"] == "owner"
        wait_js(page, "document.getElementById('room-title').dataset.room === 'Design review'")
        assert "Design review" in page.inner_text("#room-title")
        assert "v1" in page.inner_text("#room-title")  # model and version in the header

        # the reviewer accepts the invite in another browser and lands in the room
        rev = reviewer.new_page()
        rev.goto(invite_url)
        assert rev.url == f"{srv.base_url}/join"  # the invite token left the address bar
        ready(rev)
        assert rev.inner_text("#join-role") == "reviewer"
        rev.fill("#join-name", "Rita Reviewer")
        rev.click("#join-submit")
        rev.wait_for_url(room_url)
        wait_online(rev)
        assert info(rev)["role"] == "reviewer"
        rita = info(rev)["user_id"]
        wait_js(page, f"window.__vrcollab.info().participants.some(p => p.user_id === '{rita}')")

        # a second tab of the reviewer is the same person (session cookie, no invite)
        tab = reviewer.new_page()
        tab.goto(room_url)
        wait_online(tab)
        assert info(tab)["user_id"] == rita
        # the reviewer pins an issue; the project's issues list opens it in its room
        wait_js(rev, "window.__vrcollab.info().model.full_detail", timeout=90)
        pinned = drop_annotation(rev, "Leak at the window", "water comes in")
        issues = engineer.new_page()
        issues.goto(f"{srv.base_url}/projects/{room_project(srv, page)}")
        ready(issues)
        issues.wait_for_selector(f"#issue-list tr[data-issue='{pinned['id']}']")
        issues.select_option("#issue-status", "resolved")
        issues.wait_for_selector("#issue-list p.muted")  # nothing resolved yet
        issues.select_option("#issue-status", "open")
        issues.click(f"#issue-list tr[data-issue='{pinned['id']}'] a")
        issues.wait_for_url(re.compile(r"/r/r_.*#annotation="))
        wait_online(issues)
        wait_js(issues, f"window.__vrcollab.selectedAnnotation() === '{pinned['id']}'")
        issues.go_back()
        ready(issues)
        for version in ("2.1", "3.0"):  # the room's BCF export links answer with an archive
            href = issues.get_attribute(f"#room-list a[href$='bcf?version={version}']", "href")
            got = issues.evaluate(f"fetch('{href}').then(async r => [r.status, "
                                  "(await r.arrayBuffer()).byteLength])")
            assert got[0] == 200
            assert got[1] > 100
        issues.close()

        members = page.evaluate("fetch('/api/projects/' + "
                                f"'{room_project(srv, page)}' + '/members').then(r => r.json())")
        assert [m["name"] for m in members].count("Rita Reviewer") == 1

        # the used invite is refused; a revoked one too
        late = stranger.new_page()
        late.goto(invite_url)
        ready(late)
        assert "already been used" in late.inner_text("#join-error")
        proj = engineer.new_page()
        proj.goto(f"{srv.base_url}/projects/{room_project(srv, page)}")
        ready(proj)
        proj.fill("#invite-uses", "5")
        proj.click("#create-invite button[type=submit]")
        proj.wait_for_selector("#invite-code")
        second_url = proj.input_value("#invite-url")
        # a headset scans the QR code: the short-code link, which joins like the long one
        code_url = f"{srv.base_url}/join?code={proj.inner_text('#invite-code')}"
        decoded = decode_qr(proj.locator("#invite-made .qr").screenshot())
        if decoded is not None:
            assert decoded == code_url
        headset = browser.new_context()
        try:
            quest = headset.new_page()
            quest.goto(code_url)
            assert quest.url == f"{srv.base_url}/join"
            ready(quest)
            quest.fill("#join-name", "Quest 3")
            quest.click("#join-submit")
            quest.wait_for_url(room_url)
        finally:
            headset.close()
        proj.wait_for_selector("#invite-list .invite-revoke")
        proj.click("#invite-list .invite-revoke")
        proj.wait_for_selector("#invite-list .invite-status:text('invite_revoked')")
        refused = stranger.new_page()
        refused.goto(second_url)
        ready(refused)
        assert "revoked" in refused.inner_text("#join-error")
        assert "audit-log" in proj.content()
        assert "joined as reviewer" in proj.inner_text("#audit-log")

        # CSRF: a page of another origin posts a form with the engineer's browser
        before = len(page.evaluate("fetch('/api/projects').then(r => r.json())"))
        evil = engineer.new_page()
        evil.goto(f"http://localhost:{srv.port}/welcome")
        ready(evil)
        with evil.expect_navigation():
            evil.evaluate(f"""() => {{
                const f = document.createElement('form');
                f.method = 'POST';
                f.action = '{srv.base_url}/api/projects';
                f.enctype = 'text/plain';
                const i = document.createElement('input');
                i.name = '{{"name": "Evil", "x": "'; i.value = '"}}';
                f.append(i);
                document.body.append(f);
                f.submit();
            }}""")
        assert '"error"' in evil.content()
        assert len(page.evaluate("fetch('/api/projects').then(r => r.json())")) == before
        # the reviewer is still the same person after a server restart
        srv.stop()
        srv.start()
        tab.reload()
        wait_online(tab)
        assert info(tab)["user_id"] == rita

        # and a script on another origin cannot read the session
        jar = {c["name"]: c["value"] for c in engineer.cookies()}
        with httpx.Client(base_url=srv.base_url, cookies=jar) as http:
            r = http.post("/api/projects", json={"name": "Evil"},
                          headers={"Origin": "https://evil.example"})
            assert r.status_code == 403
    finally:
        stranger.close()
        reviewer.close()
        engineer.close()


def decode_qr(png: bytes) -> str | None:
    """The text of a QR code in a screenshot (None when pyzbar/libzbar is not installed)."""
    try:
        from PIL import Image
        from pyzbar.pyzbar import decode
    except ImportError:
        return None
    import io

    found = decode(Image.open(io.BytesIO(png)))
    assert found, "no QR code in the screenshot"
    text: str = found[0].data.decode()
    return text


def room_project(srv: ServerProcess, page: Any) -> str:
    """The project id of the room the engineer's page is in."""
    room_id = page.url.rsplit("/r/", 1)[1].split("?")[0]
    out: str = page.evaluate(f"fetch('/api/rooms/{room_id}').then(r => r.json())")["project_id"]
    return out
