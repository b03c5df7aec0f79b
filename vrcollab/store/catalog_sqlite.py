"""SQLite implementation of the model catalog (:class:`vrcollab.store.catalog.Catalog`).

One connection shared by the server's threads behind a lock; WAL journal so readers do not wait
for the job runner's writes; ``synchronous`` follows ``Settings.sqlite_synchronous`` like the
room store (its own connection to the same file). The tables carry a ``catalog_`` prefix so
they can live in the same database file as the rest of the store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vrcollab.errors import NotFoundError, StoreError
from vrcollab.store.base import new_id
from vrcollab.store.catalog import (
    JOB_STATUSES,
    Catalog,
    JobRecord,
    ModelRecord,
    VersionFile,
    VersionRecord,
    check_job_changes,
)
from vrcollab.store.sqlite_db import connect

_JOB_COLUMNS = (
    "job_id, project_id, version_id, status, stage, percent, created, updated, attempts, "
    "error, error_code, started, finished, worker, lease_until"
)
#: The claim order (protocol of :meth:`Catalog.claim_next_job`): fewest running jobs in the
#: project, then the project whose last job started longest ago, then the oldest job.
CLAIM_ORDER = (
    "ORDER BY (SELECT COUNT(*) FROM catalog_jobs r WHERE r.status = 'running' "
    "AND r.project_id = q.project_id), "
    "COALESCE((SELECT MAX(s.started) FROM catalog_jobs s "
    "WHERE s.project_id = q.project_id), 0), q.seq"
)
_VERSION_COLUMNS = (
    "version_id, model_id, project_id, number, source_name, source_sha256, source_bytes, "
    "status, created, manifest_sha256, elements"
)


def _version(row: Any) -> VersionRecord:
    values = list(row)
    values[-1] = json.loads(values[-1] or "{}")
    return VersionRecord(*values)


class SqliteCatalog(Catalog):
    """Catalog tables in a SQLite file (or ``:memory:``), opened with
    :func:`vrcollab.store.sqlite_db.connect` like the rest of the store."""

    def __init__(self, path: Path | str, *, synchronous: str = "NORMAL") -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._db: Any = connect(path, synchronous=synchronous)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A write transaction (``BEGIN IMMEDIATE``: one writer across processes); nested
        calls join the outer one."""
        with self._lock:
            outer = self._depth == 0
            try:
                if outer:
                    self._db.execute("BEGIN IMMEDIATE")
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                if outer:
                    self._db.execute("COMMIT")
            except BaseException as exc:
                if outer and self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"catalog database error: {exc}") from exc
                raise

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """The connection for reads (no write lock; inside a ``_tx`` it reads that)."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"catalog database error: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- models ---------------------------------------------------------------------------
    def get_or_create_model(self, project_id: str, name: str) -> ModelRecord:
        with self._tx() as db:
            row = db.execute(
                "SELECT model_id, project_id, name, created FROM catalog_models "
                "WHERE project_id = ? AND name = ?",
                (project_id, name),
            ).fetchone()
            if row:
                return ModelRecord(*row)
            model = ModelRecord(new_id("m"), project_id, name, time.time())
            db.execute(
                "INSERT INTO catalog_models (model_id, project_id, name, created) "
                "VALUES (?, ?, ?, ?)",
                (model.model_id, model.project_id, model.name, model.created),
            )
            return model

    def get_model(self, model_id: str) -> ModelRecord:
        with self._read() as db:
            row = db.execute(
                "SELECT model_id, project_id, name, created FROM catalog_models WHERE model_id = ?",
                (model_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"model {model_id} not found")
        return ModelRecord(*row)

    def list_models(self, project_id: str) -> list[ModelRecord]:
        with self._read() as db:
            rows = db.execute(
                "SELECT model_id, project_id, name, created FROM catalog_models "
                "WHERE project_id = ? ORDER BY created, model_id",
                (project_id,),
            ).fetchall()
        return [ModelRecord(*r) for r in rows]

    # --- versions -------------------------------------------------------------------------
    def create_version(
        self, model_id: str, *, source_name: str, source_sha256: str, source_bytes: int
    ) -> VersionRecord:
        with self._tx() as db:
            model = self.get_model(model_id)
            (latest,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) FROM catalog_versions WHERE model_id = ?",
                (model_id,),
            ).fetchone()
            version = VersionRecord(
                new_id("v"), model_id, model.project_id, int(latest) + 1, source_name,
                source_sha256, source_bytes, "converting", time.time(),
            )
            db.execute(
                f"INSERT INTO catalog_versions ({_VERSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version.version_id, version.model_id, version.project_id, version.number,
                    version.source_name, version.source_sha256, version.source_bytes,
                    version.status, version.created, None, "{}",
                ),
            )
            return version

    def get_version(self, version_id: str) -> VersionRecord:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_VERSION_COLUMNS} FROM catalog_versions WHERE version_id = ?",
                (version_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"version {version_id} not found")
        return _version(row)

    def list_versions(self, model_id: str) -> list[VersionRecord]:
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_VERSION_COLUMNS} FROM catalog_versions WHERE model_id = ? "
                "ORDER BY number",
                (model_id,),
            ).fetchall()
        return [_version(r) for r in rows]

    def finish_version(
        self,
        version_id: str,
        *,
        manifest_sha256: str,
        files: list[VersionFile],
        elements: dict[str, str],
    ) -> VersionRecord:
        with self._tx() as db:
            self.get_version(version_id)
            now = time.time()
            for f in files:
                db.execute(
                    "INSERT INTO catalog_assets (sha256, size, created) VALUES (?, ?, ?) "
                    "ON CONFLICT (sha256) DO NOTHING", (f.sha256, f.size, now)
                )
                db.execute(
                    "INSERT INTO catalog_version_files (version_id, path, sha256, size, "
                    "content_type) VALUES (?, ?, ?, ?, ?) ON CONFLICT (version_id, path) "
                    "DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
                    "content_type = excluded.content_type",
                    (version_id, f.path, f.sha256, f.size, f.content_type),
                )
            db.execute(
                "UPDATE catalog_versions SET status = 'ready', manifest_sha256 = ?, elements = ? "
                "WHERE version_id = ?",
                (manifest_sha256, json.dumps(elements, sort_keys=True), version_id),
            )
            return self.get_version(version_id)

    def fail_version(self, version_id: str) -> VersionRecord:
        with self._tx() as db:
            self.get_version(version_id)
            db.execute(
                "UPDATE catalog_versions SET status = 'failed' WHERE version_id = ?", (version_id,)
            )
            return self.get_version(version_id)

    def get_version_file(self, version_id: str, path: str) -> VersionFile:
        with self._read() as db:
            row = db.execute(
                "SELECT version_id, path, sha256, size, content_type FROM catalog_version_files "
                "WHERE version_id = ? AND path = ?",
                (version_id, path),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"file {path!r} not found in version {version_id}")
        return VersionFile(*row)

    def list_version_files(self, version_id: str) -> list[VersionFile]:
        with self._read() as db:
            rows = db.execute(
                "SELECT version_id, path, sha256, size, content_type FROM catalog_version_files "
                "WHERE version_id = ? ORDER BY path",
                (version_id,),
            ).fetchall()
        return [VersionFile(*r) for r in rows]

    def asset_projects(self, sha256: str) -> set[str]:
        with self._read() as db:
            rows = db.execute(
                "SELECT v.project_id FROM catalog_version_files f "
                "JOIN catalog_versions v ON v.version_id = f.version_id WHERE f.sha256 = ? "
                "UNION SELECT project_id FROM catalog_versions WHERE source_sha256 = ?",
                (sha256, sha256),
            ).fetchall()
        return {r[0] for r in rows}

    # --- jobs -----------------------------------------------------------------------------
    def create_job(self, project_id: str, version_id: str) -> JobRecord:
        with self._tx() as db:
            self.get_version(version_id)
            now = time.time()
            job = JobRecord(new_id("j"), project_id, version_id, "queued", "queued", 0.0, now, now)
            db.execute(
                f"INSERT INTO catalog_jobs ({_JOB_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.job_id, job.project_id, job.version_id, job.status, job.stage,
                    job.percent, job.created, job.updated, job.attempts, None, None, None, None,
                    None, None,
                ),
            )
            return job

    def get_job(self, job_id: str) -> JobRecord:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_JOB_COLUMNS} FROM catalog_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        return JobRecord(*row)

    def update_job(self, job_id: str, **changes: Any) -> JobRecord:
        check_job_changes(changes)
        changes["updated"] = time.time()
        assignments = ", ".join(f"{key} = ?" for key in changes)  # keys checked above
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE catalog_jobs SET {assignments} WHERE job_id = ?",
                (*changes.values(), job_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"job {job_id} not found")
            return self.get_job(job_id)

    def list_jobs(
        self,
        *,
        project_id: str | None = None,
        version_id: str | None = None,
        statuses: tuple[str, ...] = JOB_STATUSES,
    ) -> list[JobRecord]:
        marks = ", ".join("?" for _ in statuses) or "NULL"
        sql = f"SELECT {_JOB_COLUMNS} FROM catalog_jobs WHERE status IN ({marks})"
        params: list[Any] = list(statuses)
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        if version_id is not None:
            sql += " AND version_id = ?"
            params.append(version_id)
        with self._read() as db:
            rows = db.execute(sql + " ORDER BY seq", params).fetchall()
        return [JobRecord(*r) for r in rows]

    def update_job_if(self, job_id: str, *, when_status: str, when_worker: str | None,
                      **changes: Any) -> JobRecord | None:
        check_job_changes(changes)
        changes["updated"] = time.time()
        assignments = ", ".join(f"{key} = ?" for key in changes)  # keys checked above
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE catalog_jobs SET {assignments} WHERE job_id = ? AND status = ? "
                "AND COALESCE(worker, '') = ?",
                (*changes.values(), job_id, when_status, when_worker or ""),
            )
            if cur.rowcount == 0:
                self.get_job(job_id)  # NotFoundError for an unknown id
                return None
            return self.get_job(job_id)

    def claim_next_job(self, *, worker: str | None = None,
                       lease_s: float | None = None) -> JobRecord | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT q.job_id, q.attempts FROM catalog_jobs q WHERE q.status = 'queued' "
                f"{CLAIM_ORDER} LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            now = time.time()
            return self.update_job(
                row[0], status="running", attempts=int(row[1]) + 1, started=now, worker=worker,
                lease_until=None if lease_s is None else now + lease_s,
            )
