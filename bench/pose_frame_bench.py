"""Pose tick cost: one shared frame per room (protocol R24) vs one frame per receiver (before).

Every session in a room of N moves every tick (headsets at 30 Hz). The per-receiver path is the
one the server used before issue 12: encode each pose once, then join the N-1 other fragments
into a frame for every receiver (N² work per tick). The shared path is ``PresenceTable.take_frame``
plus one ``PoseSlot`` per receiver. Reports server CPU per tick (process time, so a busy shared
machine changes little) and the ratio.

    .venv/bin/python bench/pose_frame_bench.py [--sizes 10,50,100,200,300] [--ticks 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from vrcollab.sync.codec import encode_poses, pose_fragment
from vrcollab.sync.messages import Pose, PresenceEntry
from vrcollab.sync.presence import PoseSlot, PresenceTable


def _pose(i: int, k: int) -> Pose:
    x = (i * 7 + k) % 100 / 10.0
    part = {"p": [x, 1.2, -0.3], "q": [0.0, 0.0, 0.0, 1.0]}
    return Pose({"head": {"p": [x, 1.6, 0.25], "q": [0.0, 0.7071, 0.0, 0.7071]},
                 "left": part, "right": part,
                 "laser": {"origin": [x, 1.2, 0.0], "dir": [0.0, 0.0, -1.0],
                           "hit": [x, 1.0, -2.0], "node_id": f"node-{i}"}})


def _room(n: int) -> tuple[PresenceTable, list[str], list[list[Pose]]]:
    """A room of ``n`` sessions and, per session, poses to cycle through (made up front so the
    timing holds only server work: the codec made them from the clients' frames)."""
    table = PresenceTable()
    sids = [f"s-{i:05d}" for i in range(n)]
    for sid in sids:
        table.add(PresenceEntry(sid, f"u-{sid}", sid, "#888888", "editor", "vr"))
    return table, sids, [[_pose(i, k) for k in range(4)] for i in range(n)]


def per_receiver(n: int, ticks: int) -> float:
    """CPU seconds per tick of the old path."""
    table, sids, poses = _room(n)
    sent = 0

    def tick(k: int) -> None:
        nonlocal sent
        for i, sid in enumerate(sids):
            table.set_pose(sid, poses[i][k % 4])
        batch = {sid: pose_fragment(sid, p) for sid, p in table.take_changed().items()}
        for rid in sids:
            frags = [f for sid, f in batch.items() if sid != rid]
            sent += len(encode_poses(float(k), frags))

    return _time(tick, ticks)


def shared(n: int, ticks: int) -> float:
    """CPU seconds per tick of the shared frame."""
    table, sids, poses = _room(n)
    slots = [PoseSlot() for _ in sids]
    sent = 0

    def tick(k: int) -> None:
        nonlocal sent
        for i, sid in enumerate(sids):
            table.set_pose(sid, poses[i][k % 4])
        frame = table.take_frame(float(k))
        assert frame is not None
        for slot in slots:
            slot.offer(frame)
            text = slot.take()
            sent += len(text or "")

    return _time(tick, ticks)


def _time(tick: Callable[[int], None], ticks: int) -> float:
    tick(0)  # warm up (first frame: the full one)
    t0 = time.process_time()
    for k in range(1, ticks + 1):
        tick(k)
    return (time.process_time() - t0) / ticks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="10,50,100,200,300")
    p.add_argument("--ticks", type=int, default=200)
    args = p.parse_args()
    print("| clients | per-receiver frames ms/tick | shared frame ms/tick | ratio | "
          "share of a 30 Hz tick (shared) |")
    print("|---|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        ticks = max(5, args.ticks * 10 // max(n, 10))
        old, new = per_receiver(n, ticks), shared(n, ticks)
        print(f"| {n} | {old * 1e3:.2f} | {new * 1e3:.2f} | {old / new:.1f}x | "
              f"{100 * new * 30:.0f}% |")


if __name__ == "__main__":
    main()
