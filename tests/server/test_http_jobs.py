"""Per-project quotas and fair job scheduling through the real server (issue 8, item 6;
docs/api.md "Conversion jobs").

One worker, a converter that takes a few seconds: a project that bursts uploads gets 429
``job_quota`` past ``project_max_active_jobs`` and 413 ``storage_quota`` past
``project_max_storage_bytes``, and another project's job starts before the burst's second job
(the worker takes projects in turn).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.api_support import FAKE_CONVERTERS, obj_text
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("jobs"),
                      env={"VRCOLLAB_JOB_CONVERTER": f"{FAKE_CONVERTERS}:slow_obj_parts",
                           "VRCOLLAB_JOB_WORKERS": "1",
                           "VRCOLLAB_PROJECT_MAX_ACTIVE_JOBS": "3",
                           "VRCOLLAB_PROJECT_MAX_STORAGE_BYTES": "40000"})
    s.start()
    yield s
    s.stop()


def upload(srv: ServerProcess, project_id: str, token: str, data: bytes,
           name: str) -> httpx.Response:
    return httpx.post(f"{srv.base_url}/api/projects/{project_id}/models",
                      params={"model": name}, files={"file": (f"{name}.obj", data)},
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)


def wait_done(srv: ServerProcess, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(1200):  # a guard against hanging, not a timing assertion
        job: dict[str, Any] = httpx.get(f"{srv.base_url}/api/jobs/{job_id}",
                                        headers={"Authorization": f"Bearer {token}"}).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_quotas_and_fair_scheduling(srv: ServerProcess) -> None:
    busy = srv.bootstrap(project_name="Busy")
    calm = srv.bootstrap(project_name="Calm")
    burst = []
    for i in range(3):
        r = upload(srv, busy.project_id, busy.owner_token, obj_text({"wall": 1.0 + i}), f"m{i}")
        assert r.status_code == 202, r.text
        burst.append(r.json()["job"]["job_id"])
    # a fourth active conversion is over the job quota, refused before the body is stored
    over = upload(srv, busy.project_id, busy.owner_token, obj_text({"wall": 9.0}), "m9")
    assert over.status_code == 429, over.text
    assert over.json()["error"]["code"] == "job_quota"
    assert "project_max_active_jobs" in over.json()["error"]["message"]
    # the other project is not affected by the busy one's quota, and its job is next in line
    r = upload(srv, calm.project_id, calm.owner_token, obj_text({"slab": 2.0}), "calm")
    assert r.status_code == 202, r.text
    late = r.json()["job"]["job_id"]
    jobs = {j: wait_done(srv, busy.owner_token, j) for j in burst}
    calm_job = wait_done(srv, calm.owner_token, late)
    assert all(j["status"] == "done" for j in [*jobs.values(), calm_job])
    starts = sorted([(j["started"], j["job_id"]) for j in [*jobs.values(), calm_job]])
    assert [job_id for _, job_id in starts] == [burst[0], late, burst[1], burst[2]]

    # storage: the busy project holds 3 models; a 50 kB file would pass its 40,000 bytes
    big = obj_text({"wall": 1.0}) + b"# pad\n" * 9000
    r = upload(srv, busy.project_id, busy.owner_token, big, "big")
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "storage_quota"
    assert "project_max_storage_bytes" in r.json()["error"]["message"]
    ok = upload(srv, calm.project_id, calm.owner_token, obj_text({"door": 1.0}), "door")
    assert ok.status_code == 202, ok.text
    assert wait_done(srv, calm.owner_token, ok.json()["job"]["job_id"])["status"] == "done"
