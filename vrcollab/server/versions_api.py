"""Rooms on model versions: open a room on a version, switch a room to another version.

A room's ``model`` (sent in the websocket ``welcome``) is
``{"model_id", "name", "version_id", "version", "manifest_url"}``; level files resolve relative to
``manifest_url``. Switching re-anchors the room's annotations (:mod:`.anchors`): each anchored
annotation gets ``anchor_state`` ``ok``/``changed``/``missing`` through an ``annotation.update``
op committed by the server, so every client sees it and it is in the room's history.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from vrcollab.errors import NotFoundError
from vrcollab.review.anchors import reanchor
from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, ServicesDep, get_store
from vrcollab.server.room_models import room_model
from vrcollab.server.room_ops import SERVER_AUTHOR, commit_server_ops, room_state, server_op
from vrcollab.server.schemas import AnchorOut, RoomOut, SwitchOut, room_out
from vrcollab.store import Store
from vrcollab.store.base import User

router = APIRouter(tags=["rooms"])


class RoomOnVersionIn(BaseModel):
    """A new room on a version."""

    name: str = Field(min_length=1, max_length=200)


class SwitchIn(BaseModel):
    """The version a room moves to."""

    version_id: str = Field(min_length=1, max_length=100)


class AnchorIn(BaseModel):
    """A reviewer's verdict on an annotation's anchor (``ok`` acknowledges a change)."""

    anchor_state: Literal["ok", "changed", "missing"]


async def _user_role(request: Request, project_id: str, minimum: str, user: User) -> None:
    """``user`` (already authenticated by the ``CurrentUser`` dependency, before any id is looked
    up) has at least ``minimum`` in the project; 404 for non-members, like a missing id."""
    store: Store = get_store(request)
    await asyncio.to_thread(require_role, store, project_id, user, minimum)


@router.post("/versions/{version_id}/rooms", status_code=201, response_model=RoomOut)
async def create_room_on_version(
    version_id: str,
    body: RoomOnVersionIn,
    request: Request,
    svc: ServicesDep,
    user: CurrentUser,
) -> RoomOut:
    """Editor: a new room of the version's project, opened on this (ready) version."""
    version = await asyncio.to_thread(svc.catalog.get_version, version_id)
    await _user_role(request, version.project_id, "editor", user)
    model = await asyncio.to_thread(room_model, svc, version)
    store: Store = get_store(request)
    room = await asyncio.to_thread(store.create_room, version.project_id, body.name, model=model)
    return room_out(room)


@router.put("/rooms/{room_id}/model", response_model=SwitchOut)
async def switch_version(
    room_id: str,
    body: Annotated[SwitchIn, Body()],
    request: Request,
    svc: ServicesDep,
    user: CurrentUser,
) -> SwitchOut:
    """Editor: move a room to another ready version of a model of its project; re-anchors its
    annotations (``anchor_state`` on each anchored annotation)."""
    store: Store = get_store(request)
    record = await asyncio.to_thread(store.get_room, room_id)
    await _user_role(request, record.project_id, "editor", user)
    version = await asyncio.to_thread(svc.catalog.get_version, body.version_id)
    if version.project_id != record.project_id:  # same answer as a missing id: no oracle
        raise NotFoundError(f"no version {body.version_id[:64]} in this room's project")
    model = await asyncio.to_thread(room_model, svc, version)
    old_elements: dict[str, str] = {}
    old_id = (record.model or {}).get("version_id")
    if old_id:
        old_elements = (await asyncio.to_thread(svc.catalog.get_version, str(old_id))).elements
    state = await room_state(request.app, room_id)
    changes = reanchor(state.annotations, old_elements, version.elements)
    await commit_server_ops(request.app, room_id, [
        (SERVER_AUTHOR, server_op("annotation.update",
                                  {"id": ann_id, "props": {"anchor_state": anchor}}))
        for ann_id, anchor in sorted(changes.items())
    ], model=model)
    state = await room_state(request.app, room_id)
    counts: dict[str, int] = {"ok": 0, "changed": 0, "missing": 0}
    for ann in state.annotations.values():
        if ann.get("anchor_state") in counts:
            counts[ann["anchor_state"]] += 1
    room = await asyncio.to_thread(store.get_room, room_id)
    return SwitchOut(room=room_out(room), anchors=dict(changes), counts=counts)


@router.put("/rooms/{room_id}/annotations/{annotation_id}/anchor", response_model=AnchorOut)
async def set_anchor(
    room_id: str, annotation_id: str, body: Annotated[AnchorIn, Body()], request: Request,
    user: CurrentUser,
) -> AnchorOut:
    """Reviewer: set an annotation's ``anchor_state`` by hand, e.g. back to ``ok`` once the
    change to its element has been looked at (committed as an op authored by the caller)."""
    store: Store = get_store(request)

    def check() -> str:
        require_role(store, store.get_room(room_id).project_id, user, "reviewer")
        return user.user_id

    author = await asyncio.to_thread(check)
    state = await room_state(request.app, room_id)
    if annotation_id not in state.annotations:
        raise NotFoundError(f"no annotation {annotation_id} in room {room_id}")
    [commit] = await commit_server_ops(request.app, room_id, [
        (author, server_op("annotation.update",
                           {"id": annotation_id, "props": {"anchor_state": body.anchor_state}}))
    ])
    return AnchorOut(annotation_id=annotation_id, anchor_state=body.anchor_state, seq=commit.seq)
