"""One contract suite for every Catalog implementation (memory, SQLite, Postgres)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrcollab.errors import NotFoundError, StoreError
from vrcollab.store.catalog import Catalog, MemoryCatalog, VersionFile
from vrcollab.store.catalog_sqlite import SqliteCatalog

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    cat: Catalog
    if request.param == "postgres":
        from vrcollab.store.catalog_postgres import PostgresCatalog

        cat = PostgresCatalog(request.getfixturevalue("pg_url"))
    else:
        cat = MemoryCatalog() if request.param == "memory" else SqliteCatalog(tmp_path / "c.db")
    yield cat
    cat.close()


def _version(catalog: Catalog, project: str = "p1", name: str = "house") -> str:
    model = catalog.get_or_create_model(project, name)
    v = catalog.create_version(model.model_id, source_name="h.ifc", source_sha256=SHA_A,
                               source_bytes=10)
    return v.version_id


def test_same_name_is_same_model_and_versions_count_up(catalog: Catalog) -> None:
    m1 = catalog.get_or_create_model("p1", "house")
    m2 = catalog.get_or_create_model("p1", "house")
    other = catalog.get_or_create_model("p2", "house")
    assert m1 == m2
    assert other.model_id != m1.model_id
    numbers = [
        catalog.create_version(m1.model_id, source_name="h.ifc", source_sha256=SHA_A,
                               source_bytes=1).number
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    assert [v.number for v in catalog.list_versions(m1.model_id)] == [1, 2, 3]
    assert catalog.list_versions(other.model_id) == []
    assert [m.model_id for m in catalog.list_models("p1")] == [m1.model_id]


def test_unknown_ids_raise_not_found(catalog: Catalog) -> None:
    for call in (
        lambda: catalog.get_model("m-x"),
        lambda: catalog.get_version("v-x"),
        lambda: catalog.get_job("j-x"),
        lambda: catalog.update_job("j-x", stage="load"),
        lambda: catalog.get_version_file("v-x", "manifest.json"),
        lambda: catalog.create_version("m-x", source_name="a", source_sha256=SHA_A,
                                       source_bytes=1),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_finish_version_records_files_elements_and_asset_projects(catalog: Catalog) -> None:
    vid = _version(catalog)
    files = [
        VersionFile(vid, "manifest.json", SHA_B, 100, "application/json"),
        VersionFile(vid, "full.glb", "c" * 64, 2000, "model/gltf-binary"),
    ]
    v = catalog.finish_version(vid, manifest_sha256=SHA_B, files=files,
                               elements={"2O2Fr$t4X7Zf8NOew3FLOH": "h1"})
    assert v.status == "ready"
    assert v.manifest_sha256 == SHA_B
    assert catalog.get_version(vid).elements == {"2O2Fr$t4X7Zf8NOew3FLOH": "h1"}
    assert catalog.get_version_file(vid, "full.glb").size == 2000
    assert [f.path for f in catalog.list_version_files(vid)] == ["full.glb", "manifest.json"]
    assert catalog.asset_projects("c" * 64) == {"p1"}
    assert catalog.asset_projects(SHA_A) == {"p1"}  # the uploaded source
    assert catalog.asset_projects("d" * 64) == set()
    assert catalog.fail_version(vid).status == "failed"


def test_jobs_claim_in_order_once(catalog: Catalog) -> None:
    vid = _version(catalog)
    jobs = [catalog.create_job("p1", vid) for _ in range(3)]
    assert all(j.status == "queued" for j in jobs)
    claimed = [catalog.claim_next_job() for _ in range(4)]
    assert [c.job_id if c else None for c in claimed] == [j.job_id for j in jobs] + [None]
    first = claimed[0]
    assert first is not None
    assert first.status == "running"
    assert first.attempts == 1
    assert first.started is not None
    assert len(catalog.list_jobs(statuses=("running",))) == 3
    assert catalog.list_jobs(project_id="p2") == []
    other = _version(catalog, name="annex")
    extra = catalog.create_job("p1", other)
    assert catalog.list_jobs(version_id=other) == [extra]
    assert len(catalog.list_jobs(version_id=first.version_id)) == 3


def test_claim_is_fair_between_projects(catalog: Catalog) -> None:
    busy = _version(catalog, project="busy")
    calm = _version(catalog, project="calm")
    burst = [catalog.create_job("busy", busy) for _ in range(3)]
    late = catalog.create_job("calm", calm)
    first = catalog.claim_next_job()
    second = catalog.claim_next_job()
    third = catalog.claim_next_job()
    assert [j.job_id if j else None for j in (first, second, third)] == [
        burst[0].job_id, late.job_id, burst[1].job_id]


def test_one_worker_takes_projects_in_turn(catalog: Catalog) -> None:
    busy = _version(catalog, project="busy")
    calm = _version(catalog, project="calm")
    burst = [catalog.create_job("busy", busy) for _ in range(4)]
    late = catalog.create_job("calm", calm)
    order = []
    while (job := catalog.claim_next_job()) is not None:  # one worker: each job ends first
        order.append(job.job_id)
        catalog.update_job(job.job_id, status="done", finished=time.time())
    assert order == [burst[0].job_id, late.job_id, *(j.job_id for j in burst[1:])]


def test_claim_is_atomic_across_threads(catalog: Catalog) -> None:
    vid = _version(catalog)
    for _ in range(20):
        catalog.create_job("p1", vid)
    got: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while (job := catalog.claim_next_job()) is not None:
            with lock:
                got.append(job.job_id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 20


def test_update_job_fields_and_validation(catalog: Catalog) -> None:
    job = catalog.create_job("p1", _version(catalog))
    updated = catalog.update_job(job.job_id, stage="decimate", percent=40.0)
    assert (updated.stage, updated.percent, updated.status) == ("decimate", 40.0, "queued")
    failed = catalog.update_job(job.job_id, status="failed", error="boom", error_code="ingest",
                                finished=123.0)
    assert (failed.error, failed.error_code, failed.finished) == ("boom", "ingest", 123.0)
    assert catalog.get_job(job.job_id) == failed
    with pytest.raises(StoreError):
        catalog.update_job(job.job_id, status="exploded")
    with pytest.raises(StoreError):
        catalog.update_job(job.job_id, version_id="v-other")


def test_claim_takes_a_lease_that_only_its_worker_renews(catalog: Catalog) -> None:
    vid = _version(catalog)
    job = catalog.create_job("p1", vid)
    before = time.time()
    claimed = catalog.claim_next_job(worker="w1", lease_s=30.0)
    assert claimed is not None
    assert claimed.job_id == job.job_id
    assert claimed.worker == "w1"
    assert claimed.lease_until is not None
    assert claimed.lease_until >= before + 30.0
    renewed = catalog.update_job_if(job.job_id, when_status="running", when_worker="w1",
                                    lease_until=claimed.lease_until + 10)
    assert renewed is not None
    assert renewed.lease_until == claimed.lease_until + 10
    # another worker (or a recovery that lost the race) cannot touch it
    assert catalog.update_job_if(job.job_id, when_status="running", when_worker="w2",
                                 stage="stolen") is None
    assert catalog.update_job_if(job.job_id, when_status="queued", when_worker="w1",
                                 stage="stale") is None
    assert catalog.get_job(job.job_id).stage != "stolen"
    requeued = catalog.update_job_if(job.job_id, when_status="running", when_worker="w1",
                                     status="queued", worker=None, lease_until=None)
    assert requeued is not None
    assert (requeued.status, requeued.worker) == ("queued", None)
    with pytest.raises(NotFoundError):
        catalog.update_job_if("j_nope", when_status="running", when_worker=None, stage="x")
    unleased = catalog.claim_next_job()
    assert unleased is not None
    assert unleased.worker is None
    assert unleased.lease_until is None
    assert unleased.attempts == 2


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    cat = SqliteCatalog(path)
    vid = _version(cat)
    job = cat.create_job("p1", vid)
    cat.claim_next_job()
    cat.close()
    again = SqliteCatalog(path)
    assert again.get_job(job.job_id).status == "running"
    assert again.get_version(vid).number == 1
    again.close()
