"""A scripted meeting with three Python clients against a real server (shared by the meeting
tests and the browser replay test).

Alice (owner), Bob and Carol (reviewers) join, move in steps of one metre every
``STEP_S`` seconds (so the pose at any instant between two steps is known), and in between: Bob
pins an issue, Carol replies, a snapshot is stored, Alice resolves the issue and records a
decision, Alice moves a part (transform). Then everyone leaves and the meeting ends.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from tests.server_process import ServerProcess
from vrcollab.client import RoomClient

STEP_S = 1.2
STEPS = 6
BASES = {"alice": (0.0, 1.6, 0.0), "bob": (0.0, 1.6, 3.0), "carol": (0.0, 1.6, -3.0)}
MEETING_ENV = {"VRCOLLAB_TICK_HZ": "30", "VRCOLLAB_MEETING_CHUNK_S": "2",
               "VRCOLLAB_MEETING_STATE_EVERY_S": "1"}
TRANSFORM = [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 2.5, 0, 0, 1.0]


def head_at(who: str, step: int) -> list[float]:
    """Where ``who`` stands at ``step``."""
    x, y, z = BASES[who]
    return [x + step * 1.0, y, z]


@dataclass
class ScriptedMeeting:
    """What the script did, for the assertions."""

    project_id: str
    room_id: str
    owner_token: str
    tokens: dict[str, str]
    sessions: dict[str, str] = field(default_factory=dict)  # name -> session id
    steps: list[tuple[float, float]] = field(default_factory=list)  # (start, end) per step
    commit_t: dict[str, float] = field(default_factory=dict)  # what -> server time
    annotation_id: str = field(default_factory=lambda: f"ann-gate-12-{secrets.token_hex(3)}")
    final_state: dict[str, Any] = field(default_factory=dict)
    final_seq: int = 0
    meeting_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    meeting_id: str = ""


def png(color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small PNG (the issue's snapshot)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="PNG")
    return buf.getvalue()


def allow_recording(base_url: str, project_id: str, token: str, on: bool = True) -> None:
    """Owner: set the project's recording setting."""
    res = httpx.put(f"{base_url}/api/projects/{project_id}/meeting-settings",
                    json={"recording": on, "retention_days": None},
                    headers={"Authorization": f"Bearer {token}"})
    res.raise_for_status()


async def run_meeting(srv: ServerProcess, project_id: str, room_id: str, owner_token: str,
                      *, record: bool = True) -> ScriptedMeeting:
    """Run the scripted meeting; returns when the server has ended it."""
    tokens = {"alice": owner_token,
              "bob": srv.token(project_id, "reviewer", "Bob"),
              "carol": srv.token(project_id, "reviewer", "Carol")}
    allow_recording(srv.base_url, project_id, owner_token, record)
    sm = ScriptedMeeting(project_id, room_id, owner_token, tokens)
    clients = {n: RoomClient(srv.base_url, room_id, t, name=n) for n, t in tokens.items()}
    for name, c in clients.items():
        await c.connect()
        sm.sessions[name] = c.session_id or ""
        m = await c.wait_for(lambda m: m["type"] == "meeting")
        sm.meeting_messages[name] = m
    a, b, c3 = clients["alice"], clients["bob"], clients["carol"]
    auth = {"Authorization": f"Bearer {owner_token}"}
    async with httpx.AsyncClient(base_url=srv.base_url, headers=auth, timeout=30) as http:
        for step in range(STEPS):
            t0 = time.time()
            for name, cl in clients.items():
                await cl.pose((head_at(name, step), [0.0, 0.0, 0.0, 1.0]),
                              laser={"origin": head_at(name, step), "dir": [0, 0, -1],
                                     "hit": [head_at(name, step)[0], 0.0, -5.0],
                                     "node_id": None})
            if step == 1:
                ack = await b.op("annotation.create", annotation={
                    "id": sm.annotation_id, "position": [1.0, 0.5, -2.0],
                    "title": "Door clearance at gate 12", "text": "Too narrow",
                    "priority": "high"})
                sm.commit_t["annotation"] = ack["commit"]["t"]
            elif step == 2:
                ack = await c3.op("comment.add", annotation_id=sm.annotation_id,
                                  comment={"id": "c-reply", "text": "Agreed, needs 90 cm"})
                sm.commit_t["reply"] = ack["commit"]["t"]
                res = await http.put(
                    f"/api/rooms/{room_id}/annotations/{sm.annotation_id}/snapshot",
                    content=png())
                res.raise_for_status()
            elif step == 3:
                ack = await a.op("annotation.update", id=sm.annotation_id,
                                 props={"status": "resolved",
                                        "assignee": (b.welcome or {})["user"]["user_id"]})
                sm.commit_t["status"] = ack["commit"]["t"]
                ack = await a.op("comment.add", annotation_id=sm.annotation_id,
                                 comment={"id": "c-decision",
                                          "text": "Decision: widen the door to 90 cm"})
                sm.commit_t["decision"] = ack["commit"]["t"]
            elif step == 4:
                ack = await a.op("node.set", node_id="door-12", props={"transform": TRANSFORM})
                sm.commit_t["transform"] = ack["commit"]["t"]
            await asyncio.sleep(max(0.0, STEP_S - (time.time() - t0)))
            sm.steps.append((t0, time.time()))
        last = max(cl.seq for cl in clients.values())
        for cl in clients.values():
            await cl.wait_seq(last)
        sm.final_state = a.state.snapshot()
        sm.final_seq = a.seq
        mid = sm.meeting_messages["alice"]["meeting_id"]
        sm.meeting_id = mid
        for cl in (c3, b, a):
            await cl.close()
        deadline = time.monotonic() + 30
        while True:
            got = (await http.get(f"/api/meetings/{mid}")).json()
            if got.get("ended") is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    return sm
