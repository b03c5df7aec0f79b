"""Project control events reach every process (issue 12): a member removed or re-roled through
one process is closed (4401) on the others, a settings change applies to a room owned by
another process.

Real ``redis-server``, Postgres and three server processes on 127.0.0.1 (``cluster_support``).
The periodic token re-check is set to 10 minutes, so only the control event can close a socket
within the bounds below; waits are bounds, never timed assertions.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.cluster.cluster_support import Cluster, database_url, redis_url  # noqa: F401
from tests.cluster.test_cluster import FAST, until
from vrcollab.client import RoomClient

ENV = {**FAST, "VRCOLLAB_AUTH_RECHECK_S": "600"}
CLOSE_WITHIN_S = 5.0  # far below the 600 s re-check: only the control event closes in time


def _is(kind: str, /, **kw: object) -> Any:
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in kw.items())


def _user_id(base_url: str, token: str) -> str:
    me = httpx.get(f"{base_url}/api/me", headers={"Authorization": f"Bearer {token}"})
    return str(me.json()["user_id"])


async def test_a_member_removed_through_one_process_is_closed_on_the_others(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """The room is owned by p1; the member has a session on p1 (the owner) and one on p2 (an
    edge); the owner changes its role and then removes it through p0, which serves no session
    of the room: both sockets close with 4401 each time, the role change joins again with the
    new role, after the removal neither process lets it back in."""
    with Cluster(tmp_path, database_url, redis_url, 3, env=ENV) as cl:
        room = cl.room()
        p0, p1, p2 = cl.servers
        calm = RoomClient(p1.base_url, room.room_id, room.owner_token, name="Owner")
        await calm.connect()  # first in: p1 owns the room
        token = cl.token(room.project_id, "reviewer", "Mo")
        mo = [RoomClient(p.base_url, room.room_id, token, name="Mo") for p in (p1, p2)]
        for c in mo:
            await c.connect()
        await until(lambda: len(calm.presence) == 2)
        user_id = _user_id(p0.base_url, token)
        owner = {"Authorization": f"Bearer {room.owner_token}"}
        member_url = f"{p0.base_url}/api/projects/{room.project_id}/members/{user_id}"

        res = await asyncio.to_thread(httpx.put, member_url, json={"role": "viewer"},
                                      headers=owner)
        assert res.status_code == 200
        assert res.json()["closed_connections"] == 2  # p1's and p2's, counted by p0
        for c in mo:
            assert await c.wait_closed(CLOSE_WITHIN_S) == 4401
        for c in mo:  # joined again, with the new role
            await c.connect()
        await until(lambda: len(calm.presence) == 2)
        assert {m["role"] for m in calm.presence.values()} == {"viewer"}

        res = await asyncio.to_thread(httpx.delete, member_url, headers=owner)
        assert res.status_code == 200
        assert res.json()["closed_connections"] == 2
        for c in mo:
            assert await c.wait_closed(CLOSE_WITHIN_S) == 4401
        await until(lambda: not calm.presence)
        for p in (p1, p2, p0):  # nobody lets it back in
            again = RoomClient(p.base_url, room.room_id, token)
            with pytest.raises(InvalidStatus) as err:
                await again.connect()
            assert err.value.response.status_code == 403
        assert calm.close_code is None
        assert await calm.ping() < 5.0
        await calm.close()


async def test_a_settings_change_through_one_process_applies_to_a_room_owned_by_another(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """p1 owns the room, a viewer in voice sits on p2; "viewers may speak" switched on through
    p0 reaches the owner's room voice: the viewer is joined again with the right to speak."""
    with Cluster(tmp_path, database_url, redis_url, 3, env=ENV) as cl:
        room = cl.room()
        p0, p1, p2 = cl.servers
        a = RoomClient(p1.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()  # p1 owns the room
        v = RoomClient(p2.base_url, room.room_id, cl.token(room.project_id, "viewer", "V"),
                       name="V")
        await v.connect()
        await until(lambda: v.session_id in a.presence)
        await v.send_raw(json.dumps({"type": "voice.join", "muted": False}))
        assert (await v.wait_for(_is("voice.error"), timeout=20))["code"] == "publish_forbidden"
        assert (await v.wait_for(_is("voice.welcome"), timeout=20))["can_speak"] is False

        res = await asyncio.to_thread(
            httpx.patch, f"{p0.base_url}/api/projects/{room.project_id}/settings",
            json={"voice_viewers_may_speak": True},
            headers={"Authorization": f"Bearer {room.owner_token}"})
        assert res.status_code == 200
        w = await v.wait_for(_is("voice.welcome", can_speak=True), timeout=CLOSE_WITHIN_S)
        assert w["muted"] is True
        await v.send_raw(json.dumps({"type": "voice.mute", "muted": False}))
        unmuted = await a.wait_for(_is("voice.muted", session_id=v.session_id, muted=False),
                                   timeout=20)
        assert unmuted["by"] is None
        for c in (a, v):
            await c.close()
