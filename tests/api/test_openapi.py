"""The OpenAPI schema documents every catalog endpoint with typed responses."""

from __future__ import annotations

import warnings
from pathlib import Path

from vrcollab.server.app import create_app
from vrcollab.settings import Settings

TYPED = {
    ("post", "/api/projects/{project_id}/models"): "UploadOut",
    ("post", "/api/models/{model_id}/versions"): "UploadOut",
    ("get", "/api/models/{model_id}"): "ModelOut",
    ("get", "/api/versions/{version_id}"): "VersionOut",
    ("get", "/api/jobs/{job_id}"): "JobOut",
    ("post", "/api/versions/{version_id}/rooms"): "RoomOut",
    ("put", "/api/rooms/{room_id}/model"): "SwitchOut",
    ("post", "/api/rooms/{room_id}/bcf"): "BcfImportOut",
}


def test_openapi_documents_the_catalog_endpoints(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url="memory://"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. duplicate operation ids
        schema = app.openapi()
    paths = schema["paths"]
    for (method, path), model in TYPED.items():
        op = paths[path][method]
        ok = next(code for code in op["responses"] if code.startswith("2"))
        ref = op["responses"][ok]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(f"/{model}"), (method, path, ref)
        assert op.get("description") or op.get("summary"), (method, path)
    upload = paths["/api/projects/{project_id}/models"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "text/event-stream" in paths["/api/jobs/{job_id}/events"]["get"]["responses"]["200"][
        "content"]
    for path in ("/api/versions/{version_id}/files/{path}", "/api/assets/{sha256}"):
        assert {"206", "304", "404", "416"} <= set(paths[path]["get"]["responses"])
    assert set(paths["/api/rooms/{room_id}/bcf"]) == {"get", "post"}
