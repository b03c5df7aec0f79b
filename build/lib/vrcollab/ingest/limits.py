"""Input limits for one conversion (from :class:`vrcollab.settings.Settings`)."""

from __future__ import annotations

from dataclasses import dataclass

from vrcollab.errors import LimitExceededError
from vrcollab.settings import Settings


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one conversion may do."""

    max_input_bytes: int = 512 * 1024 * 1024
    max_triangles: int = 20_000_000
    max_archive_ratio: float = 200.0
    max_archive_bytes: int = 2 * 1024 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The ingest section of ``settings``."""
        return cls(
            max_input_bytes=settings.max_input_bytes,
            max_triangles=settings.max_triangles,
            max_archive_ratio=settings.max_archive_ratio,
            max_archive_bytes=settings.max_archive_bytes,
        )

    def check_bytes(self, name: str, size: int) -> None:
        """Refuse inputs larger than ``max_input_bytes``."""
        if size > self.max_input_bytes:
            raise LimitExceededError(
                f"{name}: {size} bytes is over the input limit of {self.max_input_bytes} bytes"
            )

    def check_triangles(self, name: str, triangles: int) -> None:
        """Refuse models with more than ``max_triangles`` triangles."""
        if triangles > self.max_triangles:
            raise LimitExceededError(
                f"{name}: {triangles} triangles is over the limit of {self.max_triangles}"
            )
