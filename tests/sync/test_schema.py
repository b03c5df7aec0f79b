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
