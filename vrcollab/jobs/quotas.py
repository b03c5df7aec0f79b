"""Per-project quotas on storage and conversion jobs (issue 8: one project cannot fill the disk
or the shared workers).

- **storage**: the bytes a project's uploads take (every version's source file and converted
  files). An upload that would take the project past ``project_max_storage_bytes`` answers
  **413** ``storage_quota``; a project already at its quota is refused before the body is read.
- **jobs**: at most ``project_max_active_jobs`` queued or running conversions per project; one
  more upload answers **429** ``job_quota`` before the body is read (retry when one finishes).

Both messages name the setting. Checks read the catalog; two uploads racing past the last free
slot can both pass (the bound is then exceeded by at most the number of concurrent uploads).
"""

from __future__ import annotations

from dataclasses import dataclass

from vrcollab.errors import LimitExceededError
from vrcollab.store.catalog import Catalog

ACTIVE = ("queued", "running")


class QuotaError(LimitExceededError):
    """A project quota would be exceeded; ``http_status`` is the HTTP answer (413 or 429)."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, code=code)
        self.http_status = status


@dataclass(frozen=True)
class ProjectQuotas:
    """Per-project bounds (``Settings.project_max_storage_bytes`` / ``project_max_active_jobs``)."""

    max_storage_bytes: int
    max_active_jobs: int


def storage_used(catalog: Catalog, project_id: str) -> int:
    """Bytes of every version's source and converted files in the project."""
    total = 0
    for model in catalog.list_models(project_id):
        for version in catalog.list_versions(model.model_id):
            total += version.source_bytes
            total += sum(f.size for f in catalog.list_version_files(version.version_id))
    return total


def check_before_upload(catalog: Catalog, project_id: str, quotas: ProjectQuotas,
                        declared_bytes: int | None = None) -> None:
    """Refuse an upload before its body is read: too many active jobs, or no room left."""
    active = len(catalog.list_jobs(project_id=project_id, statuses=ACTIVE))
    if active >= quotas.max_active_jobs:
        raise QuotaError(
            f"project has {active} conversions queued or running; at most "
            f"{quotas.max_active_jobs} (project_max_active_jobs): retry when one finishes",
            code="job_quota", status=429)
    check_storage(catalog, project_id, quotas, declared_bytes or 0)


def check_storage(catalog: Catalog, project_id: str, quotas: ProjectQuotas, new_bytes: int
                  ) -> None:
    """Refuse ``new_bytes`` more when they would take the project past its storage quota."""
    used = storage_used(catalog, project_id)
    if used + new_bytes > quotas.max_storage_bytes or used >= quotas.max_storage_bytes:
        raise QuotaError(
            f"project stores {used} bytes; {new_bytes} more would pass its quota of "
            f"{quotas.max_storage_bytes} bytes (project_max_storage_bytes)",
            code="storage_quota", status=413)
