"""Job leases (issue 12): a runner renews its jobs' leases, takes over jobs whose worker is gone
(lease past, or a dead process on this host), leaves live workers' jobs alone, and stops a job
it no longer owns instead of finishing it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from vrcollab.assets import AssetStore
from vrcollab.jobs import JobRunner
from vrcollab.jobs.runner import worker_gone, worker_id
from vrcollab.store.catalog import Catalog, JobRecord
from vrcollab.store.catalog_sqlite import SqliteCatalog

FAKE = "tests.jobs.fake_converters"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Catalog, AssetStore, Path]]:
    catalog = SqliteCatalog(tmp_path / "catalog.db")
    yield catalog, AssetStore(tmp_path / "assets"), tmp_path
    catalog.close()


def _job(catalog: Catalog, assets: AssetStore) -> JobRecord:
    info = assets.put_bytes(b"a=1 b=2")
    model = catalog.get_or_create_model("p1", "model")
    vid = catalog.create_version(model.model_id, source_name="m.txt", source_sha256=info.sha256,
                                 source_bytes=info.size).version_id
    return catalog.create_job("p1", vid)


def _wait(catalog: Catalog, job_id: str, pred: object, limit: float = 120.0) -> JobRecord:
    end = time.monotonic() + limit  # a guard against hanging, not a timing assertion
    while True:
        job = catalog.get_job(job_id)
        if pred(job) or time.monotonic() > end:  # type: ignore[operator]
            return job
        time.sleep(0.05)


def test_worker_gone_rules() -> None:
    now = time.time()
    me = worker_id()
    host = socket.gethostname()
    me_proc = psutil.Process()
    live_other = f"{host}/{me_proc.pid}/{me_proc.create_time():.3f}/other"
    base = JobRecord("j", "p", "v", "running", "load", 1.0, now, now, attempts=1)

    def job(worker: str | None, lease: float | None) -> JobRecord:
        return replace(base, worker=worker, lease_until=lease)

    assert worker_gone(job(None, None), now, me)  # claimed without a lease
    assert worker_gone(job("elsewhere/1/0/x", now - 1), now, me)  # lease ran out
    assert not worker_gone(job("elsewhere/1/0/x", now + 30), now, me)  # another host, live
    assert not worker_gone(job(live_other, now + 30), now, me)  # this host, process alive
    assert worker_gone(job(f"{host}/{me_proc.pid}/1.000/x", now + 30), now, me)  # pid reused
    assert worker_gone(job(f"{host}/999999999/0/x", now + 30), now, me)  # process gone


def test_runner_takes_over_expired_leases_and_leaves_live_ones(
        env: tuple[Catalog, AssetStore, Path]) -> None:
    catalog, assets, tmp = env
    expired, held = _job(catalog, assets), _job(catalog, assets)
    catalog.claim_next_job(worker="elsewhere/1/0/x", lease_s=-1.0)  # its lease already ran out
    catalog.claim_next_job(worker="elsewhere/2/0/y", lease_s=3600.0)  # a live worker elsewhere
    runner = JobRunner(catalog=catalog, assets=assets, work_dir=tmp / "work", timeout_s=120,
                       converter=f"{FAKE}:boxes", lease_s=2.0)
    runner.start()
    try:
        done = _wait(catalog, expired.job_id, lambda j: j.status == "done")
    finally:
        runner.stop()
    assert done.status == "done", done.error
    assert done.attempts == 2
    assert done.worker == runner.worker_id
    still = catalog.get_job(held.job_id)
    assert (still.status, still.worker) == ("running", "elsewhere/2/0/y")


def test_runner_renews_and_stops_a_job_taken_from_it(
        env: tuple[Catalog, AssetStore, Path]) -> None:
    catalog, assets, tmp = env
    runner = JobRunner(catalog=catalog, assets=assets, work_dir=tmp / "work", timeout_s=300,
                       converter=f"{FAKE}:hang", options={"pid_file": str(tmp / "pids")},
                       lease_s=1.5)
    runner.start()
    try:
        job = _job(catalog, assets)
        first = _wait(catalog, job.job_id, lambda j: j.stage == "decimate")
        assert first.worker == runner.worker_id
        assert first.lease_until is not None
        renewed = _wait(catalog, job.job_id,
                        lambda j: (j.lease_until or 0) > (first.lease_until or 0))
        assert (renewed.lease_until or 0) > first.lease_until  # the dispatcher renews it
        # another process recovered it meanwhile (say we stalled past the lease) and owns it now
        taken = catalog.update_job_if(job.job_id, when_status="running",
                                      when_worker=runner.worker_id, worker="elsewhere/9/0/z",
                                      lease_until=time.time() + 3600)
        assert taken is not None
        worker_pid = int((tmp / "pids").read_text().split()[0])
        end = time.monotonic() + 60
        while psutil.pid_exists(worker_pid) and time.monotonic() < end:
            if psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.05)
        assert not psutil.pid_exists(worker_pid) or (
            psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE)
    finally:
        runner.stop()
    after = catalog.get_job(job.job_id)  # untouched by the runner that lost it
    assert (after.status, after.worker) == ("running", "elsewhere/9/0/z")
