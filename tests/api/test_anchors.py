"""Re-anchoring rules (pure): element fingerprints compared across versions."""

from __future__ import annotations

from vrcollab.jobs.elements import same_geometry
from vrcollab.review.anchors import reanchor


def _box(tri: int, tol: float, *coords: float) -> str:
    return f"box:{tri}|{tol}|" + ",".join(f"{c:.5f}" for c in coords)


def test_same_geometry_tolerates_grid_jitter_only() -> None:
    a = _box(12, 0.002, 0, 0, 0, 1, 1, 1)
    assert same_geometry(a, _box(12, 0.001, 0.0015, 0, 0, 1, 1, 1.0019))
    assert not same_geometry(a, _box(12, 0.001, 0.01, 0, 0, 1, 1, 1))
    assert not same_geometry(a, _box(14, 0.002, 0, 0, 0, 1, 1, 1))
    assert not same_geometry(a, a + "+" + a)
    assert same_geometry("sha:abc", "sha:abc")
    assert not same_geometry("sha:abc", "sha:abd")


def test_reanchor_marks_changed_and_missing_and_is_sticky() -> None:
    old = {"W": _box(12, 0.001, 0, 0, 0, 1, 1, 1), "S": _box(12, 0.001, 0, 0, 0, 2, 2, 2),
           "D": _box(8, 0.001, 5, 5, 5, 6, 6, 6), "node:Roof": _box(4, 0.001, 0, 0, 3, 4, 4, 3)}
    new = {"W": old["W"], "S": _box(12, 0.001, 0, 0, 0, 2, 2, 2.5),
           "node:Roof": old["node:Roof"]}
    anns = {
        "w": {"element_id": "W"}, "s": {"element_id": "S"}, "d": {"element_id": "D"},
        "r": {"element_id": None, "node_id": "Roof"}, "free": {"element_id": None},
        "was-changed": {"element_id": "W", "anchor_state": "changed"},
        "already-ok": {"element_id": "W", "anchor_state": "ok"},
    }
    assert reanchor(anns, old, new) == {"w": "ok", "s": "changed", "d": "missing", "r": "ok"}
    back = reanchor({"d": {"element_id": "D", "anchor_state": "missing"}}, new, old)
    assert back == {"d": "changed"}
