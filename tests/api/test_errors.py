"""Errors reach clients in the documented envelope and never carry internal text (issue 11)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from tests.api.api_support import Api
from vrcollab.errors import ConfigError, RequestError, UploadError, VrcollabError
from vrcollab.server.auth import check_role
from vrcollab.server.schemas import public_job_error


def _envelope(body: dict[str, object], code: str) -> dict[str, object]:
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def test_unknown_routes_answer_404_in_the_envelope(api: Api) -> None:
    for path in ("/api/nothing-here", "/no/such/page", "/api/projects/p/nothing"):
        r = api.client.get(path, headers=api.owner)
        assert r.status_code == 404, (path, r.text)
        _envelope(r.json(), "not_found")


def test_wrong_method_answers_405_in_the_envelope(api: Api) -> None:
    r = api.client.delete("/api/me", headers=api.owner)
    assert r.status_code == 405
    _envelope(r.json(), "method_not_allowed")
    assert "GET" in r.headers["allow"]


def test_validation_errors_use_the_envelope_with_details(api: Api) -> None:
    r = api.client.post("/api/projects", json={"name": ""}, headers=api.owner)
    assert r.status_code == 422
    error = _envelope(r.json(), "invalid_request")
    details = error["details"]
    assert isinstance(details, list)
    assert details
    assert details[0]["loc"] == ["body", "name"]
    assert "detail" not in r.json()
    r = api.client.post(f"/api/projects/{api.project_id}/invites", json={"role": "admin"},
                        headers=api.owner)
    assert r.status_code == 422
    assert _envelope(r.json(), "invalid_request")["details"][0]["loc"] == ["body", "role"]
    r = api.client.post("/api/projects", content=b"{not json", headers={
        **api.owner, "content-type": "application/json"})
    assert r.status_code == 422
    _envelope(r.json(), "invalid_request")


def _drop_table(api: Api, table: str) -> None:
    path = api.client.app.state.services.store.path  # type: ignore[attr-defined]
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute(f"DROP TABLE {table}")
    finally:
        db.close()


def test_a_database_error_is_a_500_without_its_text(api: Api) -> None:
    _drop_table(api, "members")
    r = api.client.get("/api/me", headers=api.owner)
    assert r.status_code == 500
    error = _envelope(r.json(), "store")
    assert "members" not in r.text
    assert "no such table" not in r.text
    assert "sqlite" not in r.text.lower()
    assert "server log" in str(error["message"])


def test_an_untranslated_exception_is_a_500_in_the_envelope(api: Api) -> None:
    # a route failing with a foreign exception (the hub's live rooms are gone)
    room = api.client.post(f"/api/projects/{api.project_id}/rooms", json={"name": "R"},
                           headers=api.owner).json()
    services = api.client.app.state.services  # type: ignore[attr-defined]
    hub, services.hub = services.hub, object()
    try:
        client = TestClient(api.client.app, raise_server_exceptions=False)
        r = client.get(f"/api/rooms/{room['room_id']}", headers=api.owner)
    finally:
        services.hub = hub
    assert r.status_code == 500
    _envelope(r.json(), "internal")
    assert "object" not in r.text
    assert "attribute" not in r.text


def test_health_reports_an_unwritable_store_without_sqlite_text(api: Api) -> None:
    path = api.client.app.state.services.store.path  # type: ignore[attr-defined]
    lock = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        r = api.client.get("/api/health")
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "store_unwritable"
    assert "locked" not in r.text
    assert "OperationalError" not in r.text


def test_a_malformed_upload_is_a_request_error_not_a_config_error(api: Api) -> None:
    assert issubclass(UploadError, RequestError)
    assert not issubclass(UploadError, ConfigError)
    body = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.obj\"\r\n" \
           b"\r\nv 0 0 0\r\n--X-bad-boundary\r\n"
    r = api.client.post(f"/api/projects/{api.project_id}/models", content=body, headers={
        **api.owner, "content-type": "multipart/form-data; boundary=XYZ"})
    assert r.status_code == 400
    _envelope(r.json(), "bad_upload")


def test_api_misuse_raises_a_documented_error() -> None:
    with pytest.raises(RequestError) as info:
        check_role("admin")
    assert isinstance(info.value, VrcollabError)
    assert not isinstance(info.value, ValueError)
    assert info.value.code == "bad_request"


def test_job_errors_of_ours_reach_clients_without_exception_text() -> None:
    assert public_job_error("crash", "conversion crashed: ZeroDivisionError: division by zero"
                            ) == "conversion crashed"
    assert public_job_error("start_failed", "cannot start the conversion: [Errno 2] /x") == (
        "cannot start the conversion")
    # errors about the uploaded file are for its uploader, as written
    assert public_job_error("corrupt_file", "a.stl: truncated: 12 bytes") == (
        "a.stl: truncated: 12 bytes")
    assert public_job_error(None, None) is None


def test_sqlite_text_of_a_conflict_stays_on_the_server() -> None:
    from vrcollab.errors import StoreError
    from vrcollab.server.errors_http import public_message

    cause = sqlite3.IntegrityError("UNIQUE constraint failed: rooms.room_id")
    err = StoreError(f"room r1 already exists: {cause}", code="conflict")
    err.__cause__ = cause
    assert public_message(err, 409) == "room r1 already exists"
    assert public_message(err, 500) != str(err)
    own = StoreError("job j1 is already done", code="conflict")  # no database text in it
    assert public_message(own, 409) == "job j1 is already done"
