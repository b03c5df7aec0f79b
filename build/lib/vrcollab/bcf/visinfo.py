"""Viewpoint files (``.bcfv``, the VisualizationInfo element) for BCF 2.1 and 3.0.

Differences the two directions handle:

* ``ViewSetupHints`` sits under ``Components`` in 2.1 and under ``Visibility`` in 3.0; the model
  keeps it on :class:`~vrcollab.bcf.model.Components`.
* Colour groups hold components directly in 2.1 and inside ``Components`` in 3.0.
* Bitmaps are repeated ``Bitmap`` elements (format ``PNG``/``JPG``) in 2.1 and a ``Bitmaps`` list
  (``png``/``jpg``) in 3.0.
* 3.0 requires exactly one camera and an ``AspectRatio``; 2.1 limits ``FieldOfView`` to 45-60
  degrees. The writer fills a missing aspect ratio with 1.0 and clamps the 2.1 field of view.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from vrcollab.bcf.model import (
    BcfVersion,
    Bitmap,
    Camera,
    ClippingPlane,
    Coloring,
    Component,
    Components,
    Line,
    OrthogonalCamera,
    PerspectiveCamera,
    Viewpoint,
    ViewSetupHints,
    Visibility,
)
from vrcollab.bcf.xmltext import (
    Element,
    child,
    child_text,
    children,
    format_float,
    opt_attr,
    parse_bool,
    parse_float,
    sub,
    sub_vec3,
    vec3,
)
from vrcollab.errors import BcfError

IFC_GUID = re.compile(r"^[0-9A-Za-z_$]{22}$")
COLOR = re.compile(r"^[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")
FOV_21 = (45.0, 60.0)
DEFAULT_ASPECT_RATIO = 1.0
_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg"}


# --- reading -----------------------------------------------------------------------------------


def read_visinfo(root: Element | None, *, guid: str, version: BcfVersion, where: str,
                 snapshot: bytes | None, index: int | None,
                 load_bitmap: Callable[[str], bytes | None]) -> Viewpoint:
    """Build a :class:`Viewpoint` from a parsed VisualizationInfo (``None``: no .bcfv file)."""
    if root is None:
        return Viewpoint(guid=guid, snapshot=snapshot, index=index)
    if root.tag != "VisualizationInfo":
        raise BcfError(f"{where}: expected <VisualizationInfo>, found <{root.tag}>",
                       code="bcf_invalid")
    comps = child(root, "Components")
    bitmap_els = (children(child(root, "Bitmaps"), "Bitmap") if version == "3.0"
                  else children(root, "Bitmap"))
    return Viewpoint(
        guid=guid,
        camera=_camera(root, where),
        components=_components(comps, where) if comps is not None else None,
        lines=tuple(Line(vec3(child(e, "StartPoint"), f"{where} line"),
                         vec3(child(e, "EndPoint"), f"{where} line"))
                    for e in children(child(root, "Lines"), "Line")),
        clipping_planes=tuple(
            ClippingPlane(vec3(child(e, "Location"), f"{where} clipping plane"),
                          vec3(child(e, "Direction"), f"{where} clipping plane"))
            for e in children(child(root, "ClippingPlanes"), "ClippingPlane")),
        bitmaps=tuple(_bitmap(e, where, load_bitmap) for e in bitmap_els),
        snapshot=snapshot,
        index=index,
    )


def _component(el: Element, where: str) -> Component:
    return Component(ifc_guid=opt_attr(el, "IfcGuid"),
                     originating_system=child_text(el, "OriginatingSystem"),
                     authoring_tool_id=child_text(el, "AuthoringToolId"))


def _components(el: Element, where: str) -> Components:
    vis_el = child(el, "Visibility")
    hints_el = child(el, "ViewSetupHints")
    if hints_el is None and vis_el is not None:
        hints_el = child(vis_el, "ViewSetupHints")
    visibility = None
    if vis_el is not None and (vis_el.get("DefaultVisibility") is not None
                               or child(vis_el, "Exceptions") is not None):
        visibility = Visibility(
            default_visibility=parse_bool(vis_el.get("DefaultVisibility"), False, where),
            exceptions=tuple(_component(c, where)
                             for c in children(child(vis_el, "Exceptions"), "Component")))
    hints = None
    if hints_el is not None:
        hints = ViewSetupHints(
            spaces_visible=parse_bool(hints_el.get("SpacesVisible"), False, where),
            space_boundaries_visible=parse_bool(hints_el.get("SpaceBoundariesVisible"), False,
                                                where),
            openings_visible=parse_bool(hints_el.get("OpeningsVisible"), False, where))
    coloring = []
    for color_el in children(child(el, "Coloring"), "Color"):
        color = opt_attr(color_el, "Color")
        if color is None:
            raise BcfError(f"{where}: <Color> without a colour", code="bcf_invalid")
        members = children(child(color_el, "Components"), "Component")
        members += children(color_el, "Component")
        coloring.append(Coloring(color.strip(), tuple(_component(c, where) for c in members)))
    return Components(
        selection=tuple(_component(c, where)
                        for c in children(child(el, "Selection"), "Component")),
        visibility=visibility, coloring=tuple(coloring), view_setup_hints=hints)


def _camera(root: Element, where: str) -> Camera | None:
    persp = child(root, "PerspectiveCamera")
    ortho = child(root, "OrthogonalCamera")
    cam = persp if persp is not None else ortho
    if cam is None:
        return None
    cwhere = f"{where} camera"
    position = vec3(child(cam, "CameraViewPoint"), cwhere)
    direction = vec3(child(cam, "CameraDirection"), cwhere)
    up = vec3(child(cam, "CameraUpVector"), cwhere)
    aspect_text = child_text(cam, "AspectRatio")
    aspect = parse_float(aspect_text, f"{cwhere} AspectRatio") if aspect_text else None
    if persp is not None:
        return PerspectiveCamera(position, direction, up,
                                 parse_float(child_text(cam, "FieldOfView"),
                                             f"{cwhere} FieldOfView"), aspect)
    return OrthogonalCamera(position, direction, up,
                            parse_float(child_text(cam, "ViewToWorldScale"),
                                        f"{cwhere} ViewToWorldScale"), aspect)


def _bitmap(el: Element, where: str, load: Callable[[str], bytes | None]) -> Bitmap:
    bwhere = f"{where} bitmap"
    raw = child_text(el, "Format") or child_text(el, "Bitmap") or ""
    fmt = _FORMATS.get(raw.strip().lower())
    if fmt is None:
        raise BcfError(f"{bwhere}: unsupported bitmap format {raw!r}", code="bcf_invalid")
    reference = child_text(el, "Reference")
    if reference is None:
        raise BcfError(f"{bwhere}: missing <Reference>", code="bcf_invalid")
    return Bitmap(format=fmt, reference=reference,
                  location=vec3(child(el, "Location"), bwhere),
                  normal=vec3(child(el, "Normal"), bwhere), up=vec3(child(el, "Up"), bwhere),
                  height=parse_float(child_text(el, "Height"), f"{bwhere} Height"),
                  data=load(reference))


# --- writing -----------------------------------------------------------------------------------


def write_visinfo(vp: Viewpoint, version: BcfVersion) -> Element:
    """Build the VisualizationInfo element of ``vp`` (it must have a camera for 3.0)."""
    v3 = version == "3.0"
    root = etree.Element("VisualizationInfo", Guid=vp.guid)
    if vp.components is not None:
        _write_components(root, vp.components, v3)
    if vp.camera is not None:
        _write_camera(root, vp.camera, v3)
    elif v3:
        raise BcfError(f"viewpoint {vp.guid} has no camera; BCF 3.0 requires one",
                       code="bcf_invalid_model")
    if vp.lines:
        lines = sub(root, "Lines")
        for line in vp.lines:
            el = sub(lines, "Line")
            sub_vec3(el, "StartPoint", line.start)
            sub_vec3(el, "EndPoint", line.end)
    if vp.clipping_planes:
        planes = sub(root, "ClippingPlanes")
        for plane in vp.clipping_planes:
            el = sub(planes, "ClippingPlane")
            sub_vec3(el, "Location", plane.location)
            sub_vec3(el, "Direction", plane.direction)
    if vp.bitmaps:
        parent = sub(root, "Bitmaps") if v3 else root
        for bm in vp.bitmaps:
            el = sub(parent, "Bitmap")
            sub(el, "Format" if v3 else "Bitmap", bm.format if v3 else bm.format.upper())
            sub(el, "Reference", bm.reference)
            sub_vec3(el, "Location", bm.location)
            sub_vec3(el, "Normal", bm.normal)
            sub_vec3(el, "Up", bm.up)
            sub(el, "Height", format_float(bm.height))
    return root


def _write_component(parent: Element, c: Component) -> None:
    attrs = {}
    if c.ifc_guid is not None:
        if not IFC_GUID.match(c.ifc_guid):
            raise BcfError(f"not an IFC GlobalId (22 characters of 0-9A-Za-z_$): {c.ifc_guid!r}",
                           code="bcf_invalid_model")
        attrs["IfcGuid"] = c.ifc_guid
    el = sub(parent, "Component", **attrs)
    if c.originating_system is not None:
        sub(el, "OriginatingSystem", c.originating_system)
    if c.authoring_tool_id is not None:
        sub(el, "AuthoringToolId", c.authoring_tool_id)


def _write_hints(parent: Element, h: ViewSetupHints) -> None:
    sub(parent, "ViewSetupHints", SpacesVisible=_xbool(h.spaces_visible),
        SpaceBoundariesVisible=_xbool(h.space_boundaries_visible),
        OpeningsVisible=_xbool(h.openings_visible))


def _write_components(root: Element, comps: Components, v3: bool) -> None:
    el = sub(root, "Components")
    if not v3 and comps.view_setup_hints is not None:
        _write_hints(el, comps.view_setup_hints)
    if comps.selection:
        sel = sub(el, "Selection")
        for c in comps.selection:
            _write_component(sel, c)
    vis = comps.visibility
    if vis is not None or not v3 or comps.view_setup_hints is not None:
        attrs = {} if vis is None else {"DefaultVisibility": _xbool(vis.default_visibility)}
        vis_el = sub(el, "Visibility", **attrs)
        if v3 and comps.view_setup_hints is not None:
            _write_hints(vis_el, comps.view_setup_hints)
        if vis is not None and vis.exceptions:
            exc = sub(vis_el, "Exceptions")
            for c in vis.exceptions:
                _write_component(exc, c)
    groups = [g for g in comps.coloring if g.components]
    if groups:
        col = sub(el, "Coloring")
        for g in groups:
            if not COLOR.match(g.color):
                raise BcfError(f"not a hex colour (RRGGBB or RRGGBBAA): {g.color!r}",
                               code="bcf_invalid_model")
            color_el = sub(col, "Color", Color=g.color if v3 else g.color.upper())
            members = sub(color_el, "Components") if v3 else color_el
            for c in g.components:
                _write_component(members, c)


def _write_camera(root: Element, cam: Camera, v3: bool) -> None:
    name = "PerspectiveCamera" if isinstance(cam, PerspectiveCamera) else "OrthogonalCamera"
    el = sub(root, name)
    sub_vec3(el, "CameraViewPoint", cam.position)
    sub_vec3(el, "CameraDirection", cam.direction)
    sub_vec3(el, "CameraUpVector", cam.up)
    if isinstance(cam, PerspectiveCamera):
        fov = cam.field_of_view
        if not v3:
            fov = min(max(fov, FOV_21[0]), FOV_21[1])
        elif not 0.0 < fov < 180.0:
            raise BcfError(f"field of view must be between 0 and 180 degrees: {fov}",
                           code="bcf_invalid_model")
        sub(el, "FieldOfView", format_float(fov))
    else:
        sub(el, "ViewToWorldScale", format_float(cam.view_to_world_scale))
    if v3:
        aspect = cam.aspect_ratio if cam.aspect_ratio is not None else DEFAULT_ASPECT_RATIO
        if aspect <= 0:
            raise BcfError(f"aspect ratio must be positive: {aspect}", code="bcf_invalid_model")
        sub(el, "AspectRatio", format_float(aspect))


def _xbool(b: bool) -> str:
    return "true" if b else "false"
