"""Response schemas of the REST API, and how store records map to them.

Every route declares one of these as its ``response_model`` (the OpenAPI test in
``tests/server/test_openapi.py`` fails on a route without one). Request bodies stay beside
their routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from vrcollab.server.job_progress import overall_percent
from vrcollab.store.base import RoomRecord
from vrcollab.store.catalog import Catalog, JobRecord, ModelRecord, VersionFile, VersionRecord
from vrcollab.store.identity import InviteRecord
from vrcollab.sync.messages import ROLES


def _known_role(value: str) -> str:
    if value not in ROLES:
        raise ValueError(f"unknown role; one of {', '.join(ROLES[::-1])}")
    return value


#: A project role in a request body: one of :data:`vrcollab.sync.messages.ROLES` (the one
#: definition of the role vocabulary), documented as an enum, strongest first.
RoleName = Annotated[str, AfterValidator(_known_role),
                     WithJsonSchema({"type": "string", "enum": list(ROLES[::-1])})]


# --- errors ------------------------------------------------------------------------------------


class ErrorDetailOut(BaseModel):
    """One problem of an invalid request."""

    loc: list[str] = Field(description="where: body / query / path, then the field names")
    msg: str
    type: str


class ErrorInfoOut(BaseModel):
    """What went wrong: a stable code and a one-line message."""

    code: str = Field(description="stable, e.g. not_found, invalid_request, unauthorized")
    message: str
    details: list[ErrorDetailOut] | None = Field(
        default=None, description="invalid_request only: every problem found")


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorInfoOut


# --- models, versions and jobs --------------------------------------------------------------


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


#: Job failures of ours (not of the uploaded file): the record keeps the detail for the log and
#: the operator; a client reads only the clause before the first ``": "``.
INTERNAL_JOB_ERRORS = frozenset({"crash", "start_failed", "source_missing", "bad_output"})


def public_job_error(code: str | None, error: str | None) -> str | None:
    """A job's error message as a client may read it (no internal exception text)."""
    if error is None or code not in INTERNAL_JOB_ERRORS:
        return error
    return error.split(": ", 1)[0]


def job_out(job: JobRecord) -> JobOut:
    """JSON of a job."""
    return JobOut(
        job_id=job.job_id, project_id=job.project_id, version_id=job.version_id,
        status=job.status, stage=job.stage, percent=round(job.percent, 1),
        overall_percent=overall_percent(job.status, job.stage, job.percent),
        error=public_job_error(job.error_code, job.error),
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


# --- rooms -----------------------------------------------------------------------------------


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


class AnchorOut(BaseModel):
    """The committed change."""

    annotation_id: str
    anchor_state: str
    seq: int


class RoomInfoOut(BaseModel):
    """A room of a project."""

    room_id: str
    project_id: str
    name: str
    model: dict[str, Any] | None
    created: float
    ws_path: str


class RoomOut(RoomInfoOut):
    """A room (as ``/api/rooms/{id}``) and its relative browser link."""

    link: str = Field(description="web client path; add ?invite=<invite> or ?token=<token>")


class RoomLiveOut(RoomInfoOut):
    """A room with the caller's role and live counts."""

    role: str
    seq: int | None = Field(description="the live room's seq (None when nobody is in it)")
    sessions: int


class SwitchOut(BaseModel):
    """The switched room and the anchor states that changed."""

    room: RoomOut
    anchors: dict[str, str] = Field(description="annotation id -> ok | changed | missing")
    counts: dict[str, int]


def room_out(room: RoomRecord) -> RoomOut:
    """JSON of a room with its link."""
    return RoomOut(**room_json(room), link=f"/r/{room.room_id}")


# --- BCF -------------------------------------------------------------------------------------


class BcfImportOut(BaseModel):
    """What an import added to the room."""

    imported: list[str] = Field(description="ids of the annotations created")
    views: list[str] = Field(default_factory=list,
                             description="ids of the saved views created (issue 14)")
    skipped: list[dict[str, str]] = Field(description="topics left out, with the reason")
    comments: int
    seq: int | None = Field(description="room seq after the import (None if nothing changed)")


# --- projects, people, tokens ------------------------------------------------------------------


class MeOut(BaseModel):
    """The caller and its project roles."""

    user_id: str
    name: str
    projects: dict[str, str] = Field(description="project id -> role")


class ProjectOut(BaseModel):
    """A project of the caller, with the caller's role."""

    project_id: str
    name: str
    role: str
    created: float


class ProjectRoleOut(BaseModel):
    """A created or renamed project and the caller's role in it."""

    project_id: str
    name: str
    role: str


class InviteCreatedOut(BaseModel):
    """A new invite: its secret forms (shown once) and its record."""

    invite: str = Field(description="the signed token for POST /api/invites/accept")
    url: str = Field(description="browser link (/join?invite=...)")
    code: str = Field(description="short code to type at /join on a headset")
    join_url: str
    code_url: str = Field(description="/join?code=... (what the QR code holds)")
    invite_id: str
    role: str
    project_id: str
    expires_at: float
    max_uses: int | None
    uses: int


class InviteOut(BaseModel):
    """An invite as its owner sees it later (no secrets)."""

    invite_id: str
    project_id: str
    role: str
    created_by: str | None
    created: float
    expires_at: float
    max_uses: int | None
    uses: int
    revoked: bool
    label: str
    status: str = Field(description="active | invite_used | invite_expired | invite_revoked")


def invite_json(inv: InviteRecord, now: float) -> dict[str, Any]:
    """Public JSON of an invite (no secrets)."""
    refusal = inv.refusal(now)
    return {"invite_id": inv.invite_id, "project_id": inv.project_id, "role": inv.role,
            "created_by": inv.created_by, "created": inv.created, "expires_at": inv.expires_at,
            "max_uses": inv.max_uses, "uses": inv.uses, "revoked": inv.revoked,
            "label": inv.label, "status": "active" if refusal is None else refusal.code}


class AcceptOut(BaseModel):
    """A redeemed invite: the new member and its bearer token (shown once)."""

    token: str
    user_id: str
    name: str
    project_id: str
    role: str


class MemberOut(BaseModel):
    """A project member."""

    user_id: str
    name: str
    role: str
    you: bool


class RoleChangeOut(BaseModel):
    """A changed role and the member's connections that closed."""

    user_id: str
    role: str
    previous_role: str | None
    closed_connections: int


class MemberRemovedOut(BaseModel):
    """A removed member and its connections that closed."""

    user_id: str
    removed: bool
    previous_role: str | None
    closed_connections: int


class AuditOut(BaseModel):
    """One membership change."""

    seq: int
    at: float
    action: str
    actor_id: str | None
    actor_name: str | None
    target_id: str | None
    target_name: str | None
    detail: dict[str, Any]


class TokenInfoOut(BaseModel):
    """A bearer token or browser session (never the secret)."""

    token_id: str
    kind: str
    label: str
    created: float
    expires_at: float | None


class NewTokenOut(BaseModel):
    """A new bearer token (shown once)."""

    token: str
    token_id: str
    kind: str
    label: str
    expires_at: float | None


class TokenRevokedOut(BaseModel):
    """A revoked token."""

    token_id: str
    revoked: bool


class AccountOut(BaseModel):
    """An account's permissions."""

    user_id: str
    admin: bool
    create_projects: bool


class RoomMemberOut(BaseModel):
    """A person who may be in a room."""

    user_id: str
    name: str
    role: str
    online: bool = Field(default=False,
                         description="has a session in the room now, on any server process")


class RoomMembersOut(BaseModel):
    """A room's project members, owners first, then by name."""

    room_id: str
    members: list[RoomMemberOut]


# --- browser sessions --------------------------------------------------------------------------


class SessionUserOut(BaseModel):
    """The person a browser session belongs to."""

    user_id: str
    name: str
    admin: bool
    create_projects: bool


class SessionOut(BaseModel):
    """This browser: signed in or not, and who."""

    signed_in: bool
    user: SessionUserOut | None = None
    projects: dict[str, str] | None = Field(default=None, description="project id -> role")


class SignInOut(BaseModel):
    """A started browser session."""

    user: SessionUserOut


class SignOutOut(BaseModel):
    """An ended browser session."""

    signed_in: bool


class HeldInviteOut(BaseModel):
    """The invite a browser holds (no secret)."""

    project_id: str
    project_name: str
    role: str
    expires_at: float


class JoinRoomOut(BaseModel):
    """A room of the project just joined."""

    room_id: str
    name: str


class JoinOut(BaseModel):
    """A redeemed invite: the member, its role and the project's rooms."""

    user: SessionUserOut
    project_id: str
    role: str | None
    rooms: list[JoinRoomOut]
    new_user: bool


# --- web app, snapshots, health ----------------------------------------------------------------


class SnapshotRefOut(BaseModel):
    """An annotation snapshot in the asset store."""

    sha256: str
    media_type: str
    bytes: int


class SnapshotOut(BaseModel):
    """A stored snapshot and the seq of its ``annotation.update``."""

    snapshot: SnapshotRefOut
    seq: int


class VersionRefOut(BaseModel):
    """A version by id and number."""

    version_id: str
    number: int


class CompareSampleOut(BaseModel):
    """A sample of element keys per kind of change."""

    added: list[str]
    changed: list[str]
    removed: list[str]


class CompareOut(BaseModel):
    """What changed between two versions of a model (element counts and a sample)."""

    model_config = ConfigDict(populate_by_name=True)

    added: int
    changed: int
    removed: int
    unchanged: int
    sample: CompareSampleOut
    from_: VersionRefOut = Field(alias="from")
    to: VersionRefOut


class IssueOut(BaseModel):
    """An annotation (issue) of a project's room."""

    id: str
    title: Any
    status: Any
    assignee: Any
    assignee_name: str | None
    labels: list[Any]
    author: Any
    author_name: str | None
    updated: Any
    room_id: str
    room_name: str
    link: str


class CancelOut(BaseModel):
    """A conversion being stopped."""

    job_id: str
    cancelling: bool
    status: str = Field(description="the job's status when it was cancelled")


class HealthErrorOut(BaseModel):
    """Why the store cannot write."""

    code: str
    message: str


class HealthOut(BaseModel):
    """Server health and live counters (more counters may follow)."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    version: str
    protocol: int
    rooms: int
    sessions: int
    store_write_ms_p50: float | None
    store_write_ms_p99: float | None
    error: HealthErrorOut | None = None
