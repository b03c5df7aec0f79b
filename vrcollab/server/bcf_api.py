"""BCF exchange for rooms: ``GET /api/rooms/{id}/bcf`` exports, ``POST`` imports.

Import goes through the room's sequenced op path (server ops, :mod:`.room_ops`), so connected
clients see the new annotations as ordinary ``commit`` messages and the import is durable
before it answers. A hostile or invalid archive (path traversal, zip bomb, bad XML) answers 400
with the library's one-line message and changes nothing.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from vrcollab.bcf.archive import BcfLimits
from vrcollab.errors import BcfError, LimitExceededError, NotFoundError
from vrcollab.model_manifest import is_tiled
from vrcollab.review.bcf_exchange import (
    RoomLimits,
    check_room_limits,
    export_bcf,
    frame_for,
    plan_import,
)
from vrcollab.review.nodes import node_guids
from vrcollab.server.auth import require_role
from vrcollab.server.deps import ServicesDep, current_user, get_store
from vrcollab.server.room_ops import commit_server_ops, room_state
from vrcollab.server.schemas import BcfImportOut
from vrcollab.server.services import Services
from vrcollab.server.snapshots_api import keep_snapshots, snapshot_bytes
from vrcollab.server.uploads import drain, receive_upload
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import RoomRecord, User
from vrcollab.sync.codec import Limits
from vrcollab.sync.messages import Commit

router = APIRouter(tags=["bcf"])
BCF_MEDIA = "application/octet-stream"
COMMIT_CHUNK = 100  # ops per room-worker batch, so readers' queues drain between batches


def room_limits(settings: Settings) -> RoomLimits:
    """The per-room bounds an import must keep (from settings)."""
    return RoomLimits(max_annotations=settings.room_max_annotations,
                      max_comments=settings.room_max_comments,
                      max_annotation_bytes=settings.room_max_annotation_bytes,
                      max_import_ops=settings.bcf_import_max_ops,
                      max_stash_bytes=settings.bcf_max_stash_bytes)


def room_manifest(svc: Services, record: RoomRecord) -> dict[str, Any] | None:
    """The manifest of the version a room is on (None for a room without a model)."""
    version_id = (record.model or {}).get("version_id")
    if not version_id:
        return None
    try:
        version = svc.catalog.get_version(str(version_id))
    except NotFoundError:
        return None
    if version.manifest_sha256 is None:
        return None
    manifest: dict[str, Any] = json.loads(svc.assets.read_bytes(version.manifest_sha256))
    return manifest


def room_node_guids(svc: Services, record: RoomRecord,
                    manifest: dict[str, Any] | None) -> dict[str, str]:
    """Node id -> IFC GlobalId of the room's model version (manifest parts, or the tiled
    element table); empty when unknown (components then carry the node id only)."""
    if not manifest:
        return {}
    table = None
    if is_tiled(manifest):
        name = str((manifest.get("elements") or {}).get("file") or "elements.json.gz")
        try:
            item = svc.catalog.get_version_file(str((record.model or {})["version_id"]), name)
            raw = svc.assets.read_bytes(item.sha256)
            table = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        except (NotFoundError, KeyError, OSError, ValueError):
            table = None
    return node_guids(manifest, table if isinstance(table, dict) else None)


async def _room(request: Request, room_id: str, minimum: str) -> tuple[RoomRecord, User]:
    """The room and the caller (the token is checked before the room is looked up)."""
    store: Store = get_store(request)

    def check() -> tuple[RoomRecord, User]:
        user = current_user(request)
        record = store.get_room(room_id)
        require_role(store, record.project_id, user, minimum)
        return record, user

    return await asyncio.to_thread(check)


def _bad_bcf(exc: BcfError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=400)


@router.get(
    "/rooms/{room_id}/bcf",
    response_class=Response,
    responses={200: {"content": {BCF_MEDIA: {}}, "description": "a .bcfzip archive"}},
)
async def export_room(
    room_id: str,
    request: Request,
    svc: ServicesDep,
    version: Annotated[Literal["2.1", "3.0"], Query(description="BCF version")] = "3.0",
) -> Response:
    """Any member: the room's annotations and saved views as a BCF 2.1 or 3.0 archive."""
    record, _ = await _room(request, room_id, "viewer")
    state = await room_state(request.app, room_id)
    manifest = await asyncio.to_thread(room_manifest, svc, record)
    store: Store = get_store(request)

    def build() -> bytes:
        names: dict[str, str] = {}

        def author_name(author: str) -> str:
            if author not in names:
                try:
                    names[author] = store.get_user(author).name
                except NotFoundError:
                    names[author] = author
            return names[author]

        shots = {aid: shot for aid, ann in state.annotations.items()
                 if (shot := snapshot_bytes(svc.assets, ann)) is not None}
        return export_bcf(state.annotations, version=version, frame=frame_for(manifest),
                          author_name=author_name, snapshots=shots, markups=state.markups,
                          views=state.views, node_guids=room_node_guids(svc, record, manifest))

    try:
        data = await asyncio.to_thread(build)
    except BcfError as exc:
        return _bad_bcf(exc)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in record.name)[:80] or "room"
    return Response(data, media_type=BCF_MEDIA, headers={
        "Content-Disposition": f'attachment; filename="{safe}.bcfzip"',
        "Cache-Control": "no-store",
    })


async def _read_body(request: Request, svc: Services, limit: int) -> bytes:
    """The archive from a raw body or a multipart ``file`` part, at most ``limit`` bytes."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/"):
        upload = await receive_upload(request.stream(), content_type=ctype, assets=svc.assets,
                                      max_bytes=limit)
        try:
            return await asyncio.to_thread(upload.path.read_bytes)
        finally:
            upload.path.unlink(missing_ok=True)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            await drain(request.stream(), 8 * 1024 * 1024)
            raise LimitExceededError(f"BCF archive is larger than {limit} bytes")
    return bytes(body)


@router.post(
    "/rooms/{room_id}/bcf",
    response_model=BcfImportOut,
    openapi_extra={"requestBody": {"required": True, "content": {
        BCF_MEDIA: {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string",
                                                                   "format": "binary"}}}},
    }}},
    responses={400: {"description": "invalid or hostile BCF archive"},
               413: {"description": "archive too large, or the import would pass a room limit "
                                    "(code import_too_large / room_limit; the message names "
                                    "the setting); nothing is imported"}},
)
async def import_room(room_id: str, request: Request, svc: ServicesDep) -> Any:
    """Reviewer: add the topics of a BCF 2.1/3.0 archive to the room as annotations (with
    comments); topics that are vrcollab saved views become saved views. The body is the
    ``.bcfzip`` itself, or a multipart ``file`` part.

    The importer is the author of record of everything imported; the archive's authors are
    kept as ``imported_from`` (never as the author)."""
    record, user = await _room(request, room_id, "reviewer")
    limits = BcfLimits()
    data = await _read_body(request, svc, min(limits.max_archive_bytes,
                                              svc.settings.max_upload_bytes))
    state = await room_state(request.app, room_id)
    manifest = await asyncio.to_thread(room_manifest, svc, record)
    codec_limits = Limits(max_string_chars=svc.settings.max_string_chars)
    bounds = room_limits(svc.settings)
    guids = await asyncio.to_thread(room_node_guids, svc, record, manifest)
    try:
        plan = await asyncio.to_thread(
            plan_import, data, existing=set(state.annotations), frame=frame_for(manifest),
            limits=codec_limits, importer=user.user_id, bcf_limits=limits,
            max_stash_bytes=bounds.max_stash_bytes, existing_views=set(state.views),
            guid_nodes={g: n for n, g in guids.items()},
        )
    except BcfError as exc:
        return _bad_bcf(exc)
    check_room_limits(plan, state.annotations, bounds)  # in the loop: the live state may change
    commits: list[Commit] = []
    for start in range(0, len(plan.items), COMMIT_CHUNK):
        commits += await commit_server_ops(request.app, room_id,
                                           plan.items[start:start + COMMIT_CHUNK])
    commits += await keep_snapshots(request.app, svc.assets, room_id, user.user_id,
                                    plan.snapshots)
    return BcfImportOut(
        imported=plan.annotations, views=plan.views, skipped=plan.skipped,
        comments=sum(1 for c in commits if c.kind == "comment.add"),
        seq=commits[-1].seq if commits else None,
    )
