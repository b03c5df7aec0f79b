"""Issue 14: erasing an imported markup removes its lines from the original topic's viewpoint
on the next export (the topic's other lines and the kept markup stay)."""

from __future__ import annotations

import itertools

import pytest

from tests.bcf.bcf_support import validate_bcf
from vrcollab.bcf import read_bcf_archive
from vrcollab.bcf.frame import ModelFrame
from vrcollab.review.bcf_exchange import export_bcf, plan_import
from vrcollab.sync.codec import Limits
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState, apply_commit

FRAME = ModelFrame(offset=(10.0, 20.0, 0.0), up_axis="Z")
ANN = {"id": "a1", "title": "Gap at the beam", "text": "", "author": "u_rita", "created": 1.7e9,
       "position": [1.0, 2.0, 3.0], "normal": [0.0, 0.0, 1.0], "comments": []}
KEEP = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
ERASE = [[5.0, 5.0, 5.0], [6.0, 5.0, 5.0]]


def segments(data: bytes) -> set[tuple[tuple[float, ...], tuple[float, ...]]]:
    """The pin viewpoint's line segments of the only topic, in BCF world coordinates."""
    topic = read_bcf_archive(data).topics[0]
    vp = min(topic.viewpoints, key=lambda v: (v.index is None, v.index or 0))
    return {(tuple(round(c, 6) for c in ln.start), tuple(round(c, 6) for c in ln.end))
            for ln in vp.lines}


def world(polyline: list[list[float]]) -> set[tuple[tuple[float, ...], tuple[float, ...]]]:
    pts = [tuple(round(c, 6) for c in FRAME.point_to_bcf(p)) for p in polyline]
    return set(itertools.pairwise(pts))


@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_erased_imported_markup_leaves_the_topic_lines(version: str) -> None:
    markups = {"m1": {"id": "m1", "points": KEEP, "annotation_id": "a1", "created": 1},
               "m2": {"id": "m2", "points": ERASE, "annotation_id": "a1", "created": 2}}
    first = export_bcf({"a1": ANN}, version=version, frame=FRAME, markups=markups)
    assert world(KEEP) | world(ERASE) <= segments(first)

    # Import into another room: the topic's lines become two markups of the imported issue.
    plan = plan_import(first, existing=set(), frame=FRAME, limits=Limits(), importer="u_carl")
    state = RoomState()
    for seq, (author, op) in enumerate(plan.items, 1):
        apply_commit(state, Commit(seq, op.op_id, op.kind, author, 1.8e9 + seq, op.fields))
    assert len(state.markups) == 2
    erased = next(m["id"] for m in state.markups.values() if m["points"][0] == ERASE[0])
    again = export_bcf(state.annotations, version=version, frame=FRAME, markups=state.markups)
    assert segments(again) == segments(first)  # nothing erased: the topic's lines unchanged

    del state.markups[erased]  # what markup.delete does
    after = export_bcf(state.annotations, version=version, frame=FRAME, markups=state.markups)
    validate_bcf(after, version)
    lines = segments(after)
    assert not world(ERASE) & lines
    assert world(KEEP) <= lines
    assert lines == segments(first) - world(ERASE)  # the pin needle stays too

    # Imported once more, only the kept markup comes back.
    back = plan_import(after, existing=set(), frame=FRAME, limits=Limits(), importer="u_carl")
    made = [[[round(c, 6) for c in p] for p in op.fields["markup"]["points"]]
            for _, op in back.items if op.kind == "markup.create"]
    assert made == [KEEP]
