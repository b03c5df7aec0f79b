"""Conversion jobs: a queue in the catalog, one killable subprocess per running job."""

from vrcollab.jobs.events import JobEvents
from vrcollab.jobs.runner import JobRunner

__all__ = ["JobEvents", "JobRunner"]
