"""Job progress reaches subscribers of another process through a real redis-server."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.cluster.cluster_support import redis_url  # noqa: F401
from vrcollab.cluster.job_relay import JobRelay
from vrcollab.jobs.events import JobEvents
from vrcollab.store.catalog import JobRecord


def job(percent: float, status: str = "running") -> JobRecord:
    return JobRecord("j_1", "p_1", "v_1", status, "load", percent,  # type: ignore[arg-type]
                     created=1.0, updated=time.time())


async def test_updates_published_in_one_process_reach_subscribers_of_another(
        redis_url: str) -> None:  # noqa: F811
    here, there = JobEvents(), JobEvents()
    seen_here: list[JobRecord] = []
    here.add_listener(seen_here.append)
    a, b = JobRelay(redis_url, here), JobRelay(redis_url, there)
    a.start()
    b.start()
    await a.ready()
    await b.ready()
    try:
        with there.subscribe("j_1") as queue:
            for pct in (10.0, 55.0):  # from the runner's thread, as the runner does
                t = threading.Thread(target=here.publish, args=(job(pct),))
                t.start()
                t.join()
                got = await asyncio.wait_for(queue.get(), 10)
                assert (got.job_id, got.percent, got.status) == ("j_1", pct, "running")
            here.publish(job(100.0, "done"))
            got = await asyncio.wait_for(queue.get(), 10)
            assert got.status == "done"
        await asyncio.sleep(0.3)
        # re-delivered updates are not published again: no echo back to the first process
        assert [j.percent for j in seen_here] == [10.0, 55.0, 100.0]
    finally:
        await a.close()
        await b.close()
