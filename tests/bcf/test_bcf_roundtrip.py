"""Export -> import keeps every field, and every export validates against the BCF XSDs."""

from __future__ import annotations

import io
import string
import zipfile
from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest
from bcf_support import JPEG, PNG, full_topic, validate_bcf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vrcollab.bcf import (
    BimSnippet,
    ClippingPlane,
    Coloring,
    Comment,
    Component,
    Components,
    DocumentReference,
    Extensions,
    HeaderFile,
    Line,
    OrthogonalCamera,
    PerspectiveCamera,
    ProjectInfo,
    Topic,
    Viewpoint,
    ViewSetupHints,
    Visibility,
    read_bcf,
    read_bcf_archive,
    write_bcf,
)
from vrcollab.errors import BcfError

VERSIONS = ("2.1", "3.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_full_topic_validates_and_round_trips(version: str) -> None:
    topic = full_topic(version)
    project = ProjectInfo("proj-1", "Tower", Extensions(("Clash",), ("Open", "In Progress"),
                                                          ("High",), ("MEP",), ("alice",),
                                                          ("JSON",), ("Design",)))
    data = write_bcf([topic], version=version, project=project)
    counts = validate_bcf(data, version)
    assert counts["markup"] == 1
    assert counts["visinfo"] == 2
    assert counts["project"] == 1
    archive = read_bcf_archive(data)
    assert archive.version == version
    assert archive.topics == (topic,)
    assert archive.project == project


def test_output_is_deterministic() -> None:
    topic = full_topic("3.0")
    assert write_bcf([topic]) == write_bcf([topic])


def test_files_are_named_after_guids() -> None:
    topic = full_topic("3.0")
    names = set(zipfile.ZipFile(io.BytesIO(write_bcf([topic]))).namelist())
    folder = topic.guid
    assert {"bcf.version", "extensions.xml", "documents.xml", f"{folder}/markup.bcf",
            f"{folder}/{topic.viewpoints[0].guid}.bcfv", f"{folder}/{topic.viewpoints[0].guid}.png",
            f"{folder}/{topic.viewpoints[1].guid}.jpg", f"{folder}/pin.png",
            f"{folder}/snippet.json",
            "documents/b1d1b7f0-60b9-457d-ad12-16e0fb997bc5"} <= names


def test_3_0_fields_degrade_predictably_in_2_1() -> None:
    """2.1 has no aspect ratio, server id or document GUIDs, and limits the field of view."""
    topic = full_topic("3.0")
    first = topic.viewpoints[0]
    wide = replace(first, camera=replace(first.camera, field_of_view=90.0))
    topic = replace(topic, viewpoints=(wide, topic.viewpoints[1]))
    data = write_bcf([topic], version="2.1")
    validate_bcf(data, "2.1")
    (back,) = read_bcf(data)
    cam = back.viewpoints[0].camera
    assert isinstance(cam, PerspectiveCamera)
    assert cam.field_of_view == 60.0
    assert cam.aspect_ratio is None
    assert back.server_assigned_id is None
    internal = back.document_references[1]
    assert (internal.filename, internal.data, internal.document_guid) == (
        "requirements.txt", b"must not clash\n", None)
    assert back.labels == topic.labels
    assert back.comments == topic.comments


def test_3_0_requires_type_status_and_camera() -> None:
    bare = Topic(guid="ae693c83-c932-400e-8570-4a2cf45abcf3", title="t",
                 creation_date=full_topic("3.0").creation_date, creation_author="a",
                 viewpoints=(Viewpoint("cd21c8ce-c0b8-4554-b623-2ae1d3798806", snapshot=PNG),))
    data = write_bcf([bare], version="3.0")
    validate_bcf(data, "3.0")
    (back,) = read_bcf(data)
    assert (back.topic_type, back.topic_status) == ("Issue", "Open")
    assert back.viewpoints == bare.viewpoints  # snapshot-only viewpoint needs no .bcfv
    no_camera = replace(bare, viewpoints=(Viewpoint("cd21c8ce-c0b8-4554-b623-2ae1d3798806",
                                                    lines=(Line((0, 0, 0), (1, 1, 1)),)),))
    with pytest.raises(BcfError, match="requires one"):
        write_bcf([no_camera], version="3.0")
    validate_bcf(write_bcf([no_camera], version="2.1"), "2.1")


@pytest.mark.parametrize(("change", "match"), [
    ({"title": "  "}, "Title"),
    ({"guid": "not-a-guid"}, "GUID"),
    ({"creation_author": ""}, "CreationAuthor"),
    ({"viewpoints": (Viewpoint("cd21c8ce-c0b8-4554-b623-2ae1d3798806",
                               camera=OrthogonalCamera((0, 0, 0), (0, 0, 1), (0, 1, 0), 1.0),
                               components=Components(selection=(Component("short"),))),)},
     "IFC GlobalId"),
    ({"description": "bell \x07"}, "cannot write"),
])
def test_invalid_models_raise_bcf_error(change: dict[str, object], match: str) -> None:
    topic = replace(full_topic("3.0"), **change)  # type: ignore[arg-type]
    with pytest.raises(BcfError, match=match):
        write_bcf([topic])


def test_unsupported_version_and_duplicates() -> None:
    topic = full_topic("3.0")
    with pytest.raises(BcfError, match="unsupported"):
        write_bcf([topic], version="1.0")
    with pytest.raises(BcfError, match="duplicate"):
        write_bcf([topic, topic])


# --- property-based round trip -------------------------------------------------------------

_CHARS = st.characters(codec="utf-8", exclude_characters="\r",
                       exclude_categories=("Cs", "Cc", "Cn"))
_TEXT = st.text(alphabet=_CHARS | st.sampled_from("\n\t"),
                min_size=1, max_size=30).filter(lambda s: s.strip() != "")
_ATTR = st.text(alphabet=string.ascii_letters + string.digits + " _-", min_size=1,
                max_size=12).filter(lambda s: s.strip() == s and s != "")
_IFC = st.text(alphabet=string.ascii_letters + string.digits + "_$", min_size=22, max_size=22)
_FLOAT = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
_VEC = st.tuples(_FLOAT, _FLOAT, _FLOAT)
_DATES = st.datetimes(timezones=st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]))
_COMPONENT = st.builds(Component, st.none() | _IFC, st.none() | _TEXT, st.none() | _TEXT)


def _viewpoint(version: str) -> st.SearchStrategy[Viewpoint]:
    aspect = st.floats(min_value=0.1, max_value=10) if version == "3.0" else st.none()
    fov = st.floats(min_value=45, max_value=60) if version == "2.1" else st.floats(1, 179)
    camera = st.one_of(
        st.builds(PerspectiveCamera, _VEC, _VEC, _VEC, fov, aspect),
        st.builds(OrthogonalCamera, _VEC, _VEC, _VEC, st.floats(0.01, 1e4), aspect))
    color = st.text(alphabet="0123456789ABCDEF", min_size=6, max_size=6)
    coloring = st.builds(Coloring, color, st.lists(_COMPONENT, min_size=1, max_size=2)
                         .map(tuple))
    components = st.none() | st.builds(
        Components, st.lists(_COMPONENT, max_size=3).map(tuple),
        st.none() | st.builds(Visibility, st.booleans(), st.lists(_COMPONENT, max_size=3)
                              .map(tuple)),
        st.lists(coloring, max_size=2).map(tuple),
        st.none() | st.builds(ViewSetupHints, st.booleans(), st.booleans(), st.booleans()))
    return st.builds(Viewpoint, st.uuids().map(str), camera, components,
                     st.lists(st.builds(Line, _VEC, _VEC), max_size=2).map(tuple),
                     st.lists(st.builds(ClippingPlane, _VEC, _VEC), max_size=2).map(tuple),
                     snapshot=st.none() | st.sampled_from([PNG, JPEG]),
                     index=st.none() | st.integers(-(2**31), 2**31 - 1))


def _topic(version: str) -> st.SearchStrategy[Topic]:
    comment = st.builds(Comment, st.uuids().map(str), _DATES, _TEXT, st.just("") | _TEXT,
                        st.none() | st.uuids().map(str), st.none() | _DATES, st.none() | _TEXT)
    return st.builds(
        Topic, st.uuids().map(str), _TEXT, _DATES, _TEXT,
        topic_type=_ATTR, topic_status=_ATTR, priority=st.none() | _TEXT,
        index=st.none() | st.integers(0, 1000), labels=st.lists(_TEXT, max_size=3).map(tuple),
        modified_date=st.none() | _DATES, modified_author=st.none() | _TEXT,
        due_date=st.none() | _DATES, assigned_to=st.none() | _TEXT, stage=st.none() | _TEXT,
        server_assigned_id=st.none() | _ATTR if version == "3.0" else st.none(),
        header_files=st.lists(st.builds(HeaderFile, st.none() | _TEXT, st.none() | _DATES,
                                        st.none() | _TEXT, st.none() | _IFC, st.none() | _IFC,
                                        st.booleans()), max_size=2).map(tuple),
        description=st.none() | _TEXT, reference_links=st.lists(_TEXT, max_size=2).map(tuple),
        related_topics=st.lists(st.uuids().map(str), max_size=2).map(tuple),
        comments=st.lists(comment, max_size=3).map(tuple),
        viewpoints=st.lists(_viewpoint(version), max_size=2, unique_by=lambda v: v.guid)
        .map(tuple))


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_property(version: str, data: st.DataObject) -> None:
    topics = data.draw(st.lists(_topic(version), min_size=1, max_size=3,
                                unique_by=lambda t: t.guid))
    blob = write_bcf(topics, version=version)
    validate_bcf(blob, version)
    assert read_bcf(blob) == sorted(topics, key=lambda t: t.guid)


def test_index_out_of_xs_int_range_raises() -> None:
    with pytest.raises(BcfError, match="xs:int"):
        write_bcf([replace(full_topic("3.0"), index=2**31)])


def test_odd_zone_offsets_are_written_in_utc() -> None:
    odd = timezone(timedelta(hours=1, seconds=15))
    topic = replace(full_topic("3.0"), due_date=full_topic("3.0").creation_date.astimezone(odd))
    data = write_bcf([topic])
    validate_bcf(data, "3.0")
    (back,) = read_bcf(data)
    assert back.due_date == topic.due_date  # same instant
    assert back.due_date is not None
    assert back.due_date.utcoffset() == timedelta(0)


def test_unlisted_document_and_blank_snippet_type() -> None:
    topic = replace(full_topic("3.0"), document_references=(DocumentReference(
        guid="8c7f2b8e-1d2a-4c3b-8e4f-5a6b7c8d9e03",
        document_guid="b1d1b7f0-60b9-457d-ad12-16e0fb997bc6"),),
        bim_snippet=BimSnippet("", "https://example.com/x.ifc", "IFC4", True))
    data = write_bcf([topic])
    validate_bcf(data, "3.0")
    (back,) = read_bcf(data)
    assert back.document_references == topic.document_references
    assert back.bim_snippet is not None
    assert back.bim_snippet.snippet_type == "Unknown"


@pytest.mark.parametrize("version", VERSIONS)
def test_validator_catches_schema_violations(version: str) -> None:
    """The schema check is real: dropping a required element makes it fail."""
    topic = full_topic(version)
    data = write_bcf([topic], version=version)
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name.endswith("markup.bcf"):
                content = content.replace(b"<CreationAuthor>alice@example.com</CreationAuthor>",
                                          b"")
            dst.writestr(name, content)
    with pytest.raises(AssertionError, match=r"markup\.bcf"):
        validate_bcf(buf.getvalue(), version)


def test_library_touches_no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading and writing work on bytes only: any attempt to open a file fails the test."""
    import builtins
    import os
    import tempfile

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"file access: {args!r}")

    topic = full_topic("3.0")
    for target, name in ((builtins, "open"), (io, "open"), (os, "open"),
                         (tempfile, "mkstemp"), (tempfile, "TemporaryFile")):
        monkeypatch.setattr(target, name, forbidden)
    for version in VERSIONS:
        data = write_bcf([topic], version=version)
        assert read_bcf(data)[0].guid == topic.guid
