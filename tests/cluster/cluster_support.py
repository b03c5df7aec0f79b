"""Several real server processes on one database and one real ``redis-server`` (no fakes).

``redis_url`` starts Debian's ``redis-server`` on a free loopback port (no persistence) and
skips with a clear message where the binary is absent. :class:`Cluster` starts N
``vrcollab.server.serve`` processes with the same ``VRCOLLAB_DATABASE_URL`` and
``VRCOLLAB_BROKER_URL``; the database is a fresh Postgres database (``tests.pg_support``).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server_process import ServerProcess, free_port
from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.settings import Settings
from vrcollab.store import Store, open_store


def start_redis(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A ``redis-server`` on a free port of 127.0.0.1; (process, url)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(root), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError("redis-server exited at start") from None
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not answer")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh ``redis-server`` for one test."""
    proc, url = start_redis(tmp_path / "redis")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def database_url(pg_url: str) -> str:
    """A fresh Postgres database (``tests.pg_support``) shared by the processes."""
    return pg_url


@dataclass(frozen=True)
class Room:
    """A project with an owner token and one room."""

    project_id: str
    owner_token: str
    room_id: str


class Cluster:
    """N server processes sharing a database and Redis."""

    def __init__(self, root: Path, database_url: str, redis_url: str, n: int,
                 env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        base = {"VRCOLLAB_DATABASE_URL": database_url, "VRCOLLAB_BROKER_URL": redis_url,
                "VRCOLLAB_CLUSTER_LEASE_MS": "2000", **(env or {})}
        self.servers = [ServerProcess(root / f"p{i}", env=base) for i in range(n)]

    def __enter__(self) -> Cluster:
        for srv in self.servers:
            srv.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for srv in self.servers:
            srv.stop()

    def store(self) -> Store:
        """A store on the shared database."""
        return open_store(Settings(database_url=self.database_url))

    def room(self, project: str = "Project") -> Room:
        """A project with an owner and one room."""
        store = self.store()
        try:
            p, _owner, token = bootstrap_project(store, project, "Owner")
            room = store.create_room(p.project_id, "Room")
        finally:
            store.close()
        return Room(p.project_id, token, room.room_id)

    def token(self, project_id: str, role: str, name: str) -> str:
        """A token of a new member."""
        store = self.store()
        try:
            return issue_member_token(store, project_id, role, name)[1]
        finally:
            store.close()
