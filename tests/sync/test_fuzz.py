"""Seeded multi-client fuzz of the pure core: random ops, drops and resumes; all converge.

Every message crosses the real codec (encode on the server side, decode on the client side).
Dropped connections lose whatever was in flight; resumed clients resend unacked ops with their
original op ids. At the end every mirror equals the room, and no op id was applied twice.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vrcollab.sync.codec import decode_client, decode_server, dumps, encode_server
from vrcollab.sync.messages import PROTOCOL_VERSION, Hello, InvalidOp, Op, Outbox
from vrcollab.sync.mirror import Mirror
from vrcollab.sync.room import Room

ROLES = ["owner", "editor", "reviewer", "reviewer", "viewer"]


@dataclass
class Peer:
    name: str
    role: str
    mirror: Mirror = field(default_factory=Mirror)
    session: str | None = None
    inbox: list[str] = field(default_factory=list)
    unacked: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    sessions: int = 0
    frames: list[str] = field(default_factory=list)  # every server frame received, in order


def random_op(rng: random.Random, peer: Peer, n: int) -> dict[str, Any]:
    aid = f"a{rng.randrange(6)}"
    vec = [rng.uniform(-10, 10) for _ in range(3)]
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("annotation.create", {"annotation": {"id": aid, "position": vec,
                                              "title": rng.choice(["leak", "gap", "ok"])}}),
        ("annotation.update", {"id": aid, "props": {
            rng.choice(["status", "priority"]): rng.choice(["open", "resolved", "high"])}}),
        ("annotation.delete", {"id": aid}),
        ("comment.add", {"annotation_id": aid,
                         "comment": {"id": f"c{rng.randrange(4)}", "text": f"t{n}"}}),
        ("comment.edit", {"annotation_id": aid, "comment_id": f"c{rng.randrange(4)}",
                          "text": f"e{n}"}),
        ("comment.delete", {"annotation_id": aid, "comment_id": f"c{rng.randrange(4)}"}),
        ("node.set", {"node_id": f"n{rng.randrange(4)}", "props": rng.choice([
            {"visible": rng.random() < 0.5}, {"color": rng.choice(["#ff0000", None])},
            {"transform": [rng.uniform(-1, 1) for _ in range(16)]}])}),
        ("measurement.create", {"measurement": {"id": f"m{rng.randrange(3)}", "a": vec,
                                                "b": [0, 0, 0], "unit": "mm"}}),
        ("measurement.delete", {"id": f"m{rng.randrange(3)}"}),
        ("section.set", {"section": {"id": "s", "normal": [0, 1, 0],
                                     "offset": rng.uniform(0, 3), "enabled": True}}),
        ("presenter.set", {"user_id": rng.choice([None, f"u-{peer.name}", "u-p0"])}),
        ("annotation.update", {"id": aid, "props": {"status": "done"}}),  # bad enum
    ]
    kind, fields = rng.choice(kinds)
    return {"type": "op", "op_id": f"{peer.name}:{n}", "kind": kind, **fields}


class World:
    def __init__(self, seed: int, n_peers: int) -> None:
        self.rng = random.Random(seed)
        self.room = Room("r", "p", replay_window=15)
        self.peers = [Peer(f"p{i}", ROLES[i % len(ROLES)]) for i in range(n_peers)]
        self.by_session: dict[str, Peer] = {}
        self.t = 1000.0
        self.n = 0
        self.resent_committed = 0

    def route(self, out: Outbox) -> None:
        for send in out.sends:
            text = encode_server(send.msg)
            targets = [send.to] if send.to is not None else [
                s for s in self.by_session if s != send.exclude]
            for sid in targets:
                if sid in self.by_session:
                    self.by_session[sid].inbox.append(text)

    def connect(self, p: Peer) -> None:
        p.sessions += 1
        p.session = f"s-{p.name}-{p.sessions}"
        hello = decode_client(dumps({"type": "hello", "v": PROTOCOL_VERSION,
                                     "client_id": p.name, "last_seq": p.mirror.last_seq,
                                     "name": p.name}))
        assert isinstance(hello, Hello)
        self.by_session[p.session] = p
        self.route(self.room.join(p.session, f"u-{p.name}", p.role, hello))
        self.deliver(p, 1)  # the welcome
        for payload in list(p.unacked.values()):  # resume: resend with the same op ids
            self.send(p, payload)

    def drop(self, p: Peer) -> None:
        assert p.session is not None
        del self.by_session[p.session]
        self.route(self.room.leave(p.session))
        p.session = None
        p.inbox.clear()  # in-flight messages are lost

    def send(self, p: Peer, payload: dict[str, Any]) -> None:
        assert p.session is not None
        p.unacked[payload["op_id"]] = payload
        msg = decode_client(dumps(payload))
        assert isinstance(msg, Op | InvalidOp)
        if msg.op_id in self.room.op_seqs:
            self.resent_committed += 1
        self.t += 0.25
        self.route(self.room.apply(p.session, msg, self.t))

    def deliver(self, p: Peer, k: int) -> None:
        for text in p.inbox[:k]:
            m = decode_server(text)
            p.frames.append(text)
            p.mirror.handle(m)
            if m["type"] in ("ack", "reject"):
                p.unacked.pop(m["op_id"], None)
                seq = m.get("seq")
                prev = p.answered.setdefault(m["op_id"], (m["type"], seq))
                assert prev == (m["type"], seq) or prev[0] == "reject", "answer changed"
        del p.inbox[:k]

    def step(self) -> None:
        p = self.rng.choice(self.peers)
        r = self.rng.random()
        if p.session is None:
            if r < 0.5:
                self.connect(p)
        elif r < 0.45:
            self.n += 1
            self.send(p, random_op(self.rng, p, self.n))
        elif r < 0.85:
            self.deliver(p, self.rng.randrange(1, 6))
        elif r < 0.93:
            self.drop(p)
        else:
            self.deliver(p, len(p.inbox))

    def settle(self) -> None:
        for p in self.peers:
            if p.session is None:
                self.connect(p)
        for _ in range(3):
            for p in self.peers:
                self.deliver(p, len(p.inbox))


@pytest.mark.parametrize("seed", range(12))
def test_clients_converge(seed: int) -> None:
    w = World(seed, n_peers=5)
    for _ in range(1500):
        w.step()
    w.settle()
    truth = json.loads(dumps(w.room.state.snapshot()))
    for p in w.peers:
        assert p.unacked == {}, f"{p.name} still waits for {list(p.unacked)}"
        assert p.mirror.seq == w.room.seq
        assert json.loads(dumps(p.mirror.state.snapshot())) == truth
        assert set(p.mirror.presence) == {q.session for q in w.peers if q is not p}
    committed = [c.op_id for c in w.room.log]
    assert len(committed) == len(set(committed))
    assert len(w.room.op_seqs) == w.room.seq
    assert w.room.seq > 50  # the fuzz did something


def test_fuzz_hits_resume_paths() -> None:
    """Guard against a fuzz that silently stopped exercising resume and snapshots."""
    w = World(3, n_peers=5)
    kinds: set[str] = set()
    orig = w.deliver

    def spy(p: Peer, k: int) -> None:
        for text in p.inbox[:k]:
            m = decode_server(text)
            if m["type"] == "welcome":
                kinds.add("snapshot" if m["snapshot"] is not None else "ops")
            if m["type"] == "ack" and m["op_id"] in p.answered:
                kinds.add("duplicate_ack")
        orig(p, k)

    w.deliver = spy  # type: ignore[method-assign]
    for _ in range(1500):
        w.step()
    w.settle()
    assert {"snapshot", "ops"} <= kinds
    assert w.resent_committed > 0  # acks were lost and committed ops resent


REPLAY = Path(__file__).resolve().parents[2] / "clients" / "web" / "tools" / "replay_mirror.mjs"


def test_js_room_converges_on_the_same_fuzz() -> None:
    """The seeded fuzz drives the JS room mirror too: every client's frames, replayed into
    clients/web/src/state/room.js, give the room's state and seq."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the JS room is not fuzzed")
    streams: dict[str, list[str]] = {}
    truths: dict[str, Any] = {}
    for seed in range(4):
        w = World(seed, n_peers=5)
        for _ in range(1500):
            w.step()
        w.settle()
        truths[str(seed)] = (w.room.seq, json.loads(dumps(w.room.state.snapshot())))
        streams |= {f"{seed}/{p.name}": p.frames for p in w.peers}
    run = subprocess.run([node, str(REPLAY)], input=json.dumps(streams), capture_output=True,
                         text=True, timeout=120, check=True)
    got = json.loads(run.stdout)
    assert set(got) == set(streams)
    for name, res in got.items():
        seq, truth = truths[name.split("/")[0]]
        assert not res["gap"], name
        assert res["seq"] == seq, name
        assert res["state"] == truth, name
