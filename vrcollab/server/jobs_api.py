"""REST and server-sent events for conversion jobs.

``GET /api/jobs/{job_id}/events`` streams ``text/event-stream``: one ``job`` event with the
current state at once, then one per update (stage, percent, status), ending after ``done`` or
``failed``. A comment line every 15 s keeps proxies from closing an idle stream. Jobs of projects
the caller is not a member of answer 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, ServicesDep, StoreDep, current_user, get_store
from vrcollab.server.schemas import JobOut, job_out
from vrcollab.server.services import Services
from vrcollab.store import Store
from vrcollab.store.base import User
from vrcollab.store.catalog import JobRecord

router = APIRouter(tags=["jobs"])
KEEPALIVE_S = 15.0
TERMINAL = ("done", "failed")


def _visible_job(job_id: str, user: User, store: Store, svc: Services) -> JobRecord:
    job = svc.catalog.get_job(job_id)
    require_role(store, job.project_id, user, "viewer")
    return job


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(
    job_id: str,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> JobOut:
    """Any member of the job's project: status, stage, percent and the error if it failed."""
    return job_out(_visible_job(job_id, user, store, svc))


@router.get("/projects/{project_id}/jobs", response_model=list[JobOut])
def list_jobs(
    project_id: str,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> list[JobOut]:
    """Any member: the project's jobs, oldest first."""
    require_role(store, project_id, user, "viewer")
    return [job_out(j) for j in svc.catalog.list_jobs(project_id=project_id)]


def sse(job: JobRecord) -> bytes:
    """One server-sent event carrying a job."""
    return f"event: job\ndata: {json.dumps(job_out(job).model_dump())}\n\n".encode()


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`event: job` with a JobOut as `data`, until done/failed"}},
)
async def job_events(
    job_id: str, request: Request, svc: ServicesDep
) -> StreamingResponse:
    """Any member: live updates of a job as server-sent events (``?token=`` for EventSource)."""
    store: Store = get_store(request)

    def check() -> JobRecord:
        return _visible_job(job_id, current_user(request), store, svc)

    await asyncio.to_thread(check)

    async def stream() -> AsyncIterator[bytes]:
        with svc.events.subscribe(job_id) as queue:
            job = await asyncio.to_thread(svc.catalog.get_job, job_id)
            yield sse(job)
            while job.status not in TERMINAL:
                if await request.is_disconnected():
                    return
                try:
                    update = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    with contextlib.suppress(Exception):  # missed nothing, but re-read anyway
                        update = await asyncio.to_thread(svc.catalog.get_job, job_id)
                        if update.updated != job.updated:
                            job = update
                            yield sse(job)
                    continue
                if update.updated >= job.updated:
                    job = update
                    yield sse(job)

    return StreamingResponse(
        stream(), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
