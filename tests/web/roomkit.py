"""Test support for the web client: a real server with a real converted model in a room.

``prepare_room(srv, model_path)`` uploads the model through the REST API (the same path a user
takes), waits for the conversion job, and creates a room opened on the ready version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
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
        query = "&".join([f"token={token}", *(f"{k}={v}" for k, v in params.items())])
        return f"{self.base_url}/r/{self.room_id}?{query}"


def prepare_room(srv: ServerProcess, model: Path, *, timeout: float = 240.0) -> PreparedRoom:
    """Upload ``model``, wait for its conversion, create a room on the version."""
    boot = srv.bootstrap()
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
