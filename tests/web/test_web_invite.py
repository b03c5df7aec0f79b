"""Room links: an invite opens straight into the room, and the credential leaves the URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.roomkit import PreparedRoom, info, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def make_invite(room: PreparedRoom, role: str) -> dict[str, Any]:
    res = httpx.post(f"{room.base_url}/api/projects/{room.project_id}/invites",
                     json={"role": role}, headers={"Authorization": f"Bearer {room.owner_token}"})
    res.raise_for_status()
    out: dict[str, Any] = res.json()
    return out


def wait_online(page: Any) -> None:
    wait_js(page, "window.__vrcollab?.info && window.__vrcollab.info().state === 'online' && "
                  "window.__vrcollab.info().model.full_detail", timeout=90)


def test_invite_links_open_the_room(browser: Any, web_room: PreparedRoom) -> None:
    ctx = browser.new_context(viewport={"width": 960, "height": 600})
    try:
        # /r/<room>?invite=...: redeemed for a bearer token, straight into the room.
        invite = make_invite(web_room, "reviewer")["invite"]
        page = ctx.new_page()
        page.goto(f"{web_room.base_url}/r/{web_room.room_id}?invite={invite}&name=Ivy&quality=low")
        wait_online(page)
        assert info(page)["role"] == "reviewer"
        assert "invite" not in page.url
        assert page.evaluate(f"sessionStorage.getItem('vrcollab.token.{web_room.room_id}')")
        # A reload keeps the session (token from sessionStorage, not a second redemption).
        user = info(page)["user_id"]
        page.reload()
        wait_online(page)
        assert info(page)["user_id"] == user

        # An invite token opened at / (/?invite=...): redeem, then pick among the rooms. (The
        # server's `url` now opens the web app's /join page: tests/web/test_webapp_flow.py.)
        made = make_invite(web_room, "viewer")
        other = ctx.new_page()
        other.goto(f"{web_room.base_url}/?invite={made['invite']}&name=Vic&quality=low")
        wait_js(other, "document.querySelectorAll('#landing a').length >= 1", timeout=60)
        other.click(f"#landing a[href='/r/{web_room.room_id}']")
        wait_online(other)
        assert info(other)["role"] == "viewer"
        assert other.locator("[data-tool=annotate]").is_disabled()

        # A bad invite gives a readable message, not a broken page.
        bad = ctx.new_page()
        bad.goto(f"{web_room.base_url}/r/{web_room.room_id}?invite=not-an-invite")
        wait_js(bad, "!document.getElementById('landing').hidden")
        assert "invite refused" in (bad.locator("#landing").text_content() or "")
    finally:
        ctx.close()
