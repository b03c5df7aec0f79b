"""Shared fixtures. ``server_factory`` starts real servers (subprocesses on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg_support import pg_cluster, pg_url  # noqa: F401 - fixtures
from tests.server_process import ServerProcess

ServerFactory = Callable[..., ServerProcess]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """``server_factory(env={...})`` -> a started :class:`ServerProcess`; all stopped at the end."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "srv") -> ServerProcess:
        srv = ServerProcess(tmp_path / name, env=env)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for a whole test module (default settings, SQLite in a temp dir)."""
    srv = ServerProcess(tmp_path_factory.mktemp("server"))
    srv.start()
    yield srv
    srv.stop()
