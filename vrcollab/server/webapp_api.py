"""REST the web app needs beyond the core: compare two versions of a model (elements added,
changed, removed), the project-wide issues list across rooms, and cancelling a conversion.

``GET /api/versions/{a}/compare/{b}`` (any member). Elements are matched by their key (IFC
GlobalId or part node) and compared by geometry hash; :func:`element_hashes` is the one place
that reads them, so a new manifest layout (the tiled v2 element table) only changes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from vrcollab.errors import RequestError, StoreError
from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, ServicesDep, StoreDep, current_user, get_store
from vrcollab.server.room_ops import room_state
from vrcollab.server.schemas import CancelOut, CompareOut, IssueOut
from vrcollab.store.catalog import Catalog, VersionRecord

router = APIRouter(prefix="/api", tags=["models"])
SAMPLE = 50


def element_hashes(catalog: Catalog, version: VersionRecord) -> dict[str, str]:
    """Element key -> geometry hash of a ready version (what the conversion recorded)."""
    del catalog  # v1: the catalog row holds them; a v2 tileset reader would load its table
    return dict(version.elements)


def compare(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """Counts and a sample of keys: added, changed (same key, other hash), removed."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    return {"added": len(added), "changed": len(changed), "removed": len(removed),
            "unchanged": len(set(old) & set(new)) - len(changed),
            "sample": {"added": added[:SAMPLE], "changed": changed[:SAMPLE],
                       "removed": removed[:SAMPLE]}}


@router.get("/versions/{a}/compare/{b}", response_model=CompareOut)
def compare_versions(a: str, b: str, user: CurrentUser, store: StoreDep,
                     svc: ServicesDep) -> dict[str, Any]:
    """Any member: what changed from version ``a`` to version ``b`` of the same model."""
    va, vb = svc.catalog.get_version(a), svc.catalog.get_version(b)
    require_role(store, va.project_id, user, "viewer")
    require_role(store, vb.project_id, user, "viewer")
    if va.model_id != vb.model_id:
        raise RequestError("compare versions of the same model")
    if va.status != "ready" or vb.status != "ready":
        raise RequestError("both versions must be converted (ready)")
    out = compare(element_hashes(svc.catalog, va), element_hashes(svc.catalog, vb))
    out["from"] = {"version_id": va.version_id, "number": va.number}
    out["to"] = {"version_id": vb.version_id, "number": vb.number}
    return out


@router.get("/projects/{project_id}/issues", response_model=list[IssueOut])
async def project_issues(project_id: str, request: Request, status: str | None = None,
                         assignee: str | None = None,
                         label: str | None = None) -> list[dict[str, Any]]:
    """Any member: the annotations (issues) of every room of the project, newest first,
    filtered by ``status``, ``assignee`` (a user id) and ``label``; each names its room."""
    store = get_store(request)

    def rooms() -> tuple[list[Any], dict[str, str]]:
        require_role(store, project_id, current_user(request), "viewer")  # token first
        names = {u.user_id: u.name for u, _ in store.list_members(project_id)}
        return store.list_rooms(project_id), names

    found, names = await asyncio.to_thread(rooms)
    out: list[dict[str, Any]] = []
    for room in found:
        state = await room_state(request.app, room.room_id)
        for ann in state.annotations.values():
            if status and ann.get("status") != status:
                continue
            if assignee and ann.get("assignee") != assignee:
                continue
            if label and label not in (ann.get("labels") or []):
                continue
            out.append({"id": ann["id"], "title": ann.get("title", ""),
                        "status": ann.get("status"), "assignee": ann.get("assignee"),
                        "assignee_name": names.get(ann.get("assignee") or ""),
                        "labels": list(ann.get("labels") or []), "author": ann.get("author"),
                        "author_name": names.get(ann.get("author") or ""),
                        "updated": ann.get("updated"), "room_id": room.room_id,
                        "room_name": room.name,
                        "link": f"/r/{room.room_id}#annotation={ann['id']}"})
    return sorted(out, key=lambda a: -(a["updated"] or 0))


@router.post("/jobs/{job_id}/cancel", status_code=202, response_model=CancelOut)
async def cancel_job(job_id: str, request: Request, svc: ServicesDep) -> dict[str, Any]:
    """Editor: stop a queued or running conversion; the job fails with ``cancelled`` (its
    events say so). A finished job is left as it is (409)."""
    store = get_store(request)

    def check() -> str:
        user = current_user(request)  # the token before the id (no existence oracle)
        job = svc.catalog.get_job(job_id)
        require_role(store, job.project_id, user, "editor")
        if job.status in ("done", "failed"):
            raise StoreError(f"job {job_id} is already {job.status}", code="conflict")
        return job.status

    status = await asyncio.to_thread(check)
    svc.runner.cancel(job_id)
    return {"job_id": job_id, "cancelling": True, "status": status}
