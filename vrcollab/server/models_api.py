"""REST for models, versions and uploads: upload a CAD file, list models, read a version.

Jobs (:mod:`.jobs_api`), converted files (:mod:`.assets_api`), rooms on versions
(:mod:`.versions_api`) and BCF (:mod:`.bcf_api`) have their own routers, all included by
:func:`vrcollab.server.app.create_app`. Roles are checked with
:func:`vrcollab.server.auth.require_role` (non-members get 404, so ids of other projects leak
nothing).
"""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from vrcollab.errors import CorruptFileError, LimitExceededError, UnsupportedFormatError
from vrcollab.jobs.quotas import ProjectQuotas, QuotaError, check_before_upload, check_storage
from vrcollab.model_formats import describe
from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, ServicesDep, StoreDep, authorize, current_user
from vrcollab.server.schemas import ModelOut, UploadOut, VersionOut, job_out, model_out, version_out
from vrcollab.server.services import Services
from vrcollab.server.uploads import ReceivedUpload, drain, receive_upload
from vrcollab.settings import Settings

MULTIPART_SLACK = 64 * 1024  # headers and small fields on top of the file itself
DRAIN_AFTER_LIMIT = 8 * 1024 * 1024


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
            f"{upload.filename}: not a supported model format ({describe()})"
        )


async def _receive(request: Request, svc: Services) -> ReceivedUpload:
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
    request: Request, svc: Services, project_id: str, model_id: str | None,
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
    await authorize(request, project_id, "editor")
    return await _store_upload(request, svc, project_id, None, model)


@router.post("/models/{model_id}/versions", status_code=202, response_model=UploadOut,
             openapi_extra=UPLOAD_BODY)
async def upload_version(
    model_id: str, request: Request, svc: ServicesDep
) -> UploadOut:
    """Editor: upload a new version of an existing model (same body as a model upload)."""
    user = await asyncio.to_thread(current_user, request)  # the token before the id: no oracle
    model = await asyncio.to_thread(svc.catalog.get_model, model_id)
    await asyncio.to_thread(require_role, svc.store, model.project_id, user, "editor")
    return await _store_upload(request, svc, model.project_id, model.model_id, None)


@router.get("/projects/{project_id}/models", response_model=list[ModelOut])
def list_models(
    project_id: str,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> list[ModelOut]:
    """Any member: the project's models and their versions."""
    require_role(store, project_id, user, "viewer")
    return [model_out(svc.catalog, m) for m in svc.catalog.list_models(project_id)]


@router.get("/models/{model_id}", response_model=ModelOut)
def get_model(
    model_id: str,
    user: CurrentUser,
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
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> VersionOut:
    """Any member: a version, its files and its conversion job."""
    version = svc.catalog.get_version(version_id)
    require_role(store, version.project_id, user, "viewer")
    return version_out(svc.catalog, version)
