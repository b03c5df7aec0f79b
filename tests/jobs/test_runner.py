"""The job runner: real subprocesses, real timeouts and kills, restart recovery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from vrcollab.assets import AssetStore
from vrcollab.jobs import JobEvents, JobRunner
from vrcollab.jobs.elements import same_geometry
from vrcollab.store.catalog import Catalog, JobRecord
from vrcollab.store.catalog_sqlite import SqliteCatalog

FAKE = "tests.jobs.fake_converters"  # imported by name in the job subprocess


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Catalog, AssetStore, Path]]:
    catalog = SqliteCatalog(tmp_path / "catalog.db")
    yield catalog, AssetStore(tmp_path / "assets"), tmp_path
    catalog.close()


def _upload(catalog: Catalog, assets: AssetStore, text: str, name: str = "m.txt") -> str:
    info = assets.put_bytes(text.encode())
    model = catalog.get_or_create_model("p1", "model")
    return catalog.create_version(model.model_id, source_name=name, source_sha256=info.sha256,
                                  source_bytes=info.size).version_id


def _runner(env: tuple[Catalog, AssetStore, Path], fn: str, **kw: object) -> JobRunner:
    catalog, assets, tmp = env
    return JobRunner(catalog=catalog, assets=assets, work_dir=tmp / "work",
                     converter=f"{FAKE}:{fn}", **kw)  # type: ignore[arg-type]


def test_job_runs_to_done_with_progress_files_and_element_hashes(
    env: tuple[Catalog, AssetStore, Path],
) -> None:
    catalog, assets, tmp = env
    seen: list[JobRecord] = []
    events = JobEvents()
    events.add_listener(seen.append)
    runner = _runner(env, "boxes", timeout_s=120, events=events)
    runner.start()
    try:
        vid = _upload(catalog, assets, "a=1 b=2")
        job = runner.wait(runner.submit("p1", vid).job_id, timeout=120)
    finally:
        runner.stop()
    assert job.status == "done", job.error
    assert job.percent == 100.0
    assert job.attempts == 1
    stages = [e.stage for e in seen]
    assert "load" in stages
    assert stages[-1] == "done"
    assert seen[0].status == "queued"
    version = catalog.get_version(vid)
    assert version.status == "ready"
    assert set(version.elements) == {"GID-a", "GID-b", "node:a", "node:b"}
    manifest = json.loads(assets.read_bytes(version.manifest_sha256 or ""))
    assert manifest["parts"][0]["node"] == "a"
    glb = catalog.get_version_file(vid, "full.glb")
    assert assets.read_bytes(glb.sha256)[:4] == b"glTF"
    assert glb.content_type == "model/gltf-binary"
    assert not (tmp / "work" / job.job_id).exists()


def test_geometry_fingerprints_change_only_for_changed_elements(
    env: tuple[Catalog, AssetStore, Path],
) -> None:
    catalog, assets, _ = env
    runner = _runner(env, "boxes", timeout_s=120)
    runner.start()
    try:
        v1 = _upload(catalog, assets, "a=1 b=2 c=1")
        v2 = _upload(catalog, assets, "a=1 b=3")
        for vid in (v1, v2):
            assert runner.wait(runner.submit("p1", vid).job_id, timeout=120).status == "done"
    finally:
        runner.stop()
    e1, e2 = catalog.get_version(v1).elements, catalog.get_version(v2).elements
    assert e1["GID-a"].startswith("box:12|")
    assert same_geometry(e1["GID-a"], e2["GID-a"])
    assert not same_geometry(e1["GID-b"], e2["GID-b"])
    assert "GID-c" not in e2


def test_ingest_error_message_reaches_the_job(env: tuple[Catalog, AssetStore, Path]) -> None:
    catalog, assets, _ = env
    runner = _runner(env, "bad_input", timeout_s=120)
    runner.start()
    try:
        vid = _upload(catalog, assets, "x", name="broken.stl")
        job = runner.wait(runner.submit("p1", vid).job_id, timeout=120)
    finally:
        runner.stop()
    assert job.status == "failed"
    assert job.error_code == "corrupt_file"
    assert job.error == "broken.stl: not a mesh (test)"
    assert catalog.get_version(vid).status == "failed"


@pytest.mark.parametrize(("fn", "code", "words"), [
    ("crash", "crash", "crashed"),
    ("python_error", "crash", "ZeroDivisionError"),
])
def test_crashing_conversion_fails_only_its_job(
    env: tuple[Catalog, AssetStore, Path], fn: str, code: str, words: str
) -> None:
    catalog, assets, _ = env
    runner = _runner(env, fn, timeout_s=120)
    runner.start()
    try:
        job = runner.wait(runner.submit("p1", _upload(catalog, assets, "x")).job_id, 120)
    finally:
        runner.stop()
    assert (job.status, job.error_code) == ("failed", code)
    assert words in (job.error or "")


def test_hung_conversion_is_killed_with_its_children(env: tuple[Catalog, AssetStore, Path]) -> None:
    catalog, assets, tmp = env
    pid_file = tmp / "pids"
    runner = _runner(env, "hang", timeout_s=8, options={"pid_file": str(pid_file)})
    runner.start()
    try:
        started = time.monotonic()
        job = runner.wait(runner.submit("p1", _upload(catalog, assets, "x")).job_id, 120)
        elapsed = time.monotonic() - started
    finally:
        runner.stop()
    assert (job.status, job.error_code) == ("failed", "timeout")
    assert "longer than 8 s" in (job.error or "")
    assert elapsed < 60
    assert pid_file.exists(), "the converter did not start within the timeout (machine busy?)"
    for pid in map(int, pid_file.read_text().split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_restart_requeues_running_jobs_and_fails_repeat_offenders(
    env: tuple[Catalog, AssetStore, Path],
) -> None:
    catalog, assets, _ = env
    vid = _upload(catalog, assets, "a=1")
    once = catalog.create_job("p1", vid)
    twice = catalog.create_job("p1", vid)
    queued = catalog.create_job("p1", vid)
    catalog.claim_next_job()  # "once" was running when the old server died
    catalog.claim_next_job()
    catalog.update_job(twice.job_id, attempts=2)  # and "twice" had already been retried
    runner = _runner(env, "boxes", timeout_s=120, max_attempts=2)
    changed = {j.job_id: j for j in runner.recover()}
    assert changed[once.job_id].status == "queued"
    assert "resumed" in changed[once.job_id].stage
    assert changed[twice.job_id].status == "failed"
    assert changed[twice.job_id].error_code == "interrupted"
    assert catalog.get_job(queued.job_id).status == "queued"
    runner.start()
    try:
        assert runner.wait(once.job_id, 120).status == "done"
        assert runner.wait(queued.job_id, 120).status == "done"
    finally:
        runner.stop()
    assert catalog.get_job(once.job_id).attempts == 2


def test_stop_puts_running_job_back_in_queue(env: tuple[Catalog, AssetStore, Path]) -> None:
    catalog, assets, tmp = env
    runner = _runner(env, "hang", timeout_s=300, options={"pid_file": str(tmp / "pids")})
    runner.start()
    job = runner.submit("p1", _upload(catalog, assets, "x"))
    deadline = time.monotonic() + 60
    while catalog.get_job(job.job_id).stage != "decimate" and time.monotonic() < deadline:
        time.sleep(0.1)
    runner.stop()
    after = catalog.get_job(job.job_id)
    assert after.status == "queued"
    assert after.attempts == 0
    worker_pid = int((tmp / "pids").read_text().split()[0])
    assert not psutil.pid_exists(worker_pid) or (
        psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
    )
