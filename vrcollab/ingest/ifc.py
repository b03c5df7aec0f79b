"""IFC loader: ifcopenshell's geometry iterator, one part per building element.

Each part keeps the element's GlobalId, IFC class, name and property sets, and its spatial
path (site / building / storey) as the group path. Geometry comes out in metres, in world
coordinates. Spaces and openings are left out: they are volumes, not things to look at.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from vrcollab.errors import CorruptFileError, InvalidGeometryError, MissingDependencyError
from vrcollab.ingest.ifc_props import PropertyIndex, cap, with_units
from vrcollab.ingest.ifc_reuse import placement_matrix, reuse_groups
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.model import Material, Model, Part, Primitive

EXCLUDED_CLASSES = ["IfcSpace", "IfcOpeningElement"]


def element_properties(element: Any) -> dict[str, Any]:
    """The element's property and quantity sets as JSON-safe data (with each set's
    ``_units``), capped in size."""
    import ifcopenshell.util.element as ue

    try:
        psets = ue.get_psets(element)
    except Exception:
        return {}
    return cap(with_units(element.file, psets))


def spatial_path(element: Any) -> tuple[str, ...]:
    """Names of the spatial structure above ``element`` (outermost first)."""
    import ifcopenshell.util.element as ue

    names: list[str] = []
    cur = ue.get_container(element) or ue.get_aggregate(element)
    while cur is not None and len(names) < 16:
        names.append(str(getattr(cur, "Name", None) or cur.is_a()))
        cur = ue.get_aggregate(cur)
    return tuple(reversed(names))


def _material(style: Any) -> Material:
    try:
        d = style.diffuse
        color = (float(d.r()), float(d.g()), float(d.b()))
    except Exception:
        color = (0.8, 0.8, 0.8)
    transparency = float(getattr(style, "transparency", 0.0) or 0.0)
    alpha = 1.0 - transparency if np.isfinite(transparency) else 1.0
    return Material(
        name=str(style.name), color=(*color, min(max(alpha, 0.05), 1.0)), roughness=0.9,
        double_sided=True,
    )


def load_ifc(path: Path, limits: Limits) -> Model:
    """Load an IFC file into parts with element identity."""
    try:
        import ifcopenshell
        import ifcopenshell.geom as geom
    except ImportError as exc:
        raise MissingDependencyError("IFC needs the 'ifcopenshell' package") from exc
    try:
        ifc = ifcopenshell.open(str(path))
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: cannot parse IFC ({str(exc)[:160]})") from exc
    settings = geom.settings()
    settings.set("use-world-coords", True)
    try:
        it = geom.iterator(settings, ifc, 1, exclude=EXCLUDED_CLASSES)
        ok = it.initialize()
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: IFC geometry failed ({str(exc)[:160]})") from exc
    if not ok:
        raise InvalidGeometryError(f"{path.name}: IFC file has no element geometry")
    parts: list[Part] = []
    total = 0
    while True:
        shape = it.get()
        part = _shape_part(ifc, shape)
        if part is not None:
            total += part.triangles
            limits.check_triangles(path.name, total)
            parts.append(part)
        if not it.next():
            break
    return Model(parts=parts, source_format="ifc", scale=1.0, units_known=True)


def _shape_part(ifc: Any, shape: Any) -> Part | None:
    g = shape.geometry
    verts = np.asarray(g.verts, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        return None
    mat_ids = np.asarray(g.material_ids, dtype=np.int64)
    styles = list(g.materials)
    if len(mat_ids) != len(faces) or not styles:
        mat_ids = np.zeros(len(faces), dtype=np.int64)
        styles = styles[:1]
    prims: list[Primitive] = []
    for mid in np.unique(mat_ids):
        sel = faces[mat_ids == mid]
        material = _material(styles[mid]) if 0 <= mid < len(styles) else Material()
        prims.append(Primitive(vertices=verts, faces=sel, material=material))
    try:
        element = ifc.by_guid(shape.guid)
        properties = element_properties(element)
        group = spatial_path(element)
    except Exception:
        properties, group = {}, ()
    name = str(shape.name or shape.type)
    return Part(
        name=name, primitives=prims, path=group, element_id=str(shape.guid),
        ifc_class=str(shape.type), properties=properties,
    )


#: Chord error of curved IFC surfaces (metres) for the tiled layout; ifcopenshell's default is
#: 1 mm, which gives a 90-degree round duct elbow ~9,000 triangles (2,100 at 5 mm).
LINEAR_DEFLECTION = 0.005
#: ifcopenshell geometry kernel for the tiled layout: CGAL's simple kernel where it can (about
#: 2x less CPU on the generated building), OpenCascade for the rest (revolved solids, ...).
GEOMETRY_LIBRARY = "hybrid-cgal-simple-opencascade"
GEOMETRY_LIBRARIES = ("cgal", "cgal-simple", "manifold", "opencascade", GEOMETRY_LIBRARY)


def load_ifc_scene(path: Path, limits: Limits, threads: int | None = None,
                   progress: Any = None, deflection: float = LINEAR_DEFLECTION,
                   library: str = GEOMETRY_LIBRARY) -> Any:
    """Load an IFC file as a v2 :class:`~vrcollab.ingest.scene.Scene` (docs/tiles.md T5).

    The geometry iterator runs on one thread by default in **local** coordinates; shapes sharing a
    geometry id (mapped items, types) or equal local geometry are tessellated and prepared once
    and placed by their transformation matrix. Elements are ordered by their STEP id, so the
    element table does not depend on thread scheduling.
    """

    from vrcollab.ingest import scene as sc

    try:
        import ifcopenshell
        import ifcopenshell.geom as geom
    except ImportError as exc:
        raise MissingDependencyError("IFC needs the 'ifcopenshell' package") from exc
    try:
        ifc = ifcopenshell.open(str(path))
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: cannot parse IFC ({str(exc)[:160]})") from exc
    settings = geom.settings()
    settings.set("use-world-coords", False)
    settings.set("permissive-shape-reuse", True)
    settings.set("mesher-linear-deflection", float(deflection))
    threads = threads or 1  # 2 threads: 1.6-2.3x the CPU, no wall gained (20k, 2 cores)
    groups = reuse_groups(ifc)
    exclude: list[Any] = list(EXCLUDED_CLASSES)
    if groups.leader_of:  # followers are placed copies of their leader: not tessellated
        exclude = [e for c in EXCLUDED_CLASSES for e in ifc.by_type(c)]
        exclude += [ifc.by_id(i) for i in groups.followers]
    try:
        it = geom.iterator(settings, ifc, threads, exclude=exclude,
                           geometry_library=library)  # type: ignore[arg-type]
        ok = it.initialize()
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: IFC geometry failed ({str(exc)[:160]})") from exc
    if not ok:
        raise InvalidGeometryError(f"{path.name}: IFC file has no element geometry")
    mats = sc.MaterialTable()
    reps: list[sc.Rep] = []
    by_id: dict[str, int] = {}
    by_content: dict[str, int] = {}
    rows: list[tuple[int, sc.Element]] = []
    seen: set[int] = set()
    rep_of: dict[int, int] = {}  # STEP id -> representation, for the followers of a leader
    state = {"total": 0, "count": 0}

    def run(it: Any, tag: str) -> None:
        while True:
            shape = it.get()
            state["count"] += 1
            g = shape.geometry
            gid = f"{tag}:{g.id}"
            rid = by_id.get(gid)
            if rid is None:
                raw = _local_meshes(g, mats)
                key = sc.geometry_key(raw)
                rid = by_content.get(key)
                if rid is None:
                    rid = len(reps)
                    reps.append(sc.prepare_rep(raw))
                    by_content[key] = rid
                    # the limit bounds tessellation work: a shared representation counts once
                    # (tiles are built one at a time; a 200k-element terminal draws 21M)
                    state["total"] += reps[rid].triangles
                    limits.check_triangles(path.name, state["total"])
                by_id[gid] = rid
            rep_of[int(shape.id)] = rid
            if reps[rid].meshes and int(shape.id) not in seen:
                seen.add(int(shape.id))
                matrix = np.asarray(shape.transformation.matrix,
                                    dtype=np.float64).reshape(4, 4).T
                el = sc.Element(name=str(shape.name or shape.type), rep=rid, matrix=matrix,
                                global_id=str(shape.guid), ifc_class=str(shape.type))
                rows.append((int(shape.id), el))
            if progress is not None and state["count"] % 500 == 0:
                progress("load", min(0.99, it.progress() / 100.0))
            if not it.next():
                break

    run(it, library)
    for follower, leader in groups.leader_of.items():
        rid = rep_of.get(leader)
        if rid is None or not reps[rid].meshes:
            continue  # the leader failed: the follower goes through the fallback below
        entity: Any = ifc.by_id(follower)
        el = sc.Element(name=str(entity.Name or entity.is_a()), rep=rid,
                        matrix=placement_matrix(settings, entity),
                        global_id=str(entity.GlobalId), ifc_class=str(entity.is_a()))
        seen.add(follower)
        rows.append((follower, el))
    if library != "opencascade":
        # what the faster kernel could not do (it skips some elements): OpenCascade, once
        missing = [p for p in ifc.by_type("IfcProduct")  # id first: attributes cost more
                   if p.id() not in seen and p.Representation is not None
                   and not any(p.is_a(c) for c in EXCLUDED_CLASSES)]
        if missing:
            it2 = geom.iterator(settings, ifc, threads, include=missing)  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                if it2.initialize():
                    run(it2, "opencascade")
    if not rows:
        raise InvalidGeometryError(f"{path.name}: IFC file has no element geometry")
    if progress is not None:
        progress("load", 1.0)
    rows.sort(key=lambda r: r[0])
    _place_all([el for _, el in rows], reps)
    lo = np.min([e.lo for _, e in rows], axis=0)
    hi = np.max([e.hi for _, e in rows], axis=0)
    offset = sc.recentre_offset(lo, hi)
    off_t = (float(offset[0]), float(offset[1]), float(offset[2]))
    elements: list[sc.Element] = []
    if progress is not None:
        progress("properties", 0.0)
    index = PropertyIndex(ifc)
    _hash_elements([el for _, el in rows], reps)
    for k, (step_id, el) in enumerate(rows):
        try:
            entity = ifc.by_id(step_id)
            el.properties = index.psets(entity)
            el.container = " / ".join(index.path(entity))
        except Exception:
            pass
        if progress is not None and k % 2000 == 0:
            progress("properties", k / len(rows))
        el.matrix[:3, 3] -= offset
        el.lo, el.hi = el.lo - offset, el.hi - offset
        elements.append(el)
    return sc.Scene(elements, reps, mats.materials, "ifc", "Z", off_t)


def _place_all(elements: list[Any], reps: list[Any]) -> None:
    """:func:`~vrcollab.ingest.scene.place` for every element, one vectorised call per
    representation."""
    from vrcollab.ingest import scene as sc

    by_rep: dict[int, list[Any]] = {}
    for el in elements:
        by_rep.setdefault(el.rep, []).append(el)
    for rid, els in by_rep.items():
        sc.place_many(els, reps[rid])


def _hash_elements(elements: list[Any], reps: list[Any]) -> None:
    """Fill each element's ``geometry_hash`` (original coordinates, before recentring),
    hashing the elements of one shared representation together."""
    from vrcollab.ingest import fingerprint
    from vrcollab.ingest.model import Primitive

    by_rep: dict[int, list[Any]] = {}
    for el in elements:
        by_rep.setdefault(el.rep, []).append(el)
    for rid, els in by_rep.items():
        prims = [Primitive(m.vertices, m.faces.astype(np.int64)) for m in reps[rid].meshes]
        hashes = fingerprint.placed_hashes(prims, [el.matrix for el in els])
        for el, h in zip(els, hashes, strict=True):
            el.geometry_hash = h


def _local_meshes(g: Any, mats: Any) -> list[tuple[int, Any, Any]]:
    verts = np.asarray(g.verts, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
    if not len(faces):
        return []
    mat_ids = np.asarray(g.material_ids, dtype=np.int64)
    styles = list(g.materials)
    if len(mat_ids) != len(faces) or not styles:
        mat_ids = np.zeros(len(faces), dtype=np.int64)
        styles = styles[:1]
    out = []
    single = int(mat_ids.min()) == int(mat_ids.max())  # the common case: no sort, no mask
    for mid in [int(mat_ids[0])] if single else np.unique(mat_ids):
        material = _material(styles[mid]) if 0 <= mid < len(styles) else Material()
        out.append((mats.index(material), verts, faces if single else faces[mat_ids == mid]))
    return out
