"""REST endpoints of the auth domain: projects, invites, rooms, me.

Errors are :mod:`vrcollab.errors` exceptions, turned into JSON by the one handler in
:mod:`vrcollab.server.app`. Endpoints are sync functions (FastAPI runs them in its threadpool),
so store calls never block the event loop.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from vrcollab.errors import AuthError
from vrcollab.server.auth import (
    MAX_INVITE_SECONDS,
    accept_invite,
    bearer_from,
    create_invite,
    require_role,
    secret_key,
)
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord, User

router = APIRouter(prefix="/api")

RoleName = Literal["owner", "editor", "reviewer", "viewer"]


def get_store(request: Request) -> Store:
    """The app's store (dependency)."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The app's settings (dependency)."""
    settings: Settings = request.app.state.settings
    return settings


def current_user(request: Request) -> User:
    """The bearer token's user (``Authorization: Bearer`` or ``?token=``); 401 otherwise.

    Other routers (uploads, jobs, BCF) use this as their auth dependency."""
    token = bearer_from(request.headers, request.query_params)
    if not token:
        raise AuthError("missing bearer token")
    return get_store(request).resolve_token(token, time.time())


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


CurrentUser = Annotated[User, Depends(current_user)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class InviteIn(BaseModel):
    role: RoleName = "reviewer"
    expires_in_s: float = Field(default=7 * 24 * 3600, gt=0, le=MAX_INVITE_SECONDS)


class AcceptIn(BaseModel):
    invite: str = Field(min_length=1, max_length=2000)
    name: str = Field(min_length=1, max_length=100)


class RoomIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    model: dict[str, Any] | None = None


@router.get("/me")
def me(user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """The caller and its project roles."""
    return {"user_id": user.user_id, "name": user.name,
            "projects": store.memberships(user.user_id)}


@router.post("/projects", status_code=201)
def create_project(
    body: ProjectIn, user: CurrentUser, store: StoreDep
) -> dict[str, Any]:
    """Create a project; the caller becomes its owner."""
    project = store.create_project(body.name)
    store.set_member(project.project_id, user.user_id, "owner")
    return {"project_id": project.project_id, "name": project.name, "role": "owner"}


@router.post("/projects/{project_id}/invites", status_code=201)
def invite(
    project_id: str,
    body: InviteIn,
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Owner only: a signed, expiring invite granting ``role``."""
    require_role(store, project_id, user, "owner")
    token, inv = create_invite(secret_key(settings), project_id, body.role, body.expires_in_s)
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return {"invite": token, "url": f"{base}/?invite={token}", "role": inv.role,
            "project_id": project_id, "expires_at": inv.expires_at}


@router.post("/invites/accept", status_code=201)
def accept(
    body: AcceptIn, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    """Redeem an invite: returns a bearer token (shown once) and the new user."""
    user, token, inv = accept_invite(store, secret_key(settings), body.invite, body.name,
                                     time.time())
    return {"token": token, "user_id": user.user_id, "name": user.name,
            "project_id": inv.project_id, "role": inv.role}


@router.post("/projects/{project_id}/rooms", status_code=201)
def create_room(
    project_id: str,
    body: RoomIn,
    user: CurrentUser,
    store: StoreDep,
) -> dict[str, Any]:
    """Editor or owner: create a room in the project."""
    require_role(store, project_id, user, "editor")
    return room_json(store.create_room(project_id, body.name, model=body.model))


@router.get("/projects/{project_id}/rooms")
def list_rooms(
    project_id: str, user: CurrentUser, store: StoreDep
) -> list[dict[str, Any]]:
    """Any member: the project's rooms."""
    require_role(store, project_id, user, "viewer")
    return [room_json(r) for r in store.list_rooms(project_id)]


@router.get("/rooms/{room_id}")
def get_room(
    room_id: str,
    request: Request,
    user: CurrentUser,
    store: StoreDep,
) -> dict[str, Any]:
    """Any member: the room, its model, the caller's role and live counts."""
    room = store.get_room(room_id)
    role = require_role(store, room.project_id, user, "viewer")
    worker = request.app.state.hub.workers.get(room_id)
    live = {"role": role, "seq": None, "sessions": 0}
    if worker is not None:
        live.update(seq=worker.room.seq, sessions=len(worker.conns))
    return room_json(room, live)
