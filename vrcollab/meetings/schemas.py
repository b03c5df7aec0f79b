"""Response models of the meetings REST routes (OpenAPI; docs/meetings.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ParticipantOut(BaseModel):
    """One person's part in a meeting."""

    user_id: str
    name: str
    role: str | None = None
    first_joined: float | None = None
    last_left: float | None = None
    seconds: float = Field(default=0.0, description="time in the meeting")


class MeetingOut(BaseModel):
    """A meeting as listed."""

    meeting_id: str
    project_id: str
    room_id: str
    room_name: str | None
    started: float
    ended: float | None
    duration_s: float | None
    running: bool
    recording: bool = Field(description="a recording exists (replayable)")
    log_bytes: int = Field(description="compressed bytes of the recording")
    seq_start: int
    seq_end: int | None
    participants: list[ParticipantOut]
    model: dict[str, Any] | None = Field(description="the room's model at the start")
    replay_url: str | None
    minutes_html_url: str
    minutes_pdf_url: str


class MeetingSettingsOut(BaseModel):
    """A project's meeting settings."""

    recording: bool
    retention_days: float | None


class PurgeOut(BaseModel):
    """Meetings deleted by the retention purge."""

    deleted: list[str]


class DeletedOut(BaseModel):
    """A deleted meeting."""

    deleted: str


class RunningMeetingOut(BaseModel):
    """The meeting running in a room."""

    meeting_id: str
    started: float
    recording: bool
    participants: list[ParticipantOut]


class RoomMeetingOut(BaseModel):
    """``meeting``: the running meeting, or null."""

    meeting: RunningMeetingOut | None


class StartedOut(BaseModel):
    """A meeting the host started."""

    meeting_id: str
    recording: bool
    started: float


class StoppedOut(BaseModel):
    """A meeting the host stopped."""

    meeting_id: str
    ended: float | None


class ChunkOut(BaseModel):
    """One chunk of a recording."""

    index: int
    t0: float
    t1: float
    seq: int = Field(description="room seq at t0")
    has_state: bool = Field(description="holds a room-state keyframe")
    bytes: int


class ReplayOut(BaseModel):
    """What a replay needs."""

    meeting: MeetingOut
    chunks: list[ChunkOut]
    commits: list[dict[str, Any]] = Field(description="the commits of the meeting's seq range")
    names: dict[str, str] = Field(description="user id -> name")


class MinutesIssueOut(BaseModel):
    """One issue in the minutes."""

    id: str
    title: str
    status: str
    priority: str
    assignee: str | None
    created: bool
    changed: bool
    resolved: bool
    deleted: bool
    has_snapshot: bool
    replay_url: str
    changes: list[dict[str, Any]]
    comments: list[dict[str, Any]]


class MinutesOut(BaseModel):
    """The minutes of a meeting."""

    meeting_id: str
    room_id: str
    room_name: str
    project_name: str
    started: float
    ended: float | None
    duration_s: float | None
    recording: bool
    participants: list[dict[str, Any]]
    replay_url: str
    decisions: list[dict[str, Any]]
    issues: list[MinutesIssueOut]
