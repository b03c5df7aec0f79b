"""Response schemas of the REST API, and how store records map to them.

Every route declares one of these as its ``response_model`` (the OpenAPI test in
``tests/server/test_openapi.py`` fails on a route without one). Request bodies stay beside
their routes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from vrcollab.server.job_progress import overall_percent
from vrcollab.store.base import RoomRecord
from vrcollab.store.catalog import Catalog, JobRecord, ModelRecord, VersionFile, VersionRecord

#: A project role (the names of :data:`vrcollab.sync.messages.ROLES`, strongest first).
RoleName = Literal["owner", "editor", "reviewer", "viewer"]


# --- models, versions and jobs --------------------------------------------------------------


class JobOut(BaseModel):
    """A conversion job."""

    job_id: str
    project_id: str
    version_id: str
    status: str = Field(description="queued | running | done | failed")
    stage: str
    percent: float = Field(description="percent of the current stage (restarts per stage)")
    overall_percent: float = Field(description="percent of the whole job (for one bar)")
    error: str | None = Field(description="the ingest error message when failed")
    error_code: str | None
    attempts: int
    created: float
    updated: float
    started: float | None
    finished: float | None
    events_url: str = Field(description="server-sent events with every update of this job")


class FileOut(BaseModel):
    """A converted file of a version."""

    path: str
    sha256: str
    size: int
    content_type: str
    url: str


class VersionOut(BaseModel):
    """One uploaded file of a model and its conversion."""

    version_id: str
    model_id: str
    project_id: str
    number: int
    source_name: str
    source_sha256: str
    source_bytes: int
    status: str = Field(description="converting | ready | failed")
    created: float
    manifest_url: str | None = Field(description="set when ready; level files are relative")
    files: list[FileOut]
    job: JobOut | None


class ModelOut(BaseModel):
    """A model of a project with its versions (oldest first)."""

    model_id: str
    project_id: str
    name: str
    created: float
    versions: list[VersionOut]


class UploadOut(BaseModel):
    """The result of an upload: the model, its new version and the queued job."""

    model: ModelOut
    version: VersionOut
    job: JobOut


#: Job failures of ours (not of the uploaded file): the record keeps the detail for the log and
#: the operator; a client reads only the clause before the first ``": "``.
INTERNAL_JOB_ERRORS = frozenset({"crash", "start_failed", "source_missing", "bad_output"})


def public_job_error(code: str | None, error: str | None) -> str | None:
    """A job's error message as a client may read it (no internal exception text)."""
    if error is None or code not in INTERNAL_JOB_ERRORS:
        return error
    return error.split(": ", 1)[0]


def job_out(job: JobRecord) -> JobOut:
    """JSON of a job."""
    return JobOut(
        job_id=job.job_id, project_id=job.project_id, version_id=job.version_id,
        status=job.status, stage=job.stage, percent=round(job.percent, 1),
        overall_percent=overall_percent(job.status, job.stage, job.percent),
        error=public_job_error(job.error_code, job.error),
        error_code=job.error_code, attempts=job.attempts, created=job.created,
        updated=job.updated, started=job.started, finished=job.finished,
        events_url=f"/api/jobs/{job.job_id}/events",
    )


def file_url(version_id: str, path: str) -> str:
    """URL of a version's file (the manifest's level files are relative to it)."""
    return f"/api/versions/{version_id}/files/{path}"


def version_out(catalog: Catalog, version: VersionRecord) -> VersionOut:
    """JSON of a version with its files and latest job."""
    files: list[VersionFile] = catalog.list_version_files(version.version_id)
    jobs = catalog.list_jobs(version_id=version.version_id)
    ready = version.status == "ready"
    return VersionOut(
        version_id=version.version_id, model_id=version.model_id,
        project_id=version.project_id, number=version.number,
        source_name=version.source_name, source_sha256=version.source_sha256,
        source_bytes=version.source_bytes, status=version.status, created=version.created,
        manifest_url=file_url(version.version_id, "manifest.json") if ready else None,
        files=[FileOut(path=f.path, sha256=f.sha256, size=f.size, content_type=f.content_type,
                       url=file_url(version.version_id, f.path)) for f in files],
        job=job_out(jobs[-1]) if jobs else None,
    )


def model_out(catalog: Catalog, model: ModelRecord) -> ModelOut:
    """JSON of a model with its versions."""
    return ModelOut(
        model_id=model.model_id, project_id=model.project_id, name=model.name,
        created=model.created,
        versions=[version_out(catalog, v) for v in catalog.list_versions(model.model_id)],
    )


# --- rooms -----------------------------------------------------------------------------------


def room_json(room: RoomRecord, live: dict[str, Any] | None = None) -> dict[str, Any]:
    """The public JSON of a room."""
    out: dict[str, Any] = {
        "room_id": room.room_id,
        "project_id": room.project_id,
        "name": room.name,
        "model": room.model,
        "created": room.created,
        "ws_path": f"/ws/rooms/{room.room_id}",
    }
    if live is not None:
        out.update(live)
    return out


class AnchorOut(BaseModel):
    """The committed change."""

    annotation_id: str
    anchor_state: str
    seq: int


class RoomOut(BaseModel):
    """A room (as ``/api/rooms/{id}``) and its relative browser link."""

    room_id: str
    project_id: str
    name: str
    model: dict[str, Any] | None
    created: float
    ws_path: str
    link: str = Field(description="web client path; add ?invite=<invite> or ?token=<token>")


class SwitchOut(BaseModel):
    """The switched room and the anchor states that changed."""

    room: RoomOut
    anchors: dict[str, str] = Field(description="annotation id -> ok | changed | missing")
    counts: dict[str, int]


def room_out(room: RoomRecord) -> RoomOut:
    """JSON of a room with its link."""
    return RoomOut(**room_json(room), link=f"/r/{room.room_id}")


# --- BCF -------------------------------------------------------------------------------------


class BcfImportOut(BaseModel):
    """What an import added to the room."""

    imported: list[str] = Field(description="ids of the annotations created")
    skipped: list[dict[str, str]] = Field(description="topics left out, with the reason")
    comments: int
    seq: int | None = Field(description="room seq after the import (None if nothing changed)")
