"""Fixtures for the REST tests: an app on a temp data dir, with a project, an owner, a viewer
and an outsider (member of another project only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.api_support import FAKE_CONVERTERS, Api, AppFactory, bearer
from vrcollab.server.app import create_app
from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.settings import Settings


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> Api:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"data{len(clients)}",
            "database_url": "",
            "job_converter": f"{FAKE_CONVERTERS}:obj_parts",
            "job_timeout_s": 120.0,
            "sqlite_synchronous": "NORMAL",
        }
        values.update(overrides)
        settings = Settings(**values)
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        store = client.app.state.services.store  # type: ignore[attr-defined]
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
