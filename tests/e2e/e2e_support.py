"""Helpers for the end-to-end tests: real models, a changed IFC version, SSE, BCF checks."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.corpus import HOUSE

__all__ = ["DOOR", "FOOTING", "HOUSE", "auth", "changed_house", "follow_job", "upload"]
FOOTING = "2W4bl$KK1Brv_UEOkAThqU"  # moved in version 2
DOOR = "0Tif_$wI1FwAwq$OJt24I8"  # removed in version 2


def changed_house(dst: Path) -> Path:
    """IfcOpenHouse (lengths in mm) with the footing moved 0.5 m along x and the door removed."""
    import ifcopenshell
    import ifcopenshell.api

    f = ifcopenshell.open(str(HOUSE))
    ifcopenshell.api.run("root.remove_product", f, product=f.by_guid(DOOR))
    loc = f.by_guid(FOOTING).ObjectPlacement.RelativePlacement.Location
    x, y, z = loc.Coordinates
    loc.Coordinates = (x + 500.0, y, z)
    f.write(str(dst))
    return dst


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(base: str, token: str, project_id: str, path: Path, model: str) -> dict[str, Any]:
    """Stream a file as multipart (httpx reads the file in chunks)."""
    with path.open("rb") as fh:
        r = httpx.post(f"{base}/api/projects/{project_id}/models", params={"model": model},
                       files={"file": (path.name, fh, "application/octet-stream")},
                       headers=auth(token), timeout=120)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


def follow_job(base: str, token: str, job: dict[str, Any], timeout: float = 300) -> list[dict]:
    """Every SSE update of a job until done/failed."""
    events: list[dict[str, Any]] = []
    end = time.monotonic() + timeout
    with httpx.stream("GET", base + job["events_url"], params={"token": token},
                      timeout=httpx.Timeout(timeout, connect=10)) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
            assert time.monotonic() < end, "job took too long"
    return events
