"""Compare two versions of a model: elements added, changed and removed.

``GET /api/versions/{a}/compare/{b}`` (any member). Elements are matched by their key (IFC
GlobalId or part node) and compared by geometry hash; :func:`element_hashes` is the one place
that reads them, so a new manifest layout (the tiled v2 element table) only changes it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vrcollab.errors import ConfigError
from vrcollab.server.auth import require_role
from vrcollab.server.projects_api import ServicesDep, StoreDep, UserDep
from vrcollab.store.catalog import Catalog, VersionRecord

router = APIRouter(prefix="/api", tags=["models"])
SAMPLE = 50


def element_hashes(catalog: Catalog, version: VersionRecord) -> dict[str, str]:
    """Element key -> geometry hash of a ready version (what the conversion recorded)."""
    del catalog  # v1: the catalog row holds them; a v2 tileset reader would load its table
    return dict(version.elements)


def compare(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """Counts and a sample of keys: added, changed (same key, other hash), removed."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    return {"added": len(added), "changed": len(changed), "removed": len(removed),
            "unchanged": len(set(old) & set(new)) - len(changed),
            "sample": {"added": added[:SAMPLE], "changed": changed[:SAMPLE],
                       "removed": removed[:SAMPLE]}}


@router.get("/versions/{a}/compare/{b}")
def compare_versions(a: str, b: str, user: UserDep, store: StoreDep,
                     svc: ServicesDep) -> dict[str, Any]:
    """Any member: what changed from version ``a`` to version ``b`` of the same model."""
    va, vb = svc.catalog.get_version(a), svc.catalog.get_version(b)
    require_role(store, va.project_id, user, "viewer")
    require_role(store, vb.project_id, user, "viewer")
    if va.model_id != vb.model_id:
        raise ConfigError("compare versions of the same model")
    if va.status != "ready" or vb.status != "ready":
        raise ConfigError("both versions must be converted (ready)")
    out = compare(element_hashes(svc.catalog, va), element_hashes(svc.catalog, vb))
    out["from"] = {"version_id": va.version_id, "number": va.number}
    out["to"] = {"version_id": vb.version_id, "number": vb.number}
    return out
