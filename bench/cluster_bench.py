"""Cluster benchmark (issue 12): three server processes, one database, one redis-server.

20 rooms of 25 simulated headsets (poses at ``--pose-hz``, annotations from the measuring
clients) spread over client processes. Most rooms have all their clients on one server process
(as a load balancer hashing on the room would place them); one room ("split") has its clients
on all three processes, so two thirds of them are forwarded to the owner through Redis. Then
the owner of the split room is killed with SIGKILL and the time until a client on another
process has an op acknowledged again (lease expiry, takeover, load, reconnect) is measured.

    .venv/bin/python bench/cluster_bench.py            # 20 rooms x 25 clients, 10 s window
    .venv/bin/python bench/cluster_bench.py --quick    # 6 rooms x 10 clients, 4 s window

Latencies are measured against ``time.time()``, shared by all processes of this machine. Writes
``bench/results/cluster.md`` (``--out``) and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cluster.cluster_support import start_redis  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402
from vrcollab.cluster.local import LocalCluster  # noqa: E402
from vrcollab.server.auth import bootstrap_project, issue_member_token  # noqa: E402
from vrcollab.settings import Settings  # noqa: E402
from vrcollab.store import open_store  # noqa: E402

Spec = tuple[str, str, str, bool]  # (url, token, room kind, measuring)


def _cpu_s(srv: ServerProcess) -> float:
    """User + system CPU seconds of a server process so far."""
    assert srv.proc is not None
    fields = Path(f"/proc/{srv.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], q: float) -> float:
    """The q-quantile of xs in ms (nan when empty)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return 1000.0 * s[min(len(s) - 1, int(q * len(s)))]


async def _client(spec: Spec, cfg: dict[str, Any], out: dict[str, list[float]]) -> None:
    import websockets

    url, token, kind, measure = spec
    async with websockets.connect(f"{url}?token={token}", max_size=2**24,
                                  ping_interval=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "hello", "v": cfg["v"], "client_id": token[-12:],
                                  "last_seq": None, "name": "b", "color": "#336699",
                                  "device": "desktop"}))
        welcome = json.loads(await ws.recv())
        sid = welcome["session_id"]
        start, m0, m1 = cfg["start"], cfg["m0"], cfg["m1"]
        pending: dict[str, float] = {}

        async def send() -> None:
            await asyncio.sleep(max(0.0, start - time.time()) + (hash(sid) % 100) / 1000)
            period, n, next_op = 1.0 / cfg["pose_hz"], 0, time.time() + 1.0
            while time.time() < m1:
                now = time.time()
                await ws.send(json.dumps({"type": "pose", "head": {
                    "p": [now % 1000.0, 1.6, 0.0], "q": [0, 0, 0, 1]}}))
                if measure and now >= next_op:
                    n += 1
                    op_id = f"{sid}:{n}"
                    pending[op_id] = now
                    await ws.send(json.dumps({"type": "op", "op_id": op_id,
                                              "kind": "annotation.create", "annotation": {
                                                  "id": op_id, "position": [0, 1, 0],
                                                  "title": "bench"}}))
                    next_op = now + cfg["op_interval_s"]
                await asyncio.sleep(period)

        sender = asyncio.create_task(send())
        if not measure and cfg["light"]:
            # a light client: sends its poses, never reads; the frames wait in its socket
            # buffers (the websockets reader pauses after a few frames, the kernel holds the
            # rest: about 40 KB/s per client here), so the server does all its work while
            # this process spends nothing on frames it would only throw away
            try:
                await sender
            finally:
                ws.transport.abort()
            return
        try:
            while time.time() < m1 + 0.5:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                if not measure:
                    continue
                now = time.time()
                if not m0 <= now <= m1:
                    continue
                msg = json.loads(raw)
                if msg["type"] == "poses":
                    for other, pose in msg["poses"].items():
                        if other != sid:
                            sent = pose["head"]["p"][0]
                            out[f"pose_{kind}"].append(((now % 1000.0) - sent) % 1000.0)
                elif msg["type"] == "ack" and msg["op_id"] in pending:
                    out[f"ack_{kind}"].append(now - pending.pop(msg["op_id"]))
        finally:
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender


def _worker(specs: list[Spec], cfg: dict[str, Any], q: Any) -> None:
    out: dict[str, list[float]] = {f"{m}_{k}": [] for m in ("pose", "ack")
                                   for k in ("local", "split")}
    errors: list[str] = []

    async def main() -> None:
        res = await asyncio.gather(*(_client(s, cfg, out) for s in specs),
                                   return_exceptions=True)
        errors.extend(repr(r) for r in res if isinstance(r, BaseException))

    asyncio.run(main())
    q.put((out, errors))


async def _failover(owner_url: str, url: str, token: str, kill: Any) -> tuple[float, float]:
    """A client on the owner (so it owns the room), a probe on another process; kill the
    owner: seconds until the probe's op sent after the kill is acked (with reconnects), and
    until its first welcome after the kill."""
    from vrcollab.client import RoomClient

    holder = RoomClient("", "", token)
    holder.url = owner_url
    await holder.connect(timeout=30)
    c = RoomClient(url, "", token)
    c.url = url
    await c.connect(timeout=30)
    await c.op("annotation.create", annotation={"id": "pre", "position": [0, 1, 0]}, timeout=60)
    t0 = time.time()
    kill()
    welcomed = None
    fut = None
    while True:
        if not c.connected:
            try:
                await c.connect(timeout=10)
                welcomed = welcomed or time.time() - t0
            except Exception:
                await asyncio.sleep(0.05)
                continue
        if fut is None:
            fut = await c.send_op("annotation.create",
                                  annotation={"id": "post", "position": [0, 1, 0]})
        try:
            await asyncio.wait_for(asyncio.shield(fut), 0.1)
            break
        except TimeoutError:
            continue
    acked = time.time() - t0
    await c.close()
    await holder.drop()
    return acked, welcomed or acked


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--clients", type=int, default=25, help="per room")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pose-hz", type=float, default=5.0,
                    help="per client (default 5: 500 clients on this shared 2-core machine)")
    ap.add_argument("--measure", type=int, default=3, help="measuring clients per room")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full-clients", action="store_true",
                    help="every client reads and decodes what it receives (saturated this "
                    "2-core machine's client side at 500 clients); default: only the "
                    "measuring clients read")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cluster.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.rooms, args.clients, args.seconds = 6, 10, 4.0
    from vrcollab.sync.messages import PROTOCOL_VERSION

    tmp = Path(tempfile.mkdtemp(prefix="vrc-cluster-bench-"))
    os.chmod(tmp, 0o755)  # the postgres system user runs the database in it when we are root
    redis_proc, redis_url = start_redis(tmp / "redis")
    engines = LocalCluster(tmp, 0, 0)  # its Postgres only (initdb in tmp, loopback)
    db = engines.postgres()
    pg_note = "Postgres"
    env = {"VRCOLLAB_DATABASE_URL": db, "VRCOLLAB_BROKER_URL": redis_url,
           "VRCOLLAB_TICK_HZ": "20", "VRCOLLAB_RATE_LIMIT_PER_SECOND": "1000",
           "VRCOLLAB_RATE_LIMIT_BURST": "1000", "VRCOLLAB_CLUSTER_LEASE_MS": "3000",
           "VRCOLLAB_MAX_CONNECTIONS_PER_ADDRESS": "5000", "VRCOLLAB_MAX_CONNECTIONS": "5000"}
    servers = [ServerProcess(tmp / f"p{i}", env=env) for i in range(3)]
    try:
        for s in servers:
            s.start()
        store = open_store(Settings(database_url=db))
        project, _, _ = bootstrap_project(store, "Bench", "Owner")
        rooms = [store.create_room(project.project_id, f"R{i}").room_id
                 for i in range(args.rooms)]
        tokens = [[issue_member_token(store, project.project_id, "reviewer", f"u{r}-{i}")[1]
                   for i in range(args.clients)] for r in range(args.rooms)]
        probe = issue_member_token(store, project.project_id, "reviewer", "probe")[1]
        store.close()
        split = args.rooms - 1
        specs: list[Spec] = []
        for r, room in enumerate(rooms):
            for i in range(args.clients):
                srv = servers[(i if r == split else r) % 3]
                kind = "split" if r == split else "local"
                specs.append((f"ws://127.0.0.1:{srv.port}/ws/rooms/{room}", tokens[r][i], kind,
                              i < args.measure))
        # the first client of each room connects first and makes its process the owner
        firsts = [s for k, s in enumerate(specs) if k % args.clients == 0]
        rest = [s for k, s in enumerate(specs) if k % args.clients != 0]
        start = time.time() + 8.0 + len(specs) * 0.01
        cfg = {"v": PROTOCOL_VERSION, "pose_hz": args.pose_hz, "op_interval_s": 1.0,
               "light": not args.full_clients,
               "start": start, "m0": start + 3.0, "m1": start + 3.0 + args.seconds}
        q: Any = mp.get_context("fork").Queue()
        procs = [mp.get_context("fork").Process(target=_worker, args=(firsts, cfg, q))]
        procs[0].start()
        time.sleep(3.0)
        chunks = [rest[i::args.procs] for i in range(args.procs)]
        for ch in chunks:
            p = mp.get_context("fork").Process(target=_worker, args=(ch, cfg, q))
            p.start()
            procs.append(p)
        time.sleep(max(0.0, cfg["m0"] - time.time()))
        cpu0, load0 = [_cpu_s(srv) for srv in servers], os.getloadavg()
        time.sleep(max(0.0, cfg["m1"] - time.time()))
        cpu1 = [_cpu_s(srv) for srv in servers]
        results = [q.get(timeout=cfg["m1"] - time.time() + 120) for _ in procs]
        for p in procs:
            p.join(10)
        data: dict[str, list[float]] = {}
        errors: list[str] = []
        for out, errs in results:
            for k, v in out.items():
                data.setdefault(k, []).extend(v)
            errors.extend(errs)
        owner = servers[0]
        time.sleep(3.0)  # the rooms empty and their leases are released
        acked, welcomed = asyncio.run(_failover(
            f"ws://127.0.0.1:{owner.port}/ws/rooms/{rooms[split]}",
            f"ws://127.0.0.1:{servers[1].port}/ws/rooms/{rooms[split]}", probe, owner.kill))
    finally:
        for s in servers:
            s.stop()
        redis_proc.terminate()
        redis_proc.wait(10)
        engines.stop()

    load = os.getloadavg()[0]
    cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    who_reads = ("every client reads and decodes" if args.full_clients else
                 "only the measuring clients read and decode; the others send poses and leave "
                 "what they receive in their socket buffers")
    rows = [("all clients on the owner's process", "local"),
            ("clients on three processes (split room)", "split")]
    lines = [
        "# Cluster benchmark (issue 12)", "",
        f"{platform.node()} · {os.cpu_count()} CPUs (shared; load average {load:.1f} at the end) · "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
        f" · 3 server processes · database: {pg_note} · redis-server · {args.rooms} rooms x "
        f"{args.clients} clients · poses {args.pose_hz:g} Hz, tick 20 Hz · "
        f"{args.measure} measuring clients per room (1 op/s each) · {args.seconds:g} s window",
        "", f"- clients: {who_reads} ({args.procs + 1} client processes)",
        f"- load average at the window's start: {load0[0]:.1f}, {load0[1]:.1f}, {load0[2]:.1f}",
        f"- server CPU in the window: {', '.join(f'{c:.1f}' for c in cpu)} s of "
        f"{args.seconds:g} s (processes p0..p2; {sum(cpu) / args.seconds:.2f} cores together)",
        "", "| rooms | pose p50 ms | pose p99 ms | ack p50 ms | ack p99 ms | samples (pose/ack) |",
        "|---|---|---|---|---|---|"]
    for label, k in rows:
        ps, a = data.get(f"pose_{k}", []), data.get(f"ack_{k}", [])
        lines.append(f"| {label} | {pct(ps, .5):.1f} | {pct(ps, .99):.1f} | {pct(a, .5):.1f} | "
                     f"{pct(a, .99):.1f} | {len(ps)}/{len(a)} |")
    ratio = pct(data.get("pose_split", []), .5) / max(pct(data.get("pose_local", []), .5), 1e-9)
    lines += ["", f"split / local pose p50: {ratio:.2f}x", "",
              f"Failover after `kill -9` of the split room's owner (lease "
              f"{env['VRCOLLAB_CLUSTER_LEASE_MS']} ms): a client on another process is "
              f"welcomed again after {welcomed:.2f} s and its next op is acked after "
              f"{acked:.2f} s.", ""]
    if errors:
        lines += [f"client errors: {len(errors)} (first: {errors[0][:200]})", ""]
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
