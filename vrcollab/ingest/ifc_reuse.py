"""Elements with openings whose local geometry is provably equal: one boolean for all of them.

ifcopenshell's iterator shares a tessellation between elements only when they share a
representation (mapped items, types). A wall with an opening has a representation of its own,
so every wall pays OpenCascade's boolean (~8 ms each; 1,300 walls on the generated 20k
terminal, three quarters of the iterator's time) even when hundreds of walls are the same
wall. :func:`reuse_groups` finds elements whose local geometry is equal **by construction**:

* the same IFC class, type object and associated materials (default colours and styles come
  from them),
* equal representations: a content key over the STEP text of every entity reachable from the
  element's ``Representation``, references replaced by the referenced entity's key (a Merkle
  key, so shared contexts and directions are read once), with the styles and styled layers that
  point *at* each item (``IfcStyledItem``, ``IfcPresentationLayerWithStyle``) folded in; floats
  are in the text with all 17 digits, so equal keys mean equal inputs, not close ones,
* the same openings: each opening's class, representation key and placement, where the
  opening is placed relative to the element's own placement (its ``RelativePlacement`` is
  then the whole relative transform); an element with an opening placed any other way, or with
  projections, is left alone.

The loader tessellates one element per group (the lowest STEP id, so the choice does not depend
on thread scheduling) and places the others with their own placement from ifcopenshell's
placement code (:func:`placement_matrix`, the matrix the iterator reports).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

#: A quoted STEP string (quotes doubled inside) or an entity reference.
_TOKEN = re.compile(r"'(?:[^']|'')*'|#(\d+)")
_IN_PROGRESS = b"^"


class _Keys:
    """Merkle keys of the entities of one file (memoised by STEP id)."""

    def __init__(self, ifc: Any) -> None:
        self.ifc = ifc
        self.memo: dict[int, bytes] = {}
        self.pointing: dict[int, list[int]] = {}  # item id -> styled items / styled layers
        for styled in ifc.by_type("IfcStyledItem"):
            item = styled.Item
            if item is not None:
                self.pointing.setdefault(item.id(), []).append(styled.id())
        for layer in ifc.by_type("IfcPresentationLayerWithStyle"):
            for item in layer.AssignedItems or ():
                self.pointing.setdefault(item.id(), []).append(layer.id())

    def key(self, step_id: int) -> bytes:
        """Content key of entity ``step_id`` and everything it references."""
        hit = self.memo.get(step_id)
        if hit is not None:
            return hit
        self.memo[step_id] = _IN_PROGRESS  # a styled item points back at its item
        text = str(self.ifc.by_id(step_id))
        body = text[text.index("=") + 1:]
        h = hashlib.blake2b(digest_size=16)
        pos = 0
        for m in _TOKEN.finditer(body):
            if m.group(1) is None:
                continue
            h.update(body[pos:m.start()].encode())
            h.update(self.key(int(m.group(1))))
            pos = m.end()
        h.update(body[pos:].encode())
        for other in self.pointing.get(step_id, ()):
            h.update(b"@")
            h.update(self.key(other))
        out = h.digest()
        self.memo[step_id] = out
        return out


@dataclass(frozen=True)
class ReuseGroups:
    """``follower STEP id -> leader STEP id`` for elements whose geometry is the leader's."""

    leader_of: dict[int, int]

    @property
    def followers(self) -> list[int]:
        """STEP ids the iterator need not tessellate."""
        return sorted(self.leader_of)


def reuse_groups(ifc: Any) -> ReuseGroups:
    """Group the elements with openings of ``ifc`` by provably equal local geometry."""
    openings: dict[int, list[Any]] = {}
    for rel in ifc.by_type("IfcRelVoidsElement"):
        host, opening = rel.RelatingBuildingElement, rel.RelatedOpeningElement
        if host is not None and opening is not None:
            openings.setdefault(host.id(), []).append(opening)
    if not openings:
        return ReuseGroups({})
    projecting = {rel.RelatingElement.id() for rel in ifc.by_type("IfcRelProjectsElement")
                  if rel.RelatingElement is not None}
    typed: dict[int, int] = {}
    for rel in ifc.by_type("IfcRelDefinesByType"):
        for obj in rel.RelatedObjects or ():
            typed.setdefault(obj.id(), rel.RelatingType.id())
    materials: dict[int, list[int]] = {}
    for rel in ifc.by_type("IfcRelAssociatesMaterial"):
        mat = rel.RelatingMaterial
        for obj in rel.RelatedObjects or ():
            materials.setdefault(obj.id(), []).append(mat.id() if mat is not None else 0)
    keys = _Keys(ifc)
    groups: dict[bytes, list[int]] = {}
    for host_id, voids in openings.items():
        if host_id in projecting:
            continue
        key = _element_key(ifc.by_id(host_id), voids, keys, typed, materials)
        if key is not None:
            groups.setdefault(key, []).append(host_id)
    leader_of: dict[int, int] = {}
    for members in groups.values():
        members.sort()
        for follower in members[1:]:
            leader_of[follower] = members[0]
    return ReuseGroups(leader_of)


def _element_key(host: Any, voids: list[Any], keys: _Keys, typed: dict[int, int],
                 materials: dict[int, list[int]]) -> bytes | None:
    """The key of an element's local geometry, or None when it cannot be proven equal."""
    rep, place = host.Representation, host.ObjectPlacement
    if rep is None or place is None or not place.is_a("IfcLocalPlacement"):
        return None
    h = hashlib.blake2b(digest_size=16)
    h.update(host.is_a().encode())
    h.update(repr((typed.get(host.id()), sorted(materials.get(host.id(), ())))).encode())
    h.update(keys.key(rep.id()))
    parts: list[bytes] = []
    for opening in voids:
        oplace, orep = opening.ObjectPlacement, opening.Representation
        if orep is None:
            continue  # nothing to subtract
        if (oplace is None or not oplace.is_a("IfcLocalPlacement")
                or oplace.PlacementRelTo is None or oplace.PlacementRelTo.id() != place.id()):
            return None
        parts.append(opening.is_a().encode() + keys.key(orep.id())
                     + keys.key(oplace.RelativePlacement.id()))
    for part in sorted(parts):
        h.update(part)
    return h.digest()


def placement_matrix(settings: Any, element: Any) -> np.ndarray:
    """The element's placement as a 4x4 matrix (row-major), as the iterator reports it."""
    import ifcopenshell.geom as geom

    trsf: Any = geom.create_shape(settings, element.ObjectPlacement)
    return np.asarray(trsf.matrix, dtype=np.float64).reshape(4, 4).T
