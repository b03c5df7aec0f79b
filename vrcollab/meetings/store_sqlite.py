"""SQLite implementation of :class:`vrcollab.meetings.store.MeetingStore`.

Its own connection to the store's database file (tables prefixed ``meeting_``), WAL journal,
one lock. Everything a Postgres port needs is the two tables below and these statements.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from vrcollab.errors import NotFoundError
from vrcollab.meetings.store import MeetingRecord, MeetingSettings, MeetingStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS meeting_meetings (
    meeting_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, room_id TEXT NOT NULL,
    started REAL NOT NULL, ended REAL, seq_start INTEGER NOT NULL, seq_end INTEGER,
    recording INTEGER NOT NULL, participants TEXT NOT NULL DEFAULT '[]',
    log_bytes INTEGER NOT NULL DEFAULT 0, model TEXT);
CREATE INDEX IF NOT EXISTS meeting_meetings_project ON meeting_meetings(project_id, started);
CREATE TABLE IF NOT EXISTS meeting_settings (
    project_id TEXT PRIMARY KEY, recording INTEGER NOT NULL, retention_days REAL);
"""

_COLUMNS = ("meeting_id, project_id, room_id, started, ended, seq_start, seq_end, recording, "
            "participants, log_bytes, model")


def _record(row: tuple[Any, ...]) -> MeetingRecord:
    (mid, pid, rid, started, ended, seq_start, seq_end, recording, parts, log_bytes,
     model) = row
    return MeetingRecord(meeting_id=mid, project_id=pid, room_id=rid, started=started,
                         ended=ended, seq_start=seq_start, seq_end=seq_end,
                         recording=bool(recording), participants=json.loads(parts),
                         log_bytes=log_bytes, model=json.loads(model) if model else None)


class SqliteMeetingStore(MeetingStore):
    """Meeting tables in a SQLite file (or ``:memory:``)."""

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        sync = synchronous.upper() if synchronous.upper() in ("FULL", "NORMAL", "EXTRA") \
            else "FULL"
        self._db.execute(f"PRAGMA synchronous={sync}")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)

    def create(self, record: MeetingRecord) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT INTO meeting_meetings ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (record.meeting_id, record.project_id, record.room_id, record.started,
                 record.ended, record.seq_start, record.seq_end, int(record.recording),
                 json.dumps(record.participants), record.log_bytes,
                 json.dumps(record.model) if record.model is not None else None))

    def finish(self, meeting_id: str, *, ended: float, seq_end: int,
               participants: list[dict[str, Any]], log_bytes: int) -> MeetingRecord:
        with self._lock:
            cur = self._db.execute(
                "UPDATE meeting_meetings SET ended=?, seq_end=?, participants=?, log_bytes=? "
                "WHERE meeting_id=?",
                (ended, seq_end, json.dumps(participants), log_bytes, meeting_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"no meeting {meeting_id}")
        return self.get(meeting_id)

    def update(self, meeting_id: str, **changes: Any) -> MeetingRecord:
        cols = {"participants": json.dumps, "log_bytes": int, "recording": int,
                "model": lambda m: json.dumps(m) if m is not None else None}
        bad = set(changes) - set(cols)
        if bad:
            raise ValueError(f"cannot change {sorted(bad)}")
        if changes:
            sets = ", ".join(f"{k}=?" for k in changes)
            values = [cols[k](v) for k, v in changes.items()]  # type: ignore[operator]
            with self._lock:
                cur = self._db.execute(
                    f"UPDATE meeting_meetings SET {sets} WHERE meeting_id=?",
                    (*values, meeting_id))
                if cur.rowcount == 0:
                    raise NotFoundError(f"no meeting {meeting_id}")
        return self.get(meeting_id)

    def get(self, meeting_id: str) -> MeetingRecord:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM meeting_meetings WHERE meeting_id=?",
                (meeting_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no meeting {meeting_id}")
        return _record(row)

    def list_meetings(self, project_id: str) -> list[MeetingRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM meeting_meetings WHERE project_id=? "
                "ORDER BY started DESC", (project_id,)).fetchall()
        return [_record(r) for r in rows]

    def running(self) -> list[MeetingRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM meeting_meetings WHERE ended IS NULL").fetchall()
        return [_record(r) for r in rows]

    def delete(self, meeting_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM meeting_meetings WHERE meeting_id=?", (meeting_id,))

    def ended_before(self, project_id: str, t: float) -> list[MeetingRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM meeting_meetings WHERE project_id=? AND ended < ? "
                "ORDER BY started DESC", (project_id, t)).fetchall()
        return [_record(r) for r in rows]

    def get_settings(self, project_id: str) -> MeetingSettings:
        with self._lock:
            row = self._db.execute(
                "SELECT recording, retention_days FROM meeting_settings WHERE project_id=?",
                (project_id,)).fetchone()
        if row is None:
            return MeetingSettings(project_id)
        return MeetingSettings(project_id, bool(row[0]), row[1])

    def put_settings(self, settings: MeetingSettings) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meeting_settings (project_id, recording, retention_days) "
                "VALUES (?,?,?) ON CONFLICT(project_id) DO UPDATE SET "
                "recording=excluded.recording, retention_days=excluded.retention_days",
                (settings.project_id, int(settings.recording), settings.retention_days))

    def projects_with_retention(self) -> list[MeetingSettings]:
        with self._lock:
            rows = self._db.execute(
                "SELECT project_id, recording, retention_days FROM meeting_settings "
                "WHERE retention_days IS NOT NULL").fetchall()
        return [MeetingSettings(r[0], bool(r[1]), r[2]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
