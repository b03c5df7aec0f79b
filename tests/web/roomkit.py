"""Test support for the web client: a real server with a real converted model in a room.

``prepare_room(srv, model_path)`` uploads the model through the REST API (the same path a user
takes), waits for the conversion job, and creates a room opened on the ready version.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass(frozen=True)
class PreparedRoom:
    """A room on a converted model, with the owner's token."""

    base_url: str
    project_id: str
    room_id: str
    owner_token: str
    version_id: str
    manifest_url: str

    def url(self, token: str, **params: str) -> str:
        """The room link for a token (plus extra query parameters)."""
        params = {"quality": "low", **params}  # software GL in CI: no MSAA
        query = "&".join([f"token={token}", *(f"{k}={v}" for k, v in params.items())])
        return f"{self.base_url}/r/{self.room_id}?{query}"


def prepare_room(srv: ServerProcess, model: Path, *, timeout: float = 240.0) -> PreparedRoom:
    """Upload ``model``, wait for its conversion, create a room on the version."""
    boot = srv.bootstrap(owner_name="Olga")  # names shown come from membership (R18)
    auth = {"Authorization": f"Bearer {boot.owner_token}"}
    with httpx.Client(base_url=srv.base_url, headers=auth, timeout=60.0) as http:
        with model.open("rb") as fh:
            res = http.post(f"/api/projects/{boot.project_id}/models",
                            files={"file": (model.name, fh, "application/octet-stream")})
        res.raise_for_status()
        up = res.json()
        job_id = up["job"]["job_id"]
        version_id = up["version"]["version_id"]
        deadline = time.monotonic() + timeout
        while True:
            job = http.get(f"/api/jobs/{job_id}").json()
            if job["status"] == "done":
                break
            if job["status"] == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"conversion did not finish: {job}")
            time.sleep(0.3)
        res = http.post(f"/api/versions/{version_id}/rooms", json={"name": "Review"})
        res.raise_for_status()
        room = res.json()
    return PreparedRoom(srv.base_url, boot.project_id, room["room_id"], boot.owner_token,
                        version_id, room["model"]["manifest_url"])


def wait_js(page: Any, expr: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll a JS expression until it is truthy (page.wait_for_function needs eval, which the
    client's Content-Security-Policy forbids, so poll from here)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = page.evaluate(expr)
        if last:
            return last
        time.sleep(interval)
    state = page.evaluate("window.__vrcollab?.info ? window.__vrcollab.info() : null")
    raise AssertionError(f"timed out waiting for {expr!r} (last {last!r}); client: {state!r}")


def info(page: Any) -> dict[str, Any]:
    """The client's test snapshot (window.__vrcollab.info())."""
    out: dict[str, Any] = page.evaluate("window.__vrcollab.info()")
    return out


def open_client(browser: Any, url: str, *, viewport: tuple[int, int] = (960, 600),
                on_context: Callable[[Any], None] | None = None) -> Any:
    """A new browser context on ``url``, waiting until online with the model at full detail.
    ``on_context(ctx)`` runs before the first request (e.g. to log requests)."""
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    if on_context is not None:
        on_context(ctx)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(url)
    wait_js(page, "window.__vrcollab && window.__vrcollab.ready && "
                  "window.__vrcollab.info().state === 'online' && "
                  "window.__vrcollab.info().model.full_detail", timeout=90)
    return page


def canvas_is_rendered(page: Any) -> bool:
    """True when the 3D view shows more than the flat background (a model is drawn)."""
    png = page.locator("#viewport canvas").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 100))
    colors = img.getcolors(maxcolors=160 * 100) or []
    background = max(colors)[1]
    off = sum(n for n, c in colors
              if sum(abs(a - b) for a, b in zip(c, background, strict=True)) > 60)
    return off > 160 * 100 * 0.05


def rendered(page: Any) -> int:
    """How many frames the client has drawn (it renders on demand)."""
    n: int = page.evaluate("window.__vrcollab.info().scene.rendered")
    return n


def wait_rendered(page: Any, since: int, timeout: float = 30.0) -> None:
    """Wait until a frame newer than ``since`` was drawn (headless SwiftShader is slow)."""
    wait_js(page, f"window.__vrcollab.info().scene.rendered > {since}", timeout=timeout)


def drag(page: Any, x: float, y: float, dx: float, dy: float, steps: int = 6) -> None:
    """A mouse drag that lets the scene draw a frame after each event (gizmo hover state and
    drag plane are updated when a frame is drawn)."""
    page.mouse.move(x + 1, y)
    n = rendered(page)
    page.mouse.move(x, y)
    wait_rendered(page, n)
    page.mouse.down()
    for k in range(1, steps + 1):
        n = rendered(page)
        page.mouse.move(x + dx * k / steps, y + dy * k / steps)
        wait_rendered(page, n)
    page.mouse.up()


# JS run in the page to drive the emulated Quest (iwer XRDevice exposed as __vrcollab.xrDevice).
AIM_JS = """([local, target]) => {
  const d = window.__vrcollab.xrDevice;
  const rig = window.__vrcollab.info().world.rig;
  const from = [rig[0] + local[0], rig[1] + local[1], rig[2] + local[2]];
  let v = [target[0] - from[0], target[1] - from[1], target[2] - from[2]];
  const n = Math.hypot(...v);
  v = v.map((x) => x / n);
  // Quaternion turning the controller's forward (0, 0, -1) onto v.
  const a = [0, 0, -1];
  const c = [a[1] * v[2] - a[2] * v[1], a[2] * v[0] - a[0] * v[2], a[0] * v[1] - a[1] * v[0]];
  const w = 1 + (a[0] * v[0] + a[1] * v[1] + a[2] * v[2]);
  const m = Math.hypot(c[0], c[1], c[2], w);
  d.controllers.right.position.set(local[0], local[1], local[2]);
  d.controllers.right.quaternion.set(c[0] / m, c[1] / m, c[2] / m, w / m);
  return from;
}"""


def click_world(page: Any, point: list[float]) -> None:
    x, y = page.evaluate(f"window.__vrcollab.project({point})")
    page.mouse.click(x, y)


def model_center(page: Any) -> list[float]:
    world = info(page)["world"]
    assert world is not None
    c: list[float] = world["center"]
    return c


def drop_annotation(page: Any, title: str, text: str) -> dict[str, Any]:
    """Pin tool, click the model's centre, fill the composer, save; returns the new annotation."""
    before = {a["id"] for a in info(page)["annotations"]}
    page.click("[data-tool=annotate]")
    click_world(page, model_center(page))
    page.fill("#composer-title", title)
    page.fill("#composer-text", text)
    page.click("#composer-save")
    wait_js(page, "window.__vrcollab.info().pending === 0 && "
                  f"window.__vrcollab.info().annotations.length === {len(before) + 1}")
    page.click("[data-tool=select]")
    new = [a for a in info(page)["annotations"] if a["id"] not in before]
    assert len(new) == 1
    return new[0]


def fly_closer(page: Any, x: float, y: float, start: list[float] | None = None) -> list[float]:
    """Double-click the model to fly closer; returns the camera once it has moved away from
    `start`. A double-click before the model's precise pick is ready hits nothing (seen on a
    loaded CI machine: the camera stayed home), so it is repeated until the flight happens."""
    if start is None:
        start = page.evaluate("window.__vrcollab.info().camera")
    moved = (f"!window.__vrcollab.info().scene.flying && Math.hypot(...window.__vrcollab.info()"
             f".camera.map((v, i) => v - {start}[i])) > 0.5")
    for _ in range(10):
        page.mouse.dblclick(x, y)
        try:
            wait_js(page, moved, timeout=5)
        except AssertionError:
            continue
        camera: list[float] = page.evaluate("window.__vrcollab.info().camera")
        return camera
    raise AssertionError("double-clicking the model never flew the camera closer")


def fresh_room(room: PreparedRoom, name: str) -> PreparedRoom:
    """Another room on the same converted version (clean durable state for this test)."""
    auth = {"Authorization": f"Bearer {room.owner_token}"}
    res = httpx.post(f"{room.base_url}/api/versions/{room.version_id}/rooms", json={"name": name},
                     headers=auth, timeout=30)
    res.raise_for_status()
    return dataclasses.replace(room, room_id=res.json()["room_id"])
