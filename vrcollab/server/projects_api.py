"""REST for models, versions and uploads; composes the catalog routers and their services.

Registered in :data:`vrcollab.server.app.ROUTER_MODULES` as one module whose ``make_router``
returns the ``/api`` router for uploads, versions, jobs (:mod:`.jobs_api`), converted files
(:mod:`.assets_api`), rooms on versions (:mod:`.versions_api`) and BCF (:mod:`.bcf_api`), with a
lifespan that opens the catalog and asset store and runs the conversion job runner.

Projects, members, tokens and rooms belong to :mod:`vrcollab.server.api`; this module checks
roles with the same :func:`vrcollab.server.auth.require_role` (non-members get 404, so ids of
other projects leak nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field

from vrcollab.assets import AssetStore
from vrcollab.errors import CorruptFileError, LimitExceededError, UnsupportedFormatError
from vrcollab.jobs import JobEvents, JobRunner
from vrcollab.jobs.quotas import ProjectQuotas, QuotaError, check_before_upload, check_storage
from vrcollab.server.api import current_user, get_store
from vrcollab.server.auth import require_role
from vrcollab.server.job_progress import overall_percent
from vrcollab.server.uploads import ReceivedUpload, drain, receive_upload
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import User
from vrcollab.store.catalog import (
    Catalog,
    JobRecord,
    ModelRecord,
    VersionFile,
    VersionRecord,
)
from vrcollab.store.factory import open_catalog

MULTIPART_SLACK = 64 * 1024  # headers and small fields on top of the file itself
DRAIN_AFTER_LIMIT = 8 * 1024 * 1024


@dataclass
class CatalogServices:
    """What the catalog routers share: settings, catalog, blobs, job runner and its events."""

    settings: Settings
    catalog: Catalog
    assets: AssetStore
    events: JobEvents
    runner: JobRunner

    def close(self) -> None:
        """Stop the runner and close the catalog."""
        self.runner.stop()
        self.catalog.close()


def open_services(settings: Settings, *, catalog: Catalog | None = None) -> CatalogServices:
    """Catalog, asset store (``data_dir/assets``) and a job runner (``data_dir/jobs``)."""
    data = Path(settings.data_dir)
    cat = catalog if catalog is not None else open_catalog(settings)
    assets = AssetStore(settings.assets_path)
    assets.purge_temp()
    events = JobEvents()
    runner = JobRunner(
        catalog=cat,
        assets=assets,
        work_dir=data / "jobs",
        timeout_s=settings.job_timeout_s,
        workers=settings.job_workers,
        converter=settings.job_converter,
        options=conversion_options(settings),
        events=events,
        max_attempts=settings.job_max_attempts,
        lease_s=settings.job_lease_s,
    )
    return CatalogServices(settings, cat, assets, events, runner)


def conversion_options(settings: Settings) -> dict[str, Any]:
    """Ingest limits passed to every conversion (plain values: they cross a process boundary)."""
    return {
        "max_input_bytes": settings.max_input_bytes,
        "max_triangles": settings.max_triangles,
        "max_archive_ratio": settings.max_archive_ratio,
        "max_archive_bytes": settings.max_archive_bytes,
    }


def services(request: Request) -> CatalogServices:
    """The app's catalog services (dependency)."""
    svc: CatalogServices = request.app.state.catalog_services
    return svc


ServicesDep = Annotated[CatalogServices, Depends(services)]
UserDep = Annotated[User, Depends(current_user)]
StoreDep = Annotated[Store, Depends(get_store)]


# --- response models ------------------------------------------------------------------------


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


def job_out(job: JobRecord) -> JobOut:
    """JSON of a job."""
    return JobOut(
        job_id=job.job_id, project_id=job.project_id, version_id=job.version_id,
        status=job.status, stage=job.stage, percent=round(job.percent, 1),
        overall_percent=overall_percent(job.status, job.stage, job.percent), error=job.error,
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


# --- uploads --------------------------------------------------------------------------------

router = APIRouter(tags=["models"])
UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "the CAD file"},
            "model": {"type": "string", "description": "model name (optional)"},
        },
    }},
}}}


def check_format(upload: ReceivedUpload) -> None:
    """Synchronous sanity check before a job is queued (422 for files no loader knows)."""
    if upload.size == 0:
        raise CorruptFileError(f"{upload.filename}: the uploaded file is empty")
    from vrcollab.ingest.formats import sniff

    with upload.path.open("rb") as fh:
        head = fh.read(4096)
    if sniff(head, upload.size, PurePath(upload.filename).suffix.lower()) is None:
        raise UnsupportedFormatError(
            f"{upload.filename}: not a supported model format (IFC, STEP, STL, OBJ, PLY, glTF, "
            "3MF, OFF or a zip of them)"
        )


async def _receive(request: Request, svc: CatalogServices) -> ReceivedUpload:
    limit = svc.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        await drain(request.stream(), DRAIN_AFTER_LIMIT)
        raise LimitExceededError(f"upload is larger than the limit of {limit} bytes")
    try:
        return await receive_upload(
            request.stream(), content_type=request.headers.get("content-type", ""),
            assets=svc.assets, max_bytes=limit,
        )
    except LimitExceededError:
        await drain(request.stream(), DRAIN_AFTER_LIMIT)
        raise


def project_quotas(settings: Settings) -> ProjectQuotas:
    """The per-project quotas of the settings."""
    return ProjectQuotas(max_storage_bytes=settings.project_max_storage_bytes,
                         max_active_jobs=settings.project_max_active_jobs)


async def _store_upload(
    request: Request, svc: CatalogServices, project_id: str, model_id: str | None,
    model_name: str | None,
) -> UploadOut:
    quotas = project_quotas(svc.settings)
    declared = request.headers.get("content-length")
    try:  # before the body is read: job slots, and room for what the client declared
        await asyncio.to_thread(
            check_before_upload, svc.catalog, project_id, quotas,
            max(int(declared) - MULTIPART_SLACK, 0) if declared and declared.isdigit() else 0)
    except QuotaError:
        await drain(request.stream(), DRAIN_AFTER_LIMIT)
        raise
    upload = await _receive(request, svc)
    try:
        await asyncio.to_thread(check_storage, svc.catalog, project_id, quotas, upload.size)
        await asyncio.to_thread(check_format, upload)
        name = (model_name or upload.fields.get("model") or PurePath(upload.filename).stem
                or "").strip()[:200] or "model"

        def commit() -> UploadOut:
            info = svc.assets.put_file(upload.path, move=True)
            cat = svc.catalog
            model = (cat.get_model(model_id) if model_id is not None
                     else cat.get_or_create_model(project_id, name))
            version = cat.create_version(model.model_id, source_name=upload.filename,
                                         source_sha256=info.sha256, source_bytes=info.size)
            job = svc.runner.submit(project_id, version.version_id)
            return UploadOut(model=model_out(cat, model), version=version_out(cat, version),
                             job=job_out(job))

        return await asyncio.to_thread(commit)
    finally:
        upload.path.unlink(missing_ok=True)


async def _authorize(request: Request, project_id: str, minimum: str) -> User:
    store: Store = get_store(request)

    def check() -> User:
        user = current_user(request)
        require_role(store, project_id, user, minimum)
        return user

    return await asyncio.to_thread(check)


@router.post("/projects/{project_id}/models", status_code=202, response_model=UploadOut,
             openapi_extra=UPLOAD_BODY)
async def upload_model(
    project_id: str,
    request: Request,
    svc: ServicesDep,
    model: Annotated[str | None, Query(
        max_length=200, description="model name (default: the file name without suffix)"
    )] = None,
) -> UploadOut:
    """Editor: upload a CAD file as ``multipart/form-data`` (part ``file``).

    Uploading to an existing model name creates its next version. The body is streamed to disk
    and hashed; over ``max_upload_bytes`` -> 413; an unknown format -> 422. The conversion runs
    as a background job (202): follow ``job.events_url`` or poll ``/api/jobs/{job_id}``."""
    await _authorize(request, project_id, "editor")
    return await _store_upload(request, svc, project_id, None, model)


@router.post("/models/{model_id}/versions", status_code=202, response_model=UploadOut,
             openapi_extra=UPLOAD_BODY)
async def upload_version(
    model_id: str, request: Request, svc: ServicesDep
) -> UploadOut:
    """Editor: upload a new version of an existing model (same body as a model upload)."""
    user = await asyncio.to_thread(current_user, request)  # the token before the id: no oracle
    model = await asyncio.to_thread(svc.catalog.get_model, model_id)
    await asyncio.to_thread(require_role, get_store(request), model.project_id, user, "editor")
    return await _store_upload(request, svc, model.project_id, model.model_id, None)


@router.get("/projects/{project_id}/models", response_model=list[ModelOut])
def list_models(
    project_id: str,
    user: UserDep,
    store: StoreDep,
    svc: ServicesDep,
) -> list[ModelOut]:
    """Any member: the project's models and their versions."""
    require_role(store, project_id, user, "viewer")
    return [model_out(svc.catalog, m) for m in svc.catalog.list_models(project_id)]


@router.get("/models/{model_id}", response_model=ModelOut)
def get_model(
    model_id: str,
    user: UserDep,
    store: StoreDep,
    svc: ServicesDep,
) -> ModelOut:
    """Any member: one model with its versions."""
    model = svc.catalog.get_model(model_id)
    require_role(store, model.project_id, user, "viewer")
    return model_out(svc.catalog, model)


@router.get("/versions/{version_id}", response_model=VersionOut)
def get_version(
    version_id: str,
    user: UserDep,
    store: StoreDep,
    svc: ServicesDep,
) -> VersionOut:
    """Any member: a version, its files and its conversion job."""
    version = svc.catalog.get_version(version_id)
    require_role(store, version.project_id, user, "viewer")
    return version_out(svc.catalog, version)


def make_router(settings: Settings) -> APIRouter:
    """The ``/api`` router of the catalog, with the lifespan that runs its services."""
    from vrcollab.server import assets_api, bcf_api, jobs_api, snapshots_api, versions_api

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given: CatalogServices | None = getattr(app.state, "catalog_services", None)
        own = given is None
        svc = given if given is not None else await asyncio.to_thread(open_services, settings)
        app.state.catalog_services = svc
        from vrcollab.cluster.job_relay import start_job_relay

        relay = start_job_relay(settings, svc.events)  # progress to clients of any process
        svc.runner.start()
        try:
            yield
        finally:
            if relay is not None:
                await relay.close()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(svc.close if own else svc.runner.stop)

    root = APIRouter(prefix="/api", lifespan=lifespan)
    for sub in (router, jobs_api.router, assets_api.router, versions_api.router, bcf_api.router,
                snapshots_api.router):
        root.include_router(sub)
    return root
