"""Several server processes as one service: forwarding, relays, failover, security (issue 12).

Real ``redis-server`` and real server processes on 127.0.0.1 (``cluster_support``). Waits are
bounded by generous timeouts, never asserted on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.cluster.cluster_support import Cluster, database_url, redis_url  # noqa: F401
from vrcollab.client import RoomClient, ws_url

FAST = {"VRCOLLAB_RATE_LIMIT_PER_SECOND": "1000", "VRCOLLAB_RATE_LIMIT_BURST": "1000",
        "VRCOLLAB_SNAPSHOT_EVERY_OPS": "25"}


def ann(aid: str) -> dict[str, object]:
    return {"id": aid, "position": [0.1, 0.2, 0.3], "title": aid, "text": "cluster"}


async def until(pred: object, timeout: float = 20.0) -> None:
    """Poll ``pred()`` until true (a bound, not a timed assertion)."""
    async with asyncio.timeout(timeout):
        while not pred():  # type: ignore[operator]
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("n", [2, 3])
async def test_processes_see_each_others_ops_and_poses_in_order(
        tmp_path: Path, database_url: str, redis_url: str, n: int) -> None:  # noqa: F811
    with Cluster(tmp_path, database_url, redis_url, n, env=FAST) as cl:
        room = cl.room()
        p0, p1 = cl.servers[:2]
        rita = cl.token(room.project_id, "reviewer", "Rita")
        a = RoomClient(p0.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()  # first in: p0 owns the room
        b = RoomClient(p1.base_url, room.room_id, rita, name="B")
        await b.connect()  # forwarded to p0
        others = []
        if n == 3:  # a third process with its own session, also forwarded
            third = RoomClient(cl.servers[2].base_url, room.room_id,
                               cl.token(room.project_id, "viewer", "Cy"), name="C")
            await third.connect()
            others.append(third)
        await until(lambda: b.session_id in a.presence and a.session_id in b.presence)

        futs = []
        for i in range(30):  # interleaved, several in flight from both processes
            futs.append(await a.send_op("annotation.create", annotation=ann(f"a{i}")))
            futs.append(await b.send_op("annotation.create", annotation=ann(f"b{i}")))
        acks = await asyncio.wait_for(asyncio.gather(*futs), 30)
        assert all(m["type"] == "ack" for m in acks)
        final = max(m["seq"] for m in acks)
        assert sorted(m["seq"] for m in acks) == list(range(1, final + 1))
        await a.wait_seq(final)
        await b.wait_seq(final)  # the mirrors refuse gaps: commits came in order
        for c in others:
            await c.wait_seq(final)
            assert [m["seq"] for m in c.messages if m["type"] == "commit"] == list(
                range(1, final + 1))  # a viewer on a third process: every commit, in order
        assert a.state == b.state
        assert all(c.state == a.state for c in others)
        assert len(a.state.annotations) == 60
        # each saw the other's commits in seq order, each seq once
        for c in (a, b):
            seqs = [m["seq"] for m in c.messages if m["type"] == "commit"]
            seqs += [m["seq"] for m in c.messages if m["type"] == "ack"]
            assert sorted(seqs) == list(range(1, final + 1))
            order = [m["seq"] for m in c.messages if m["type"] in ("commit", "ack")]
            assert order == sorted(order)

        # poses both ways over pub/sub
        for i in range(20):
            await a.pose(([0.0, 1.6, float(i)], [0, 0, 0, 1]))
            await b.pose(([1.0, 1.6, float(i)], [0, 0, 0, 1]))
            await asyncio.sleep(0.03)
        await until(lambda: a.session_id in b.poses and b.session_id in a.poses)
        for c in others:  # from both, through the owner
            await until(lambda c=c: c.poses.get(a.session_id, {}).get("head", {}).get("p")
                        == [0.0, 1.6, 19.0] and c.poses.get(b.session_id, {}).get(
                            "head", {}).get("p") == [1.0, 1.6, 19.0])
        await until(lambda: b.poses[a.session_id]["head"]["p"][2] == 19.0
                    and a.poses[b.session_id]["head"]["p"][2] == 19.0)

        # who is in the room, asked of the process that does not own it
        def online() -> dict[str, bool]:
            r = httpx.get(f"{p1.base_url}/api/rooms/{room.room_id}/members",
                          headers={"Authorization": f"Bearer {rita}"})
            return {m["name"]: m["online"] for m in r.json()["members"]}

        names = {"Owner": True, "Rita": True, **({"Cy": True} if others else {})}
        await until(lambda: online() == names)
        await b.close()
        await until(lambda: online() == {**names, "Rita": False})
        for c in (a, *others):
            await c.close()


async def _reconnect(c: RoomClient, bases: list[str], room_id: str) -> None:
    """Resume on a live process (the next in ``bases``), retrying while the room moves."""
    for attempt in range(40):
        c.url = ws_url(bases[attempt % len(bases)], room_id)
        try:
            await c.connect(timeout=20)
            return
        except Exception:
            await asyncio.sleep(0.25)
    raise AssertionError("client could not resume")


async def test_kill_9_of_the_owner_under_load_loses_and_duplicates_nothing(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    with Cluster(tmp_path, database_url, redis_url, 3, env=FAST) as cl:
        room = cl.room()
        bases = [s.base_url for s in cl.servers]
        clients = []
        for i in range(6):  # two per process; the first one makes p0 the owner
            token = cl.token(room.project_id, "reviewer", f"R{i}")
            c = RoomClient(bases[i % 3], room.room_id, token, name=f"R{i}")
            await c.connect()
            clients.append(c)

        futs: list[asyncio.Future[dict[str, object]]] = []
        stop = asyncio.Event()

        async def load(c: RoomClient, i: int) -> None:
            n = 0
            while not stop.is_set():
                futs.append(await c.send_op("annotation.create", annotation=ann(f"c{i}-{n}")))
                n += 1
                await asyncio.sleep(0.005)

        loaders = [asyncio.create_task(load(c, i)) for i, c in enumerate(clients)]
        await until(lambda: sum(f.done() for f in futs) >= 60)
        cl.servers[0].kill()  # the owner, mid-stream
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*loaders)
        acked = {f.result()["op_id"]: f.result()["seq"] for f in futs if f.done()}
        print(f"at kill: {len(acked)} of {len(futs)} ops acked")

        for c in clients:  # p0's see 1006 at once, the others 1012 once the lease expires
            await c.wait_closed(30)
        codes = sorted({c.close_code for c in clients})
        assert codes == [1006, 1012], codes
        for c in clients:
            await _reconnect(c, bases[1:], room.room_id)
        results = await asyncio.wait_for(asyncio.gather(*futs), 60)
        assert all(r["type"] == "ack" for r in results)
        for r in results:  # acked before the kill: same seq after it
            if r["op_id"] in acked:
                assert r["seq"] == acked[r["op_id"]]
        final = max(int(r["seq"]) for r in results)
        for c in clients:
            await c.wait_seq(final, 30)

        fresh = RoomClient(bases[2], room.room_id, room.owner_token)
        await fresh.connect()
        assert fresh.seq == final
        assert all(c.state == fresh.state for c in clients)
        assert len(fresh.state.annotations) == len(futs)
        store = cl.store()
        try:
            log = store.commits_since(room.room_id, 0)
        finally:
            store.close()
        assert [c.seq for c in log] == list(range(1, final + 1))
        assert len({c.op_id for c in log}) == len(log) == len(futs)  # each op exactly once
        for c in [*clients, fresh]:
            await c.close()


async def test_member_of_another_project_cannot_read_a_room_owned_elsewhere(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    with Cluster(tmp_path, database_url, redis_url, 2, env=FAST) as cl:
        room_a = cl.room("A")
        room_b = cl.room("B")
        p0, p1 = cl.servers
        owner_b = RoomClient(p0.base_url, room_b.room_id, room_b.owner_token)
        await owner_b.connect()  # p0 owns B's room
        await owner_b.op("annotation.create", annotation=ann("secret"))
        member_a = cl.token(room_a.project_id, "owner", "Alice")
        intruder = RoomClient(p1.base_url, room_b.room_id, member_a)
        with pytest.raises(InvalidStatus) as err:
            await intruder.connect()
        assert err.value.response.status_code == 403
        assert intruder.welcome is None
        auth = {"Authorization": f"Bearer {member_a}"}
        for path in (f"/api/rooms/{room_b.room_id}", f"/api/rooms/{room_b.room_id}/members"):
            assert httpx.get(p1.base_url + path, headers=auth).status_code == 404
        # her own room works through p1, and shows nothing of B's
        mine = RoomClient(p1.base_url, room_a.room_id, member_a)
        await mine.connect()
        assert mine.state.annotations == {}
        await mine.close()
        await owner_b.close()


async def test_sessions_per_member_are_counted_across_processes(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    env = {**FAST, "VRCOLLAB_MAX_SESSIONS_PER_MEMBER": "2"}
    with Cluster(tmp_path, database_url, redis_url, 3, env=env) as cl:
        room = cl.room()
        token = cl.token(room.project_id, "viewer", "Vic")
        held = []
        for srv in cl.servers[:2]:
            c = RoomClient(srv.base_url, room.room_id, token)
            await c.connect()
            held.append(c)
        third = RoomClient(cl.servers[2].base_url, room.room_id, token)
        with contextlib.suppress(Exception):
            await third.connect()
        assert await third.wait_closed() == 4409
        await held[0].close()
        again = RoomClient(cl.servers[2].base_url, room.room_id, token)
        await until(lambda: True)
        for _ in range(50):  # the release reaches Redis right after the close
            with contextlib.suppress(Exception):
                await again.connect()
                break
            await asyncio.sleep(0.1)
        assert again.connected
        for c in (held[1], again):
            await c.close()


async def test_sessions_of_a_killed_edge_leave_the_room(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    with Cluster(tmp_path, database_url, redis_url, 2, env=FAST) as cl:
        room = cl.room()
        p0, p1 = cl.servers
        a = RoomClient(p0.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()
        b = RoomClient(p1.base_url, room.room_id, cl.token(room.project_id, "viewer", "V"))
        await b.connect()
        await until(lambda: b.session_id in a.presence)
        p1.kill()  # the edge dies: no close, no leave from it
        await until(lambda: b.session_id not in a.presence, 30)  # no ghost avatar
        assert a.connected
        await a.close()


async def test_an_edge_that_fell_behind_the_trimmed_stream_resyncs_its_clients(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    env = {**FAST, "VRCOLLAB_CLUSTER_STREAM_MAXLEN": "20"}
    with Cluster(tmp_path, database_url, redis_url, 2, env=env) as cl:
        room = cl.room()
        p0, p1 = cl.servers
        a = RoomClient(p0.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()
        b = RoomClient(p1.base_url, room.room_id, cl.token(room.project_id, "viewer", "V"))
        await b.connect()
        await until(lambda: b.session_id in a.presence)
        assert p1.pid is not None
        os.kill(p1.pid, signal.SIGSTOP)  # the edge stalls while the owner commits on
        try:
            futs = [await a.send_op("annotation.create", annotation=ann(f"t{i}"))
                    for i in range(300)]
            acks = await asyncio.wait_for(asyncio.gather(*futs), 60)
        finally:
            os.kill(p1.pid, signal.SIGCONT)
        # its entries were trimmed before it read them: it never delivers past the hole
        assert await b.wait_closed(30) == 1012
        final = max(m["seq"] for m in acks)
        await b.connect()  # resumes with last_seq
        await b.wait_seq(final, 30)
        assert b.state == a.state
        for c in (a, b):
            await c.close()
