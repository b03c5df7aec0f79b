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
