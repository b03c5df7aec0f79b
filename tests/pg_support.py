"""A throwaway PostgreSQL cluster for tests (Debian's ``postgresql`` package, no mocks).

Runs ``initdb`` and ``postgres`` as the ``postgres`` system user when the tests run as root
(Postgres refuses root), listening only on a unix socket in a temporary directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    """Debian's newest ``/usr/lib/postgresql/<v>/bin``, else wherever ``initdb`` on PATH lives."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path and (Path(on_path).resolve().parent / "postgres").exists():
        return Path(on_path).resolve().parent
    return None


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """A running cluster; yields a base conninfo (``host=<socket dir> user=postgres``)."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql; "
                    "./dev setup installs it)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start postgres as its own user")
    root = Path(tempfile.mkdtemp(prefix="vrc-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    os.chmod(root, 0o755)
    subprocess.run(_as_pg([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True)
    proc = subprocess.Popen(_as_pg([str(bindir / "postgres"), "-D", str(data), "-k", str(sock),
                                    "-c", "listen_addresses=", "-c", "fsync=on"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"host={sock} user=postgres"
    import psycopg

    try:
        for _ in range(300):
            try:
                psycopg.connect(base + " dbname=postgres").close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None:
                    raise RuntimeError("postgres exited at start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_cluster: str) -> str:
    """A fresh, empty database in the session cluster, as a ``postgresql://`` URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_cluster + " dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # generated name
    host = pg_cluster.split()[0].split("=", 1)[1]
    return f"postgresql://postgres@/{name}?host={host}"
