"""Annotation snapshots: a PNG (or JPEG) of the viewer, stored content-addressed, referenced by
the annotation and carried by BCF exports as each topic's viewpoint ``snapshot``.

``PUT /api/rooms/{room_id}/annotations/{annotation_id}/snapshot`` (reviewer; body: the image,
at most :data:`MAX_SNAPSHOT_BYTES`, PNG or JPEG by its magic bytes) stores the blob and commits
a server ``annotation.update`` with ``props.snapshot`` ``{"sha256", "media_type", "bytes"}``
(protocol R16), so every session sees it; a second ``PUT`` retakes it.
``GET`` of the same path (viewer) returns the image. The blob is only ever served through this
route, to members of the room's project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from vrcollab.assets.store import AssetStore
from vrcollab.errors import LimitExceededError, NotFoundError, UnsupportedFormatError
from vrcollab.server.auth import require_role
from vrcollab.server.deps import ServicesDep, current_user, get_store
from vrcollab.server.room_ops import commit_server_ops, room_state, server_op
from vrcollab.server.schemas import SnapshotOut
from vrcollab.server.uploads import drain
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord, User
from vrcollab.sync.messages import Commit

router = APIRouter(tags=["snapshots"])

#: Largest snapshot accepted (a 1920x1080 viewer PNG is typically 0.3-2 MB).
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024

_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def image_type(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` by magic bytes, else None."""
    for magic, media in _MAGIC.items():
        if data.startswith(magic):
            return media
    return None


def snapshot_bytes(assets: AssetStore, annotation: Mapping[str, Any]) -> bytes | None:
    """The stored snapshot image of an annotation, or None (none, or the blob is gone)."""
    ref = annotation.get("snapshot")
    sha = ref.get("sha256") if isinstance(ref, Mapping) else None
    if not isinstance(sha, str) or not assets.exists(sha):
        return None
    return assets.read_bytes(sha)


async def keep_snapshots(app: FastAPI, assets: AssetStore, room_id: str, author: str,
                         shots: Mapping[str, bytes]) -> list[Commit]:
    """Store imported BCF snapshots and reference them from their annotations (one server
    ``annotation.update`` each); images that are not PNG/JPEG or too large are left out."""
    ops = []
    for ann_id, data in shots.items():
        media = image_type(data)
        if media is None or len(data) > MAX_SNAPSHOT_BYTES:
            continue
        info = await asyncio.to_thread(assets.put_bytes, data)
        ref = {"sha256": info.sha256, "media_type": media, "bytes": info.size}
        ops.append((author, server_op("annotation.update", {"id": ann_id,
                                                              "props": {"snapshot": ref}})))
    return await commit_server_ops(app, room_id, ops) if ops else []


async def _room(request: Request, room_id: str, minimum: str) -> tuple[RoomRecord, User]:
    store: Store = get_store(request)

    def check() -> tuple[RoomRecord, User]:
        user = current_user(request)
        record = store.get_room(room_id)
        require_role(store, record.project_id, user, minimum)
        return record, user

    return await asyncio.to_thread(check)


async def _body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SNAPSHOT_BYTES:
            await drain(request.stream(), 8 * 1024 * 1024)
            raise LimitExceededError(f"snapshot is larger than {MAX_SNAPSHOT_BYTES} bytes")
    return bytes(body)


@router.put("/rooms/{room_id}/annotations/{annotation_id}/snapshot", response_model=SnapshotOut,
            responses={422: {"description": "not a PNG or JPEG image"},
                       413: {"description": f"larger than {MAX_SNAPSHOT_BYTES} bytes"}})
async def put_snapshot(room_id: str, annotation_id: str, request: Request,
                       svc: ServicesDep) -> dict[str, Any]:
    """Reviewer: store the annotation's snapshot; returns ``{snapshot, seq}``."""
    await _room(request, room_id, "reviewer")
    data = await _body(request)
    media = image_type(data)
    if media is None:
        raise UnsupportedFormatError("a snapshot must be a PNG or JPEG image")
    state = await room_state(request.app, room_id)
    if annotation_id not in state.annotations:
        raise NotFoundError(f"no annotation {annotation_id}")
    info = await asyncio.to_thread(svc.assets.put_bytes, data)
    ref = {"sha256": info.sha256, "media_type": media, "bytes": info.size}
    op = server_op("annotation.update", {"id": annotation_id, "props": {"snapshot": ref}})
    user = await asyncio.to_thread(current_user, request)
    (commit,) = await commit_server_ops(request.app, room_id, [(user.user_id, op)])
    return {"snapshot": ref, "seq": commit.seq}


@router.get("/rooms/{room_id}/annotations/{annotation_id}/snapshot", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
async def get_snapshot(room_id: str, annotation_id: str, request: Request,
                       svc: ServicesDep) -> Response:
    """Any member: the annotation's snapshot image."""
    await _room(request, room_id, "viewer")
    state = await room_state(request.app, room_id)
    ann = state.annotations.get(annotation_id)
    data = None if ann is None else await asyncio.to_thread(snapshot_bytes, svc.assets, ann)
    if data is None:
        raise NotFoundError(f"annotation {annotation_id} has no snapshot")
    return Response(data, media_type=image_type(data) or "application/octet-stream",
                    headers={"Cache-Control": "private, no-store"})
