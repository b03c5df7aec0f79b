"""``vrcollab serve``: demo project with the sample model, a working room link, idempotent."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.e2e_support import HOUSE
from tests.server_process import ServerProcess
from vrcollab.demo import DEMO_PROJECT, DEMO_ROOM, ensure_demo
from vrcollab.settings import Settings

pytestmark = pytest.mark.timeout(300)


def test_demo_is_idempotent_and_serve_prints_a_working_link(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", sqlite_synchronous="NORMAL")
    first = ensure_demo(settings, sample=HOUSE, log=False)
    assert first.status == "ready", first.message
    again = ensure_demo(settings, sample=HOUSE, log=False)
    assert (again.project_id, again.room_id, again.version_id) == (
        first.project_id, first.room_id, first.version_id)
    assert again.invite != first.invite

    srv = ServerProcess(tmp_path / "data", command=[sys.executable, "-m", "vrcollab", "serve"])
    srv.start()
    try:
        for restart in range(2):
            link = re.findall(r"open the demo room: (\S+)", srv.log())[-1]
            assert link.startswith(f"{srv.base_url}/r/{DEMO_ROOM}?invite=")
            invite = link.split("invite=", 1)[1]
            accepted = httpx.post(f"{srv.base_url}/api/invites/accept",
                                  json={"invite": invite, "name": f"Guest {restart}"})
            assert accepted.status_code == 201, accepted.text
            token = accepted.json()["token"]
            room = httpx.get(f"{srv.base_url}/api/rooms/{DEMO_ROOM}",
                             headers={"Authorization": f"Bearer {token}"}).json()
            assert room["model"]["version_id"] == first.version_id
            manifest = httpx.get(srv.base_url + room["model"]["manifest_url"],
                                 params={"token": token})
            assert manifest.status_code == 200
            assert httpx.get(f"{srv.base_url}/r/{DEMO_ROOM}").status_code == 200
            srv.stop()
            srv.start()
    finally:
        srv.stop()
    db = sqlite3.connect(tmp_path / "data" / "vrcollab.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM projects").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM rooms").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM catalog_versions WHERE project_id = ?",
                          (DEMO_PROJECT,)).fetchone() == (1,)
    finally:
        db.close()


def test_demo_converts_with_a_relative_data_dir(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``./dev serve`` uses the default ``data`` (relative): the conversion job runs in its own
    working directory, so the data directory must be resolved before the job sees it."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("data"), sqlite_synchronous="NORMAL")
    assert settings.data_dir == tmp_path.resolve() / "data"
    demo = ensure_demo(settings, log=False)  # the sample shipped in assets/
    assert demo.status == "ready", demo.message
