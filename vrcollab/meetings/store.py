"""The table of meetings and the per-project meeting settings: interface, records, memory.

:class:`MeetingStore` is the interface; :class:`MemoryMeetingStore` (here) and
:class:`vrcollab.meetings.store_sqlite.SqliteMeetingStore` implement it and pass one contract
suite (``tests/meetings/test_store_contract.py``). A Postgres port implements the same methods.
Records are frozen dataclasses; implementations are thread-safe.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any

from vrcollab.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    """A meeting of a room. ``recording`` says whether a log was recorded (and still exists);
    ``seq_start``/``seq_end`` are the room's op-log range of the meeting."""

    meeting_id: str
    project_id: str
    room_id: str
    started: float
    seq_start: int
    recording: bool
    ended: float | None = None
    seq_end: int | None = None
    participants: list[dict[str, Any]] = field(default_factory=list)
    log_bytes: int = 0
    model: dict[str, Any] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while it runs)."""
        return None if self.ended is None else max(0.0, self.ended - self.started)


@dataclass(frozen=True, slots=True)
class MeetingSettings:
    """Per project: may meetings be recorded, and after how many days are they purged
    (``None``: keep until an owner deletes them)."""

    project_id: str
    recording: bool = False
    retention_days: float | None = None


class MeetingStore(ABC):
    """Meetings and meeting settings."""

    @abstractmethod
    def create(self, record: MeetingRecord) -> None:
        """Add a meeting (a ConflictError-like StoreError if the id exists is not required)."""

    @abstractmethod
    def finish(self, meeting_id: str, *, ended: float, seq_end: int,
               participants: list[dict[str, Any]], log_bytes: int) -> MeetingRecord:
        """Record the end of a meeting; NotFoundError if unknown."""

    @abstractmethod
    def update(self, meeting_id: str, **changes: Any) -> MeetingRecord:
        """Change fields of a meeting (``participants``, ``log_bytes``, ``recording``)."""

    @abstractmethod
    def get(self, meeting_id: str) -> MeetingRecord:
        """A meeting; NotFoundError if unknown."""

    @abstractmethod
    def list_meetings(self, project_id: str) -> list[MeetingRecord]:
        """A project's meetings, newest first."""

    @abstractmethod
    def running(self) -> list[MeetingRecord]:
        """Meetings without an end (left by a crash when no room is live)."""

    @abstractmethod
    def delete(self, meeting_id: str) -> None:
        """Remove a meeting (no error when unknown)."""

    @abstractmethod
    def ended_before(self, project_id: str, t: float) -> list[MeetingRecord]:
        """A project's meetings that ended before ``t``."""

    @abstractmethod
    def get_settings(self, project_id: str) -> MeetingSettings:
        """The project's settings (defaults when never set)."""

    @abstractmethod
    def put_settings(self, settings: MeetingSettings) -> None:
        """Replace the project's settings."""

    @abstractmethod
    def projects_with_retention(self) -> list[MeetingSettings]:
        """Settings of every project that has a retention period."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release resources."""


_FIELDS = frozenset(("participants", "log_bytes", "recording", "model"))


class MemoryMeetingStore(MeetingStore):
    """Dict-backed store (``database_url = memory://`` and tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meetings: dict[str, MeetingRecord] = {}
        self._settings: dict[str, MeetingSettings] = {}

    def create(self, record: MeetingRecord) -> None:
        with self._lock:
            self._meetings[record.meeting_id] = record

    def finish(self, meeting_id: str, *, ended: float, seq_end: int,
               participants: list[dict[str, Any]], log_bytes: int) -> MeetingRecord:
        with self._lock:
            rec = replace(self._get(meeting_id), ended=ended, seq_end=seq_end,
                          participants=list(participants), log_bytes=log_bytes)
            self._meetings[meeting_id] = rec
            return rec

    def update(self, meeting_id: str, **changes: Any) -> MeetingRecord:
        bad = set(changes) - _FIELDS
        if bad:
            raise ValueError(f"cannot change {sorted(bad)}")
        with self._lock:
            rec = replace(self._get(meeting_id), **changes)
            self._meetings[meeting_id] = rec
            return rec

    def _get(self, meeting_id: str) -> MeetingRecord:
        rec = self._meetings.get(meeting_id)
        if rec is None:
            raise NotFoundError(f"no meeting {meeting_id}")
        return rec

    def get(self, meeting_id: str) -> MeetingRecord:
        with self._lock:
            return self._get(meeting_id)

    def list_meetings(self, project_id: str) -> list[MeetingRecord]:
        with self._lock:
            out = [m for m in self._meetings.values() if m.project_id == project_id]
        return sorted(out, key=lambda m: m.started, reverse=True)

    def running(self) -> list[MeetingRecord]:
        with self._lock:
            return [m for m in self._meetings.values() if m.ended is None]

    def delete(self, meeting_id: str) -> None:
        with self._lock:
            self._meetings.pop(meeting_id, None)

    def ended_before(self, project_id: str, t: float) -> list[MeetingRecord]:
        return [m for m in self.list_meetings(project_id) if m.ended is not None and m.ended < t]

    def get_settings(self, project_id: str) -> MeetingSettings:
        with self._lock:
            return self._settings.get(project_id) or MeetingSettings(project_id)

    def put_settings(self, settings: MeetingSettings) -> None:
        with self._lock:
            self._settings[settings.project_id] = settings

    def projects_with_retention(self) -> list[MeetingSettings]:
        with self._lock:
            return [s for s in self._settings.values() if s.retention_days is not None]
