"""XSD validation of BCF archives against the buildingSMART schemas in ../shared/bcf."""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

from lxml import etree

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
_FIXED = {"bcf.version": "version.xsd", "project.bcfp": "project.xsd",
          "extensions.xml": "extensions.xsd", "documents.xml": "documents.xsd"}


@cache
def _schema(version: str, name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SHARED / "bcf" / f"schemas-{version}" / name)))


def schema_for(entry: str) -> str | None:
    """The XSD file name for an archive entry (None for images and other payloads)."""
    if entry in _FIXED:
        return _FIXED[entry]
    if entry.endswith("markup.bcf"):
        return "markup.xsd"
    if entry.endswith(".bcfv"):
        return "visinfo.xsd"
    return None


def validate_archive(data: bytes, version: str) -> dict[str, int]:
    """Validate every XML entry; returns how many entries each schema checked."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for entry in zf.namelist():
            xsd = schema_for(entry)
            if xsd is None:
                continue
            schema = _schema(version, xsd)
            doc = etree.fromstring(zf.read(entry))
            assert schema.validate(doc), f"{entry} ({version}): {schema.error_log.last_error}"
            counts[xsd] = counts.get(xsd, 0) + 1
    return counts
