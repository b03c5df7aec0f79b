"""One contract for every store backend (memory, SQLite; Postgres/Redis must pass it too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vrcollab.errors import AuthError, NotFoundError, StoreError
from vrcollab.store import MemoryStore, SqliteStore, Store
from vrcollab.store.postgres import PostgresStore
from vrcollab.store.room_loader import load_room
from vrcollab.sync.messages import Commit


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "postgres":
        s = PostgresStore(request.getfixturevalue("pg_url"))
    else:
        s = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "db.sqlite3")
    yield s
    s.close()


def commit(seq: int, op_id: str | None = None, text: str = "t") -> Commit:
    return Commit(seq, op_id or f"op{seq}", "annotation.create", "u1", 1000.0 + seq,
                  {"annotation": {"id": f"a{seq}", "text": text, "position": [0.0, 1.5, -2.0]}})


def test_users_projects_members(store: Store) -> None:
    p = store.create_project("Tower")
    u = store.create_user("Ann")
    assert store.get_project(p.project_id) == p
    assert store.get_user(u.user_id) == u
    assert store.get_role(p.project_id, u.user_id) is None
    store.set_member(p.project_id, u.user_id, "reviewer")
    store.set_member(p.project_id, u.user_id, "editor")
    assert store.get_role(p.project_id, u.user_id) == "editor"
    assert store.memberships(u.user_id) == {p.project_id: "editor"}
    assert store.members(p.project_id) == {u.user_id: "editor"}
    assert store.members("p_nope") == {}
    with pytest.raises(NotFoundError):
        store.get_project("p_nope")
    with pytest.raises(NotFoundError):
        store.get_user("u_nope")
    with pytest.raises(StoreError):
        store.create_project("again", project_id=p.project_id)
    with pytest.raises(ValueError, match="role"):
        store.set_member(p.project_id, u.user_id, "admin")


def test_project_settings(store: Store, tmp_path: Path) -> None:
    p = store.create_project("Tower")
    assert store.get_project_settings(p.project_id) == {}
    store.set_project_settings(p.project_id, {"voice_viewers_may_speak": True})
    assert store.get_project_settings(p.project_id) == {"voice_viewers_may_speak": True}
    store.set_project_settings(p.project_id, {})
    assert store.get_project_settings(p.project_id) == {}
    with pytest.raises(NotFoundError):
        store.get_project_settings("p_nope")
    with pytest.raises(NotFoundError):
        store.set_project_settings("p_nope", {"voice_viewers_may_speak": True})


def test_tokens_are_hashed_expire_and_revoke(store: Store, tmp_path: Path) -> None:
    u = store.create_user("Bob")
    tok = store.create_token(u.user_id)
    short = store.create_token(u.user_id, expires_at=2000.0)
    assert store.resolve_token(tok, 1e12) == u
    assert store.resolve_token(short, 1999.0) == u
    with pytest.raises(AuthError) as info:
        store.resolve_token(short, 2000.0)
    assert info.value.code == "token_expired"
    with pytest.raises(AuthError):
        store.resolve_token(tok + "x", 0.0)
    store.revoke_token(tok)
    with pytest.raises(AuthError):
        store.resolve_token(tok, 0.0)
    if isinstance(store, PostgresStore):  # only the hash is in the database
        rows = store._all("SELECT token_hash, user_id FROM tokens", ())
        assert rows
        assert all(tok not in " ".join(r) for r in rows)
    elif isinstance(store, SqliteStore):  # only the hash is on disk
        assert tok.encode() not in (tmp_path / "db.sqlite3").read_bytes()
        wal = tmp_path / "db.sqlite3-wal"
        assert not wal.exists() or tok.encode() not in wal.read_bytes()


def test_rooms(store: Store) -> None:
    p = store.create_project("P")
    r1 = store.create_room(p.project_id, "Kickoff")
    r2 = store.create_room(p.project_id, "Review", model={"version_id": "v1",
                                                           "manifest_url": "/m.json"})
    assert store.get_room(r2.room_id).model == {"version_id": "v1", "manifest_url": "/m.json"}
    assert [r.room_id for r in store.list_rooms(p.project_id)] == [r1.room_id, r2.room_id]
    store.set_room_model(r1.room_id, {"version_id": "v2"})
    assert store.get_room(r1.room_id).model == {"version_id": "v2"}
    with pytest.raises(NotFoundError):
        store.get_room("r_nope")
    with pytest.raises(NotFoundError):
        store.create_room("p_nope", "x")


def test_commits_append_in_order_and_round_trip(store: Store) -> None:
    store.append_commits("r", [commit(1), commit(2, text="ünïcode ✓")])
    store.append_commits("r", [commit(3)])
    assert store.commits_since("r", 0) == [commit(1), commit(2, text="ünïcode ✓"), commit(3)]
    assert store.commits_since("r", 2) == [commit(3)]
    assert store.commits_since("other", 0) == []


@pytest.mark.parametrize(
    "bad",
    [[commit(3)], [commit(2, "op1")], [commit(2), commit(2)], [commit(2), commit(3, "op2")]],
)
def test_bad_batches_write_nothing(store: Store, bad: list[Commit]) -> None:
    store.append_commits("r", [commit(1)])
    with pytest.raises(StoreError):
        store.append_commits("r", bad)
    assert store.commits_since("r", 0) == [commit(1)]


def test_snapshot_and_load(store: Store) -> None:
    p = store.create_project("P")
    rec = store.create_room(p.project_id, "R")
    rid = rec.room_id
    store.append_commits(rid, [commit(i) for i in range(1, 6)])
    empty = store.load_room("never", replay_window=10)
    assert (empty.snapshot, empty.snapshot_seq, empty.tail, empty.op_seqs) == (None, 0, [], {})
    room = load_room(store, rec, replay_window=3, tick_hz=30, heartbeat_s=10)
    assert room.seq == 5
    store.save_snapshot(rid, 4, room.state.snapshot())  # pretend: state at 5, labelled 4
    store.append_commits(rid, [commit(6)])
    data = store.load_room(rid, replay_window=3)
    assert data.snapshot_seq == 4
    assert [c.seq for c in data.tail] == [5, 6]
    assert [c.seq for c in data.log_before] == [2, 3, 4]
    assert data.op_seqs == {f"op{i}": i for i in range(1, 7)}


def test_load_room_rebuilds_state(store: Store) -> None:
    p = store.create_project("P")
    rec = store.create_room(p.project_id, "R")
    store.append_commits(rec.room_id, [commit(i) for i in range(1, 4)])
    a = load_room(store, rec, replay_window=100, tick_hz=30, heartbeat_s=10)
    store.save_snapshot(rec.room_id, a.seq, a.state.snapshot())
    store.append_commits(rec.room_id, [commit(4)])
    b = load_room(store, rec, replay_window=100, tick_hz=30, heartbeat_s=10)
    assert b.seq == 4
    assert set(b.state.annotations) == {"a1", "a2", "a3", "a4"}
    assert b.commit_at(2) == commit(2)
    assert b.op_seqs["op4"] == 4


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "x.sqlite3")
    u = s.create_user("C")
    tok = s.create_token(u.user_id)
    s.append_commits("r", [commit(1)])
    s.close()
    s2 = SqliteStore(tmp_path / "x.sqlite3")
    assert s2.resolve_token(tok, 0.0) == u
    assert s2.commits_since("r", 0) == [commit(1)]
    mode = s2._one("PRAGMA journal_mode", ())
    assert mode is not None
    assert mode[0] == "wal"
    s2.close()
