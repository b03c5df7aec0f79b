"""One contract for every meeting store: memory, SQLite and Postgres (a real server from
Debian's ``postgresql``, ``tests.pg_support``; skipped with a reason where it is missing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vrcollab.errors import NotFoundError
from vrcollab.meetings.store import MeetingRecord, MeetingSettings, MeetingStore, MemoryMeetingStore
from vrcollab.meetings.store_sqlite import SqliteMeetingStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MeetingStore]:
    s: MeetingStore
    if request.param == "memory":
        s = MemoryMeetingStore()
    elif request.param == "sqlite":
        s = SqliteMeetingStore(tmp_path / "m.sqlite3")
    else:
        from vrcollab.meetings.store_postgres import PostgresMeetingStore

        s = PostgresMeetingStore(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def _rec(mid: str, started: float, project: str = "p1") -> MeetingRecord:
    return MeetingRecord(meeting_id=mid, project_id=project, room_id="r1", started=started,
                         seq_start=3, recording=True, model={"version_id": "v1"})


def test_create_finish_list_and_delete(store: MeetingStore) -> None:
    store.create(_rec("a", 10.0))
    store.create(_rec("b", 20.0))
    store.create(_rec("c", 30.0, project="p2"))
    assert [m.meeting_id for m in store.running()] == ["a", "b", "c"]
    done = store.finish("a", ended=15.0, seq_end=9,
                        participants=[{"user_id": "u", "name": "U", "seconds": 5.0}],
                        log_bytes=1234)
    assert done.duration == 5.0
    assert done.seq_end == 9
    assert done.participants[0]["name"] == "U"
    assert done.model == {"version_id": "v1"}
    assert [m.meeting_id for m in store.list_meetings("p1")] == ["b", "a"]  # newest first
    assert [m.meeting_id for m in store.ended_before("p1", 16.0)] == ["a"]
    assert store.ended_before("p1", 15.0) == []
    assert store.update("a", recording=False, log_bytes=0).recording is False
    with pytest.raises(ValueError, match="cannot change"):
        store.update("a", started=1.0)
    store.delete("a")
    store.delete("a")  # no error
    with pytest.raises(NotFoundError):
        store.get("a")
    with pytest.raises(NotFoundError):
        store.finish("zz", ended=1.0, seq_end=1, participants=[], log_bytes=0)


def test_settings_default_and_replace(store: MeetingStore) -> None:
    assert store.get_settings("p1") == MeetingSettings("p1", False, None)
    store.put_settings(MeetingSettings("p1", True, 30.0))
    store.put_settings(MeetingSettings("p2", True, None))
    assert store.get_settings("p1") == MeetingSettings("p1", True, 30.0)
    assert store.projects_with_retention() == [MeetingSettings("p1", True, 30.0)]
    store.put_settings(MeetingSettings("p1", False, None))
    assert store.projects_with_retention() == []


def test_two_stores_on_one_database_see_each_others_meetings(store: MeetingStore,
                                                            tmp_path: Path) -> None:
    """Processes share the meeting tables of the service's database (several processes on
    Postgres; one process's stores on SQLite): what one writes the other reads."""
    if isinstance(store, MemoryMeetingStore):
        pytest.skip("the memory store is one process's own")
    from vrcollab.meetings.store_postgres import PostgresMeetingStore

    other: MeetingStore = (PostgresMeetingStore(store._db.db.url)  # type: ignore[attr-defined]
                           if isinstance(store, PostgresMeetingStore)
                           else SqliteMeetingStore(tmp_path / "m.sqlite3"))
    try:
        store.create(_rec("a", 10.0))
        assert [m.meeting_id for m in other.running()] == ["a"]
        other.finish("a", ended=12.5, seq_end=7, participants=[], log_bytes=0)
        assert store.get("a").ended == 12.5
        other.put_settings(MeetingSettings("p1", True, 2.0))
        assert store.get_settings("p1") == MeetingSettings("p1", True, 2.0)
    finally:
        other.close()
