"""When a meeting starts and ends, and who took part: a pure state machine per room.

A meeting starts when the first session joins an empty room and ends when the last one leaves.
A host (editor or owner) may also stop it while people are still there; the room then stays
without a meeting until the host starts one again or the room empties (the next join starts a
new one).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any


def new_meeting_id() -> str:
    """A random meeting id like ``mt_3f9a1c0b2d4e5f60``."""
    return f"mt_{secrets.token_hex(8)}"


@dataclass(slots=True)
class Participant:
    """One person's part in a meeting (several sessions of one user count once)."""

    user_id: str
    name: str
    role: str
    first_joined: float
    last_left: float | None = None
    seconds: float = 0.0
    sessions: int = 0  # open now
    _since: float | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (stored with the meeting)."""
        return {"user_id": self.user_id, "name": self.name, "role": self.role,
                "first_joined": self.first_joined, "last_left": self.last_left,
                "seconds": round(self.seconds, 3)}


@dataclass(slots=True)
class Meeting:
    """A meeting as it runs (or ran)."""

    meeting_id: str
    room_id: str
    project_id: str
    started: float
    seq_start: int
    recording: bool
    ended: float | None = None
    seq_end: int | None = None
    participants: dict[str, Participant] = field(default_factory=dict)

    def participants_json(self) -> list[dict[str, Any]]:
        """Participants, in order of first join."""
        return [p.to_json() for p in sorted(self.participants.values(),
                                            key=lambda p: p.first_joined)]


@dataclass(frozen=True, slots=True)
class Started:
    """A meeting began (with this join, or by the host)."""

    meeting: Meeting


@dataclass(frozen=True, slots=True)
class Ended:
    """A meeting ended (the last one left, or the host stopped it)."""

    meeting: Meeting


Event = Started | Ended


class MeetingTracker:
    """Sessions of one room and its running meeting."""

    def __init__(self, room_id: str, project_id: str) -> None:
        self.room_id = room_id
        self.project_id = project_id
        self.sessions: dict[str, tuple[str, str, str]] = {}  # sid -> (user_id, name, role)
        self.meeting: Meeting | None = None
        self.held = False  # the host stopped the meeting; no auto start until the room empties

    def join(self, session_id: str, user_id: str, name: str, role: str, *, now: float,
             seq: int, recording: bool) -> list[Event]:
        """A session joined; starts a meeting in an empty (or not held) room."""
        self.sessions[session_id] = (user_id, name, role)
        events: list[Event] = []
        if self.meeting is None and not self.held:
            events.append(self._start(now, seq, recording))
        if self.meeting is not None:
            self._enter(self.meeting, user_id, name, role, now)
        return events

    def leave(self, session_id: str, *, now: float, seq: int) -> list[Event]:
        """A session left; the last one out ends the meeting."""
        who = self.sessions.pop(session_id, None)
        if who is None:
            return []
        if self.meeting is not None:
            self._exit(self.meeting, who[0], now)
        if self.sessions:
            return []
        self.held = False
        return [self._end(now, seq)] if self.meeting is not None else []

    def start(self, *, now: float, seq: int, recording: bool) -> Started | None:
        """Host start; None when a meeting already runs or nobody is in the room."""
        if self.meeting is not None or not self.sessions:
            return None
        self.held = False
        event = self._start(now, seq, recording)
        for user_id, name, role in self.sessions.values():
            self._enter(event.meeting, user_id, name, role, now)
        return event

    def stop(self, *, now: float, seq: int) -> Ended | None:
        """Host stop; None when no meeting runs."""
        if self.meeting is None:
            return None
        self.held = bool(self.sessions)
        return self._end(now, seq)

    def _start(self, now: float, seq: int, recording: bool) -> Started:
        self.meeting = Meeting(new_meeting_id(), self.room_id, self.project_id, started=now,
                               seq_start=seq, recording=recording)
        return Started(self.meeting)

    def _end(self, now: float, seq: int) -> Ended:
        m = self.meeting
        assert m is not None
        for p in m.participants.values():
            if p.sessions:
                p.sessions = 1
                self._exit(m, p.user_id, now)
        m.ended, m.seq_end = now, seq
        self.meeting = None
        return Ended(m)

    @staticmethod
    def _enter(m: Meeting, user_id: str, name: str, role: str, now: float) -> None:
        p = m.participants.get(user_id)
        if p is None:
            p = m.participants[user_id] = Participant(user_id, name, role, first_joined=now)
        p.name, p.role = name, role
        if p.sessions == 0:
            p._since = now
        p.sessions += 1

    @staticmethod
    def _exit(m: Meeting, user_id: str, now: float) -> None:
        p = m.participants.get(user_id)
        if p is None or p.sessions == 0:
            return
        p.sessions -= 1
        if p.sessions == 0 and p._since is not None:
            p.seconds += now - p._since
            p._since = None
            p.last_left = now
