"""Durability (protocol R9): kill -9 the server mid-stream, restart it, nothing acked is lost and
resumed clients apply nothing twice."""

from __future__ import annotations

import asyncio
import statistics
import time

from tests.conftest import ServerFactory
from vrcollab.client import RoomClient


def ann(aid: str) -> dict[str, object]:
    return {"id": aid, "position": [0.1, 0.2, 0.3], "title": aid, "text": "durable " * 10}


async def test_kill_9_loses_no_acked_op_and_resume_has_no_duplicates(
        server_factory: ServerFactory) -> None:
    srv = server_factory(env={"VRCOLLAB_SNAPSHOT_EVERY_OPS": "7",
                              "VRCOLLAB_RATE_LIMIT_PER_SECOND": "1000",
                              "VRCOLLAB_RATE_LIMIT_BURST": "1000"})
    boot = srv.bootstrap()
    rev = srv.token(boot.project_id, "reviewer", "Rita")
    a = RoomClient(srv.base_url, boot.room_id, boot.owner_token, name="A")
    b = RoomClient(srv.base_url, boot.room_id, rev, name="B")
    await a.connect()
    await b.connect()

    latencies: list[float] = []
    for i in range(20):  # sequential: measure send -> ack
        t0 = time.perf_counter()
        await a.op("annotation.create", annotation=ann(f"a{i}"))
        latencies.append(time.perf_counter() - t0)
    await b.op("comment.add", annotation_id="a0", comment={"id": "c0", "text": "first"})

    # a burst in flight when the server dies: some acked, some maybe committed, some not
    futs = [await a.send_op("annotation.create", annotation=ann(f"burst{i}"))
            for i in range(40)]
    futs += [await b.send_op("comment.add", annotation_id="a1",
                             comment={"id": f"bc{i}", "text": "x"}) for i in range(10)]
    while sum(f.done() for f in futs) < 5:
        await asyncio.sleep(0.001)
    srv.kill()
    await a.wait_closed()
    await b.wait_closed()
    assert a.close_code == 1006
    acked = {f.result()["op_id"]: f.result()["seq"] for f in futs if f.done()}
    seq_before = max(a.seq, b.seq)
    print(f"at kill: {len(acked)} of {len(futs)} burst ops acked")

    srv.start()  # same port, same data dir
    await a.connect()  # resumes with last_seq and resends unacked ops (same op ids)
    await b.connect()
    results = await asyncio.wait_for(asyncio.gather(*futs), 20)
    assert all(r["type"] == "ack" for r in results)
    for r in results:  # acks before the crash keep their seq after it
        if r["op_id"] in acked:
            assert r["seq"] == acked[r["op_id"]]
    final = max(r["seq"] for r in results)
    await a.wait_seq(final)
    await b.wait_seq(final)

    fresh = RoomClient(srv.base_url, boot.room_id, boot.owner_token)
    await fresh.connect()
    assert fresh.seq == final >= seq_before
    assert fresh.state == a.state == b.state
    assert set(fresh.state.annotations) == {f"a{i}" for i in range(20)} | {
        f"burst{i}" for i in range(40)}
    comments = [c["id"] for c in fresh.state.annotations["a1"]["comments"]]
    assert comments == [f"bc{i}" for i in range(10)]  # each exactly once, in send order
    store = srv.open_store()
    try:
        log = store.commits_since(boot.room_id, 0)
    finally:
        store.close()
    assert [c.seq for c in log] == list(range(1, final + 1))
    assert len({c.op_id for c in log}) == len(log) == 20 + 1 + 40 + 10
    for c in (a, b, fresh):
        await c.close()
    p50 = statistics.median(latencies)
    p99 = max(latencies)
    print(f"durable op send->ack (SQLite FULL, sequential): p50 {p50 * 1000:.1f} ms, "
          f"max {p99 * 1000:.1f} ms")
    assert p50 < 0.5


async def test_graceful_restart_keeps_state_and_snapshots(server_factory: ServerFactory) -> None:
    srv = server_factory()
    boot = srv.bootstrap()
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as a:
        for i in range(5):
            await a.op("node.set", node_id="n", props={"transform": [float(i)] * 16})
        await a.op("presenter.set", user_id=a.welcome["user"]["user_id"])  # type: ignore[index]
        state, seq = a.state.snapshot(), a.seq
    srv.stop()  # SIGTERM: closes sessions with 1001 and snapshots the room
    store = srv.open_store()
    try:
        data = store.load_room(boot.room_id, replay_window=10)
    finally:
        store.close()
    assert data.snapshot_seq == seq
    assert data.tail == []
    srv.start()
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as again:
        assert again.seq == seq
        assert again.state.snapshot() == state
