"""Issue 15 benchmark: what recording a meeting costs.

1. **Bytes per participant-hour**: a synthetic one-hour meeting of ``--people`` participants
   (heads walking and looking around, hands moving, a laser pointer part of the time, poses
   arriving at 30 Hz) through the real recorder at the default 5 Hz sampling, written as a real
   log file. Reported for moving people and for people standing still.
2. **Seek time** in that one-hour recording (plus synthetic issue commits): seeks to random
   times with a cold chunk cache, Python replay (keyframe state + one chunk).
3. **CPU cost of recording at ``--clients`` clients**: the real server, one room, clients
   sending poses at 20 Hz from a separate process; server CPU time over the same window with
   the project's recording off, then on (same server run). Reports the ratio.

    PYTHONPATH=$PWD .venv/bin/python bench/meeting_bench.py [--clients 50 --seconds 15]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from tests.server_process import ServerProcess  # noqa: E402
from vrcollab.client import ws_url  # noqa: E402
from vrcollab.meetings.logfile import LogWriter, read_index, read_payload  # noqa: E402
from vrcollab.meetings.recorder import Recorder  # noqa: E402
from vrcollab.meetings.replay import Replay  # noqa: E402
from vrcollab.sync.messages import Commit  # noqa: E402
from vrcollab.sync.state import RoomState, apply_commit  # noqa: E402

TICK_HZ = 30.0


def _pose(rng: random.Random, i: int, t: float, moving: bool, laser: bool) -> dict:
    if not moving:
        t = 0.0
    x = 5 * math.sin(0.05 * t + i) + 0.02 * rng.random()
    z = 5 * math.cos(0.04 * t + 2 * i)
    yaw = 0.6 * math.sin(0.3 * t + i)
    q = [0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)]
    hand = 0.15 * math.sin(1.3 * t + i)
    pose = {"head": {"p": [x, 1.65 + 0.02 * math.sin(t), z], "q": q},
            "left": {"p": [x - 0.25, 1.1 + hand, z - 0.2], "q": q},
            "right": {"p": [x + 0.25, 1.1 - hand, z - 0.2], "q": q}, "laser": None}
    if laser:
        pose["laser"] = {"origin": [x + 0.25, 1.1, z - 0.2], "dir": [0.0, -0.3, -0.95],
                         "hit": [x + 1.0, 0.0, z - 3.0], "node_id": None}
    return pose


def synthetic_recording(path: Path, people: int, seconds: float, *, moving: bool,
                        seed: int = 15) -> tuple[int, list[Commit], float]:
    """Record a synthetic meeting into ``path``; returns (bytes, commits, recorder CPU s)."""
    rng = random.Random(seed)
    t0 = 1_800_000_000.0
    state = RoomState()
    rec = Recorder(started=t0, seq=0, state=state.snapshot(), presence=[])
    writer = LogWriter(path)
    for i in range(people):
        rec.join(t0, {"session_id": f"s{i}", "user_id": f"u{i}", "name": f"P{i}",
                      "color": "#336699", "role": "reviewer", "device": "desktop",
                      "following": None})
    commits: list[Commit] = []
    seq = 0
    cpu0 = time.process_time()
    n_ticks = int(seconds * TICK_HZ)
    for k in range(n_ticks):
        t = t0 + k / TICK_HZ
        poses = {f"s{i}": _pose(rng, i, t - t0, moving, laser=(int(t - t0) // 20 + i) % 3 == 0)
                 for i in range(people)}
        rec.sample(t, poses)
        if k % int(TICK_HZ * 6) == 0:  # one issue event every 6 s
            seq += 1
            n = len(state.annotations)
            if n and rng.random() < 0.6:
                aid = rng.choice(sorted(state.annotations))
                c = Commit(seq, f"o{seq}", "comment.add", "u1", t,
                           {"annotation_id": aid, "comment": {"id": f"c{seq}",
                                                              "text": "looks good " * 5}})
            else:
                c = Commit(seq, f"o{seq}", "annotation.create", "u1", t, {"annotation": {
                    "id": f"a{seq}", "position": [rng.random(), 0, rng.random()],
                    "normal": [0, 0, 1], "node_id": None, "element_id": None,
                    "viewpoint": None, "title": f"Issue {seq}", "text": "x" * 80,
                    "status": "open", "priority": "normal", "assignee": None, "labels": []}})
            apply_commit(state, c)
            commits.append(c)
            rec.commit(t, seq)
        if rec.due(t):
            chunk, data = rec.cut(t, seq, state.snapshot)
            writer.append(data, t0=chunk.t0, t1=chunk.t1, seq=chunk.seq,
                          has_state=chunk.state is not None)
    chunk, data = rec.finish(t0 + seconds)
    writer.append(data, t0=chunk.t0, t1=chunk.t1, seq=chunk.seq, has_state=chunk.state is not None)
    writer.close()
    return path.stat().st_size, commits, time.process_time() - cpu0


def seek_times(path: Path, commits: list[Commit], n: int = 50) -> list[float]:
    """Milliseconds per cold seek (fresh Replay, chunks read from the file)."""
    index = read_index(path)
    rng = random.Random(1)
    t0, t1 = index[0].t0, index[-1].t1
    out = []
    for _ in range(n):
        t = rng.uniform(t0, t1)
        start = time.perf_counter()
        rp = Replay(index, lambda info: read_payload(path, info), commits)
        rp.at(t)
        out.append((time.perf_counter() - start) * 1000)
    return out


CLIENTS = r"""
import json, sys, threading, time, math
from websockets.sync.client import connect
urls = sys.argv[1].split(",")
seconds = float(sys.argv[2])
socks = []
def drain(w):
    try:
        while True:
            w.recv()
    except Exception:
        pass
for i, url in enumerate(urls):
    ws = connect(url, max_size=None)
    ws.send(json.dumps({"type": "hello", "v": 1, "client_id": f"bench{i}"}))
    ws.recv()
    threading.Thread(target=drain, args=(ws,), daemon=True).start()
    socks.append(ws)
print("ready", flush=True)
end = time.monotonic() + seconds
k = 0
while time.monotonic() < end:
    t = time.time()
    for i, ws in enumerate(socks):
        x = math.sin(t * 0.5 + i)
        ws.send(json.dumps({"type": "pose", "head": {"p": [x, 1.6, i * 0.5], "q": [0, 0, 0, 1]},
                            "laser": {"origin": [x, 1.2, i * 0.5], "dir": [0, 0, -1],
                                      "hit": [x, 0, i * 0.5 - 3]}}))
    k += 1
    time.sleep(max(0.0, k / 20.0 - (seconds - (end - time.monotonic()))))
print("done", flush=True)
for ws in socks:
    ws.close()
"""


def cpu_phase(srv: ServerProcess, urls: list[str], seconds: float, warmup: float) -> float:
    """Server CPU seconds over ``seconds`` of pose traffic from the clients."""
    proc = subprocess.Popen([sys.executable, "-c", CLIENTS, ",".join(urls),
                             str(seconds + warmup)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(warmup)
    server = psutil.Process(srv.pid)
    c0 = server.cpu_times()
    w0 = time.monotonic()
    time.sleep(seconds)
    c1 = server.cpu_times()
    wall = time.monotonic() - w0
    proc.wait(timeout=120)
    time.sleep(1.0)  # everyone left: the meeting ends
    return (c1.user + c1.system - c0.user - c0.system) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2, help="off/on pairs (alternating)")
    ap.add_argument("--skip-cpu", action="store_true")
    args = ap.parse_args()
    print(f"# meeting bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        seconds = args.hours * 3600
        for moving in (True, False):
            path = Path(tmp) / f"m{int(moving)}.vrcm"
            size, commits, cpu = synthetic_recording(path, args.people, seconds, moving=moving)
            per = size / (args.people * args.hours)
            label = "moving" if moving else "standing still"
            print(f"bytes per participant-hour ({label}, {args.people} people, "
                  f"{args.hours:g} h, 5 Hz): {per / 1e6:.2f} MB  (log {size / 1e6:.1f} MB, "
                  f"{len(read_index(path))} chunks, recorder CPU {cpu:.1f} s = "
                  f"{cpu / seconds * 100:.2f} % of one core)")
            if moving:
                ms = sorted(seek_times(path, commits))
                print(f"seek in the {args.hours:g} h {args.people}-person recording "
                      f"({len(commits)} commits): median {statistics.median(ms):.1f} ms, "
                      f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms")
    if args.skip_cpu:
        return
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp), env={"VRCOLLAB_TICK_HZ": "30"})
        srv.start()
        try:
            boot = srv.bootstrap()
            tokens = [srv.token(boot.project_id, "reviewer", f"c{i}")
                      for i in range(args.clients)]
            urls = [f"{ws_url(srv.base_url, boot.room_id)}?token={t}" for t in tokens]
            auth = {"Authorization": f"Bearer {boot.owner_token}"}
            result: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.rounds):
                for on in (False, True):
                    httpx.put(f"{srv.base_url}/api/projects/{boot.project_id}/meeting-settings",
                              json={"recording": on}, headers=auth).raise_for_status()
                    result[on].append(cpu_phase(srv, urls, args.seconds, 3.0))
            meetings = httpx.get(f"{srv.base_url}/api/projects/{boot.project_id}/meetings",
                                 headers=auth).json()
        finally:
            srv.stop()
    off, on = statistics.median(result[False]), statistics.median(result[True])
    print(f"server CPU at {args.clients} clients x 20 Hz poses: recording off "
          f"{off * 100:.1f} % core, on {on * 100:.1f} % core, ratio on/off {on / off:.3f} "
          f"(rounds off {[round(x * 100, 1) for x in result[False]]}, "
          f"on {[round(x * 100, 1) for x in result[True]]})")
    rec = [m for m in meetings if m["recording"]]
    if rec:
        m = rec[0]
        hours = sum(p["seconds"] for p in m["participants"]) / 3600
        print(f"live recording: {m['log_bytes'] / 1e3:.0f} kB for {hours * 60:.1f} "
              f"participant-minutes = {m['log_bytes'] / hours / 1e6:.2f} MB per "
              f"participant-hour")


if __name__ == "__main__":
    main()
