"""Fixtures for the REST tests: an app on a temp data dir, with a project, an owner, a viewer
and an outsider (member of another project only)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vrcollab.server.app import create_app
from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.settings import Settings

# the fake converters are imported by name in the spawned job process (it inherits sys.path)
sys.path.insert(0, str(Path(__file__).parents[1] / "jobs"))


@dataclass
class Api:
    client: TestClient
    settings: Settings
    project_id: str
    owner: dict[str, str]
    viewer: dict[str, str]
    outsider: dict[str, str]
    other_project_id: str

    def wait_job(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(f"/api/jobs/{job_id}",
                                                  headers=self.owner).json()
            if job["status"] in ("done", "failed") or time.monotonic() > end:
                return job
            time.sleep(0.1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def obj_text(sizes: dict[str, float]) -> bytes:
    """An OBJ with one box object per name (edge length = size), spaced along x."""
    lines, base = [], 1
    for i, (name, size) in enumerate(sizes.items()):
        lines.append(f"o {name}")
        x0 = 3.0 * i
        for dx in (0, size):
            for dy in (0, size):
                for dz in (0, size):
                    lines.append(f"v {x0 + dx} {dy} {dz}")
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4),
                 (1, 5, 7, 3)]
        for a, b, c, d in quads:
            lines.append(f"f {base + a} {base + b} {base + c}")
            lines.append(f"f {base + a} {base + c} {base + d}")
        base += 8
    return ("\n".join(lines) + "\n").encode()


AppFactory = Callable[..., Api]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> Api:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"data{len(clients)}",
            "database_url": "",
            "job_converter": "fake_converters:obj_parts",
            "job_timeout_s": 120.0,
            "sqlite_synchronous": "NORMAL",
        }
        values.update(overrides)
        settings = Settings(**values)
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        store = client.app.state.store  # type: ignore[attr-defined]
        project, _, owner = bootstrap_project(store, "Tower", "Olivia")
        _, viewer = issue_member_token(store, project.project_id, "viewer", "Victor")
        other, _, outsider = bootstrap_project(store, "Other", "Mallory")
        return Api(client, settings, project.project_id, bearer(owner), bearer(viewer),
                   bearer(outsider), other.project_id)

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: AppFactory) -> Api:
    return make_api()
