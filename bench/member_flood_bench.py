"""Issue 8 item 7: one member with many connections must not slow the others down.

Starts the real server, lets one reviewer token open ``--connections`` sockets that each send
at just under the per-connection limit (in a separate, niced process), and measures another
member's op-ack latency against a baseline without the flood. Prints p50/p99 and the ratios::

    PYTHONPATH=$PWD .venv/bin/python bench/member_flood_bench.py --connections 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server_process import ServerProcess  # noqa: E402
from vrcollab.client import RoomClient, ws_url  # noqa: E402

FLOODER = r"""
import json, sys, threading, time
from websockets.sync.client import connect
url, n, seconds, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
every, text = int(sys.argv[5]), "x" * int(sys.argv[6])
socks = []
for i in range(n):
    ws = connect(url, max_size=None).__enter__()
    ws.send(json.dumps({"type": "hello", "v": 1, "client_id": f"flood{i}"}))
    ws.recv()
    threading.Thread(target=lambda w=ws: [w.recv() for _ in iter(int, 1)], daemon=True).start()
    socks.append(ws)
pose = json.dumps({"type": "pose", "head": {"p": [0, 1, 0], "q": [0, 0, 0, 1]}})
end, k, sent = time.monotonic() + seconds, 0, 0
while time.monotonic() < end:
    t0 = time.monotonic()
    for j, ws in enumerate(socks):
        k += 1
        if k % every == 0:
            ws.send(json.dumps({"type": "op", "op_id": f"f{j}-{k}", "kind": "annotation.create",
                                "annotation": {"id": f"f{j}-{k}", "position": [0, 0, 0],
                                               "text": text}}))
        else:
            ws.send(pose)
        sent += 1
    time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - t0)))
print(sent, flush=True)
"""


async def acks(srv: ServerProcess, room_id: str, token: str, n: int) -> list[float]:
    out: list[float] = []
    async with RoomClient(srv.base_url, room_id, token) as c:
        c.keep_messages = False
        for i in range(n):
            t0 = time.perf_counter()
            await c.op("annotation.create", annotation={"id": f"calm{time.time_ns()}{i}",
                                                        "position": [1, 1, 1]})
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(0.02)
    return out


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * q))] * 1e3


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=55.0, help="messages/s per flood connection")
    ap.add_argument("--ops", type=int, default=150)
    ap.add_argument("--op-every", type=int, default=2, help="every n-th flood message is an op")
    ap.add_argument("--text-chars", type=int, default=9000, help="text of each flood op")
    ap.add_argument("--no-member-limit", action="store_true",
                    help="switch the per-member budget off (what the issue measured)")
    args = ap.parse_args()
    env = {"VRCOLLAB_MAX_SESSIONS_PER_MEMBER": str(max(16, args.connections))}
    if args.no_member_limit:
        env.update(VRCOLLAB_MEMBER_RATE_LIMIT_PER_SECOND="1e9",
                   VRCOLLAB_MEMBER_RATE_LIMIT_BURST="1000000000")
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp), env=env) as srv:
        b = srv.bootstrap()
        calm = srv.token(b.project_id, "reviewer", "calm")
        flood = srv.token(b.project_id, "reviewer", "flood")
        base = await acks(srv, b.room_id, calm, args.ops)
        url = f"{ws_url(srv.base_url, b.room_id)}?token={flood}"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", FLOODER, url, str(args.connections), str(args.seconds),
            str(args.rate), str(args.op_every), str(args.text_chars),
            stdout=asyncio.subprocess.PIPE, preexec_fn=lambda: os.nice(10))
        await asyncio.sleep(1.0)
        under = await acks(srv, b.room_id, calm, args.ops)
        out, _ = await proc.communicate()
    print(f"flood: {args.connections} connections of one member, {out.decode().strip()} "
          f"messages offered at {args.rate:g}/s each, every {args.op_every}. an op of "
          f"{args.text_chars} chars; member limit {'off' if args.no_member_limit else 'on'}")
    for name, xs in (("baseline", base), ("under flood", under)):
        print(f"{name:12s} ack p50 {statistics.median(xs) * 1e3:7.1f} ms  "
              f"p99 {pct(xs, 0.99):7.1f} ms")
    p50 = statistics.median(under) / statistics.median(base)
    p99 = pct(under, 0.99) / pct(base, 0.99)
    print(f"ratio under flood / baseline: p50 {p50:.2f}  p99 {p99:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
