"""Shared pieces of the REST tests: the app handle, auth headers, generated OBJ models."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from vrcollab.settings import Settings

FAKE_CONVERTERS = "tests.jobs.fake_converters"


@dataclass
class Api:
    client: TestClient
    settings: Settings
    project_id: str
    owner: dict[str, str]
    viewer: dict[str, str]
    outsider: dict[str, str]
    other_project_id: str

    def wait_job(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(f"/api/jobs/{job_id}",
                                                  headers=self.owner).json()
            if job["status"] in ("done", "failed") or time.monotonic() > end:
                return job
            time.sleep(0.1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def obj_text(sizes: dict[str, float]) -> bytes:
    """An OBJ with one box object per name (edge length = size), spaced along x."""
    lines, base = [], 1
    for i, (name, size) in enumerate(sizes.items()):
        lines.append(f"o {name}")
        x0 = 3.0 * i
        for dx in (0, size):
            for dy in (0, size):
                for dz in (0, size):
                    lines.append(f"v {x0 + dx} {dy} {dz}")
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4),
                 (1, 5, 7, 3)]
        for a, b, c, d in quads:
            lines.append(f"f {base + a} {base + b} {base + c}")
            lines.append(f"f {base + a} {base + c} {base + d}")
        base += 8
    return ("\n".join(lines) + "\n").encode()


AppFactory = Callable[..., Api]
