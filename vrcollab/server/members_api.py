"""``GET /api/rooms/{room_id}/members``: the people of a room's project, for names and pickers.

Clients show authors by name even when they are offline (presence only names who is online)
and pick assignees from this list rather than typing free text. Any member of the room's
project may read it (viewer and up); others get 404, like an unknown room (no existence leak).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vrcollab.errors import NotFoundError
from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, StoreDep
from vrcollab.server.schemas import RoomMembersOut
from vrcollab.sync.messages import ROLES

router = APIRouter(prefix="/api")

#: Roles from the highest down, for a stable order (then by name).
_ORDER = {role: rank for rank, role in enumerate(ROLES[::-1])}


@router.get("/rooms/{room_id}/members", response_model=RoomMembersOut)
def room_members(room_id: str, user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """``{"room_id", "members": [{"user_id", "name", "role"}]}``, owners first, then by name."""
    try:
        room = store.get_room(room_id)
    except NotFoundError:
        raise NotFoundError(f"no room {room_id}") from None
    require_role(store, room.project_id, user, "viewer")
    rows = []
    for user_id, role in store.members(room.project_id).items():
        try:
            name = store.get_user(user_id).name
        except NotFoundError:
            continue
        rows.append({"user_id": user_id, "name": name, "role": role})
    rows.sort(key=lambda r: (_ORDER.get(r["role"], 9), r["name"].lower(), r["user_id"]))
    return {"room_id": room_id, "members": rows}
