"""Shared string vectors (tests/fixtures/protocol_strings.json), also run by the web client's
codec tests: valid Unicode (R17) and acceptable names (R18) agree in both languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client, decode_server
from vrcollab.sync.messages import Hello, InvalidOp, Op
from vrcollab.sync.text import is_scalar_string, name_problem

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "protocol_strings.json").read_text())["vectors"]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_vector(v: dict[str, Any]) -> None:
    text = json.loads(v["json"])
    assert is_scalar_string(text) == v["valid_unicode"]
    assert (name_problem(text) is None) == v["name_ok"]
    op = decode_client('{"type":"op","op_id":"o","kind":"comment.edit","annotation_id":"a",'
                       f'"comment_id":"c","text":{v["json"]}}}')
    assert isinstance(op, Op if v["valid_unicode"] else InvalidOp)
    hello = f'{{"type":"hello","v":1,"client_id":"c","name":{v["json"]}}}'
    if v["name_ok"]:
        assert isinstance(decode_client(hello), Hello)
    else:
        with pytest.raises(ProtocolError):
            decode_client(hello)
    server = f'{{"type":"error","code":"x","reason":{v["json"]}}}'
    if v["valid_unicode"]:
        assert decode_server(server)["reason"] == text
    else:
        with pytest.raises(ProtocolError):
            decode_server(server)
