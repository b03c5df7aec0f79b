"""Store interfaces and records.

The store convention, shared with the model catalog (:mod:`.catalog`): interfaces are
``typing.Protocol`` classes that each backend subclasses explicitly (so mypy checks a backend
where it is defined); records are frozen, slotted dataclasses; ids come from :func:`new_id`
(``<prefix>_<16 hex>``); an unknown id raises :class:`~vrcollab.errors.NotFoundError` and a
clash ``StoreError(code="conflict")``; backends are opened by :mod:`.factory` only, SQLite ones
through :mod:`.sqlite_db`, and each passes one contract suite per interface.

Two protocols, implemented together by each backend (:mod:`.memory`, :mod:`.sqlite`,
:mod:`.postgres`) and checked by one contract test suite (``tests/store/test_contract.py``):

- :class:`AuthStore`: users, projects, members with roles, hashed bearer tokens, rooms.
- :class:`RoomStore`: the per-room op log (commits) and periodic snapshots.

``append_commits`` is the durability point of protocol R9: when it returns, the commits survive
a crash of the process (and, with SQLite ``synchronous=FULL``, of the machine).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from vrcollab.store.identity import IdentityStore
from vrcollab.store.users import TOKEN_PREFIX, User, hash_token, new_token
from vrcollab.sync.messages import Commit

__all__ = ["TOKEN_PREFIX", "User", "hash_token", "new_token"]  # re-exported (store.users)

@dataclass(frozen=True, slots=True)
class Project:
    """A project: members with roles, and rooms."""

    project_id: str
    name: str
    created: float


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room of a project; ``model`` is filled by the ingest/upload part (sent in welcome)."""

    room_id: str
    project_id: str
    name: str
    model: dict[str, Any] | None
    created: float


@dataclass(frozen=True, slots=True)
class RoomLoad:
    """What a room needs to start: latest snapshot, commits after it, replay log, op ids."""

    snapshot: dict[str, Any] | None
    snapshot_seq: int
    tail: list[Commit]
    log_before: list[Commit]
    op_seqs: dict[str, int] = field(default_factory=dict)


def new_id(prefix: str) -> str:
    """A random, URL-safe id like ``p_3f9a1c0b2d4e5f60``."""
    return f"{prefix}_{secrets.token_hex(8)}"


class AuthStore(Protocol):
    """Users, projects, memberships, tokens and rooms."""

    def create_user(self, name: str) -> User:
        """Create a user."""
        ...

    def get_user(self, user_id: str) -> User:
        """The user; NotFoundError if unknown."""
        ...

    def create_project(self, name: str, *, project_id: str | None = None) -> Project:
        """Create a project; ConflictError-like StoreError if ``project_id`` exists."""
        ...

    def get_project(self, project_id: str) -> Project:
        """The project; NotFoundError if unknown."""
        ...

    def set_member(self, project_id: str, user_id: str, role: str) -> None:
        """Add a member or change its role."""
        ...

    def get_role(self, project_id: str, user_id: str) -> str | None:
        """The user's role in the project, or None if not a member."""
        ...

    def memberships(self, user_id: str) -> dict[str, str]:
        """Project id -> role for every project the user belongs to."""
        ...

    def members(self, project_id: str) -> dict[str, str]:
        """User id -> role for every member of the project (empty for an unknown project)."""
        ...

    def create_token(self, user_id: str, *, expires_at: float | None = None,
                     kind: str = "bearer", label: str = "") -> str:
        """Issue a bearer token (``kind`` bearer) or browser session (``session``) for a user;
        returns the plaintext (stored hashed)."""
        ...

    def resolve_token(self, token: str, now: float) -> User:
        """The token's user; AuthError if unknown, revoked or expired."""
        ...

    def revoke_token(self, token: str) -> None:
        """Make a token unusable."""
        ...

    def create_room(
        self,
        project_id: str,
        name: str,
        *,
        model: dict[str, Any] | None = None,
        room_id: str | None = None,
    ) -> RoomRecord:
        """Create a room in a project."""
        ...

    def get_room(self, room_id: str) -> RoomRecord:
        """The room; NotFoundError if unknown."""
        ...

    def list_rooms(self, project_id: str) -> list[RoomRecord]:
        """The project's rooms, oldest first."""
        ...

    def set_room_model(self, room_id: str, model: dict[str, Any] | None) -> None:
        """Attach a converted model (``{"version_id", "manifest_url", ...}``) to a room."""
        ...


class RoomStore(Protocol):
    """The durable op log and snapshots of rooms."""

    def append_commits(self, room_id: str, commits: list[Commit]) -> None:
        """Persist commits atomically and durably, in order; StoreError on a seq or op id
        that already exists (nothing of the batch is written then)."""
        ...

    def commits_since(self, room_id: str, seq: int) -> list[Commit]:
        """Commits with seq > ``seq``, in order."""
        ...

    def save_snapshot(self, room_id: str, seq: int, snapshot: dict[str, Any]) -> None:
        """Store the room state at ``seq`` (older snapshots may be dropped)."""
        ...

    def load_room(self, room_id: str, *, replay_window: int) -> RoomLoad:
        """Latest snapshot, the commits after it, up to ``replay_window`` commits before it
        (for reconnect replay) and every committed op id."""
        ...


class Store(AuthStore, IdentityStore, RoomStore, Protocol):
    """A complete backend."""

    def close(self) -> None:
        """Release resources."""
        ...
