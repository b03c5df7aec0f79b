"""In-memory store: the reference implementation of the store contract (tests, demos)."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from vrcollab.errors import AuthError, NotFoundError, StoreError
from vrcollab.store.base import (
    Project,
    RoomLoad,
    RoomRecord,
    Store,
    User,
    hash_token,
    new_id,
    new_token,
)
from vrcollab.store.identity import MemoryIdentity
from vrcollab.sync.messages import ROLES, Commit


class MemoryStore(MemoryIdentity, Store):
    """Everything in dicts, guarded by one lock. Nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._projects: dict[str, Project] = {}
        self._members: dict[tuple[str, str], str] = {}
        self._tokens: dict[str, tuple[str, float | None]] = {}
        self._rooms: dict[str, RoomRecord] = {}
        self._commits: dict[str, list[Commit]] = {}
        self._op_ids: dict[str, dict[str, int]] = {}
        self._snapshots: dict[str, tuple[int, dict[str, Any]]] = {}
        self._init_identity()

    # --- auth domain -----------------------------------------------------------------------

    def create_user(self, name: str) -> User:
        with self._lock:
            user = User(new_id("u"), name, time.time())
            self._users[user.user_id] = user
            return user

    def get_user(self, user_id: str) -> User:
        with self._lock:
            try:
                return self._users[user_id]
            except KeyError:
                raise NotFoundError(f"no user {user_id}") from None

    def create_project(self, name: str, *, project_id: str | None = None) -> Project:
        with self._lock:
            pid = project_id or new_id("p")
            if pid in self._projects:
                raise StoreError(f"project {pid} already exists", code="conflict")
            project = Project(pid, name, time.time())
            self._projects[pid] = project
            return project

    def get_project(self, project_id: str) -> Project:
        with self._lock:
            try:
                return self._projects[project_id]
            except KeyError:
                raise NotFoundError(f"no project {project_id}") from None

    def set_member(self, project_id: str, user_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        with self._lock:
            self.get_project(project_id)
            self.get_user(user_id)
            self._members[(project_id, user_id)] = role

    def get_role(self, project_id: str, user_id: str) -> str | None:
        with self._lock:
            return self._members.get((project_id, user_id))

    def memberships(self, user_id: str) -> dict[str, str]:
        with self._lock:
            return {p: r for (p, u), r in self._members.items() if u == user_id}

    def members(self, project_id: str) -> dict[str, str]:
        with self._lock:
            return {u: r for (p, u), r in self._members.items() if p == project_id}

    def create_token(self, user_id: str, *, expires_at: float | None = None,
                     kind: str = "bearer", label: str = "") -> str:
        with self._lock:
            self.get_user(user_id)
            token = new_token()
            self._tokens[hash_token(token)] = (user_id, expires_at)
            self._note_token(token, kind, label)
            return token

    def resolve_token(self, token: str, now: float) -> User:
        with self._lock:
            row = self._tokens.get(hash_token(token))
            if row is None:
                raise AuthError("unknown or revoked token")
            user_id, expires_at = row
            if expires_at is not None and now >= expires_at:
                raise AuthError("token expired", code="token_expired")
            return self.get_user(user_id)

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(hash_token(token), None)

    def create_room(
        self,
        project_id: str,
        name: str,
        *,
        model: dict[str, Any] | None = None,
        room_id: str | None = None,
    ) -> RoomRecord:
        with self._lock:
            self.get_project(project_id)
            rid = room_id or new_id("r")
            if rid in self._rooms:
                raise StoreError(f"room {rid} already exists", code="conflict")
            room = RoomRecord(rid, project_id, name, copy.deepcopy(model), time.time())
            self._rooms[rid] = room
            return room

    def get_room(self, room_id: str) -> RoomRecord:
        with self._lock:
            try:
                return self._rooms[room_id]
            except KeyError:
                raise NotFoundError(f"no room {room_id}") from None

    def list_rooms(self, project_id: str) -> list[RoomRecord]:
        with self._lock:
            rooms = [r for r in self._rooms.values() if r.project_id == project_id]
            return sorted(rooms, key=lambda r: r.created)

    def set_room_model(self, room_id: str, model: dict[str, Any] | None) -> None:
        with self._lock:
            r = self.get_room(room_id)
            self._rooms[room_id] = RoomRecord(
                r.room_id, r.project_id, r.name, copy.deepcopy(model), r.created
            )

    # --- op log ----------------------------------------------------------------------------

    def append_commits(self, room_id: str, commits: list[Commit]) -> None:
        with self._lock:
            log = self._commits.setdefault(room_id, [])
            ids = self._op_ids.setdefault(room_id, {})
            last = log[-1].seq if log else 0
            seen: set[str] = set()
            for c in commits:
                if c.seq != last + 1:
                    raise StoreError(f"commit seq {c.seq} does not follow {last}", code="conflict")
                if c.op_id in ids or c.op_id in seen:
                    raise StoreError(f"op id {c.op_id} already committed", code="conflict")
                seen.add(c.op_id)
                last = c.seq
            for c in commits:
                log.append(copy.deepcopy(c))
                ids[c.op_id] = c.seq

    def commits_since(self, room_id: str, seq: int) -> list[Commit]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._commits.get(room_id, []) if c.seq > seq]

    def save_snapshot(self, room_id: str, seq: int, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self._snapshots[room_id] = (seq, copy.deepcopy(snapshot))

    def load_room(self, room_id: str, *, replay_window: int) -> RoomLoad:
        with self._lock:
            snap_seq, snap = self._snapshots.get(room_id, (0, None))
            log = self._commits.get(room_id, [])
            before = [c for c in log if c.seq <= snap_seq][-replay_window:] if replay_window else []
            return RoomLoad(
                snapshot=copy.deepcopy(snap),
                snapshot_seq=snap_seq,
                tail=[copy.deepcopy(c) for c in log if c.seq > snap_seq],
                log_before=copy.deepcopy(before),
                op_seqs=dict(self._op_ids.get(room_id, {})),
            )

    def close(self) -> None:
        """Nothing to release."""
