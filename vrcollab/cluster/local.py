"""``./dev serve --scale N``: the whole scale-out service on this machine, loopback only.

Starts, in ``<data_dir>/cluster``: PostgreSQL (Debian's ``postgresql``; as the ``postgres``
system user when run as root, which Postgres refuses), ``redis-server``, N ``vrcollab`` server
processes on the same database and broker, and HAProxy in front of them (websockets pass
through its HTTP mode; ``timeout tunnel`` keeps them open). Prints the room link, then waits
until interrupted and stops everything. The processes share ``<data_dir>/cluster/shared`` for
assets (the content-addressed store on a shared directory).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vrcollab.settings import Settings, load_settings

HAPROXY_CFG = """global
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option forwardfor
frontend vrcollab
    bind 127.0.0.1:{port}
    default_backend servers
backend servers
    balance leastconn
    option httpchk GET /api/health
{servers}
"""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def haproxy_config(port: int, backends: list[int]) -> str:
    """HAProxy on 127.0.0.1:``port`` balancing over the server ports (health-checked)."""
    lines = [f"    server p{i} 127.0.0.1:{p} check inter 1s" for i, p in enumerate(backends)]
    return HAPROXY_CFG.format(port=port, servers="\n".join(lines))


def _need(exe: str, package: str) -> str:
    path = shutil.which(exe)
    if path is None:
        raise SystemExit(f"{exe} not found: apt-get install {package}")
    return path


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait(check: object, what: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start in {timeout:.0f} s")


class LocalCluster:
    """Postgres + Redis + N servers + HAProxy as child processes."""

    def __init__(self, root: Path, n: int, port: int) -> None:
        self.root = root
        self.n = n
        self.port = port
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.env: dict[str, str] = {}

    def _spawn(self, name: str, cmd: list[str], **kw: object) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kw)  # type: ignore[call-overload]
        log.close()
        self.procs.append((name, proc))
        return proc

    def postgres(self) -> str:
        """Start Postgres (initdb once); the database URL."""
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL not found: apt-get install postgresql")
        bindir = Path(found[-1]).parent
        pg = self.root / "pg"
        data, sock = pg / "data", pg / "sock"
        sock.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for p in (pg, sock):
                shutil.chown(p, "postgres")
        if not (data / "PG_VERSION").exists():
            subprocess.run(_as_pg([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                   "--auth=trust", "-E", "UTF8"]), check=True,
                           capture_output=True)
        port = free_port()
        proc = self._spawn("postgres", _as_pg([
            str(bindir / "postgres"), "-D", str(data), "-k", str(sock), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1"]))
        import psycopg

        base = f"host=127.0.0.1 port={port} user=postgres"
        def up() -> bool:
            psycopg.connect(base + " dbname=postgres").close()
            return True

        _wait(up, "postgres", proc)
        with psycopg.connect(base + " dbname=postgres", autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'vrcollab'").fetchone() \
                    is None:
                conn.execute("CREATE DATABASE vrcollab")
        return f"postgresql://postgres@127.0.0.1:{port}/vrcollab"

    def redis(self) -> str:
        """Start redis-server (nothing durable lives there: no persistence); its URL."""
        exe = _need("redis-server", "redis-server")
        port = free_port()
        (self.root / "redis").mkdir(exist_ok=True)
        proc = self._spawn("redis", [exe, "--port", str(port), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no",
                                     "--dir", str(self.root / "redis")])
        import redis

        url = f"redis://127.0.0.1:{port}/0"
        _wait(lambda: redis.Redis.from_url(url).ping(), "redis-server", proc)
        return url

    def start(self) -> str:
        """Start everything; the public base URL (HAProxy)."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        haproxy = _need("haproxy", "haproxy")
        shared = self.root / "shared"
        shared.mkdir(exist_ok=True)
        db = self.postgres()
        broker = self.redis()
        base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VRCOLLAB_")}
        self.env.update(VRCOLLAB_DATABASE_URL=db, VRCOLLAB_BROKER_URL=broker,
                        VRCOLLAB_DATA_DIR=str(shared), VRCOLLAB_ASSETS_DIR=str(shared / "assets"),
                        VRCOLLAB_PUBLIC_URL=base,
                        VRCOLLAB_HOST="127.0.0.1", VRCOLLAB_ALLOWED_ORIGINS=f'["{base}"]')
        settings = load_settings(database_url=db, broker_url=broker, data_dir=shared,
                                 assets_dir=shared / "assets", public_url=base, port=self.port)
        from vrcollab.demo import ensure_demo
        from vrcollab.server.people_cli import announce_owner

        announce_owner(settings)
        demo = ensure_demo(settings)
        print(f"demo model: {demo.message}", flush=True)
        ports = [free_port() for _ in range(self.n)]
        for i, p in enumerate(ports):
            env = {**self.env, "VRCOLLAB_PORT": str(p)}
            proc = self._spawn(f"server{i}", [sys.executable, "-m", "vrcollab.server.serve"],
                               env=env)
            _wait(lambda p=p: httpx.get(f"http://127.0.0.1:{p}/api/health").status_code == 200,
                  f"server {i}", proc)
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(haproxy_config(self.port, ports))
        self._spawn("haproxy", [haproxy, "-f", str(cfg), "-db"])

        _wait(lambda: httpx.get(base + "/api/health").status_code == 200, "haproxy",
              self.procs[-1][1])
        print(f"{self.n} servers on ports {', '.join(map(str, ports))} behind HAProxy at "
              f"{base} (logs in {self.root})", flush=True)
        print(f"open the demo room: {demo.link(base)}", flush=True)
        return base

    def stop(self) -> None:
        """Stop every child (servers first, databases last)."""
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def main(argv: list[str] | None = None) -> int:
    """``python -m vrcollab.cluster.local --scale N [--port P] [--data-dir D]``."""
    ap = argparse.ArgumentParser(prog="./dev serve --scale")
    ap.add_argument("--scale", type=int, default=3, help="server processes (default 3)")
    ap.add_argument("--port", type=int, default=8000, help="HAProxy port on 127.0.0.1")
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    data = (args.data_dir or Settings().data_dir).resolve()
    cluster = LocalCluster(data / "cluster", max(1, args.scale), args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
        while all(p.poll() is None for _, p in cluster.procs):
            time.sleep(0.5)
        dead = [name for name, p in cluster.procs if p.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited (see {cluster.root})", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    raise SystemExit(main())
