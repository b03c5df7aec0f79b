"""Every official buildingSMART test case imports, keeps its content, re-exports valid and equal.

The expectations below were read off the XML inside each archive (topics, comments, viewpoints:
camera kind and field of view / scale, aspect ratio, selected components, default visibility and
its exceptions, colourings, view setup hints, lines / clipping planes / bitmaps, labels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bcf_support import official_cases, validate_bcf

from tests.corpus import bcf_case, has_shared, skip_reason
from vrcollab.bcf import (
    OrthogonalCamera,
    PerspectiveCamera,
    Topic,
    Viewpoint,
    read_bcf_archive,
    write_bcf,
)

F = (False, False, False)
NONE = (0, 0, 0)
S = "Structural"
# viewpoint: (camera kind, fov|scale), aspect, #selected, (default visible, #exceptions),
#            #colour groups, view setup hints, (#lines, #clipping planes, #bitmaps)
EXPECTED: dict[tuple[str, str], list[Any]] = {
    ("2.1", "Markup-ExternalBIMSnippet"): [("178ba52d", "External BIM Snippet", None, None,
                                            (), 0, [])],
    ("2.1", "Markup-InternalBIMSnippet"): [("857dd755", "Internal BIM Snippet", None, None,
                                            (), 0, [])],
    ("2.1", "Markup-MaximumInformation"): [
        ("7ddc3ef0", "Maximum Content", S, "Open", (S, "IT Development"), 4, [
            (("P", 60.0), None, 5, (True, 5), 1, (True, True, True), (3, 2, 2)),
            (("P", 60.0), None, 5, (False, 5), 1, F, NONE),
            (("P", 60.0), None, 5, (True, 5), 1, (False, False, True), NONE)]),
        ("d1068c81", "Referenced topic", None, None, (), 0, [])],
    ("2.1", "Markup-MinimumInformation"): [("ae693c83", "Minimum information BCFZip topic.",
                                            None, None, (), 0, [])],
    ("2.1", "Markup-PDFFile"): [("bf872303", "PDF File", None, None, (), 0, [])],
    ("2.1", "Markup-related_topics_with_both_topics_in_the_same_file"): [
        ("49439758", "Related topic B", "Error", "Open", (), 2, []),
        ("c357e96a", "Related topic", "Error", "Open", (), 1, [])],
    ("2.1", "Markup-related_topics_with_the_other_topic_missing"): [
        ("d037da92", "Related topic B", "Error", "Open", (), 2, [])],
    ("2.1", "Markup-user_assignment"): [("12628303", "Assigned issue", "Error", "Open", (), 1,
                                         [])],
    ("2.1", "Project-ExtensionSchema"): [
        ("0b762f89", "Test case for checking extension schema within the BCFZip container.",
         "Information", "Open", (), 0, [])],
    ("2.1", "Visualization-All_parts_of_curtain_wall_visible"): [
        ("ee9a9498", "All components of curtain wall visible", "Error", "Open", (), 0,
         [(("P", 60.0), None, 0, (False, 1), 0, F, NONE)])],
    ("2.1", "Visualization-All_parts_of_decomposed_object_except_one_visible"): [
        ("28942812", "All components except one plate visible", "Error", "Open", (), 0,
         [(("P", 60.0), None, 0, (False, 36), 0, F, NONE)])],
    ("2.1", "Visualization-Component_Selection"): [
        ("5ed97d64", "Component Selection", None, None, (), 0,
         [(("P", 60.0), None, 3, (True, 0), 0, (False, False, True), NONE)])],
    ("2.1", "Visualization-One_part_of_decomposed_object_visible"): [
        ("3146b55f", "One plate visible", "Error", "Open", (), 0,
         [(("P", 60.0), None, 0, (False, 1), 0, F, NONE)])],
    ("2.1", "Visualization-OrthogonalCamera"): [
        ("7c330931", "Orthogonal Camera", None, None, (), 0,
         [(("O", 1.0), None, None, None, None, None, NONE)])],
    ("2.1", "Visualization-PerspectiveCamera"): [
        ("3bc2ab8c", "Perspective Camera", None, None, (), 0,
         [(("P", 60.0), None, None, None, None, None, NONE)])],
    ("2.1", "Visualization-Single_visible_space"): [
        ("a3befb7d", "Single visible space", "Error", "Open", (), 2,
         [(("P", 60.0), None, 0, (False, 1), 0, None, NONE)])],
    ("2.1", "Visualization-Single_visible_wall"): [
        ("d029895e", "Single visible wall", "Error", "Open", (), 2,
         [(("P", 60.0), None, 0, (False, 1), 0, F, NONE)])],
    ("2.1", "Visualization-all_components_and_spaces_visible"): [
        ("2c02d25f", "Both spaces and components visible", "Error", "Open", (), 2,
         [(("P", 60.0), None, 0, (True, 0), 0, (True, False, False), NONE)])],
    ("3.0", "Markup-Document_Reference_External"): [
        ("1b66b5cb", "Document Reference External", "Error", "Open", (), 1,
         [(("P", 60.0), 1.0, 0, (True, 2), 0, F, NONE)])],
    ("3.0", "Markup-Document_reference_internal"): [
        ("8ac9822a", "Document Reference Internal", "ERROR", "OPEN", (), 1,
         [(("P", 60.0), 1.0, 0, (True, 2), 0, F, NONE)])],
    ("3.0", "Markup-Due_Date"): [
        ("fffc1b9d", "Issue that needs to be fixed by a certain date", "Error", "Open", (), 0,
         [])],
    ("3.0", "Markup-Labels"): [
        ("bee19eb8", "Labels", "Error", "Open", ("Architects",), 1,
         [(("P", 60.0), 1.0, 0, (True, 2), 0, F, NONE)])],
    ("3.0", "Markup-Minimum_information"): [("b0ddb128", "Minimum information", "ERROR", "OPEN",
                                             (), 0, [])],
    ("3.0", "Markup-Related_topics_with_both_topics_in_the_same_file"): [
        ("a6f801b9", "Related topic B", "ERROR", "OPEN", (), 1, []),
        ("c69c8879", "Related topic", "ERROR", "OPEN", (), 0, [])],
    ("3.0", "Markup-User_assignment"): [
        ("7ad1a717", "User assignment", "ERROR", "OPEN", (), 1,
         [(("P", 60.0), 1.0, 0, (True, 2), 0, F, NONE)])],
    ("3.0", "Visualization-All_parts_of_curtain_wall_visible"): [
        ("cc1ba10e", "All components of curtain wall visible", "Info", "Open", (), 0,
         [(("P", 60.0), 1.0, 0, (False, 1), 0, F, NONE)])],
    ("3.0", "Visualization-All_parts_of_decomposed_object_except_one_visible"): [
        ("6e9a9f2f", "All components except one plate visible", "ERROR", "OPEN", (), 0,
         [(("P", 59.99999999999999), 2.58739837398374, 0, (False, 36), 0, F, NONE)])],
    ("3.0", "Visualization-Component_selection"): [
        ("647bca1c", "Component Selection", "WARNING", "OPEN", (), 0,
         [(("O", 18.97427487373352), 16 / 9, 3, (True, 2), 0, (True, False, False), NONE)])],
    ("3.0", "Visualization-One_part_of_decomposed_object_visible"): [
        ("c9582109", "One plate visible", "Error", "Open", (), 0,
         [(("P", 60.0), 1.0, 0, (False, 1), 0, F, NONE)])],
    ("3.0", "Visualization-Orthogonal_camera"): [
        ("793a5f9f", "Orthogonal Camera", "ERROR", "OPEN", (), 0,
         [(("O", 12.079612252278443), 1.4694783573806882, 0, (True, 0), 0, F, NONE)])],
    ("3.0", "Visualization-Perspective_camera"): [
        ("01777b21", "Perspective camera", "OTHER", "OPEN", (), 0,
         [(("P", 29.39495760413827), 16 / 9, 0, (True, 2), 0, (True, False, False), NONE)])],
    ("3.0", "Visualization-Single_invisible_wall"): [
        ("d5121f1c", "Single invisible wall", "Info", "Open", (), 1,
         [(("P", 60.0), 1.0, 0, (True, 1), 0, F, NONE)])],
    ("3.0", "Visualization-Single_visible_space"): [
        ("aeb8d729", "Single visible space", "ERROR", "OPEN", (), 0,
         [(("P", 56.0), 1.4694783573806882, 0, (False, 1), 0, F, NONE)])],
    ("3.0", "Visualization-Single_visible_wall"): [
        ("456b122e", "Single visible wall", "ERROR", "OPEN", (), 0,
         [(("O", 9.673289179801941), 16 / 9, 0, (False, 1), 0, F, NONE)])],
    ("3.0", "Visualization-all_components_and_spaces_visible"): [
        ("9af7d7db", "All Components And Spaces Visible", "INFORMATION", "OPEN", (), 0,
         [(("P", 35.98339777135764), 16 / 9, 0, (True, 0), 0, (True, False, False), NONE)])],
}

CASES = [(v, p) for v in ("2.1", "3.0") for p in official_cases(v)]


def _viewpoint_summary(v: Viewpoint) -> tuple[Any, ...]:
    cam = v.camera
    kind: tuple[str, float] | None = None
    if isinstance(cam, PerspectiveCamera):
        kind = ("P", cam.field_of_view)
    elif isinstance(cam, OrthogonalCamera):
        kind = ("O", cam.view_to_world_scale)
    comp = v.components
    vis = comp.visibility if comp else None
    hints = comp.view_setup_hints if comp else None
    return (kind, cam.aspect_ratio if cam else None,
            len(comp.selection) if comp else None,
            (vis.default_visibility, len(vis.exceptions)) if vis else None,
            len(comp.coloring) if comp else None,
            (hints.spaces_visible, hints.space_boundaries_visible, hints.openings_visible)
            if hints else None,
            (len(v.lines), len(v.clipping_planes), len(v.bitmaps)))


def _summary(topics: tuple[Topic, ...] | list[Topic]) -> list[Any]:
    return [(t.guid[:8], t.title, t.topic_type, t.topic_status, t.labels, len(t.comments),
             [_viewpoint_summary(v) for v in t.viewpoints]) for t in topics]


def _case_id(case: tuple[str, Path]) -> str:
    return f"{case[0]}-{case[1].stem}"


def test_every_case_has_expectations() -> None:
    assert {(v, p.stem) for v, p in CASES} <= set(EXPECTED)
    if not has_shared():
        pytest.skip(skip_reason("the full set of 35 BCF test cases (tests/fixtures has "
                                f"{len(CASES)})"))
    assert len(CASES) == 35
    assert {(v, p.stem) for v, p in CASES} == set(EXPECTED)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_official_case_imports_and_round_trips(case: tuple[str, Path]) -> None:
    version, path = case
    archive = read_bcf_archive(path.read_bytes())
    assert archive.version == version
    assert _summary(archive.topics) == EXPECTED[(version, path.stem)]
    for t in archive.topics:
        for v in t.viewpoints:
            assert v.snapshot is not None
            assert v.snapshot.startswith(b"\x89PNG")
    # re-export in the same version: valid, and reads back equal (topics and project)
    again = write_bcf(archive.topics, version=version, project=archive.project)
    validate_bcf(again, version)
    back = read_bcf_archive(again)
    assert back.topics == archive.topics
    assert back.project == archive.project
    # and in the other version: valid, same topics/comments/viewpoint content
    other = "3.0" if version == "2.1" else "2.1"
    converted = write_bcf(archive.topics, version=other, project=archive.project)
    validate_bcf(converted, other)
    moved = read_bcf_archive(converted).topics
    assert [(t.guid, t.title, t.labels, t.comments) for t in moved] == [
        (t.guid, t.title, t.labels, t.comments) for t in archive.topics]
    assert [[(v.guid, v.components, v.lines, v.clipping_planes, v.snapshot) for v in t.viewpoints]
            for t in moved] == [
        [(v.guid, v.components, v.lines, v.clipping_planes, v.snapshot) for v in t.viewpoints]
        for t in archive.topics]


def _read(version: str, name: str) -> tuple[Topic, ...]:
    return read_bcf_archive(bcf_case(version, name).read_bytes()).topics


def test_maximum_information_2_1_details() -> None:
    topic, referenced = _read("2.1", "Markup-MaximumInformation")
    assert topic.priority == "High"
    assert topic.index == 0
    assert topic.stage == "Construction Start"
    assert topic.assigned_to == "linhard@iabi.eu"
    assert topic.due_date is not None
    assert topic.due_date.isoformat() == "2016-10-02T14:22:47+00:00"
    assert topic.reference_links == ("https://bim--it.net",)
    assert topic.related_topics == (referenced.guid,)
    assert topic.bim_snippet is not None
    assert topic.bim_snippet.data is not None
    assert b'"Material":"Concrete"' in topic.bim_snippet.data
    external, internal = topic.document_references
    assert external.url == "https://github.com/BuildingSMART/BCF-XML"
    assert internal.filename == "markup.xsd"
    assert internal.data is not None
    assert internal.data.startswith(b"<?xml")
    (header,) = topic.header_files
    assert (header.filename, header.ifc_project, header.is_external) == (
        "IfcPile_01.ifc", "0M6o7Znnv7hxsbWgeu7oQq", False)
    assert [c.viewpoint_guid for c in topic.comments] == [
        None, None, "4ab7514b-b216-4d56-98d2-45cf8500ff5a", None]
    assert topic.comments[3].modified_author == "dangl@iabi.eu"
    assert "\nAll times in the XML are marked as UTC times." in topic.comments[0].text
    vp = topic.viewpoints[0]
    assert [v.index for v in topic.viewpoints] == [2, 0, 1]
    assert vp.components is not None
    assert vp.components.coloring[0].color == "3498DB"
    assert vp.components.selection[0].ifc_guid == "0cSRUx$EX1NRjqiKcYQ$a0"
    assert vp.lines[2].end == (1.0, 1.0, 1.0)
    assert vp.clipping_planes[1].direction == (0.0, 1.0, 0.0)
    assert [(b.reference, b.height) for b in vp.bitmaps] == [("bitmap.png", 5.0),
                                                              ("tux.png", 5.0)]
    assert all(b.data is not None and b.data.startswith(b"\x89PNG") for b in vp.bitmaps)
    cam = vp.camera
    assert isinstance(cam, PerspectiveCamera)
    assert cam.position == (0.43079984188079834, 69.52057647705078, 10.666350364685059)


def test_cameras_and_components_details() -> None:
    (ortho,) = _read("2.1", "Visualization-OrthogonalCamera")
    assert ortho.viewpoints[0].camera == OrthogonalCamera((0.0, 0.0, 100.0), (0.0, 0.0, -1.0),
                                                          (0.0, 1.0, 0.0), 1.0)
    (wall,) = _read("2.1", "Visualization-Single_visible_wall")
    comps = wall.viewpoints[0].components
    assert comps is not None
    assert comps.visibility is not None
    exc = comps.visibility.exceptions[0]
    assert (exc.ifc_guid, exc.originating_system) == ("1E8YkwPMfB$h99jtn_uAjI",
                                                      "https://bimsync.com")
    assert wall.comments[1].viewpoint_guid == wall.viewpoints[0].guid
    assert wall.description is None  # <Description></Description>
    (sel,) = _read("3.0", "Visualization-Component_selection")
    comps = sel.viewpoints[0].components
    assert comps is not None
    assert [c.ifc_guid for c in comps.selection] == [
        "0KkZ20so9BsO1d1hFcfLOl", "1XbKhGD91DvhOpYZbhzGTI", "3D9pjHJ0HCnggyepvsht8s"]
    assert sel.server_assigned_id == "2"


def test_3_0_documents_due_date_and_related_topics() -> None:
    (internal,) = _read("3.0", "Markup-Document_reference_internal")
    (ref,) = internal.document_references
    assert (ref.document_guid, ref.filename, ref.description) == (
        "b1d1b7f0-60b9-457d-ad12-16e0fb997bc5", "ThisIsADocument.txt", "ThisIsADocument.txt")
    assert ref.data == b""  # the official archive ships an empty document file
    (external,) = _read("3.0", "Markup-Document_Reference_External")
    assert external.document_references[0].url is not None
    assert external.document_references[0].url.endswith("markup.xsd/at_download/file")
    assert external.comments[0].text == ""  # 3.0 comments may carry only a viewpoint
    (due,) = _read("3.0", "Markup-Due_Date")
    assert due.due_date is not None
    assert due.due_date.isoformat() == "2021-03-15T11:00:00+00:00"
    b, a = _read("3.0", "Markup-Related_topics_with_both_topics_in_the_same_file")
    assert b.related_topics == (a.guid,)
    (wall,) = _read("3.0", "Visualization-Single_invisible_wall")
    assert wall.guid == "d5121f1c-11e0-4f25-9d23-7ace76853a8f"  # not its folder name


def test_extensions_are_read() -> None:
    archive = read_bcf_archive(bcf_case("2.1", "Project-ExtensionSchema").read_bytes())
    assert archive.project is not None
    ext = archive.project.extensions
    assert ext is not None
    assert ext.topic_statuses == ("Open", "Closed", "Reopened")
    assert ext.topic_types == ("Information", "Warning", "Error", "Request")
    assert ext.users == ("Architect@example.com", "MEPEngineer@example.com",
                         "Developer@example.com")
    archive = read_bcf_archive(bcf_case("3.0", "Markup-Due_Date").read_bytes())
    assert archive.project is not None
    assert archive.project.name == "BCF 3.0 test cases"
    assert archive.project.extensions is not None
    assert archive.project.extensions.stages == ("February",)
