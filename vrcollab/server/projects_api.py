"""REST for projects: the caller (``/api/me``), projects, invites and rooms.

Members, tokens and accounts are in :mod:`.people_api`; models and uploads in :mod:`.models_api`.

Errors are :mod:`vrcollab.errors` exceptions, turned into JSON by the one handler in
:mod:`vrcollab.server.app`. Endpoints are sync functions (FastAPI runs them in its threadpool),
so store calls never block the event loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from vrcollab.errors import NotFoundError, PermissionDeniedError
from vrcollab.server.auth import (
    DEFAULT_INVITE_SECONDS,
    MAX_INVITE_SECONDS,
    MAX_INVITE_USES,
    accept_invite,
    can_create_projects,
    issue_invite,
    require_role,
    secret_key,
)
from vrcollab.server.deps import (
    CurrentUser,
    HubDep,
    ServicesDep,
    SettingsDep,
    StoreDep,
    get_hub,
    guarded,
)
from vrcollab.server.project_settings import (
    ProjectSettingsIn,
    ProjectSettingsOut,
    apply,
    effective,
    out_json,
)
from vrcollab.server.room_models import room_model
from vrcollab.server.schemas import (
    AcceptOut,
    InviteCreatedOut,
    MeOut,
    ProjectOut,
    ProjectRoleOut,
    RoleName,
    RoomInfoOut,
    RoomLiveOut,
    room_json,
)
from vrcollab.server.services import Services
from vrcollab.settings import Settings

router = APIRouter(prefix="/api", tags=["projects"])


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class InviteIn(BaseModel):
    role: RoleName = "reviewer"
    expires_in_s: float = Field(default=DEFAULT_INVITE_SECONDS, gt=0, le=MAX_INVITE_SECONDS)
    max_uses: int | None = Field(default=1, ge=1, le=MAX_INVITE_USES,
                                 description="uses before it stops working; null: unlimited")
    label: str = Field(default="", max_length=100, description="a note (who it is for)")


class AcceptIn(BaseModel):
    invite: str = Field(min_length=1, max_length=2000)
    name: str = Field(min_length=1, max_length=100)


class RoomModelIn(BaseModel):
    """The version a new room opens on; the server builds the room's ``model`` from it."""

    model_config = ConfigDict(extra="forbid")
    version_id: str = Field(min_length=1, max_length=100)


class RoomIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    model: RoomModelIn | None = Field(
        default=None, description="a ready version of this project (no other fields: the "
        "server fills in model id, name, number and manifest URL)")


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """The caller and its project roles."""
    return {"user_id": user.user_id, "name": user.name,
            "projects": store.memberships(user.user_id)}


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(user: CurrentUser, store: StoreDep) -> list[dict[str, Any]]:
    """The caller's projects with its role in each, oldest first."""
    out = []
    for project_id, role in store.memberships(user.user_id).items():
        p = store.get_project(project_id)
        out.append({"project_id": p.project_id, "name": p.name, "role": role,
                    "created": p.created})
    return sorted(out, key=lambda p: p["created"])


@router.post("/projects", status_code=201, response_model=ProjectRoleOut)
def create_project(
    body: ProjectIn, user: CurrentUser, store: StoreDep
) -> dict[str, Any]:
    """Accounts with the ``create_projects`` permission (the first owner, accounts an admin
    granted, owners made with ``vrcollab project create``): the caller becomes its owner.
    Anyone else gets 403 ``no_create_permission``."""
    if not can_create_projects(store, user):
        raise PermissionDeniedError("your account may not create projects; ask an admin",
                                    code="no_create_permission")
    project = store.create_project(body.name)
    store.set_member(project.project_id, user.user_id, "owner")
    store.audit(project.project_id, user.user_id, "project.created", target_id=user.user_id,
                detail={"name": project.name})
    return {"project_id": project.project_id, "name": project.name, "role": "owner"}


@router.patch("/projects/{project_id}", response_model=ProjectRoleOut)
def rename_project(project_id: str, body: ProjectIn, user: CurrentUser,
                   store: StoreDep) -> dict[str, Any]:
    """Owner: rename the project."""
    role = require_role(store, project_id, user, "owner")
    store.rename_project(project_id, body.name)
    store.audit(project_id, user.user_id, "project.renamed", detail={"name": body.name})
    return {"project_id": project_id, "name": body.name, "role": role}


@router.get("/projects/{project_id}/settings", response_model=ProjectSettingsOut)
def get_project_settings(project_id: str, user: CurrentUser, store: StoreDep,
                         settings: SettingsDep) -> dict[str, Any]:
    """Any member: the project's settings in effect (``set`` names those the project chose;
    the others are the server's defaults)."""
    require_role(store, project_id, user, "viewer")
    return out_json(store.get_project_settings(project_id), settings)


@router.patch("/projects/{project_id}/settings", response_model=ProjectSettingsOut)
async def change_project_settings(project_id: str, body: ProjectSettingsIn, request: Request,
                                  user: CurrentUser, store: StoreDep,
                                  settings: SettingsDep) -> dict[str, Any]:
    """Owner: change project settings (a field left out stays; ``null`` returns it to the
    server default). Live rooms of the project apply the change at once (voice: docs/voice.md
    R27). Others get 403; an unknown field 422."""

    def change() -> dict[str, Any]:
        require_role(store, project_id, user, "owner")
        new = apply(store.get_project_settings(project_id), body)
        store.set_project_settings(project_id, new)
        store.audit(project_id, user.user_id, "project.settings", detail=new)
        return new

    new = await asyncio.to_thread(change)
    await get_hub(request).project_settings_changed(project_id, effective(new, settings))
    return out_json(new, settings)


def base_url(request: Request, settings: Settings) -> str:
    """The public base URL for links (``public_url`` or the request's own)."""
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


@router.post("/projects/{project_id}/invites", status_code=201,
             response_model=InviteCreatedOut)
def invite(
    project_id: str,
    body: InviteIn,
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Owner only: an invite granting ``role``, single-use unless ``max_uses`` says more,
    until ``expires_in_s``. ``url`` opens it in a browser (the server swaps it for a session
    and drops it from the address bar); ``code`` is the short code to type on a headset at
    ``/join`` (``code_url`` opens it directly: what the QR code shows); ``invite`` is the
    token API clients post to ``/api/invites/accept``."""
    require_role(store, project_id, user, "owner")
    token, code, inv = issue_invite(
        store, secret_key(settings), project_id, body.role, created_by=user.user_id,
        expires_in_s=body.expires_in_s, max_uses=body.max_uses, label=body.label)
    base = base_url(request, settings)
    return {"invite": token, "url": f"{base}/join?invite={token}", "code": code,
            "join_url": f"{base}/join", "code_url": f"{base}/join?code={code}",
            "invite_id": inv.invite_id, "role": inv.role,
            "project_id": project_id, "expires_at": inv.expires_at, "max_uses": inv.max_uses,
            "uses": inv.uses}


@router.post("/invites/accept", status_code=201, response_model=AcceptOut)
def accept(
    body: AcceptIn, request: Request, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    """Redeem an invite (one use): returns a bearer token (shown once) and the new user.
    Rate-limited per address (429)."""
    with guarded(request, "invite"):
        user, token, inv = accept_invite(store, secret_key(settings), body.invite, body.name,
                                         time.time())
    return {"token": token, "user_id": user.user_id, "name": user.name,
            "project_id": inv.project_id, "role": inv.role}


@router.post("/projects/{project_id}/rooms", status_code=201, response_model=RoomInfoOut)
def create_room(
    project_id: str,
    body: RoomIn,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> dict[str, Any]:
    """Editor or owner: create a room in the project, optionally on one of its ready versions
    (another project's version answers 404 like a missing one)."""
    require_role(store, project_id, user, "editor")
    model = None
    if body.model is not None:
        model = _version_model(svc, project_id, body.model.version_id)
    return room_json(store.create_room(project_id, body.name, model=model))


def _version_model(svc: Services, project_id: str, version_id: str) -> dict[str, Any]:
    """The server-made ``model`` of a ready version of ``project_id`` (issue 8: a room never
    points at another project's files or an off-origin URL)."""
    version = svc.catalog.get_version(version_id)
    if version.project_id != project_id:
        raise NotFoundError(f"no version {version_id[:64]} in this project")
    return room_model(svc, version)


@router.get("/projects/{project_id}/rooms", response_model=list[RoomInfoOut])
def list_rooms(
    project_id: str, user: CurrentUser, store: StoreDep
) -> list[dict[str, Any]]:
    """Any member: the project's rooms."""
    require_role(store, project_id, user, "viewer")
    return [room_json(r) for r in store.list_rooms(project_id)]


@router.get("/rooms/{room_id}", response_model=RoomLiveOut)
def get_room(
    room_id: str,
    user: CurrentUser,
    store: StoreDep,
    hub: HubDep,
) -> dict[str, Any]:
    """Any member: the room, its model, the caller's role and live counts."""
    room = store.get_room(room_id)
    role = require_role(store, room.project_id, user, "viewer")
    worker = hub.workers.get(room_id)
    live = {"role": role, "seq": None, "sessions": 0}
    if worker is not None:
        live.update(seq=worker.room.seq, sessions=len(worker.conns))
    return room_json(room, live)
