"""A removed member's live room connection closes at once (4401), through the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.server_process import ServerProcess
from vrcollab.client import RoomClient

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # a long re-check period: only the removal hook can close the socket within the test
    s = ServerProcess(tmp_path_factory.mktemp("live"), env={"VRCOLLAB_AUTH_RECHECK_S": "600"})
    s.start()
    yield s
    s.stop()


async def test_removed_member_is_disconnected(srv: ServerProcess) -> None:
    boot = srv.bootstrap()
    rita = srv.token(boot.project_id, "reviewer", "Rita")
    owner = {"Authorization": f"Bearer {boot.owner_token}"}
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as calm, \
            RoomClient(srv.base_url, boot.room_id, rita) as victim:
        me = httpx.get(f"{srv.base_url}/api/me",
                       headers={"Authorization": f"Bearer {rita}"}).json()
        res = await asyncio.to_thread(
            httpx.delete, f"{srv.base_url}/api/projects/{boot.project_id}/members/"
            f"{me['user_id']}", headers=owner)
        assert res.status_code == 200
        assert res.json()["closed_connections"] == 1
        assert await victim.wait_closed(10.0) == 4401
        assert calm.close_code is None
        assert await calm.ping() < 5.0
    # and cannot come back with the same token
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token):
        with pytest.raises(InvalidStatus, match="403"):  # refused upgrade
            async with RoomClient(srv.base_url, boot.room_id, rita):
                pass


async def test_invited_viewer_cannot_create_projects_and_revoked_tokens_stop(
        srv: ServerProcess) -> None:
    """Issue 8 items 6 and 9 through the real server: a viewer who came by invite gets 403 on
    project creation; a revoked token is refused by REST and at the websocket upgrade; an
    expired invite is refused."""
    boot = srv.bootstrap()
    api = f"{srv.base_url}/api"
    owner = {"Authorization": f"Bearer {boot.owner_token}"}
    inv = httpx.post(f"{api}/projects/{boot.project_id}/invites", headers=owner,
                     json={"role": "viewer"}).json()
    viewer = httpx.post(f"{api}/invites/accept",
                        json={"invite": inv["invite"], "name": "Vic"}).json()["token"]
    vh = {"Authorization": f"Bearer {viewer}"}
    res = httpx.post(f"{api}/projects", headers=vh, json={"name": "Squat"})
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "no_create_permission"
    assert httpx.post(f"{api}/projects", headers=owner, json={"name": "Ok"}).status_code == 201
    tokens = httpx.get(f"{api}/tokens", headers=vh).json()
    assert httpx.delete(f"{api}/tokens/{tokens[0]['token_id']}", headers=vh).status_code == 200
    assert httpx.get(f"{api}/me", headers=vh).status_code == 401
    with pytest.raises(InvalidStatus, match="403"):
        async with RoomClient(srv.base_url, boot.room_id, viewer):
            pass
    short = httpx.post(f"{api}/projects/{boot.project_id}/invites", headers=owner,
                       json={"role": "viewer", "expires_in_s": 0.2}).json()
    await asyncio.sleep(0.4)
    late = httpx.post(f"{api}/invites/accept", json={"invite": short["invite"], "name": "L"})
    assert late.status_code == 401
    assert late.json()["error"]["code"] == "invite_expired"
