"""Re-anchoring annotations when a room moves to another model version (pure functions).

Each version carries per-element geometry fingerprints (:mod:`vrcollab.jobs.elements`, keyed by
IFC GlobalId and by ``node:<name>``). An annotation is anchored to ``element_id`` (else
``node_id``); when the room switches from version A to version B its ``anchor_state`` becomes:

- ``ok``: the element exists in B with the same fingerprint as in A;
- ``changed``: the element exists in B but its geometry differs (or A did not know it);
- ``missing``: the element is not in B.

States are sticky: an annotation marked ``changed`` stays ``changed`` on a later switch even if
the element does not change again (someone has to look at it), and one marked ``missing`` becomes
``changed`` if its element comes back. Annotations without an element (free points) are left
alone. The result is a list of ``annotation.update`` field sets the server commits as ops, so the
marking is sequenced, persisted and seen by every client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from vrcollab.jobs.elements import annotation_key, same_geometry

AnchorState = Literal["ok", "changed", "missing"]


def anchor_state(
    key: str, previous: AnchorState, old: Mapping[str, str], new: Mapping[str, str]
) -> AnchorState:
    """The state of one anchored annotation after a switch from ``old`` to ``new``."""
    if key not in new:
        return "missing"
    if previous in ("changed", "missing"):
        return "changed"
    if key in old and same_geometry(old[key], new[key]):
        return "ok"
    return "changed"


def reanchor(
    annotations: Mapping[str, Mapping[str, Any]],
    old: Mapping[str, str],
    new: Mapping[str, str],
) -> dict[str, AnchorState]:
    """Annotation id -> new ``anchor_state``, only for annotations whose state changes."""
    changes: dict[str, AnchorState] = {}
    for ann_id, ann in annotations.items():
        key = annotation_key(dict(ann))
        if key is None:
            continue
        previous: AnchorState = ann.get("anchor_state") or "ok"
        state = anchor_state(key, previous, old, new)
        if state != previous or "anchor_state" not in ann:
            changes[ann_id] = state
    return changes
