"""Converted files, served content-addressed to project members only.

- ``GET /api/versions/{version_id}/files/{path}``: a version's ``manifest.json`` or level GLB.
  The manifest's level ``file`` names resolve relative to the manifest URL.
- ``GET /api/assets/{sha256}``: any blob by digest (converted files and uploaded sources), to
  members of a project that references it.

Both answer with the blob's SHA-256 as a strong ``ETag``, ``Cache-Control: private,
max-age=31536000, immutable`` (a digest never names other bytes; ``private``: the files are for
project members, so no shared cache may keep them), ``304`` on a matching
``If-None-Match``, and byte ranges (``206``; ``416`` for an unsatisfiable range). Authenticate
with ``Authorization: Bearer`` or ``?token=`` (append it to each URL in a browser); a non-member
gets ``404`` whether or not the file exists.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from vrcollab.errors import NotFoundError
from vrcollab.server.auth import require_role
from vrcollab.server.deps import CurrentUser, ServicesDep, StoreDep
from vrcollab.server.services import Services

router = APIRouter(tags=["assets"])
IMMUTABLE = "private, max-age=31536000, immutable"
_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "the bytes"},
    206: {"description": "a byte range"},
    304: {"description": "not modified (If-None-Match matched the ETag)"},
    404: {"description": "unknown, or not a member of its project"},
    416: {"description": "range not satisfiable"},
}


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 ``If-None-Match`` (weak comparison, ``*`` matches)."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def blob_response(
    request: Request, svc: Services, sha256: str, content_type: str, filename: str | None
) -> Response:
    """The blob with immutable caching headers, conditional GET and ranges."""
    path = svc.assets.open_path(sha256)
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Vary": "Authorization"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=content_type, headers=headers, filename=filename,
                        content_disposition_type="inline")


@router.get("/versions/{version_id}/files/{path:path}", response_class=Response,
            responses=_FILE_RESPONSES)
@router.head("/versions/{version_id}/files/{path:path}", include_in_schema=False)
def version_file(
    version_id: str,
    path: str,
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> Response:
    """Any member: one converted file of a ready version."""
    version = svc.catalog.get_version(version_id)
    require_role(store, version.project_id, user, "viewer")
    item = svc.catalog.get_version_file(version_id, path)
    return blob_response(request, svc, item.sha256, item.content_type, None)


@router.get("/assets/{sha256}", response_class=Response, responses=_FILE_RESPONSES)
@router.head("/assets/{sha256}", include_in_schema=False)
def asset(
    sha256: str,
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    svc: ServicesDep,
) -> Response:
    """A blob by SHA-256, to members of any project that uses it."""
    projects = svc.catalog.asset_projects(sha256) if len(sha256) == 64 else set()
    roles = store.memberships(user.user_id)
    if not projects & set(roles):
        raise NotFoundError(f"asset {sha256[:64]} not found")
    return blob_response(request, svc, sha256, "application/octet-stream", None)
