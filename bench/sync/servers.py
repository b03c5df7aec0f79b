"""The two servers under test: start (pinned to one core), prepare a room, sample, stop.

Both run as child processes on 127.0.0.1 with a free port, die with the benchmark
(``PR_SET_PDEATHSIG``) and are stopped with SIGTERM then SIGKILL. A fresh server process is
started for every measured phase, so CPU and RSS belong to that phase's room alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

import psutil

from .worker import VRCOLLAB, YWEBSOCKET, die_with_parent, prioritize

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
YWS_BIN = REPO / "clients" / "web" / "node_modules" / "y-websocket" / "bin" / "server.cjs"


class ServerError(RuntimeError):
    """A server under test failed to start or died."""


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (bind to 0, read it, release it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _child_setup(nice: int) -> None:
    """In the server child before exec: die with the benchmark; apply the priority."""
    die_with_parent(signal.SIGTERM)
    prioritize(nice)


class ManagedServer:
    """A server process for one phase; use as a context manager."""

    name = ""

    def __init__(self, cores: tuple[int, ...] | None, nice: int = 0,
                 settings: tuple[tuple[str, str], ...] = ()) -> None:
        self.cores = cores
        self.nice = nice
        self.settings = settings
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"syncbench-{self.name}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._ps: psutil.Process | None = None
        self._cached: list[psutil.Process] = []

    # --- per-server parts ----------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def room_targets(self, n: int) -> list[str]:
        """URL targets (path + query) for ``n`` clients of one fresh room."""
        raise NotImplementedError

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        cmd = self.command()
        if self.cores and shutil.which("taskset"):
            cmd = ["taskset", "-c", ",".join(map(str, self.cores)), *cmd]
        self._log = open(self.tmp / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env(), cwd=self.tmp,
                                     preexec_fn=lambda: _child_setup(self.nice))
        self._ps = psutil.Process(self.proc.pid)
        self._cached = [self._ps]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode}: "
                                  f"{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                return
            time.sleep(0.05)
        raise ServerError(f"{self.name} did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5.0)
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ManagedServer:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- sampling ------------------------------------------------------------------------
    def _procs(self) -> list[psutil.Process]:
        if self._ps is None:
            raise ServerError("not started")
        try:
            self._cached = [self._ps, *self._ps.children(recursive=True)]
        except psutil.NoSuchProcess as exc:
            raise ServerError(f"{self.name} died: {self.log_tail()}") from exc
        return self._cached

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its children (refreshes the child list)."""
        total = 0.0
        for p in self._procs():
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def sched_wait_seconds(self) -> float:
        """Time the server's threads spent runnable but waiting for a CPU (/proc schedstat)."""
        total = 0
        for p in self._cached:
            with contextlib.suppress(OSError, ValueError, IndexError):
                for task in Path(f"/proc/{p.pid}/task").iterdir():
                    total += int((task / "schedstat").read_text().split()[1])
        return total / 1e9

    def rss_bytes(self) -> int:
        """Resident memory of the processes seen at the last :meth:`cpu_seconds`."""
        total = 0
        for p in self._cached:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return (self.tmp / "server.log").read_bytes()[-n:].decode("utf-8", "replace")
        return ""


class YWebsocketServer(ManagedServer):
    """``y-websocket`` 2.x bin (in-memory docs; HOST/PORT from the environment)."""

    name = YWEBSOCKET

    def command(self) -> list[str]:
        if not YWS_BIN.exists():
            raise ServerError(f"missing {YWS_BIN}; run npm ci in clients/web")
        node = shutil.which("node")
        if node is None:
            raise ServerError("node is not installed")
        return [node, str(YWS_BIN)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("YPERSISTENCE", "CALLBACK_URL")}
        env.update(HOST=HOST, PORT=str(self.port))
        return env

    def room_targets(self, n: int) -> list[str]:
        doc = f"/bench-{uuid.uuid4().hex[:12]}"
        return [doc] * n


class VrcollabServer(ManagedServer):
    """``vrcollab serve`` with SQLite in a temporary data dir; one reviewer token per client."""

    name = VRCOLLAB

    def command(self) -> list[str]:
        return [sys.executable, "-m", "vrcollab", "serve", "--host", HOST, "--port",
                str(self.port), "--data-dir", str(self.tmp / "data"), "--no-demo"]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VRCOLLAB_")}
        env["PYTHONPATH"] = str(REPO)
        # every bench client connects from 127.0.0.1, like clients behind one proxy (docs/api.md)
        env["VRCOLLAB_MAX_CONNECTIONS_PER_ADDRESS"] = "100000"
        env["VRCOLLAB_MAX_CONNECTIONS"] = "100000"
        env.update((f"VRCOLLAB_{k.upper()}", v) for k, v in self.settings)
        return env

    def room_targets(self, n: int) -> list[str]:
        from vrcollab.server.auth import bootstrap_project, issue_member_token
        from vrcollab.settings import load_settings
        from vrcollab.store import open_store

        store = open_store(load_settings(data_dir=self.tmp / "data", database_url=""))
        try:
            project, _, _ = bootstrap_project(store, "sync bench", "bench owner")
            room = store.create_room(project.project_id, f"bench {n}")
            targets = []
            for i in range(n):
                _, token = issue_member_token(store, project.project_id, "reviewer", f"bot {i}")
                targets.append(f"/ws/rooms/{quote(room.room_id)}?token={quote(token)}")
        finally:
            store.close()
        return targets


SERVERS: dict[str, type[ManagedServer]] = {VRCOLLAB: VrcollabServer, YWEBSOCKET: YWebsocketServer}
