"""A lost COMMIT reply (protocol R7, R9): the op is durable and broadcast, but its ack never
reaches the sender because the connection dies first. The client resends the op with the same
op id after reconnecting; the server answers with the stored commit's seq and applies nothing
twice. On SQLite and on Postgres (``tests.pg_support``; the cluster variant is in
``tests/cluster/test_cross_process.py``)."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from vrcollab.client import RoomClient


async def lose_an_ack(sender: RoomClient, observer: RoomClient) -> None:
    """Send an op from ``sender``, let ``observer`` see it committed, kill the sender's
    connection with its ack unread, reconnect and check the resend is answered exactly once."""
    await sender.op("annotation.create", annotation={"id": "before", "position": [0, 0, 0]})
    reader = sender._reader  # stop reading: the ack will arrive, but nobody takes it
    assert reader is not None
    reader.cancel()
    sender._reader = None
    fut = await sender.send_op("annotation.create",
                               annotation={"id": "lost", "position": [1, 2, 3]})
    op_id = sender.unacked[0]
    commit = await observer.wait_for(
        lambda m: m["type"] == "commit" and m["op_id"] == op_id, timeout=20)
    seq = commit["seq"]  # durable (R9: broadcast only after the write) and acked on the wire
    await sender.drop()  # the connection dies with the ack unread
    assert not fut.done()
    assert sender.unacked == [op_id]

    await sender.connect()  # resumes and resends the pending op with its op id
    ack = await fut
    assert ack["type"] == "ack"
    assert ack["seq"] == seq  # the stored commit, not a new one
    assert sender.unacked == []
    nxt = await observer.op("annotation.create",
                            annotation={"id": "after", "position": [0, 0, 0]})
    assert nxt["seq"] == seq + 1  # the resend took no seq
    await sender.wait_seq(nxt["seq"])
    assert [m["seq"] for m in observer.messages
            if m["type"] == "commit" and m["op_id"] == op_id] == [seq]  # broadcast once
    assert sorted(sender.state.annotations) == ["after", "before", "lost"]
    fresh = RoomClient(observer.url.rsplit("/ws/", 1)[0], observer.room_id, observer.token)
    await fresh.connect()  # from the store: the op once
    try:
        assert fresh.seq == nxt["seq"]
        assert sorted(fresh.state.annotations) == ["after", "before", "lost"]
        assert fresh.state == sender.state
    finally:
        await fresh.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_resend_after_a_lost_ack_returns_the_stored_commit(
        server_factory: ServerFactory, request: pytest.FixtureRequest, engine: str) -> None:
    env = ({"VRCOLLAB_DATABASE_URL": request.getfixturevalue("pg_url")}
           if engine == "postgres" else {})
    srv = server_factory(env=env, name=f"lost-ack-{engine}")
    boot = srv.bootstrap()
    sender = RoomClient(srv.base_url, boot.room_id,
                        srv.token(boot.project_id, "reviewer", "Rita"), name="S")
    observer = RoomClient(srv.base_url, boot.room_id, boot.owner_token, name="O")
    await observer.connect()
    await sender.connect()
    try:
        await lose_an_ack(sender, observer)
    finally:
        await sender.close()
        await observer.close()
