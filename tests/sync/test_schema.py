"""The generated protocol files (JSON Schema, web constants) match the Python tables, and the
schema agrees with the codec on what it accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client
from vrcollab.sync.messages import InvalidOp, Op
from vrcollab.sync.ops import OP_KINDS
from vrcollab.sync.schema import JS_PATH, SCHEMA_PATH, js_module, schema_document, schema_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("rel", "make"), [(SCHEMA_PATH, schema_text), (JS_PATH, js_module)])
def test_committed_generated_files_are_fresh(rel: str, make: object) -> None:
    committed = (ROOT / rel).read_text(encoding="utf-8")
    assert callable(make)
    assert committed == make(), f"{rel} is stale: run .venv/bin/python protocol/generate.py"


def test_generate_check_detects_a_stale_copy(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "protocol/generate.py", "--check"], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_schema_lists_every_client_kind_with_its_role() -> None:
    doc = schema_document()
    kinds = {k for k, s in OP_KINDS.items() if s.min_role is not None}
    assert {d.removeprefix("op.") for d in doc["$defs"] if d.startswith("op.")} == kinds
    for k in kinds:
        assert doc["$defs"][f"op.{k}"]["x-min-role"] == OP_KINDS[k].min_role
    assert doc["x-vrcollab"]["viewpoint_defaults"]["fov"] == 60.0
    assert "room.model" in doc["x-vrcollab"]["server_kinds"]


def _valid_by_schema(schema: dict, value: object) -> bool:
    jsonschema = pytest.importorskip("jsonschema")
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    return True


VECTORS = json.loads((ROOT / "tests" / "vectors" / "codec.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [c for c in VECTORS["client"] if "kind" in c.get("frame", {})],
                         ids=lambda c: c["name"])
def test_schema_agrees_with_codec(case: dict) -> None:
    """Every op vector the codec accepts validates against the published schema, and every one
    it rejects as a schema error does not."""
    try:
        msg = decode_client(json.dumps(case["frame"]))
    except ProtocolError:
        return
    doc = schema_document()
    ref = f"op.{case['frame']['kind']}"
    if ref not in doc["$defs"]:
        assert isinstance(msg, InvalidOp)
        assert msg.code == "unknown_kind"
        return
    schema = {**doc["$defs"][ref], "$defs": doc["$defs"]}
    if isinstance(msg, Op):
        assert _valid_by_schema(schema, case["frame"])
    elif isinstance(msg, InvalidOp) and msg.code in ("bad_op", "too_large"):
        assert not _valid_by_schema(schema, case["frame"])


def test_protocol_doc_tables_match_the_python_tables() -> None:
    """docs/protocol.md's op-kind and close-code tables say what the tables in the core say."""
    import re

    from vrcollab.sync.closes import Close

    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    roles = dict(re.findall(r"^\| `([a-z]+\.[a-z]+)` \| (\w+) \|", doc, re.MULTILINE))
    assert roles == {k: s.min_role for k, s in OP_KINDS.items() if s.min_role is not None}
    codes = {int(c) for c in re.findall(r"^\| (\d{4}) \|", doc, re.MULTILINE)}
    assert codes == {int(c) for c in Close}
    assert "protocol/vrcollab.schema.json" in doc


def test_message_type_lists_cover_the_codec() -> None:
    """Every server message the codec encodes is in SERVER_TYPES (the web client's list)."""
    from vrcollab.sync.codec import decode_client, server_json
    from vrcollab.sync.messages import (
        CLIENT_TYPES,
        SERVER_TYPES,
        Ack,
        ErrorMsg,
        Gather,
        Pong,
        PresenceEntry,
        PresenceMsg,
        Reject,
        SharedView,
    )

    entry = PresenceEntry("s", "u", "n", "#888888", "viewer", "vr")
    msgs = [Ack("o", 1, None), Reject("o", "bad_op", "r"), PresenceMsg("join", entry),
            Pong(1, 2.0), Gather("s", None), SharedView("s", {}), ErrorMsg("bad_json", "r")]
    assert {server_json(m)["type"] for m in msgs} <= set(SERVER_TYPES)
    assert {"commit", "welcome", "welcome_part", "poses"} <= set(SERVER_TYPES)
    codes = []
    for t in CLIENT_TYPES:  # known types are never "unknown_type"
        try:
            decode_client(json.dumps({"type": t}))
        except ProtocolError as exc:
            codes.append(exc.code)
    assert "unknown_type" not in codes
    with pytest.raises(ProtocolError) as info:
        decode_client(json.dumps({"type": "hologram"}))
    assert info.value.code == "unknown_type"
