"""Run the real server as a subprocess on 127.0.0.1 for end-to-end tests.

Reusable by every part (sync, web client, uploads)::

    with ServerProcess(tmp_path, env={"VRCOLLAB_TICK_HZ": "20"}) as srv:
        boot = srv.bootstrap()                # project + owner token + one room
        token = srv.token(boot.project_id, "reviewer", "Rita")
        httpx.get(srv.base_url + "/api/me", headers={"Authorization": f"Bearer {token}"})
        srv.kill()                            # SIGKILL, no shutdown hooks
        srv.start()                           # same port, same data dir

Settings come from ``VRCOLLAB_*`` environment variables (``env`` is passed through); the data
dir holds the SQLite database (unless ``env`` names a ``VRCOLLAB_DATABASE_URL``) and
``server.log`` (printed when start-up fails).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.settings import load_settings
from vrcollab.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Bootstrap:
    """What :meth:`ServerProcess.bootstrap` made."""

    project_id: str
    owner_id: str
    owner_token: str
    room_id: str


class ServerProcess:
    """``python -m vrcollab.server.serve`` on a free port with its own data dir."""

    def __init__(
        self,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        command: list[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.env = dict(env or {})
        self.command = command or [sys.executable, "-m", "vrcollab.server.serve"]
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        """The SQLite file the server uses."""
        return self.data_dir / "vrcollab.sqlite3"

    def start(self) -> None:
        """Start (or restart) the server and wait until /api/health answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("VRCOLLAB_")}
        env.update(
            VRCOLLAB_HOST="127.0.0.1",
            VRCOLLAB_PORT=str(self.port),
            VRCOLLAB_DATA_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(self.command, cwd=REPO, env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/api/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start in {self.startup_timeout} s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far."""
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final snapshot (the crash test)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (graceful shutdown), SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    @property
    def pid(self) -> int | None:
        """The server process id while running."""
        return None if self.proc is None else self.proc.pid

    # --- auth bootstrap (writes the same SQLite file, as the CLI does) ---------------------

    def open_store(self) -> Store:
        """A store on the server's database (SQLite WAL or Postgres: safe next to the running
        server), through the same factory as the server (``VRCOLLAB_DATABASE_URL`` of ``env``)."""
        return open_store(load_settings(data_dir=self.data_dir,
                                        database_url=self.env.get("VRCOLLAB_DATABASE_URL", "")))

    def bootstrap(self, project_name: str = "Test project", room_name: str = "Room 1",
                  owner_name: str = "Owner") -> Bootstrap:
        """A project with an owner token and one room."""
        store = self.open_store()
        try:
            project, owner, token = bootstrap_project(store, project_name, owner_name)
            room = store.create_room(project.project_id, room_name)
        finally:
            store.close()
        return Bootstrap(project.project_id, owner.user_id, token, room.room_id)

    def token(self, project_id: str, role: str, name: str, *,
              expires_at: float | None = None) -> str:
        """A bearer token for a new member with ``role``."""
        store = self.open_store()
        try:
            return issue_member_token(store, project_id, role, name, expires_at=expires_at)[1]
        finally:
            store.close()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
