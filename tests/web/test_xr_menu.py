"""The VR reviewer tools (issue 14), driven with the iwer headset emulator in real Chromium: the
wrist menu on the left controller picks the tool with the right controller's ray; measure takes
two trigger pulls on the model and reaches a desktop participant; markup is a freehand stroke
while the trigger is held; pin drafts and confirms an issue whose thread the menu shows and
comments on. Controller and hand models load from the server's self-hosted input profiles and
no request leaves 127.0.0.1."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from PIL import Image

from tests.server_process import ServerProcess
from tests.web.roomkit import AIM_JS, PreparedRoom, info, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

RIGHT = "window.__vrcollab.xrDevice.controllers.right"
LEFT = "window.__vrcollab.xrDevice.controllers.left"
#: The right hand, held in front of the wrist menu when picking from it.
AT_MENU = [-0.1, 1.5, -0.1]
#: The right hand, where it aims at the model from.
AT_MODEL = [0.2, 1.3, -0.2]
PROFILES = "/vendor/@webxr-input-profiles/assets/dist/profiles/"
CONTROLLERS_SHOWN = "window.__vrcollab.info().xr_input.controllers.every((c) => c.shown)"


def open_logged(browser: Any, url: str) -> tuple[Any, list[str], dict[str, int]]:
    """A client like roomkit.open_client, with every request URL and response status logged
    from the first request on."""
    ctx = browser.new_context(viewport={"width": 960, "height": 600})
    urls: list[str] = []
    status: dict[str, int] = {}
    ctx.on("request", lambda r: urls.append(r.url))
    ctx.on("response", lambda r: status.__setitem__(r.url, r.status))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(url)
    wait_js(page, "window.__vrcollab && window.__vrcollab.ready && "
                  "window.__vrcollab.info().state === 'online' && "
                  "window.__vrcollab.info().model.full_detail", timeout=90)
    return page, urls, status


def frames_pass(page: Any, n: int = 2) -> None:
    """Let XR frames see the last input change (button presses are edges seen per frame)."""
    frames = info(page)["scene"]["frames"]
    wait_js(page, f"window.__vrcollab.info().scene.frames >= {frames + n}")


def pull(page: Any, hand: str = RIGHT) -> None:
    """One trigger pull and release, each seen by an XR frame."""
    page.evaluate(f"{hand}.updateButtonValue('trigger', 1)")
    frames_pass(page)
    page.evaluate(f"{hand}.updateButtonValue('trigger', 0)")
    frames_pass(page)


def menu(page: Any) -> dict[str, Any]:
    out: dict[str, Any] = info(page)["xr_tools"]["menu"]
    return out


def pick(page: Any, item: str) -> None:
    """Aim the right controller at a wrist-menu item and pull the trigger."""
    page.evaluate(AIM_JS, [AT_MENU, menu(page)["items"][item]])
    frames_pass(page)
    pull(page)


def aim_model(page: Any, target: list[float]) -> list[float]:
    """Aim the right controller at a world point; returns the laser's model-space hit."""
    page.evaluate(AIM_JS, [AT_MODEL, target])
    frames_pass(page)
    laser: dict[str, Any] = wait_js(
        page, "window.__vrcollab.pose().laser?.hit && window.__vrcollab.pose().laser")
    hit: list[float] = laser["hit"]
    return hit


def test_vr_menu_measure_markup_pin_comment_and_self_hosted_models(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom, tmp_path: Path
) -> None:
    editor = web_server.token(web_room.project_id, "editor", "Quest user")
    vr, urls, status = open_logged(browser, web_room.url(editor, name="Quest%20user", xr="emulate",
                                                       color="%232fb344"))
    desk, desk_urls, _ = open_logged(browser, web_room.url(web_room.owner_token, name="Desk"))
    try:
        vr.click("#enter-vr")
        wait_js(vr, "window.__vrcollab.info().scene.xr === 'vr'")

        # Controller models: the Quest profile's GLBs, from this server's input profiles.
        wait_js(vr, CONTROLLERS_SHOWN, timeout=60)
        assets = [c["asset"] for c in info(vr)["xr_input"]["controllers"]]
        assert all(a.startswith(PROFILES) and a.endswith(".glb") for a in assets), assets
        loaded = [u for u in urls if urlparse(u).path.startswith(PROFILES)]
        assert any(u.endswith("/profilesList.json") for u in loaded)
        assert any(u.endswith("/profile.json") for u in loaded)
        assert {urlparse(u).path for u in loaded} >= set(assets)
        assert all(status.get(u) in (200, 304) for u in loaded), {u: status.get(u) for u in loaded}

        # Hands: switch the emulator to hand tracking; the generic hand meshes load from here too.
        vr.evaluate("window.__vrcollab.xrDevice.primaryInputMode = 'hand'")
        wait_js(vr, "window.__vrcollab.info().xr_input.hands.every((h) => h.shown)", timeout=60)
        assert any(urlparse(u).path == PROFILES + "generic-hand/left.glb" for u in urls)
        assert any(urlparse(u).path == PROFILES + "generic-hand/right.glb" for u in urls)
        vr.evaluate("window.__vrcollab.xrDevice.primaryInputMode = 'controller'")
        wait_js(vr, CONTROLLERS_SHOWN, timeout=60)

        # Open the wrist menu with Y on the left controller (held in front, palm down).
        vr.evaluate(f"{LEFT}.position.set(-0.15, 1.3, -0.35); {LEFT}.quaternion.set(0, 0, 0, 1)")
        frames_pass(vr)
        assert menu(vr)["open"] is False
        vr.evaluate(f"{LEFT}.updateButtonValue('y-button', 1)")
        frames_pass(vr)
        vr.evaluate(f"{LEFT}.updateButtonValue('y-button', 0)")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.open")
        assert menu(vr)["tool"] == "pin"

        # Pick measure, then two pulls on the model: a measurement.create the desktop sees.
        pick(vr, "tool:measure")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'measure'")
        center = info(vr)["world"]["center"]
        size = info(vr)["world"]["size"]
        before = len(info(desk)["measurements"])
        first = aim_model(vr, center)
        pull(vr)
        start = wait_js(vr, "window.__vrcollab.info().xr_tools.measuring")
        snap = info(vr)["xr_tools"]["snap"]
        assert snap["kind"] in ("vertex", "midpoint", "edge", "face")
        # The snapped point lies near the ray's hit (within the snap angle at that distance).
        assert math.dist(start, first) < 0.05 * math.dist(AT_MODEL, first) + 0.05, (start, first)
        second = aim_model(vr, [center[0] + size[0] * 0.25, center[1] + size[1] * 0.2, center[2]])
        assert math.dist(first, second) > 0.5
        pull(vr)
        wait_js(vr, "window.__vrcollab.info().xr_tools.measuring === null && "
                    "window.__vrcollab.info().pending === 0")
        ours = info(vr)["measurements"]
        assert len(ours) == before + 1
        made = ours[-1]
        wait_js(desk, f"window.__vrcollab.info().measurements.some((m) => m.id === '{made['id']}')")
        theirs = next(m for m in info(desk)["measurements"] if m["id"] == made["id"])
        assert abs(theirs["length"] - made["length"]) < 1e-3
        assert abs(made["length"] - math.dist(start, info(vr)["xr_tools"]["snap"]["point"])) < 1e-3
        assert abs(made["length"] - math.dist(first, second)) < 0.1 * made["length"] + 0.1

        # Markup: a freehand stroke while the trigger is held, in the author's colour.
        pick(vr, "tool:markup")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'markup'")
        marks = len(info(desk)["markup"]["items"])
        aim_model(vr, center)
        vr.evaluate(f"{RIGHT}.updateButtonValue('trigger', 1)")
        frames_pass(vr)
        for k in range(1, 9):
            t = k / 8
            aim = [center[0] + size[0] * 0.2 * math.cos(t * math.pi) - size[0] * 0.2,
                   center[1] + size[1] * 0.2 * math.sin(t * math.pi), center[2]]
            vr.evaluate(AIM_JS, [AT_MODEL, aim])
            frames_pass(vr)
        held = info(vr)["xr_tools"]["stroke"]
        assert held is not None
        assert held >= 3, held
        vr.evaluate(f"{RIGHT}.updateButtonValue('trigger', 0)")
        wait_js(vr, "window.__vrcollab.info().xr_tools.stroke === null && "
                    "window.__vrcollab.info().pending === 0")
        wait_js(desk, f"window.__vrcollab.info().markup.items.length === {marks + 1}")
        stroke = info(desk)["markup"]["items"][-1]
        assert stroke["color"] == "#2fb344"
        assert stroke["author"] == info(vr)["user_id"]
        assert 3 <= stroke["points"] <= held, (stroke, held)

        # Pin: a pull drafts, a second pull on the draft creates the issue; the menu shows it.
        pick(vr, "tool:pin")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'pin'")
        issues = {a["id"] for a in info(desk)["annotations"]}
        hit = aim_model(vr, center)
        pull(vr)
        draft = wait_js(vr, "window.__vrcollab.info().xr_draft")
        assert math.dist(draft["point"], hit) < 0.05
        pull(vr)
        wait_js(vr, f"window.__vrcollab.info().annotations.length === {len(issues) + 1} && "
                    "window.__vrcollab.info().pending === 0")
        created = next(a for a in info(vr)["annotations"] if a["id"] not in issues)
        wait_js(desk, "window.__vrcollab.info().annotations.some("
                      f"(a) => a.id === '{created['id']}')")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.thread?.title === "
                    f"{created['title']!r}")

        # A comment from the predefined list, posted to the selected issue's thread.
        pick(vr, "quick:0")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.draft === 'Looks good'")
        pick(vr, "post")
        wait_js(desk, "window.__vrcollab.info().annotations.some((a) => "
                      f"a.id === '{created['id']}' && "
                      "a.comments.some((c) => c.text === 'Looks good'))")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.thread?.comments.some("
                    "(c) => c.text === 'Looks good' && c.name === 'You')")  # our own name
        assert menu(vr)["draft"] == ""

        # Teleport: a pull on the model puts our feet there.
        pick(vr, "tool:teleport")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'teleport'")
        rig = info(vr)["world"]["rig"]
        aim_model(vr, [center[0], center[1] - size[1] * 0.45, center[2] + size[2] * 0.45])
        pull(vr)
        wait_js(vr, "Math.hypot(...window.__vrcollab.info().world.rig.map("
                    f"(v, i) => v - {rig}[i])) > 0.5")

        # Section: a pull on a face cuts our own view there (the desktop's view is unchanged).
        pick(vr, "tool:section")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'section'")
        aim_model(vr, center)
        pull(vr)
        cut = wait_js(vr, "window.__vrcollab.info().own_view.section?.enabled && "
                          "window.__vrcollab.info().own_view.section")
        assert sorted(abs(v) for v in cut["normal"]) == [0, 0, 1]
        wait_js(vr, "window.__vrcollab.info().scene.clipping > 0")
        assert info(desk)["scene"]["clipping"] == 0
        # Look at it: the emulator moves the page canvas into its own full-page container
        # ([data-webxr_runtime]) and draws the immersive frames there.
        vr.evaluate(AIM_JS, [AT_MENU, menu(vr)["items"]["tool:section"]])
        frames_pass(vr, 4)
        assert vr.locator("[data-webxr_runtime] canvas").count() >= 1
        png = vr.screenshot()
        shots = Path(os.environ.get("VRCOLLAB_SHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        (shots / "xr_menu.png").write_bytes(png)
        img = Image.open(io.BytesIO(png)).convert("RGB")
        assert len(img.getcolors(maxcolors=1 << 20) or []) > 50, "the VR frame is not blank"

        # Nothing the two pages asked for left this machine.
        for u in urls + desk_urls:
            p = urlparse(u)
            assert p.scheme in ("data", "blob") or p.hostname == "127.0.0.1", u
        pick(vr, "section-off")
        wait_js(vr, "window.__vrcollab.info().scene.clipping === 0")
        assert not vr.errors
        assert not desk.errors
    finally:
        vr.context.close()
        desk.context.close()
