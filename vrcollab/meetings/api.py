"""REST for meetings (registered in :data:`vrcollab.server.app.ROUTER_MODULES`).

Routes (docs/meetings.md, docs/api.md)::

    GET    /api/projects/{project_id}/meetings             viewer: the project's meetings
    GET    /api/projects/{project_id}/meeting-settings     viewer: recording allowed, retention
    PUT    /api/projects/{project_id}/meeting-settings     owner
    POST   /api/projects/{project_id}/meetings/purge       owner: apply the retention now
    GET    /api/rooms/{room_id}/meeting                    viewer: the running meeting (or null)
    POST   /api/rooms/{room_id}/meeting/start | /stop      editor: the host starts / stops it
    GET    /api/meetings/{meeting_id}                      viewer
    DELETE /api/meetings/{meeting_id}                      owner: meeting and recording
    DELETE /api/meetings/{meeting_id}/recording            owner: the recording only
    GET    /api/meetings/{meeting_id}/replay               viewer: what a replay needs
    GET    /api/meetings/{meeting_id}/chunks/{index}       viewer: one compressed log chunk
    GET    /api/meetings/{meeting_id}/minutes              viewer: the minutes as JSON
    GET    /api/meetings/{meeting_id}/minutes.html | .pdf  viewer: the minutes as a document
    GET    /meetings/{meeting_id}/replay                   the replay page (web client)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from vrcollab.assets import AssetStore
from vrcollab.errors import NotFoundError, StoreError
from vrcollab.meetings.logfile import read_index, read_payload
from vrcollab.meetings.pdf import html_to_pdf
from vrcollab.meetings.report import Minutes, build_minutes, render_html
from vrcollab.meetings.schemas import (
    DeletedOut,
    MeetingOut,
    MeetingSettingsOut,
    MinutesOut,
    PurgeOut,
    ReplayOut,
    RoomMeetingOut,
    StartedOut,
    StoppedOut,
)
from vrcollab.meetings.service import MeetingService
from vrcollab.meetings.store import MeetingRecord, MeetingSettings
from vrcollab.server.auth import require_role
from vrcollab.server.deps import BEARER, current_user, get_store, services_of
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import User
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState

WEB_ROOT = Path(__file__).resolve().parents[2] / "clients" / "web"
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

UserDep = Annotated[User, Depends(current_user)]
StoreDep = Annotated[Store, Depends(get_store)]


def meetings(request: Request) -> MeetingService:
    """The app's meeting service (dependency)."""
    svc: MeetingService = request.app.state.meetings
    return svc


ServiceDep = Annotated[MeetingService, Depends(meetings)]


class SettingsIn(BaseModel):
    """Project meeting settings."""

    recording: bool = Field(description="meetings of this project may be recorded")
    retention_days: float | None = Field(
        default=None, gt=0, le=36500,
        description="meetings that ended longer ago are deleted; null keeps them")


def meeting_json(m: MeetingRecord, room_name: str | None = None) -> dict[str, Any]:
    """A meeting as listed."""
    mid = m.meeting_id
    return {
        "meeting_id": mid, "project_id": m.project_id, "room_id": m.room_id,
        "room_name": room_name, "started": m.started, "ended": m.ended,
        "duration_s": m.duration, "running": m.ended is None, "recording": m.recording,
        "log_bytes": m.log_bytes, "seq_start": m.seq_start, "seq_end": m.seq_end,
        "participants": m.participants, "model": m.model,
        "replay_url": f"/meetings/{mid}/replay" if m.recording else None,
        "minutes_html_url": f"/api/meetings/{mid}/minutes.html",
        "minutes_pdf_url": f"/api/meetings/{mid}/minutes.pdf",
    }


def _meeting(store: Store, svc: MeetingService, user: User, meeting_id: str,
             minimum: str) -> MeetingRecord:
    try:
        m = svc.store.get(meeting_id)
    except NotFoundError:
        raise NotFoundError(f"no meeting {meeting_id}") from None
    try:
        require_role(store, m.project_id, user, minimum)
    except NotFoundError:
        raise NotFoundError(f"no meeting {meeting_id}") from None  # no existence oracle
    return m


def _room_name(store: Store, room_id: str) -> str:
    try:
        return store.get_room(room_id).name
    except NotFoundError:
        return room_id


def _commits(store: Store, m: MeetingRecord) -> list[Commit]:
    end = m.seq_end if m.seq_end is not None else 1 << 62
    return [c for c in store.commits_since(m.room_id, m.seq_start) if c.seq <= end]


def _names(store: Store, project_id: str, extra: list[dict[str, Any]]) -> dict[str, str]:
    names = {p["user_id"]: p.get("name", p["user_id"]) for p in extra}
    for uid in store.members(project_id):
        with contextlib.suppress(NotFoundError):
            names[uid] = store.get_user(uid).name
    return names


def _end_state(request: Request, store: Store, svc: MeetingService,
               m: MeetingRecord) -> RoomState:
    snap = svc.end_state(m.meeting_id)
    if snap is not None:
        return RoomState.from_snapshot(snap)
    worker = services_of(request.app).hub.workers.get(m.room_id)  # running: the live state
    if worker is not None:
        live: RoomState = worker.room.state
        return live
    from vrcollab.store.room_loader import load_room
    s = services_of(request.app).settings
    room = load_room(store, store.get_room(m.room_id), replay_window=s.replay_window,
                     tick_hz=s.tick_hz, heartbeat_s=10.0)
    return room.state


def _minutes(request: Request, store: Store, svc: MeetingService, m: MeetingRecord) -> Minutes:
    project = store.get_project(m.project_id)
    return build_minutes(m, _commits(store, m), _end_state(request, store, svc, m),
                         _names(store, m.project_id, m.participants),
                         room_name=_room_name(store, m.room_id), project_name=project.name,
                         replay_url=f"{_base(request)}/meetings/{m.meeting_id}/replay")


def _base(request: Request) -> str:
    s: Settings = services_of(request.app).settings
    return s.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def _image_reader(request: Request) -> Any:
    assets: AssetStore = services_of(request.app).assets

    def read(ref: Mapping[str, Any]) -> bytes | None:
        sha = ref.get("sha256")
        if not isinstance(sha, str) or not assets.exists(sha):
            return None
        return assets.read_bytes(sha)
    return read


router = APIRouter(prefix="/api", tags=["meetings"])


@router.get("/projects/{project_id}/meetings", response_model=list[MeetingOut])
def list_meetings(project_id: str, user: UserDep, store: StoreDep,
                  svc: ServiceDep) -> list[dict[str, Any]]:
    """Viewer: the project's meetings, newest first (date, length, participants)."""
    require_role(store, project_id, user, "viewer")
    svc.flush()
    return [meeting_json(m, _room_name(store, m.room_id))
            for m in svc.store.list_meetings(project_id)]


@router.get("/projects/{project_id}/meeting-settings", response_model=MeetingSettingsOut)
def get_settings(project_id: str, user: UserDep, store: StoreDep,
                 svc: ServiceDep) -> dict[str, Any]:
    """Viewer: may meetings be recorded; retention period in days (null: keep)."""
    require_role(store, project_id, user, "viewer")
    st = svc.store.get_settings(project_id)
    return {"recording": st.recording, "retention_days": st.retention_days}


@router.put("/projects/{project_id}/meeting-settings", response_model=MeetingSettingsOut)
def put_settings(project_id: str, body: SettingsIn, user: UserDep, store: StoreDep,
                 svc: ServiceDep) -> dict[str, Any]:
    """Owner: allow or forbid recording (from the next meeting on), set the retention."""
    require_role(store, project_id, user, "owner")
    svc.put_settings(MeetingSettings(project_id, body.recording, body.retention_days))
    return {"recording": body.recording, "retention_days": body.retention_days}


@router.post("/projects/{project_id}/meetings/purge", response_model=PurgeOut)
def purge(project_id: str, user: UserDep, store: StoreDep, svc: ServiceDep) -> dict[str, Any]:
    """Owner: delete this project's meetings older than its retention period now (the server
    also does it every ``meeting_purge_every_s``)."""
    require_role(store, project_id, user, "owner")
    return {"deleted": svc.purge(time.time(), project_id)}


@router.get("/rooms/{room_id}/meeting", response_model=RoomMeetingOut)
def room_meeting(room_id: str, request: Request, user: UserDep, store: StoreDep,
                 svc: ServiceDep) -> dict[str, Any]:
    """Viewer: ``{"meeting": {...}|null}``, the room's running meeting."""
    record = store.get_room(room_id)
    require_role(store, record.project_id, user, "viewer")
    live = svc.rooms.get(room_id)
    m = live.tracker.meeting if live is not None else None
    return {"meeting": None if m is None else {
        "meeting_id": m.meeting_id, "started": m.started, "recording": m.recording,
        "participants": m.participants_json()}}


def _live_worker(request: Request, store: Store, user: User, room_id: str) -> Any:
    record = store.get_room(room_id)
    require_role(store, record.project_id, user, "editor")
    worker = services_of(request.app).hub.workers.get(room_id)
    if worker is None or worker.stopped or not worker.conns:
        raise StoreError("nobody is in this room", code="conflict")
    return worker


@router.post("/rooms/{room_id}/meeting/start", response_model=StartedOut,
             responses={409: {"description": "a meeting runs already, or nobody is there"}})
async def start_meeting(room_id: str, request: Request, svc: ServiceDep) -> dict[str, Any]:
    """Editor (the host): start a meeting in a room people are in."""
    store: Store = get_store(request)
    user = await asyncio.to_thread(current_user, request)
    worker = await asyncio.to_thread(_live_worker, request, store, user, room_id)
    m = svc.host_start(worker)
    if m is None:
        raise StoreError("a meeting is running in this room already", code="conflict")
    return {"meeting_id": m.meeting_id, "recording": m.recording, "started": m.started}


@router.post("/rooms/{room_id}/meeting/stop", response_model=StoppedOut,
             responses={409: {"description": "no meeting runs"}})
async def stop_meeting(room_id: str, request: Request, svc: ServiceDep) -> dict[str, Any]:
    """Editor (the host): end the running meeting; the room stays without one until the host
    starts another or everyone has left."""
    store: Store = get_store(request)
    user = await asyncio.to_thread(current_user, request)
    worker = await asyncio.to_thread(_live_worker, request, store, user, room_id)
    m = svc.host_stop(worker)
    if m is None:
        raise StoreError("no meeting is running in this room", code="conflict")
    await asyncio.to_thread(svc.flush)
    return {"meeting_id": m.meeting_id, "ended": m.ended}


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
def get_meeting(meeting_id: str, user: UserDep, store: StoreDep,
                svc: ServiceDep) -> dict[str, Any]:
    """Viewer: one meeting."""
    svc.flush()
    m = _meeting(store, svc, user, meeting_id, "viewer")
    return meeting_json(m, _room_name(store, m.room_id))


@router.delete("/meetings/{meeting_id}", response_model=DeletedOut)
def delete_meeting(meeting_id: str, user: UserDep, store: StoreDep,
                   svc: ServiceDep) -> dict[str, Any]:
    """Owner: delete a meeting with its recording and minutes."""
    m = _meeting(store, svc, user, meeting_id, "owner")
    if m.ended is None:
        raise StoreError("the meeting is still running", code="conflict")
    svc.delete_meeting(meeting_id)
    return {"deleted": meeting_id}


@router.delete("/meetings/{meeting_id}/recording", response_model=MeetingOut)
def delete_recording(meeting_id: str, user: UserDep, store: StoreDep,
                     svc: ServiceDep) -> dict[str, Any]:
    """Owner: delete only the recording (the meeting and its minutes stay)."""
    m = _meeting(store, svc, user, meeting_id, "owner")
    if m.ended is None:
        raise StoreError("the meeting is still running", code="conflict")
    return meeting_json(svc.delete_recording(meeting_id), _room_name(store, m.room_id))


@router.get("/meetings/{meeting_id}/replay", response_model=ReplayOut)
def replay_data(meeting_id: str, user: UserDep, store: StoreDep,
                svc: ServiceDep) -> dict[str, Any]:
    """Viewer: the meeting, its model, the chunk index, the commits of its seq range and the
    names of the people in it (docs/meetings.md "Replay")."""
    svc.flush()
    m = _meeting(store, svc, user, meeting_id, "viewer")
    path = svc.log_path(meeting_id)
    if not m.recording or not path.exists():
        raise NotFoundError("this meeting was not recorded (or its recording was deleted)")
    index = read_index(path)
    return {
        "meeting": meeting_json(m, _room_name(store, m.room_id)),
        "chunks": [{"index": c.index, "t0": c.t0, "t1": c.t1, "seq": c.seq,
                    "has_state": c.has_state, "bytes": c.length} for c in index],
        "commits": [c.to_json() for c in _commits(store, m)],
        "names": _names(store, m.project_id, m.participants),
    }


@router.get("/meetings/{meeting_id}/chunks/{index}", response_class=Response,
            responses={200: {"content": {"application/zlib": {}}}})
def chunk(meeting_id: str, index: int, user: UserDep, store: StoreDep,
          svc: ServiceDep) -> Response:
    """Viewer: one chunk of the log, zlib-compressed JSON (docs/meetings.md "Log format")."""
    m = _meeting(store, svc, user, meeting_id, "viewer")
    path = svc.log_path(meeting_id)
    if not m.recording or not path.exists():
        raise NotFoundError("this meeting was not recorded")
    chunks = read_index(path)
    if not 0 <= index < len(chunks):
        raise NotFoundError(f"no chunk {index}")
    return Response(read_payload(path, chunks[index]), media_type="application/zlib",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/meetings/{meeting_id}/minutes", response_model=MinutesOut)
def minutes_json(meeting_id: str, request: Request, user: UserDep, store: StoreDep,
                 svc: ServiceDep) -> dict[str, Any]:
    """Viewer: the minutes as JSON."""
    svc.flush()
    m = _meeting(store, svc, user, meeting_id, "viewer")
    return _minutes(request, store, svc, m).to_json()


@router.get("/meetings/{meeting_id}/minutes.html", response_class=HTMLResponse)
def minutes_html(meeting_id: str, request: Request, user: UserDep, store: StoreDep,
                 svc: ServiceDep) -> HTMLResponse:
    """Viewer: the minutes as one self-contained HTML page."""
    svc.flush()
    m = _meeting(store, svc, user, meeting_id, "viewer")
    page = render_html(_minutes(request, store, svc, m), _image_reader(request))
    return HTMLResponse(page, headers={"Cache-Control": "private, no-store",
                                       "Content-Security-Policy": "default-src 'none'; "
                                       "img-src data:; style-src 'unsafe-inline'"})


@router.get("/meetings/{meeting_id}/minutes.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def minutes_pdf(meeting_id: str, request: Request, svc: ServiceDep) -> Response:
    """Viewer: the minutes as PDF (WeasyPrint)."""
    store: Store = get_store(request)

    def build() -> tuple[bytes, str]:
        svc.flush()
        user = current_user(request)
        m = _meeting(store, svc, user, meeting_id, "viewer")
        return html_to_pdf(render_html(_minutes(request, store, svc, m),
                                       _image_reader(request))), m.meeting_id

    pdf, mid = await asyncio.to_thread(build)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="minutes-{mid}.pdf"',
                             "Cache-Control": "private, no-store"})


def _page_csp(page: str) -> str:
    match = _IMPORT_MAP.search(page)
    inline = match.group(1) if match else ""
    digest = base64.b64encode(hashlib.sha256(inline.encode("utf-8")).digest()).decode()
    return ("default-src 'self'; "
            f"script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}'; worker-src 'self' blob:; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'")


pages = APIRouter(include_in_schema=False)


@pages.get("/meetings/{meeting_id}/replay")
def replay_page(meeting_id: str) -> Response:
    """The replay page; it reads everything through the REST routes above."""
    if not _ID.match(meeting_id):
        return Response("no such meeting", status_code=404, media_type="text/plain")
    page = (WEB_ROOT / "replay.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Content-Security-Policy": _page_csp(page),
                                       "Cache-Control": "no-cache",
                                       "Referrer-Policy": "no-referrer"})


def make_router(settings: Settings) -> APIRouter:
    """The meetings routers (the service itself runs in the server's one lifespan:
    :func:`vrcollab.meetings.runtime.meetings_running`)."""
    root = APIRouter()
    root.include_router(router, dependencies=[Depends(BEARER)])
    root.include_router(pages)
    return root
