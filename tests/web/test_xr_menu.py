"""The VR reviewer tools (issue 14), driven with the iwer headset emulator in real Chromium: the
wrist menu on the left controller picks the tool with the right controller's ray; measure takes
two trigger pulls on the model and reaches a desktop participant; markup is a freehand stroke
while the trigger is held; pin drafts and confirms an issue whose thread the menu shows and
comments on. Controller and hand models load from the server's self-hosted input profiles and
no request leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from PIL import Image

from tests.server_process import ServerProcess
from tests.web.roomkit import AIM_JS, PreparedRoom, fresh_room, info, open_client, wait_js
from vrcollab.client import RoomClient

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
    """roomkit.open_client with every request URL and response status logged from the first
    request on."""
    urls: list[str] = []
    status: dict[str, int] = {}

    def log(ctx: Any) -> None:
        ctx.on("request", lambda r: urls.append(r.url))
        ctx.on("response", lambda r: status.__setitem__(r.url, r.status))

    return open_client(browser, url, on_context=log), urls, status


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


def angle_at(a: list[float], b: list[float], c: list[float]) -> float:
    """The angle at ``b`` between b->a and b->c, in degrees."""
    u = [x - y for x, y in zip(a, b, strict=True)]
    v = [x - y for x, y in zip(c, b, strict=True)]
    cos = sum(x * y for x, y in zip(u, v, strict=True)) / (math.hypot(*u) * math.hypot(*v))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


async def create_markup(room: PreparedRoom, token: str, points: list[list[float]]) -> str:
    """Another participant's markup (through the Python client); returns its id."""
    async with RoomClient(room.base_url, room.room_id, token, name="Other") as c:
        mid = "k_other_vr_test"
        await c.op("markup.create", markup={"id": mid, "points": points, "color": "#ff0000"})
        return mid


def test_vr_measure_kinds_and_erase_markup(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    """The menu's kind item cycles the measure kinds: an angle (three pulls) and an area (one
    pull on a face) made in VR reach the desktop with their kind and value. The Erase tool
    erases our own stroke (the desktop sees it gone) and shows why the room refuses to erase
    another author's markup for a reviewer."""
    room = fresh_room(web_room, "VR kinds and erase")
    reviewer = web_server.token(room.project_id, "reviewer", "Quest reviewer")
    vr, _, _ = open_logged(browser, room.url(reviewer, name="Quest%20reviewer", xr="emulate"))
    desk, _, _ = open_logged(browser, room.url(room.owner_token, name="Desk"))
    try:
        vr.click("#enter-vr")
        wait_js(vr, "window.__vrcollab.info().scene.xr === 'vr'")
        wait_js(vr, CONTROLLERS_SHOWN, timeout=60)
        vr.evaluate(f"{LEFT}.position.set(-0.15, 1.3, -0.35); {LEFT}.quaternion.set(0, 0, 0, 1)")
        frames_pass(vr)
        vr.evaluate(f"{LEFT}.updateButtonValue('y-button', 1)")
        frames_pass(vr)
        vr.evaluate(f"{LEFT}.updateButtonValue('y-button', 0)")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.open")
        center = info(vr)["world"]["center"]
        size = info(vr)["world"]["size"]

        # Kind cycles distance -> perpendicular -> angle, and picks the measure tool.
        assert menu(vr)["kind"] == "distance"
        pick(vr, "kind")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.kind === 'perpendicular'")
        assert info(vr)["xr_tools"]["tool"] == "measure"
        pick(vr, "kind")
        wait_js(vr, "window.__vrcollab.info().xr_tools.measure_kind === 'angle'")

        # Angle: three pulls, the corner second.
        aims = [[center[0] - size[0] * 0.25, center[1] + size[1] * 0.2, center[2]],
                center,
                [center[0] + size[0] * 0.25, center[1] + size[1] * 0.2, center[2]]]
        aim_model(vr, aims[0])
        pull(vr)
        first = wait_js(vr, "window.__vrcollab.info().xr_tools.measuring")
        assert "corner" in menu(vr)["hint"]
        aim_model(vr, aims[1])
        pull(vr)
        corner = wait_js(vr, "window.__vrcollab.info().xr_tools.corner")
        assert "3rd" in menu(vr)["hint"]
        aim_model(vr, aims[2])
        pull(vr)
        wait_js(vr, "window.__vrcollab.info().xr_tools.measuring === null && "
                    "window.__vrcollab.info().xr_tools.corner === null && "
                    "window.__vrcollab.info().pending === 0")
        third = info(vr)["xr_tools"]["snap"]["point"]
        expected = angle_at(first, corner, third)
        assert 5 < expected < 175, (first, corner, third)
        made = next(m for m in info(vr)["measurements"] if m["kind"] == "angle")
        wait_js(desk, f"window.__vrcollab.info().measurements.some((m) => m.id === '{made['id']}')")
        theirs = next(m for m in info(desk)["measurements"] if m["id"] == made["id"])
        assert theirs["kind"] == "angle"
        assert abs(theirs["value"] - expected) < 0.01, (theirs, expected)
        assert theirs["label"] == f"{expected:.1f}°"

        # Area: one pull on a face.
        pick(vr, "kind")
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.kind === 'area'")
        aim_model(vr, center)
        pull(vr)
        area = wait_js(vr, "window.__vrcollab.info().pending === 0 && "
                           "window.__vrcollab.info().measurements.find((m) => m.kind === 'area')")
        assert area["value"] > 0
        wait_js(desk, f"window.__vrcollab.info().measurements.some((m) => m.id === '{area['id']}')")
        theirs = next(m for m in info(desk)["measurements"] if m["id"] == area["id"])
        assert theirs["kind"] == "area"
        assert abs(theirs["value"] - area["value"]) < 1e-6
        assert theirs["label"] == f"{area['value']:.3f} m²"

        # Someone else's markup, on the right of the model.
        other_at = [center[0] + size[0] * 0.25, center[1] - size[1] * 0.2, center[2]]
        hit = aim_model(vr, other_at)
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(asyncio.run, create_markup(
                room, room.owner_token, [hit, [hit[0] + 0.01, hit[1], hit[2]]])).result(60)
        wait_js(vr, "window.__vrcollab.info().markup.items.length === 1")

        # Our own stroke, from the centre to the left.
        pick(vr, "tool:markup")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'markup'")
        aim_model(vr, center)
        vr.evaluate(f"{RIGHT}.updateButtonValue('trigger', 1)")
        frames_pass(vr)
        for k in range(1, 6):
            vr.evaluate(AIM_JS, [AT_MODEL, [center[0] - size[0] * 0.05 * k, center[1], center[2]]])
            frames_pass(vr)
        vr.evaluate(f"{RIGHT}.updateButtonValue('trigger', 0)")
        wait_js(vr, "window.__vrcollab.info().xr_tools.stroke === null && "
                    "window.__vrcollab.info().pending === 0")
        wait_js(desk, "window.__vrcollab.info().markup.items.length === 2")
        ours = next(m for m in info(desk)["markup"]["items"] if m["id"] != other)

        # Erase: the other author's markup is refused for a reviewer, with the reason shown.
        pick(vr, "tool:erase")
        wait_js(vr, "window.__vrcollab.info().xr_tools.tool === 'erase'")
        aim_model(vr, other_at)
        pull(vr)
        wait_js(vr, "window.__vrcollab.info().xr_tools.menu.hint.startsWith('Not erased:')")
        assert "editor" in menu(vr)["hint"], menu(vr)["hint"]
        assert any(m["id"] == other for m in info(desk)["markup"]["items"])
        # Our own: erased, the desktop sees it gone.
        aim_model(vr, [center[0] - size[0] * 0.1, center[1], center[2]])
        pull(vr)
        wait_js(desk, "window.__vrcollab.info().markup.items.length === 1")
        assert [m["id"] for m in info(desk)["markup"]["items"]] == [other]
        assert ours["id"] not in [m["id"] for m in info(vr)["markup"]["items"]]
        assert menu(vr)["hint"] == "Erased"
        assert not vr.errors
        assert not desk.errors
    finally:
        vr.context.close()
        desk.context.close()
