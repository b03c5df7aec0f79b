"""The OpenAPI schema, walked: every route has a typed answer, a readable operation id and
(unless public) the bearer security scheme (issue 11)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from vrcollab.server.app import create_app
from vrcollab.settings import Settings

#: Operations anyone may call: health, invite redemption and the browser-session routes
#: (cookie-authenticated, CSRF-checked).
PUBLIC = {"health", "accept", "signin", "session", "held_invite", "join", "signout"}
OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(data_dir=data, database_url="memory://"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # duplicate operation ids warn
        out: dict[str, Any] = app.openapi()
    return out


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in schema["paths"].items()
            for method, op in ops.items()]


def _typed(json_schema: dict[str, Any]) -> bool:
    if "$ref" in json_schema:
        return True
    return json_schema.get("type") == "array" and "$ref" in json_schema.get("items", {})


def problems(schema: dict[str, Any]) -> list[str]:
    """Every route without a typed success answer, a readable id or its security scheme."""
    out: list[str] = []
    seen: set[str] = set()
    for method, path, op in operations(schema):
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId", "")
        if not OPERATION_ID.match(op_id) or "_api_" in op_id or op_id in seen:
            out.append(f"{where}: operation id {op_id!r}")
        seen.add(op_id)
        ok = [code for code in op["responses"] if code.startswith("2")]
        if not ok:
            out.append(f"{where}: no 2xx response")
            continue
        content = op["responses"][ok[0]].get("content", {})
        if "application/json" in content:
            if not _typed(content["application/json"].get("schema", {})):
                out.append(f"{where}: JSON answer without a response model")
        elif not content:
            out.append(f"{where}: no content type for its answer")
        if op_id not in PUBLIC and {"bearer": []} not in op.get("security", []):
            out.append(f"{where}: no bearer security")
    return out


def test_every_route_is_typed_named_and_secured(schema: dict[str, Any]) -> None:
    assert len(operations(schema)) > 40
    assert problems(schema) == []


def test_the_bearer_scheme_is_declared(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"


def test_auth_routes_answer_with_models(schema: dict[str, Any]) -> None:
    refs = {
        ("get", "/api/me"): "MeOut",
        ("post", "/api/invites/accept"): "AcceptOut",
        ("post", "/api/projects/{project_id}/invites"): "InviteCreatedOut",
        ("get", "/api/session"): "SessionOut",
        ("post", "/api/tokens"): "NewTokenOut",
        ("get", "/api/rooms/{room_id}"): "RoomLiveOut",
    }
    for (method, path), name in refs.items():
        op = schema["paths"][path][method]
        ok = next(code for code in op["responses"] if code.startswith("2"))
        ref = op["responses"][ok]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(f"/{name}")
    assert schema["paths"]["/api/me"]["get"]["operationId"] == "me"
    assert schema["paths"]["/api/projects"]["get"]["operationId"] == "list_projects"


def test_error_answers_are_documented_as_the_envelope(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert set(components["ErrorOut"]["properties"]) == {"error"}
    assert "details" in components["ErrorInfoOut"]["properties"]
    for method, path, op in operations(schema):
        for code, answer in op["responses"].items():
            if code.startswith(("4", "5")):
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith(("/ErrorOut", "/HealthOut")), (method, path, code)
    create = schema["paths"]["/api/projects"]["post"]["responses"]
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_the_walker_finds_an_untyped_route() -> None:
    bad = {"paths": {"/x": {"get": {
        "operationId": "x_api_x_get",
        "responses": {"200": {"content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": True}}}}},
    }}}}
    found = problems(bad)
    assert any("operation id" in p for p in found)
    assert any("response model" in p for p in found)
    assert any("bearer" in p for p in found)
