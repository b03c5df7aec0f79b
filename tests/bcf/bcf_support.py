"""Helpers for the BCF tests: the official test cases, schema validation, a full topic.

The buildingSMART schemas and test cases are CC BY-ND 4.0: the schemas and a subset of small
test cases are committed *unmodified* under ``tests/fixtures/bcf`` (with the licence); the full
set is read from ``../shared/bcf`` when it is beside the checkout (see :mod:`tests.corpus`).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from lxml import etree

from tests.corpus import SHARED_BCF, bcf_case, bcf_cases, bcf_schema_dir
from vrcollab.bcf import (
    BimSnippet,
    Bitmap,
    ClippingPlane,
    Coloring,
    Comment,
    Component,
    Components,
    DocumentReference,
    HeaderFile,
    Line,
    OrthogonalCamera,
    PerspectiveCamera,
    Topic,
    Viewpoint,
    ViewSetupHints,
    Visibility,
)

__all__ = ["JPEG", "PNG", "SHARED_BCF", "bcf_case", "full_topic", "official_cases",
           "validate_bcf"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64

_KINDS = {"bcf.version": "version", "project.bcfp": "project", "extensions.xml": "extensions",
          "documents.xml": "documents"}
_SCHEMA_FILES = {"markup": "markup.xsd", "visinfo": "visinfo.xsd", "version": "version.xsd",
                 "project": "project.xsd", "extensions": "extensions.xsd",
                 "documents": "documents.xsd"}


def official_cases(version: str) -> list[Path]:
    """The official test case archives of one BCF version (all of them with ../shared)."""
    return bcf_cases(version)


@cache
def _schemas(version: str) -> dict[str, etree.XMLSchema]:
    folder = bcf_schema_dir(version)
    return {kind: etree.XMLSchema(etree.parse(str(folder / fname)))
            for kind, fname in _SCHEMA_FILES.items() if (folder / fname).exists()}


def _kind(name: str) -> str | None:
    if name in _KINDS:
        return _KINDS[name]
    if name.endswith("/markup.bcf"):
        return "markup"
    if name.endswith(".bcfv"):
        return "visinfo"
    return None


def validate_bcf(data: bytes, version: str) -> dict[str, int]:
    """Validate every XML file in the archive against the version's XSD; counts per kind."""
    schemas = _schemas(version)
    counts: dict[str, int] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            kind = _kind(name)
            if kind is None:
                continue
            schema = schemas[kind]
            doc = etree.fromstring(zf.read(name))
            assert schema.validate(doc), f"{name} ({version}): {schema.error_log.last_error}"
            counts[kind] = counts.get(kind, 0) + 1
    assert counts.get("version") == 1, "bcf.version missing"
    if version == "3.0":
        assert counts.get("extensions") == 1, "BCF 3.0 needs extensions.xml"
    return counts


def full_topic(version: str) -> Topic:
    """A topic with every field set that ``version`` can hold."""
    v3 = version == "3.0"
    tz = timezone(timedelta(hours=2))
    comp = Component("2O2Fr$t4X7Zf8NOew3FLOH", "Revit", "316423")
    vp1 = Viewpoint(
        guid="1c0e4c43-3a4f-4f4e-9b3b-9b1e1d0f0a01",
        camera=PerspectiveCamera((1.5, -2.25, 3.0), (0.1, 0.9, -0.3), (0.0, 0.0, 1.0),
                                 52.5, 1.75 if v3 else None),
        components=Components(
            selection=(comp, Component(authoring_tool_id="local-7")),
            visibility=Visibility(True, (Component("0fdpeZZEX3FwJ7x0ox5kzF"),)),
            coloring=(Coloring("FF00AA", (comp,)), Coloring("12AB34CD", (comp,))),
            view_setup_hints=ViewSetupHints(True, False, True)),
        lines=(Line((0.0, 0.0, 0.0), (1.0, 2.0, 3.0)), Line((-1.0, 0.5, 2.0), (4.0, 4.0, 4.0))),
        clipping_planes=(ClippingPlane((0.0, 0.0, 2.5), (0.0, 0.0, 1.0)),),
        bitmaps=(Bitmap("png", "pin.png", (1.0, 1.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0),
                        2.5, PNG),
                 Bitmap("jpg", "logo.jpg", (2.0, 1.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0),
                        1.0, JPEG)),
        snapshot=PNG, index=0)
    vp2 = Viewpoint(
        guid="1c0e4c43-3a4f-4f4e-9b3b-9b1e1d0f0a02",
        camera=OrthogonalCamera((0.0, 0.0, 100.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0), 18.5,
                                1.5 if v3 else None),
        components=Components(visibility=Visibility(False, (comp,))), snapshot=JPEG, index=1)
    return Topic(
        guid="7ddc3ef0-0ab7-43f1-918a-45e38b42369c",
        title="Clash between duct and beam",
        creation_date=datetime(2024, 3, 1, 9, 30, 15, 123000, tzinfo=UTC),
        creation_author="alice@example.com",
        topic_type="Clash", topic_status="In Progress", priority="High", index=3,
        labels=("Structural", "MEP"),
        modified_date=datetime(2024, 3, 2, 10, 0, tzinfo=tz), modified_author="bob@example.com",
        due_date=datetime(2024, 4, 1, 17, 0), assigned_to="carol@example.com",
        stage="Design", description="The duct passes through the beam.\nSecond line  kept.",
        server_assigned_id="ISSUE-42" if v3 else None,
        reference_links=("https://example.com/issues/42", "vrcollab:annotation?id=a1"),
        bim_snippet=BimSnippet("JSON", "snippet.json", "http://json-schema.org", False,
                               b'{"Material": "Concrete"}'),
        document_references=(
            DocumentReference(guid="8c7f2b8e-1d2a-4c3b-8e4f-5a6b7c8d9e01",
                              url="https://example.com/spec.pdf", description="Spec"),
            DocumentReference(guid="8c7f2b8e-1d2a-4c3b-8e4f-5a6b7c8d9e02",
                              description="Requirements", filename="requirements.txt",
                              document_guid="b1d1b7f0-60b9-457d-ad12-16e0fb997bc5" if v3
                              else None,
                              document_description="Project requirements" if v3 else None,
                              data=b"must not clash\n")),
        related_topics=("d1068c81-af04-4546-b63c-348810f6c716",),
        header_files=(HeaderFile("model.ifc", datetime(2024, 2, 1, 8, 0, tzinfo=UTC),
                                 "https://example.com/model.ifc", "0M6o7Znnv7hxsbWgeu7oQq",
                                 "23B$bNeGHFQuMYJzvUX0FD", False),),
        comments=(
            Comment("07ccdba0-1736-47e1-807d-67dc6f3addaa",
                    datetime(2024, 3, 1, 10, 0, tzinfo=UTC), "bob@example.com",
                    "Please check.", vp1.guid,
                    datetime(2024, 3, 1, 11, 0, tzinfo=UTC), "bob@example.com"),
            Comment("a12766c2-61bc-40b4-ab19-e9f45fd0b0bf",
                    datetime(2024, 3, 1, 12, 0, tzinfo=UTC), "carol@example.com",
                    "Moved the duct <10 cm> & done.")),
        viewpoints=(vp1, vp2),
    )
