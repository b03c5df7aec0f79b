"""Conversion jobs survive a server crash: a job running when the server is SIGKILLed is resumed
after the restart (its orphaned worker stops by itself). Failing a job interrupted too often is
covered in tests/jobs/test_runner.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.e2e.e2e_support import auth

pytestmark = pytest.mark.timeout(300)
OBJ = b"o wall\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3\nf 1 3 4\n"


def _wait(base: str, token: str, job_id: str, pred: Any, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{base}/api/jobs/{job_id}", headers=auth(token)).json()
        if pred(job):
            return job
        assert time.monotonic() < end, job
        time.sleep(0.1)


def _workers(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "vrcollab.jobs.worker" in " ".join(proc.info["cmdline"] or []) and \
                    Path(proc.cwd()).is_relative_to(data_dir):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def _gone(data_dir: Path, timeout: float = 15) -> bool:
    end = time.monotonic() + timeout
    while _workers(data_dir):
        if time.monotonic() > end:
            return False
        time.sleep(0.2)
    return True


def test_running_job_resumes_after_a_server_crash(
    server_factory: Any,
) -> None:
    env = {"VRCOLLAB_JOB_CONVERTER": "tests.jobs.fake_converters:slow_obj_parts",
           "VRCOLLAB_SQLITE_SYNCHRONOUS": "NORMAL"}
    srv = server_factory(env=env)
    boot = srv.bootstrap()
    base, token = srv.base_url, boot.owner_token

    def upload() -> str:
        r = httpx.post(f"{base}/api/projects/{boot.project_id}/models",
                       files={"file": ("wall.obj", OBJ)}, headers=auth(token))
        assert r.status_code == 202, r.text
        return str(r.json()["job"]["job_id"])

    def running(job: dict) -> bool:
        return job["status"] == "running" and job["stage"] == "load"

    # crash once: resumed after the restart and finished
    job_id = upload()
    _wait(base, token, job_id, running)
    assert _workers(srv.data_dir)
    srv.kill()
    assert _gone(srv.data_dir), "the orphaned conversion kept running"
    srv.start()
    done = _wait(base, token, job_id, lambda j: j["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert done["attempts"] == 2
