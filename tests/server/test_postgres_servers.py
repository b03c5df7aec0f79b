"""Real server processes on one Postgres database (issue 12): one configuration for the CLI and
``serve``, ``kill -9`` durability, and a conversion job that one process starts and another
finishes (two processes sharing the database and the asset directory).

Postgres comes from the Debian package (``tests/pg_support.py``); without it these skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.api_support import FAKE_CONVERTERS, obj_text
from tests.conftest import ServerFactory
from tests.server import test_durability
from tests.server_process import REPO, ServerProcess
from vrcollab.store.catalog import JobRecord
from vrcollab.store.catalog_postgres import PostgresCatalog


def _cli(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VRCOLLAB_")}
    out = subprocess.run([sys.executable, "-m", "vrcollab", *args], cwd=REPO,
                         env={**base, **env}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_cli_project_create_lands_in_postgres_and_a_server_serves_it(
        pg_url: str, tmp_path: Path, server_factory: ServerFactory) -> None:
    env = {"VRCOLLAB_DATABASE_URL": pg_url, "VRCOLLAB_DATA_DIR": str(tmp_path / "cli")}
    made = _cli(["project", "create", "--name", "Terminal 2", "--room", "Kickoff"], env)
    assert not (tmp_path / "cli" / "vrcollab.sqlite3").exists()  # not a SQLite file
    srv = server_factory(env={"VRCOLLAB_DATABASE_URL": pg_url}, name="other-data-dir")
    auth = {"Authorization": f"Bearer {made['token']}"}
    projects = httpx.get(f"{srv.base_url}/api/projects", headers=auth).json()
    assert [(p["project_id"], p["name"], p["role"]) for p in projects] == [
        (made["project_id"], "Terminal 2", "owner")]
    room = httpx.get(f"{srv.base_url}/api/rooms/{made['room_id']}", headers=auth)
    assert room.status_code == 200, room.text
    assert room.json()["name"] == "Kickoff"
    # the other way round: a token the CLI issues for the server's project works at once
    tok = _cli(["token", "create", "--project", made["project_id"], "--role", "viewer",
                "--name", "Vic"], env)
    me = httpx.get(f"{srv.base_url}/api/me", headers={"Authorization": f"Bearer {tok['token']}"})
    assert me.json()["projects"] == {made["project_id"]: "viewer"}


async def test_kill_9_on_postgres_loses_no_acked_op(pg_url: str,
                                                    server_factory: ServerFactory) -> None:
    """The SQLite durability test, word for word, with the server on Postgres."""

    def on_postgres(env: dict[str, str] | None = None, name: str = "srv") -> ServerProcess:
        return server_factory(env={**(env or {}), "VRCOLLAB_DATABASE_URL": pg_url}, name=name)

    await test_durability.test_kill_9_loses_no_acked_op_and_resume_has_no_duplicates(
        on_postgres)


def _job(catalog: PostgresCatalog, job_id: str) -> JobRecord:
    return catalog.get_job(job_id)


def test_a_job_one_process_starts_another_finishes(pg_url: str, tmp_path: Path) -> None:
    env = {"VRCOLLAB_DATABASE_URL": pg_url, "VRCOLLAB_ASSETS_DIR": str(tmp_path / "assets"),
           "VRCOLLAB_JOB_CONVERTER": f"{FAKE_CONVERTERS}:slow_obj_parts",
           "VRCOLLAB_JOB_LEASE_S": "4"}
    servers = [ServerProcess(tmp_path / name, env=env) for name in ("a", "b")]
    catalog = PostgresCatalog(pg_url)
    try:
        for s in servers:
            s.start()
        a = servers[0]
        boot = a.bootstrap()
        auth = {"Authorization": f"Bearer {boot.owner_token}"}
        r = httpx.post(f"{a.base_url}/api/projects/{boot.project_id}/models",
                       params={"model": "wall"}, timeout=60, headers=auth,
                       files={"file": ("wall.obj", obj_text({"wall": 1.0, "slab": 2.0}))})
        assert r.status_code == 202, r.text
        job_id = r.json()["job"]["job_id"]
        for _ in range(600):  # a guard against hanging, not a timing assertion
            job = _job(catalog, job_id)
            if job.status == "running" and job.worker:
                break
            time.sleep(0.05)
        assert job.status == "running", job
        assert job.worker is not None
        pid = int(job.worker.split("/")[1])
        runner = next(s for s in servers if s.pid == pid)
        other = next(s for s in servers if s is not runner)
        runner.kill()  # mid-conversion: its lease stops being renewed
        for _ in range(1200):
            done = httpx.get(f"{other.base_url}/api/jobs/{job_id}", headers=auth).json()
            if done["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert done["status"] == "done", done
        final = _job(catalog, job_id)
        assert final.attempts == 2  # retried once, not lost, not run twice to the end
        assert final.worker is not None
        assert int(final.worker.split("/")[1]) == other.pid
        version = catalog.get_version(final.version_id)
        assert version.status == "ready"
        files = catalog.list_version_files(version.version_id)
        assert {f.path for f in files} >= {"manifest.json", "full.glb"}
        for f in files:  # on the shared directory, content-addressed
            assert (tmp_path / "assets" / f.sha256[:2] / f.sha256[2:4] / f.sha256).is_file()
    finally:
        catalog.close()
        for s in servers:
            s.stop()


def test_progress_of_a_job_reaches_clients_of_another_process(pg_url: str,
                                                              tmp_path: Path) -> None:
    env = {"VRCOLLAB_DATABASE_URL": pg_url, "VRCOLLAB_ASSETS_DIR": str(tmp_path / "assets"),
           "VRCOLLAB_JOB_CONVERTER": f"{FAKE_CONVERTERS}:slow_obj_parts"}
    servers = [ServerProcess(tmp_path / name, env=env) for name in ("a", "b")]
    catalog = PostgresCatalog(pg_url)
    try:
        for s in servers:
            s.start()
        boot = servers[0].bootstrap()
        auth = {"Authorization": f"Bearer {boot.owner_token}"}
        r = httpx.post(f"{servers[0].base_url}/api/projects/{boot.project_id}/models",
                       params={"model": "wall"}, timeout=60, headers=auth,
                       files={"file": ("wall.obj", obj_text({"wall": 1.0}))})
        assert r.status_code == 202, r.text
        job_id = r.json()["job"]["job_id"]
        for _ in range(600):
            job = _job(catalog, job_id)
            if job.worker:
                break
            time.sleep(0.05)
        assert job.worker is not None
        pid = int(job.worker.split("/")[1])
        other = next(s for s in servers if s.pid != pid)  # not the one converting
        events: list[dict[str, Any]] = []
        with httpx.stream("GET", f"{other.base_url}/api/jobs/{job_id}/events", headers=auth,
                          timeout=60) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[len("data: "):]))
                    if events[-1]["status"] in ("done", "failed"):
                        break
        assert events[-1]["status"] == "done"
        # the intermediate stages came through the other process (Postgres NOTIFY), not only
        # the final state on a keep-alive re-read
        progress = [e for e in events if e["status"] == "running" and 0 < e["percent"] < 100]
        assert len({(e["stage"], e["percent"]) for e in progress}) >= 3, events
    finally:
        catalog.close()
        for s in servers:
            s.stop()
