"""Annotations <-> BCF topics: vocabularies, pin placement, frames and lossless round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from bcf_support import PNG, bcf_case, full_topic, official_cases, validate_bcf

from vrcollab.bcf import (
    ModelFrame,
    PerspectiveCamera,
    Topic,
    annotation_to_topic,
    export_annotations,
    import_annotations,
    read_bcf,
    topic_to_annotation,
    write_bcf,
)
from vrcollab.bcf.jsonform import topic_from_json, topic_to_json
from vrcollab.bcf.pinlink import PIN_LINK
from vrcollab.bcf.vocabulary import priority_from_bcf, status_from_bcf
from vrcollab.errors import BcfError

ANNOTATION: dict[str, Any] = {
    "id": "a-17", "position": [1.5, 2.0, -3.25], "normal": [0.0, 1.0, 0.0], "node_id": "wall#3",
    "element_id": "2O2Fr$t4X7Zf8NOew3FLOH",
    "viewpoint": {"position": [5.0, 1.7, 5.0], "target": [1.5, 2.0, -3.25],
                  "up": [0.0, 1.0, 0.0], "fov": 75.0},
    "title": "Crack", "text": "Look here\nand here", "status": "in_progress",
    "priority": "critical", "assignee": "bob@example.com", "labels": ["MEP", "urgent"],
    "author": "alice@example.com", "created": 1732540000.5, "updated": 1732541000.25,
    "comments": [
        {"id": "c1", "author": "bob@example.com", "text": "on it", "created": 1732540100.0,
         "updated": 1732540100.0},
        {"id": "0b843a5c-c3bf-41ef-be98-52a9f7bd9790", "author": "alice@example.com",
         "text": "thanks", "created": 1732540200.0, "updated": 1732540300.0}],
}
OFFSET = ModelFrame(offset=(1000.5, 20.25, -300.125), up_axis="Y")
IFC = ModelFrame.from_manifest({"source": {"format": "ifc"}, "offset": [500.0, -20.5, 3.0]})


def _fields(annotation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in annotation.items() if k != "bcf"}


@pytest.mark.parametrize("frame", [ModelFrame(), OFFSET, IFC], ids=["identity", "y-up", "ifc"])
@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_annotation_survives_bcf_export_and_import(version: str, frame: ModelFrame) -> None:
    topic = annotation_to_topic(ANNOTATION, snapshot=PNG, frame=frame)
    data = write_bcf([topic], version=version)
    validate_bcf(data, version)
    (back,) = read_bcf(data)
    again = topic_to_annotation(back, frame=frame)
    assert _fields(again) == ANNOTATION
    assert again["bcf"]["pin_source"] == "link"
    assert back.viewpoints[0].snapshot == PNG
    # exporting the unchanged annotation again gives the imported topic back
    assert annotation_to_topic(again, base=back, frame=frame) == back


def test_bcf_side_uses_z_up_world_coordinates() -> None:
    topic = annotation_to_topic(ANNOTATION, frame=OFFSET)
    (vp,) = topic.viewpoints
    cam = vp.camera
    assert isinstance(cam, PerspectiveCamera)
    assert cam.position == (1005.5, -(5.0 - 300.125), 1.7 + 20.25)  # glTF (x,y,z) -> (x,-z,y)
    assert cam.up == (0.0, 0.0, 1.0)
    assert cam.field_of_view == 75.0
    needle = vp.lines[0]
    assert needle.start == (1002.0, -(-3.25 - 300.125), 22.25)
    assert needle.end[2] == pytest.approx(22.5)  # 0.25 m along the normal (up)
    assert vp.components is not None
    assert vp.components.selection[0].ifc_guid == ANNOTATION["element_id"]
    assert topic.topic_status == "In Progress"
    assert topic.priority == "Critical"
    assert topic.labels == ("MEP", "urgent")
    assert topic.reference_links[0].startswith(PIN_LINK)
    assert topic.comments[1].guid == "0b843a5c-c3bf-41ef-be98-52a9f7bd9790"
    assert topic.comments[0].modified_date is None  # updated == created
    assert topic.comments[1].modified_date is not None


def test_ifc_models_keep_their_axes_and_add_the_offset() -> None:
    assert ModelFrame(offset=(500.0, -20.5, 3.0), up_axis="Z") == IFC
    assert ModelFrame.from_manifest({"source": {"format": "stl"}}).up_axis == "Y"
    assert ModelFrame.from_manifest({"up_axis": "z", "source": {"format": "step"}}).up_axis == "Z"
    topic = annotation_to_topic(ANNOTATION, frame=IFC)
    cam = topic.viewpoints[0].camera
    assert isinstance(cam, PerspectiveCamera)
    assert cam.position == (505.0, -18.8, 8.0)
    assert cam.up == (0.0, 1.0, 0.0)
    assert topic.viewpoints[0].lines[0].start == (501.5, -18.5, -0.25)
    with pytest.raises(BcfError, match="offset"):
        ModelFrame.from_manifest({"offset": [1, 2]})


def test_non_ifc_element_and_missing_viewpoint() -> None:
    ann = {**ANNOTATION, "element_id": "node-42", "viewpoint": None, "comments": []}
    topic = annotation_to_topic(ann)
    (vp,) = topic.viewpoints
    assert vp.components is not None
    comp = vp.components.selection[0]
    assert (comp.ifc_guid, comp.authoring_tool_id, comp.originating_system) == (
        None, "node-42", "vrcollab")
    assert isinstance(vp.camera, PerspectiveCamera)  # a synthetic camera for other viewers
    data = write_bcf([topic])
    validate_bcf(data, "3.0")
    assert _fields(topic_to_annotation(read_bcf(data)[0])) == ann


@pytest.mark.parametrize(("word", "status"), [
    ("Open", "open"), ("OPEN", "open"), ("Active", "open"), ("ReOpened", "open"),
    ("IN_PROGRESS", "in_progress"), ("In Progress", "in_progress"),
    ("SOLVED", "resolved"), ("Resolved", "resolved"), ("Finished status", "resolved"),
    ("CLOSED", "closed"), ("Closed", "closed"), ("Whatever", "open"), (None, "open"),
])
def test_status_vocabulary(word: str | None, status: str) -> None:
    assert status_from_bcf(word) == status


@pytest.mark.parametrize(("word", "priority"), [
    ("LOW", "low"), ("Minor", "low"), ("MEDIUM", "normal"), ("Normal", "normal"),
    ("High", "high"), ("Major", "high"), ("CRITICAL", "critical"), ("Blocker", "critical"),
    (None, "normal"), ("??", "normal"),
])
def test_priority_vocabulary(word: str | None, priority: str) -> None:
    assert priority_from_bcf(word) == priority


def _strip(topic: Topic) -> Topic:
    return topic_from_json(topic_to_json(topic, binary=False))


@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_official_topics_survive_annotation_round_trip(version: str) -> None:
    for path in official_cases(version):
        for topic in read_bcf(path.read_bytes()):
            annotation = json.loads(json.dumps(topic_to_annotation(topic)))  # JSON-safe
            assert annotation_to_topic(annotation, base=topic) == topic, path.name
            assert annotation_to_topic(annotation) == _strip(topic), path.name


def test_foreign_topic_becomes_a_reasonable_annotation() -> None:
    (topic,) = read_bcf(bcf_case("3.0", "Visualization-Component_selection").read_bytes())
    ann = topic_to_annotation(topic)
    assert ann["id"] == topic.guid
    assert ann["element_id"] == "0KkZ20so9BsO1d1hFcfLOl"
    assert ann["status"] == "open"
    assert ann["bcf"]["pin_source"] == "camera"
    assert ann["viewpoint"]["fov"] == 60.0  # orthogonal camera: default field of view
    assert ann["created"] == topic.creation_date.timestamp()


def test_edits_replace_only_what_changed() -> None:
    topic = full_topic("3.0")
    ann = topic_to_annotation(topic)
    ann.update(status="closed", labels=["Structural"], title="Renamed")
    ann["comments"][0]["text"] = "edited"
    ann["comments"].append({"id": "new-1", "author": "dave", "text": "+1",
                            "created": 1732540000.0, "updated": 1732540000.0})
    edited = annotation_to_topic(ann, base=topic)
    assert edited.topic_status == "Closed"
    assert edited.priority == "High"  # unchanged word kept
    assert edited.title == "Renamed"
    assert edited.comments[0].text == "edited"
    assert edited.comments[0].viewpoint_guid == topic.comments[0].viewpoint_guid
    assert len(edited.comments) == 3
    assert edited.viewpoints == topic.viewpoints
    assert edited.document_references == topic.document_references
    # the new comment id is not a UUID, so a pin link carries it; everything still validates
    assert any(link.startswith(PIN_LINK) for link in edited.reference_links)
    data = write_bcf([edited])
    validate_bcf(data, "3.0")
    ids = [c["id"] for c in topic_to_annotation(read_bcf(data)[0])["comments"]]
    assert ids[-1] == "new-1"


def test_moving_the_pin_rebuilds_the_pin_viewpoint_only() -> None:
    topic = annotation_to_topic(ANNOTATION)
    ann = topic_to_annotation(topic)
    ann["position"] = [0.0, 0.0, 0.0]
    moved = annotation_to_topic(ann, base=topic)
    assert moved.viewpoints[0].lines[0].start == (0.0, 0.0, 0.0)
    assert len(moved.viewpoints[0].lines) == 1
    assert moved.viewpoints[0].camera == topic.viewpoints[0].camera
    assert topic_to_annotation(moved)["position"] == [0.0, 0.0, 0.0]


def test_camera_edited_elsewhere_wins_over_the_link() -> None:
    topic = annotation_to_topic(ANNOTATION)
    cam = topic.viewpoints[0].camera
    assert isinstance(cam, PerspectiveCamera)
    other = replace(cam, position=(9.0, 9.0, 9.0), direction=(-1.0, 0.0, 0.0))
    edited = replace(topic, viewpoints=(replace(topic.viewpoints[0], camera=other),))
    view = topic_to_annotation(edited)["viewpoint"]
    assert view["position"] == [9.0, 9.0, 9.0]
    assert view["target"] == [8.0, 9.0, 9.0]


@pytest.mark.parametrize("bad", [
    {"id": ""}, {"status": "done"}, {"priority": "p1"}, {"position": [0, 0]},
    {"position": [0, float("nan"), 0]}, {"created": None}, {"created": "yesterday"},
    {"title": 3}, {"labels": "MEP"}, {"assignee": 5}, {"viewpoint": {"position": [0, 0, 0]}},
    {"viewpoint": {"position": [0, 0, 0], "target": [1, 0, 0], "up": [0, 1, 0], "fov": 0}},
    {"comments": [{"text": "no id", "created": 1.0}]}, {"comments": [{"id": "c", "created": "?"}]},
    {"normal": [0, True, 0]},
])
def test_bad_annotations_raise(bad: dict[str, Any]) -> None:
    with pytest.raises(BcfError):
        annotation_to_topic({**ANNOTATION, **bad})


def test_blank_title_and_author_still_export() -> None:
    topic = annotation_to_topic({**ANNOTATION, "title": " ", "author": ""})
    assert topic.title == "Look here"
    assert topic.creation_author == "unknown"
    validate_bcf(write_bcf([topic]), "3.0")


@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_export_and_import_annotations_in_one_call(version: str) -> None:
    second = {**ANNOTATION, "id": "a-18", "element_id": None, "viewpoint": None,
              "status": "resolved", "comments": []}
    data = export_annotations([ANNOTATION, second], version=version, frame=IFC,
                              snapshots={"a-17": PNG})
    validate_bcf(data, version)
    result = import_annotations(data, frame=IFC)
    assert result.version == version
    by_id = {a["id"]: _fields(a) for a in result.annotations}
    assert by_id == {"a-17": ANNOTATION, "a-18": second}
    snapshots = [v.snapshot for t in result.topics for v in t.viewpoints]
    assert snapshots.count(PNG) == 1
    # exporting the imported annotations with their topics as bases reproduces the archive
    bases = {a["id"]: t for a, t in zip(result.annotations, result.topics, strict=True)}
    again = export_annotations(result.annotations, version=version, frame=IFC, bases=bases)
    assert again == data
