"""Shared protocol vectors (tests/vectors/): the Python codec and mirror must give the recorded
results; clients/web/test/vectors.test.mjs holds the JS codec and room to the same files, and
the last test here runs it with node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client, decode_server, dumps
from vrcollab.sync.fields import DEFAULT_LIMITS
from vrcollab.sync.messages import Commit, InvalidOp, Op
from vrcollab.sync.mirror import Mirror
from vrcollab.sync.ops import VIEWPOINT
from vrcollab.sync.room import Room
from vrcollab.sync.state import RoomState

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
CODEC = json.loads((VECTORS / "codec.json").read_text(encoding="utf-8"))
COMMITS = json.loads((VECTORS / "commits.json").read_text(encoding="utf-8"))


def _frame(case: dict[str, Any]) -> str:
    return case["text"] if "text" in case else json.dumps(case["frame"])


@pytest.mark.parametrize("case", CODEC["client"], ids=lambda c: c["name"])
def test_client_frames(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(ProtocolError) as info:
            decode_client(_frame(case))
        assert info.value.code == expect["error"]
        return
    msg = decode_client(_frame(case))
    if isinstance(msg, InvalidOp):
        assert expect == {"reject": msg.code}, msg.reason
    elif isinstance(msg, Op):
        assert "op" in expect, f"accepted: {msg}"
        assert json.loads(dumps(msg.fields)) == expect["op"]
    else:
        assert "reject" not in expect


@pytest.mark.parametrize("case", CODEC["server"], ids=lambda c: c["name"])
def test_server_frames(case: dict[str, Any]) -> None:
    try:
        decode_server(case["text"])
    except ProtocolError:
        assert not case["ok"]
    else:
        assert case["ok"]


@pytest.mark.parametrize("case", CODEC["builders"], ids=lambda c: c["name"])
def test_web_builders_match_server_defaults(case: dict[str, Any]) -> None:
    """What the web client builds is what the server stores: its defaults are the server's."""
    if case["call"] == "viewpoint":
        args = {k: v for k, v in case["args"].items() if k != "fov" or v is not None}
        assert VIEWPOINT.check(args, "viewpoint", DEFAULT_LIMITS) == case["result"]
    else:
        frame = {"type": "op", "op_id": "o", "kind": "annotation.create",
                 "annotation": {"id": "a", **case["args"]}}
        msg = decode_client(json.dumps(frame))
        assert isinstance(msg, Op)
        got = dict(msg.fields["annotation"])
        got.pop("id")
        assert got == case["result"]


def _run_mirror(messages: list[dict[str, Any]]) -> tuple[Mirror, bool]:
    m = Mirror()
    for msg in messages:
        obj = decode_server(dumps(msg))
        try:
            m.handle(obj)
        except ProtocolError:
            return m, True  # a gap: nothing more is applied; the client reconnects
    return m, False


@pytest.mark.parametrize("case", COMMITS["cases"], ids=lambda c: c["name"])
def test_commit_sequences(case: dict[str, Any]) -> None:
    m, gap = _run_mirror(case["messages"])
    exp = case["expect"]
    assert gap == exp["gap"]
    assert m.seq == exp["seq"]
    assert json.loads(dumps(m.state.snapshot())) == exp["state"]


def test_generated_sequence_is_what_the_room_holds() -> None:
    """The seeded sequence's expected state is the authoritative room's, replayed."""
    case = next(c for c in COMMITS["cases"] if c["name"].startswith("a seeded room"))
    room = Room("r", "p", state=RoomState())
    for msg in case["messages"][1:]:
        room.replay(Commit.from_json(msg))
    assert json.loads(dumps(room.state.snapshot())) == case["expect"]["state"]


def test_node_runs_the_same_vectors() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; clients/web/test/vectors.test.mjs not run")
    run = subprocess.run([node, "--test", "test/vectors.test.mjs"], cwd=ROOT / "clients" / "web",
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
