"""End to end over real websockets: join, ops, commits, poses, presence, resume."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_process import ServerProcess
from vrcollab.client import OpRejectedError, RoomClient


def annotation(aid: str, **kw: object) -> dict[str, object]:
    return {"id": aid, "position": [1.0, 2.0, 3.0], "title": f"Issue {aid}", **kw}


async def test_two_clients_share_ops_poses_and_presence(shared_server: ServerProcess) -> None:
    boot = shared_server.bootstrap()
    url = shared_server.base_url
    rev = shared_server.token(boot.project_id, "reviewer", "Rita")
    async with RoomClient(url, boot.room_id, boot.owner_token, name="Olga") as a:
        assert a.welcome is not None
        assert a.welcome["user"]["role"] == "owner"
        assert a.welcome["room"]["project_id"] == boot.project_id
        async with RoomClient(url, boot.room_id, rev, name="Rita", device="vr") as b:
            joined = await a.wait_for(lambda m: m["type"] == "presence")
            assert joined["event"] == "join"
            assert joined["entry"]["name"] == "Rita"
            assert joined["entry"]["device"] == "vr"
            ack = await b.op("annotation.create", annotation=annotation("a1"))
            assert ack["seq"] == 1
            await a.wait_seq(1)
            assert a.state.annotations["a1"]["author"] == b.welcome["user"]["user_id"]  # type: ignore[index]
            await b.op("comment.add", annotation_id="a1", comment={"id": "c1", "text": "see"})
            await a.op("annotation.update", id="a1", props={"status": "resolved"})
            await b.wait_seq(3)
            assert b.state == a.state
            with pytest.raises(OpRejectedError) as info:
                await b.op("node.set", node_id="n1", props={"visible": False})
            assert info.value.code == "forbidden"
            await b.pose(([0.0, 1.6, 0.0], [0.0, 0.0, 0.0, 1.0]),
                         laser={"origin": [0, 1, 0], "dir": [0, 0, -1], "hit": [0, 1, -2],
                                "node_id": "wall"})
            poses = await a.wait_for(lambda m: m["type"] == "poses")
            assert list(poses["poses"]) == [b.session_id]
            assert poses["poses"][b.session_id]["laser"]["node_id"] == "wall"
            rtt = await a.ping()
            assert rtt < 1.0
        left = await a.wait_for(lambda m: m["type"] == "presence" and m["event"] == "leave")
        assert left["entry"]["name"] == "Rita"
        assert a.presence == {}


async def test_resume_gets_exactly_the_missed_ops(shared_server: ServerProcess) -> None:
    boot = shared_server.bootstrap()
    url = shared_server.base_url
    async with RoomClient(url, boot.room_id, boot.owner_token) as a:
        b = RoomClient(url, boot.room_id, boot.owner_token)
        await b.connect()
        await a.op("annotation.create", annotation=annotation("x1"))
        await b.wait_seq(1)
        await b.drop()
        for i in range(2, 5):
            await a.op("annotation.create", annotation=annotation(f"x{i}"))
        w = await b.connect()
        assert w["snapshot"] is None
        assert [c["seq"] for c in w["ops"]] == [2, 3, 4]
        assert b.state == a.state
        late = RoomClient(url, boot.room_id, boot.owner_token)
        w2 = await late.connect()
        assert w2["ops"] is None
        assert w2["seq"] == 4
        assert late.state == a.state
        await late.close()
        await b.close()


async def test_resend_after_reconnect_is_not_duplicated(shared_server: ServerProcess) -> None:
    boot = shared_server.bootstrap()
    async with RoomClient(shared_server.base_url, boot.room_id, boot.owner_token) as a:
        fut = await a.send_op("annotation.create", annotation=annotation("d1"))
        await a.drop()  # maybe committed, ack maybe lost
        await a.connect()  # resends d1 with the same op id
        msg = await asyncio.wait_for(fut, 10)
        assert msg["type"] == "ack"
        assert msg["seq"] == 1
        again = await a.op("annotation.create", op_id=fut_op_id(a, msg),
                           annotation=annotation("d1"))
        assert again["seq"] == 1
        assert a.seq == 1
        assert list(a.state.annotations) == ["d1"]


def fut_op_id(client: RoomClient, ack: dict[str, object]) -> str:
    op_id = ack["op_id"]
    assert isinstance(op_id, str)
    return op_id
