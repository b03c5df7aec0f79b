"""The ``model`` object a room carries (sent in the websocket ``welcome``) for a ready version.

``{"model_id", "name", "version_id", "version", "manifest_url"}`` plus ``bounds`` when the
manifest has them (the room bounds annotation positions by it, protocol R19); level files resolve
relative to ``manifest_url``.
"""

from __future__ import annotations

import json
from typing import Any

from vrcollab.errors import RequestError, VrcollabError
from vrcollab.model_manifest import MANIFEST_FILE, manifest_bounds
from vrcollab.server.schemas import file_url
from vrcollab.server.services import Services
from vrcollab.store.catalog import VersionRecord


def room_model(svc: Services, version: VersionRecord) -> dict[str, Any]:
    """The ``model`` object rooms carry for a ready version."""
    if version.status != "ready":
        raise RequestError(f"version {version.version_id} is {version.status}, not ready")
    model = svc.catalog.get_model(version.model_id)
    out: dict[str, Any] = {
        "model_id": model.model_id, "name": model.name, "version_id": version.version_id,
        "version": version.number, "manifest_url": file_url(version.version_id, MANIFEST_FILE)}
    bounds = _manifest_bounds(svc, version)
    if bounds is not None:  # the room bounds annotation positions by it (protocol R19)
        out["bounds"] = bounds
    return out


def _manifest_bounds(svc: Services, version: VersionRecord) -> dict[str, Any] | None:
    if version.manifest_sha256 is None:
        return None
    try:
        manifest = json.loads(svc.assets.read_bytes(version.manifest_sha256))
    except (VrcollabError, OSError, ValueError):
        return None
    bounds = manifest_bounds(manifest) if isinstance(manifest, dict) else None
    return dict(bounds) if bounds is not None else None
