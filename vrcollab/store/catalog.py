"""The model catalog: models, versions, conversion jobs and the files of each version.

:class:`Catalog` is the interface (the store convention of :mod:`vrcollab.store.base`);
:class:`MemoryCatalog` (here), :class:`vrcollab.store.catalog_sqlite.SqliteCatalog` and
:class:`vrcollab.store.catalog_postgres.PostgresCatalog` implement it and pass the same contract
suite (``tests/store/test_catalog_contract.py``). Every method is thread-safe because the job
runner updates jobs from its own thread; job claims and compare-and-set updates are safe across
processes sharing one database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from vrcollab.errors import NotFoundError, StoreError
from vrcollab.store.base import new_id

JobStatus = Literal["queued", "running", "done", "failed"]
VersionStatus = Literal["converting", "ready", "failed"]
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A named model in a project; uploads of the same name become its versions."""

    model_id: str
    project_id: str
    name: str
    created: float


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One uploaded file of a model and, once converted, its manifest."""

    version_id: str
    model_id: str
    project_id: str
    number: int
    source_name: str
    source_sha256: str
    source_bytes: int
    status: VersionStatus
    created: float
    manifest_sha256: str | None = None
    elements: dict[str, str] = field(default_factory=dict)  # element key -> geometry hash


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A conversion job for one version."""

    job_id: str
    project_id: str
    version_id: str
    status: JobStatus
    stage: str
    percent: float
    created: float
    updated: float
    attempts: int = 0
    error: str | None = None
    error_code: str | None = None
    started: float | None = None
    finished: float | None = None
    worker: str | None = None  # who runs it (JobRunner.worker_id), while running
    lease_until: float | None = None  # the worker renews this; past it the job is recovered


@dataclass(frozen=True, slots=True)
class VersionFile:
    """A file of a converted version (manifest or level GLB), pointing at a blob."""

    version_id: str
    path: str
    sha256: str
    size: int
    content_type: str


class Catalog(Protocol):
    """Storage interface for models, versions, jobs and version files."""

    # --- models ---------------------------------------------------------------------------
    def get_or_create_model(self, project_id: str, name: str) -> ModelRecord:
        """The model called ``name`` in the project, created if missing."""
        ...

    def get_model(self, model_id: str) -> ModelRecord:
        """A model by id (:class:`NotFoundError` if unknown)."""
        ...

    def list_models(self, project_id: str) -> list[ModelRecord]:
        """Models of a project, oldest first."""
        ...

    # --- versions -------------------------------------------------------------------------
    def create_version(
        self, model_id: str, *, source_name: str, source_sha256: str, source_bytes: int
    ) -> VersionRecord:
        """A new version numbered one above the model's latest, status ``converting``."""
        ...

    def get_version(self, version_id: str) -> VersionRecord:
        """A version by id."""
        ...

    def list_versions(self, model_id: str) -> list[VersionRecord]:
        """Versions of a model, by number."""
        ...

    def finish_version(
        self,
        version_id: str,
        *,
        manifest_sha256: str,
        files: list[VersionFile],
        elements: dict[str, str],
    ) -> VersionRecord:
        """Mark a version ready with its files and per-element geometry hashes."""
        ...

    def fail_version(self, version_id: str) -> VersionRecord:
        """Mark a version failed."""
        ...

    def get_version_file(self, version_id: str, path: str) -> VersionFile:
        """One file of a version by relative path."""
        ...

    def list_version_files(self, version_id: str) -> list[VersionFile]:
        """All files of a version."""
        ...

    def asset_projects(self, sha256: str) -> set[str]:
        """Ids of the projects that reference a blob (as a version file or an upload)."""
        ...

    # --- jobs -----------------------------------------------------------------------------
    def create_job(self, project_id: str, version_id: str) -> JobRecord:
        """A queued job."""
        ...

    def get_job(self, job_id: str) -> JobRecord:
        """A job by id."""
        ...

    def update_job(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields of a job (``status``, ``stage``, ``percent``, ``error``, ...)."""
        ...

    def list_jobs(
        self,
        *,
        project_id: str | None = None,
        version_id: str | None = None,
        statuses: tuple[str, ...] = JOB_STATUSES,
    ) -> list[JobRecord]:
        """Jobs, oldest first, filtered by project, version and status."""
        ...

    def update_job_if(self, job_id: str, *, when_status: str, when_worker: str | None,
                      **changes: Any) -> JobRecord | None:
        """Compare and set: change a job only while its status and worker are still these;
        None when another process changed it first (a lease renewal, a recovery, a finish)."""
        ...

    def claim_next_job(self, *, worker: str | None = None,
                       lease_s: float | None = None) -> JobRecord | None:
        """Atomically move the next queued job to ``running`` (attempts + 1) and return it,
        held by ``worker`` until ``now + lease_s`` (no lease: whoever starts next recovers it).
        Safe across processes sharing the database (Postgres: ``FOR UPDATE SKIP LOCKED``;
        SQLite: ``BEGIN IMMEDIATE``).

        Fair between projects: the oldest queued job of the projects with the fewest running
        jobs, ties going to the project whose last job started longest ago (never first), so
        one project's burst of uploads cannot hold every worker, and with a single worker the
        projects take turns (round robin)."""
        ...

    def watch_jobs(self, on_change: Callable[[str], None]) -> Callable[[], None] | None:
        """Call ``on_change(job_id)`` (from a thread of its own) whenever any process writes a
        job; returns a function that stops watching, or None when the backend has no such
        feed (memory, SQLite: one process, or polling)."""
        return None

    def close(self) -> None:
        """Release resources (most backends hold nothing)."""
        return None


_JOB_FIELDS = frozenset(
    {"status", "stage", "percent", "error", "error_code", "attempts", "started", "finished",
     "worker", "lease_until"}
)


def check_job_changes(changes: dict[str, Any]) -> None:
    """Reject unknown fields and statuses in :meth:`Catalog.update_job`."""
    unknown = set(changes) - _JOB_FIELDS
    if unknown:
        raise StoreError(f"unknown job fields: {sorted(unknown)}")
    if "status" in changes and changes["status"] not in JOB_STATUSES:
        raise StoreError(f"bad job status {changes['status']!r}")


class MemoryCatalog(Catalog):
    """In-memory catalog for tests and throwaway servers."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._models: dict[str, ModelRecord] = {}
        self._versions: dict[str, VersionRecord] = {}
        self._jobs: dict[str, JobRecord] = {}
        self._files: dict[tuple[str, str], VersionFile] = {}

    def get_or_create_model(self, project_id: str, name: str) -> ModelRecord:
        with self._lock:
            for model in self._models.values():
                if model.project_id == project_id and model.name == name:
                    return model
            model = ModelRecord(new_id("m"), project_id, name, time.time())
            self._models[model.model_id] = model
            return model

    def get_model(self, model_id: str) -> ModelRecord:
        with self._lock:
            if model_id not in self._models:
                raise NotFoundError(f"model {model_id} not found")
            return self._models[model_id]

    def list_models(self, project_id: str) -> list[ModelRecord]:
        with self._lock:
            return [m for m in self._models.values() if m.project_id == project_id]

    def create_version(
        self, model_id: str, *, source_name: str, source_sha256: str, source_bytes: int
    ) -> VersionRecord:
        with self._lock:
            model = self.get_model(model_id)
            number = 1 + max(
                (v.number for v in self._versions.values() if v.model_id == model_id), default=0
            )
            version = VersionRecord(
                new_id("v"), model_id, model.project_id, number, source_name, source_sha256,
                source_bytes, "converting", time.time(),
            )
            self._versions[version.version_id] = version
            return version

    def get_version(self, version_id: str) -> VersionRecord:
        with self._lock:
            if version_id not in self._versions:
                raise NotFoundError(f"version {version_id} not found")
            return self._versions[version_id]

    def list_versions(self, model_id: str) -> list[VersionRecord]:
        with self._lock:
            found = [v for v in self._versions.values() if v.model_id == model_id]
            return sorted(found, key=lambda v: v.number)

    def finish_version(
        self,
        version_id: str,
        *,
        manifest_sha256: str,
        files: list[VersionFile],
        elements: dict[str, str],
    ) -> VersionRecord:
        with self._lock:
            version = replace(
                self.get_version(version_id),
                status="ready",
                manifest_sha256=manifest_sha256,
                elements=dict(elements),
            )
            for f in files:
                self._files[(version_id, f.path)] = replace(f, version_id=version_id)
            self._versions[version_id] = version
            return version

    def fail_version(self, version_id: str) -> VersionRecord:
        with self._lock:
            version = replace(self.get_version(version_id), status="failed")
            self._versions[version_id] = version
            return version

    def get_version_file(self, version_id: str, path: str) -> VersionFile:
        with self._lock:
            try:
                return self._files[(version_id, path)]
            except KeyError:
                raise NotFoundError(f"file {path!r} not found in version {version_id}") from None

    def list_version_files(self, version_id: str) -> list[VersionFile]:
        with self._lock:
            found = [f for (vid, _), f in self._files.items() if vid == version_id]
            return sorted(found, key=lambda f: f.path)

    def asset_projects(self, sha256: str) -> set[str]:
        with self._lock:
            projects = {
                self._versions[f.version_id].project_id
                for f in self._files.values()
                if f.sha256 == sha256
            }
            projects |= {v.project_id for v in self._versions.values() if v.source_sha256 == sha256}
            return projects

    def create_job(self, project_id: str, version_id: str) -> JobRecord:
        with self._lock:
            self.get_version(version_id)
            now = time.time()
            job = JobRecord(new_id("j"), project_id, version_id, "queued", "queued", 0.0, now, now)
            self._jobs[job.job_id] = job
            return job

    def get_job(self, job_id: str) -> JobRecord:
        with self._lock:
            if job_id not in self._jobs:
                raise NotFoundError(f"job {job_id} not found")
            return self._jobs[job_id]

    def update_job(self, job_id: str, **changes: Any) -> JobRecord:
        check_job_changes(changes)
        with self._lock:
            job = replace(self.get_job(job_id), updated=time.time(), **changes)
            self._jobs[job_id] = job
            return job

    def list_jobs(
        self,
        *,
        project_id: str | None = None,
        version_id: str | None = None,
        statuses: tuple[str, ...] = JOB_STATUSES,
    ) -> list[JobRecord]:
        with self._lock:
            return [  # dicts keep insertion order: oldest first
                j
                for j in self._jobs.values()
                if j.status in statuses
                and (project_id is None or j.project_id == project_id)
                and (version_id is None or j.version_id == version_id)
            ]

    def update_job_if(self, job_id: str, *, when_status: str, when_worker: str | None,
                      **changes: Any) -> JobRecord | None:
        check_job_changes(changes)
        with self._lock:
            job = self.get_job(job_id)
            if job.status != when_status or job.worker != when_worker:
                return None
            return self.update_job(job_id, **changes)

    def claim_next_job(self, *, worker: str | None = None,
                       lease_s: float | None = None) -> JobRecord | None:
        with self._lock:
            queued = self.list_jobs(statuses=("queued",))
            if not queued:
                return None
            running: dict[str, int] = {}
            last_start: dict[str, float] = {}
            for j in self._jobs.values():
                if j.status == "running":
                    running[j.project_id] = running.get(j.project_id, 0) + 1
                if j.started is not None:
                    last_start[j.project_id] = max(last_start.get(j.project_id, 0.0), j.started)
            job = min(enumerate(queued), key=lambda iq: (running.get(iq[1].project_id, 0),
                                                         last_start.get(iq[1].project_id, 0.0),
                                                         iq[0]))[1]
            now = time.time()
            return self.update_job(
                job.job_id, status="running", attempts=job.attempts + 1, started=now,
                worker=worker, lease_until=None if lease_s is None else now + lease_s,
            )
