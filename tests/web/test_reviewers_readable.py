"""Issue 14, what a new reviewer runs into: the hover tooltip sits at the cursor, the
section-axis control and the room chooser's links reach WCAG AA contrast (4.5:1, computed from
the computed styles), and the mouse navigation help is reachable from the view. Screenshots of
each land in ``VRCOLLAB_SHOTS`` (default: pytest's tmp dir) for a person to look at."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, fresh_room, model_center, open_client, wait_js
from tests.web.test_web_invite import make_invite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

#: WCAG 2.x contrast of an element's text against what is painted behind it: the element's and
#: its ancestors' background colours composited (alpha) down to the page background.
CONTRAST_JS = """(sel) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3] + under[3] * (1 - top[3]);
    if (!a) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const out = [];
  for (const e of document.querySelectorAll(sel)) {
    if (!e.getClientRects().length) continue;
    const layers = [];
    for (let n = e; n; n = n.parentElement) layers.push(parse(getComputedStyle(n).backgroundColor));
    let bg = [255, 255, 255, 1];
    const root = parse(getComputedStyle(document.documentElement).backgroundColor);
    if (root[3]) bg = over(root, bg);
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = over(parse(getComputedStyle(e).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const text = (e.textContent || e.value || '').trim().slice(0, 40);
    out.push({ text, ratio: (a + 0.05) / (b + 0.05) });
  }
  return out;
}"""


def contrast(page: Any, selector: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, selector)
    assert found, f"nothing visible matches {selector}"
    return found


def shots_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("VRCOLLAB_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_room_chooser_links_are_readable(browser: Any, web_room: PreparedRoom,
                                         tmp_path: Path) -> None:
    made = make_invite(web_room, "viewer")
    ctx = browser.new_context(viewport={"width": 960, "height": 600})
    try:
        page = ctx.new_page()
        page.goto(f"{web_room.base_url}/?invite={made['invite']}&name=Vic&quality=low")
        wait_js(page, "document.querySelectorAll('#landing a').length >= 2", timeout=60)
        page.screenshot(path=str(shots_dir(tmp_path) / "room-chooser.png"))
        for link in contrast(page, "#landing a"):
            assert link["ratio"] >= 4.5, link
        for text in contrast(page, "#landing h2"):
            assert text["ratio"] >= 4.5, text
        # The measure itself tells 2:1 from AA (the section-axis control was 2:1).
        page.evaluate("""() => { const d = document.createElement('div'); d.id = 'probe';
          d.textContent = 'probe'; d.style.cssText = 'color:#6b7380;background:#2a2f36';
          document.body.append(d); }""")
        (probe,) = contrast(page, "#probe")
        assert 1.5 < probe["ratio"] < 3, probe
    finally:
        ctx.close()


def test_tooltip_at_the_cursor_readable_section_control_and_mouse_help(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom, tmp_path: Path
) -> None:
    room = fresh_room(web_room, "Readable")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    shots = shots_dir(tmp_path)
    try:
        # The mouse help is there from the start (closed, so it never covers the model).
        toggle = a.locator("#nav-help-toggle")
        assert toggle.is_visible()
        for t in contrast(a, "#nav-help-toggle"):
            assert t["ratio"] >= 4.5, t
        toggle.click()
        wait_js(a, "!document.querySelector('#nav-help .nav-help-body').hidden")
        help_text = (a.locator("#nav-help").text_content() or "").lower()
        for word in ("orbit", "pan", "zoom", "double-click"):
            assert word in help_text, word
        for t in contrast(a, "#nav-help dt, #nav-help dd"):
            assert t["ratio"] >= 4.5, t
        a.screenshot(path=str(shots / "mouse-help.png"))
        toggle.click()
        wait_js(a, "document.querySelector('#nav-help .nav-help-body').hidden")

        # The tooltip appears at the cursor (its nearest corner within 20 px), not 65 px off.
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        for step in range(4):
            a.mouse.move(x - 20 + step * 10, y)
        wait_js(a, "!document.getElementById('tooltip').hidden", timeout=60)
        box = a.locator("#tooltip").bounding_box()
        assert box is not None
        cx, cy = x + 10, y  # the last position
        corners = [(box["x"], box["y"]), (box["x"] + box["width"], box["y"]),
                   (box["x"], box["y"] + box["height"]),
                   (box["x"] + box["width"], box["y"] + box["height"])]
        assert min(math.dist((cx, cy), c) for c in corners) <= 20, (box, cx, cy)
        for t in contrast(a, "#tooltip div"):
            assert t["ratio"] >= 4.5, t
        a.screenshot(path=str(shots / "tooltip.png"))

        # The section-axis control: every label, the axis select and the button read at 4.5:1.
        a.mouse.move(5, 5)
        a.click("[data-tool=section]")
        wait_js(a, "document.getElementById('section-ctl') !== null")
        for t in contrast(a, "#section-ctl span, #section-ctl select, #section-ctl button"):
            assert t["ratio"] >= 4.5, t
        a.locator("#section-ctl").screenshot(path=str(shots / "section-ctl.png"))
        assert not a.errors
    finally:
        a.context.close()
