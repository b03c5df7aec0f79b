"""Deterministic generator of large IFC4 buildings (an airport terminal) for tests and benchmarks.

``generate(n, path)`` writes a building with exactly ``n`` elements (openings not counted):
storeys over a column grid (8 m bays), columns and beams as mapped types (beams in two rotated
orientations), slabs, interior walls with openings filled by doors and windows (mapped types),
curtain-wall panels and mullions on the perimeter, round hollow ducts, curved duct elbows
(revolved circular profiles), pipes and desks. The site is placed far from the origin
(512 km east, 5 400 km north) like a georeferenced project. Same ``n`` -> same bytes.

    python bench/building_gen.py 20000 /tmp/terminal-20k.ifc
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.guid

BAY = 8.0
STOREY_HEIGHT = 4.0
SITE_ORIGIN = (512_000.0, 5_400_000.0, 30.0)


@dataclass
class _Ctx:
    f: Any
    body: Any
    owner: Any
    counter: int = 0
    styles: dict[str, Any] = field(default_factory=dict)
    z: Any = None
    x: Any = None
    y: Any = None
    origin: Any = None
    elements: int = 0

    def guid(self) -> str:
        self.counter += 1
        digest = hashlib.md5(f"vrcollab-gen-{self.counter}".encode()).hexdigest()
        return str(ifcopenshell.guid.compress(uuid.UUID(digest).hex))


def _point(c: _Ctx, xyz: tuple[float, ...]) -> Any:
    return c.f.createIfcCartesianPoint([float(v) for v in xyz])


def _dir(c: _Ctx, xyz: tuple[float, ...]) -> Any:
    return c.f.createIfcDirection([float(v) for v in xyz])


def _axis(c: _Ctx, xyz: tuple[float, float, float] = (0, 0, 0), axis: Any = None,
          ref: Any = None) -> Any:
    return c.f.createIfcAxis2Placement3D(_point(c, xyz), axis, ref)


def _placement(c: _Ctx, rel: Any, xyz: tuple[float, float, float], axis: Any = None,
               ref: Any = None) -> Any:
    return c.f.createIfcLocalPlacement(rel, _axis(c, xyz, axis, ref))


def _style(c: _Ctx, name: str, rgb: tuple[float, float, float], transparency: float = 0.0
           ) -> Any:
    if name not in c.styles:
        colour = c.f.createIfcColourRgb(None, *rgb)
        shading = c.f.createIfcSurfaceStyleShading(colour, transparency)
        c.styles[name] = c.f.createIfcSurfaceStyle(name, "BOTH", [shading])
    return c.styles[name]


def _styled(c: _Ctx, item: Any, style: str) -> Any:
    rgb, tr = MATERIALS[style]
    c.f.createIfcStyledItem(item, [_style(c, style, rgb, tr)], None)
    return item


MATERIALS: dict[str, tuple[tuple[float, float, float], float]] = {
    "concrete": ((0.7, 0.7, 0.68), 0.0), "steel": ((0.45, 0.5, 0.55), 0.0),
    "plaster": ((0.92, 0.9, 0.86), 0.0), "wood": ((0.55, 0.38, 0.22), 0.0),
    "glass": ((0.6, 0.8, 0.9), 0.6), "aluminium": ((0.75, 0.76, 0.78), 0.0),
    "duct": ((0.8, 0.82, 0.85), 0.0), "pipe": ((0.8, 0.2, 0.15), 0.0),
}


def _box(c: _Ctx, dx: float, dy: float, dz: float, style: str,
         at: tuple[float, float, float] = (0, 0, 0)) -> Any:
    """A box from ``at`` spanning +dx, +dy, +dz."""
    prof = c.f.createIfcRectangleProfileDef(
        "AREA", None, c.f.createIfcAxis2Placement2D(
            c.f.createIfcCartesianPoint([dx / 2, dy / 2]), None), dx, dy)
    return _styled(c, c.f.createIfcExtrudedAreaSolid(prof, _axis(c, at), c.z, dz), style)


def _tube(c: _Ctx, radius: float, wall: float, length: float, style: str) -> Any:
    """A round hollow tube along +X from the origin."""
    prof = c.f.createIfcCircleHollowProfileDef("AREA", None, None, radius, wall)
    pos = _axis(c, (0, 0, 0), c.x, c.y)
    return _styled(c, c.f.createIfcExtrudedAreaSolid(prof, pos, c.z, length), style)


def _elbow(c: _Ctx, radius: float, bend: float, style: str) -> Any:
    """A 90° elbow: a circle revolved about an axis ``bend`` away from its centre."""
    prof = c.f.createIfcCircleProfileDef(
        "AREA", None, c.f.createIfcAxis2Placement2D(
            c.f.createIfcCartesianPoint([bend, 0.0]), None), radius)
    axis = c.f.createIfcAxis1Placement(c.f.createIfcCartesianPoint([0.0, 0.0, 0.0]),
                                       c.f.createIfcDirection([0.0, 1.0, 0.0]))
    return _styled(c, c.f.createIfcRevolvedAreaSolid(prof, _axis(c), axis, 90.0), style)


def _shape(c: _Ctx, items: list[Any], kind: str = "SweptSolid") -> Any:
    return c.f.createIfcShapeRepresentation(c.body, "Body", kind, items)


def _product_shape(c: _Ctx, items: list[Any]) -> Any:
    return c.f.createIfcProductDefinitionShape(None, None, [_shape(c, items)])


def _mapped(c: _Ctx, rmap: Any, rotate: bool = False) -> Any:
    op = c.f.createIfcCartesianTransformationOperator3D(
        c.y if rotate else None, None, c.origin, None, c.z if rotate else None)
    item = c.f.createIfcMappedItem(rmap, op)
    return c.f.createIfcProductDefinitionShape(
        None, None, [_shape(c, [item], "MappedRepresentation")])


@dataclass
class _Type:
    entity: Any
    rmap: Any
    members: list[Any] = field(default_factory=list)


def _type(c: _Ctx, ifc_type: str, name: str, items: list[Any], pset: dict[str, Any],
          **attrs: Any) -> _Type:
    rmap = c.f.createIfcRepresentationMap(_axis(c), _shape(c, items))
    props = [c.f.createIfcPropertySingleValue(k, None, _value(c, v), None)
             for k, v in pset.items()]
    ps = c.f.create_entity("IfcPropertySet", GlobalId=c.guid(), OwnerHistory=c.owner,
                           Name=f"Pset_{ifc_type[3:-4]}Common", HasProperties=props)
    ent = c.f.create_entity(ifc_type, GlobalId=c.guid(), OwnerHistory=c.owner, Name=name,
                            RepresentationMaps=[rmap], HasPropertySets=[ps], **attrs)
    return _Type(ent, rmap)


def _value(c: _Ctx, v: Any) -> Any:
    if isinstance(v, bool):
        return c.f.create_entity("IfcBoolean", v)
    if isinstance(v, float):
        return c.f.create_entity("IfcReal", v)
    if isinstance(v, int):
        return c.f.create_entity("IfcInteger", v)
    return c.f.create_entity("IfcLabel", str(v))


class _Builder:
    def __init__(self, n_elements: int) -> None:
        f = ifcopenshell.file(schema="IFC4")
        self.n = n_elements
        c = _Ctx(f=f, body=None, owner=None)
        self.c = c
        c.z, c.x, c.y = _dir(c, (0, 0, 1)), _dir(c, (1, 0, 0)), _dir(c, (0, 1, 0))
        c.origin = _point(c, (0, 0, 0))
        person = f.createIfcPerson(None, "Generator", None, None, None, None, None, None)
        org = f.createIfcOrganization(None, "vrcollab", None, None, None)
        app = f.createIfcApplication(org, "1", "vrcollab building_gen", "vrcollab-gen")
        c.owner = f.createIfcOwnerHistory(f.createIfcPersonAndOrganization(person, org, None),
                                          app, None, "ADDED", None, None, None, 0)
        ctx = f.createIfcGeometricRepresentationContext(None, "Model", 3, 1e-5, _axis(c), None)
        c.body = f.createIfcGeometricRepresentationSubContext(
            "Body", "Model", None, None, None, None, ctx, None, "MODEL_VIEW", None)
        units = f.createIfcUnitAssignment([
            f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE"),
            f.createIfcSIUnit(None, "AREAUNIT", None, "SQUARE_METRE"),
            f.createIfcSIUnit(None, "VOLUMEUNIT", None, "CUBIC_METRE"),
            f.createIfcSIUnit(None, "PLANEANGLEUNIT", None, "RADIAN")])
        self.project = f.create_entity("IfcProject", GlobalId=c.guid(), OwnerHistory=c.owner,
                                       Name="Generated terminal", RepresentationContexts=[ctx],
                                       UnitsInContext=units)
        crs = f.createIfcProjectedCRS("EPSG:25832", "ETRS89 / UTM zone 32N", None, None, None,
                                      None, None)
        f.createIfcMapConversion(ctx, crs, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0)
        self.site_place = _placement(c, None, SITE_ORIGIN)
        self.site = f.create_entity("IfcSite", GlobalId=c.guid(), OwnerHistory=c.owner,
                                    Name="Airport site", ObjectPlacement=self.site_place,
                                    CompositionType="ELEMENT")
        self.building_place = _placement(c, self.site_place, (0, 0, 0))
        self.building = f.create_entity("IfcBuilding", GlobalId=c.guid(), OwnerHistory=c.owner,
                                        Name="Terminal", ObjectPlacement=self.building_place,
                                        CompositionType="ELEMENT")
        self._rel_aggregates(self.project, [self.site])
        self._rel_aggregates(self.site, [self.building])
        self._types()

    def _rel_aggregates(self, whole: Any, parts: list[Any]) -> None:
        self.c.f.create_entity("IfcRelAggregates", GlobalId=self.c.guid(),
                               OwnerHistory=self.c.owner, RelatingObject=whole,
                               RelatedObjects=parts)

    def _types(self) -> None:
        c = self.c
        self.column = _type(c, "IfcColumnType", "Column 400x400",
                            [_box(c, 0.4, 0.4, STOREY_HEIGHT - 0.5, "concrete", (-0.2, -0.2, 0))],
                            {"LoadBearing": True, "Reference": "C400"}, PredefinedType="COLUMN")
        self.beam = _type(c, "IfcBeamType", "Beam IPE 500",
                          [_box(c, BAY, 0.2, 0.02, "steel", (0, -0.1, 0)),
                           _box(c, BAY, 0.012, 0.46, "steel", (0, -0.006, 0.02)),
                           _box(c, BAY, 0.2, 0.02, "steel", (0, -0.1, 0.48))],
                          {"LoadBearing": True, "Span": BAY}, PredefinedType="BEAM")
        leaf = [_box(c, 0.9, 0.05, 2.1, "wood", (0.05, 0.075, 0)),
                _box(c, 0.05, 0.2, 2.15, "aluminium", (0, 0, 0)),
                _box(c, 0.05, 0.2, 2.15, "aluminium", (0.95, 0, 0)),
                _box(c, 0.9, 0.2, 0.05, "aluminium", (0.05, 0, 2.1)),
                _styled(c, c.f.createIfcExtrudedAreaSolid(
                    c.f.createIfcCircleProfileDef("AREA", None, c.f.createIfcAxis2Placement2D(
                        c.f.createIfcCartesianPoint([0.85, 0.05]), None), 0.02),
                    _axis(c, (0, 0, 1.0)), c.z, 0.1), "aluminium")]
        self.door = _type(c, "IfcDoorType", "Single swing door 1000x2150", leaf,
                          {"FireRating": "EI30", "IsExternal": False},
                          PredefinedType="DOOR", OperationType="SINGLE_SWING_LEFT")
        self.window = _type(c, "IfcWindowType", "Window 1800x1200",
                            [_box(c, 1.8, 0.2, 0.06, "aluminium"),
                             _box(c, 1.8, 0.2, 0.06, "aluminium", (0, 0, 1.14)),
                             _box(c, 0.06, 0.2, 1.08, "aluminium", (0, 0, 0.06)),
                             _box(c, 0.06, 0.2, 1.08, "aluminium", (1.74, 0, 0.06)),
                             _box(c, 1.68, 0.02, 1.08, "glass", (0.06, 0.09, 0.06))],
                            {"IsExternal": False, "ThermalTransmittance": 1.1},
                            PredefinedType="WINDOW", PartitioningType="SINGLE_PANEL")
        self.panel = _type(c, "IfcPlateType", "Curtain wall glazing 4000x3500",
                           [_box(c, BAY / 2 - 0.05, 0.024, STOREY_HEIGHT - 0.55, "glass")],
                           {"IsExternal": True}, PredefinedType="CURTAIN_PANEL")
        self.mullion = _type(c, "IfcMemberType", "Mullion 60x150",
                             [_box(c, 0.06, 0.15, STOREY_HEIGHT - 0.5, "aluminium", (-0.03, 0, 0))],
                             {"IsExternal": True}, PredefinedType="MULLION")
        self.duct = _type(c, "IfcDuctSegmentType", "Round duct 500",
                          [_tube(c, 0.25, 0.01, BAY - 1.2, "duct")],
                          {"Reference": "D500"}, PredefinedType="RIGIDSEGMENT")
        self.elbow = _type(c, "IfcDuctFittingType", "Duct elbow 500 90deg",
                           [_elbow(c, 0.25, 0.6, "duct")], {"Reference": "E500"},
                           PredefinedType="BEND")
        self.pipe = _type(c, "IfcPipeSegmentType", "Pipe DN100",
                          [_tube(c, 0.057, 0.004, BAY, "pipe")], {"Reference": "DN100"},
                          PredefinedType="RIGIDSEGMENT")
        self.desk = _type(c, "IfcFurnitureType", "Check-in desk",
                          [_box(c, 1.6, 0.8, 0.04, "wood", (0, 0, 1.06)),
                           _box(c, 1.6, 0.05, 1.06, "wood"),
                           _box(c, 0.05, 0.8, 1.06, "wood"),
                           _box(c, 0.05, 0.8, 1.06, "wood", (1.55, 0, 0))],
                          {"Reference": "DESK-01"}, AssemblyPlace="FACTORY",
                          PredefinedType="DESK")

    def _element(self, ifc_class: str, name: str, storey: _Storey, place: Any, shape: Any,
                 typ: _Type | None = None, **attrs: Any) -> Any:
        c = self.c
        ent = c.f.create_entity(ifc_class, GlobalId=c.guid(), OwnerHistory=c.owner, Name=name,
                                ObjectPlacement=place, Representation=shape, **attrs)
        if ifc_class != "IfcOpeningElement":  # openings are voids, not storey contents
            storey.elements.append(ent)
        if typ is not None:
            typ.members.append(ent)
        if ifc_class != "IfcOpeningElement":
            c.elements += 1
        return ent

    def full(self) -> bool:
        return self.c.elements >= self.n

    def build(self) -> Any:
        c = self.c
        bays = max(1, math.ceil(self.n / 11))
        storeys = 3 if self.n <= 5000 else (5 if self.n <= 50_000 else 8)
        per = math.ceil(bays / storeys)
        nx = max(2, math.ceil(math.sqrt(per * 2)))
        ny = max(1, math.ceil(per / nx))
        storey_objs: list[_Storey] = []
        for k in range(storeys + 1):  # one spare storey for padding
            place = _placement(c, self.building_place, (0, 0, k * STOREY_HEIGHT))
            ent = c.f.create_entity("IfcBuildingStorey", GlobalId=c.guid(), OwnerHistory=c.owner,
                                    Name=f"Level {k}", ObjectPlacement=place,
                                    Elevation=k * STOREY_HEIGHT, CompositionType="ELEMENT")
            storey_objs.append(_Storey(ent, place, k))
        for st in storey_objs:
            for i in range(nx):
                for j in range(ny):
                    if self.full():
                        break
                    self._bay(st, i, j, nx, ny)
        st = storey_objs[-1]
        n = 0
        while not self.full():  # pad with desks on the top level, 2 m apart
            x, y = (n % 100) * 2.0, (n // 100) * 2.0
            self._element("IfcFurniture", f"Desk {n}", st, _placement(c, st.place, (x, y, 0)),
                          _mapped(c, self.desk.rmap), self.desk)
            n += 1
        used = [s for s in storey_objs if s.elements]
        self._rel_aggregates(self.building, [s.entity for s in used])
        for s in used:
            c.f.create_entity("IfcRelContainedInSpatialStructure", GlobalId=c.guid(),
                              OwnerHistory=c.owner, RelatedElements=s.elements,
                              RelatingStructure=s.entity)
        for t in (self.column, self.beam, self.door, self.window, self.panel, self.mullion,
                  self.duct, self.elbow, self.pipe, self.desk):
            if t.members:
                c.f.create_entity("IfcRelDefinesByType", GlobalId=c.guid(), OwnerHistory=c.owner,
                                  RelatedObjects=t.members, RelatingType=t.entity)
        return c.f

    def _bay(self, st: _Storey, i: int, j: int, nx: int, ny: int) -> None:
        c, k = self.c, st.level
        x0, y0 = i * BAY, j * BAY
        top = STOREY_HEIGHT - 0.5
        steps: list[Any] = [
            lambda: self._element("IfcColumn", f"C-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0, y0, 0)),
                                  _mapped(c, self.column.rmap), self.column),
            lambda: self._element("IfcBeam", f"BX-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0, y0, top)),
                                  _mapped(c, self.beam.rmap), self.beam),
            lambda: self._element("IfcBeam", f"BY-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0, y0, top)),
                                  _mapped(c, self.beam.rmap, rotate=True), self.beam),
            lambda: self._element("IfcSlab", f"S-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0, y0, STOREY_HEIGHT - 0.25)),
                                  _product_shape(c, [_box(c, BAY, BAY, 0.25, "concrete")]),
                                  PredefinedType="FLOOR"),
            lambda: self._element("IfcDuctSegment", f"D-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0 + 0.6, y0 + BAY / 2, top - 0.6)),
                                  _mapped(c, self.duct.rmap), self.duct),
            lambda: self._element("IfcPipeSegment", f"P-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0, y0 + BAY / 2 + 1.0, top - 0.2)),
                                  _mapped(c, self.pipe.rmap), self.pipe),
            lambda: self._element("IfcFurniture", f"F-{k}-{i}-{j}", st,
                                  _placement(c, st.place, (x0 + 3.0, y0 + 2.0, 0)),
                                  _mapped(c, self.desk.rmap), self.desk),
        ]
        if (i + j) % 4 == 0:
            steps.append(lambda: self._element(
                "IfcDuctFitting", f"E-{k}-{i}-{j}", st,
                _placement(c, st.place, (x0, y0 + BAY / 2, top - 1.2)),
                _mapped(c, self.elbow.rmap), self.elbow))
        if (i + j + k) % 3 != 2 and i > 0 and j > 0:
            steps.append(lambda: self._wall(st, i, j, door=(i + j + k) % 3 == 0))
        if i == 0 or j == 0 or i == nx - 1 or j == ny - 1:
            steps.append(lambda: self._facade(st, i, j, along_x=(j == 0 or j == ny - 1)))
        for step in steps:
            if self.full():
                return
            step()

    def _wall(self, st: _Storey, i: int, j: int, *, door: bool) -> None:
        c, k = self.c, st.level
        x0, y0 = i * BAY + 0.2, j * BAY + BAY / 2
        length, height = BAY - 0.4, STOREY_HEIGHT - 0.5
        wplace = _placement(c, st.place, (x0, y0, 0))
        wall = self._element("IfcWall", f"W-{k}-{i}-{j}", st, wplace,
                             _product_shape(c, [_box(c, length, 0.2, height, "plaster",
                                                     (0, -0.1, 0))]),
                             PredefinedType="PARTITIONING")
        pset = c.f.create_entity("IfcPropertySet", GlobalId=c.guid(), OwnerHistory=c.owner,
                                 Name="Pset_WallCommon", HasProperties=[
                                     c.f.createIfcPropertySingleValue(
                                         "IsExternal", None, _value(c, False), None),
                                     c.f.createIfcPropertySingleValue(
                                         "FireRating", None, _value(c, "EI60"), None)])
        c.f.create_entity("IfcRelDefinesByProperties", GlobalId=c.guid(), OwnerHistory=c.owner,
                          RelatedObjects=[wall], RelatingPropertyDefinition=pset)
        w, h, sill = (1.0, 2.15, 0.0) if door else (1.8, 1.2, 0.9)
        ox = 2.0 if door else 3.0
        oplace = _placement(c, wplace, (ox, 0, sill))
        opening = self._element("IfcOpeningElement", f"O-{k}-{i}-{j}", st, oplace,
                                _product_shape(c, [_box(c, w, 0.4, h, "plaster", (0, -0.2, 0))]),
                                PredefinedType="OPENING")
        c.f.create_entity("IfcRelVoidsElement", GlobalId=c.guid(), OwnerHistory=c.owner,
                          RelatingBuildingElement=wall, RelatedOpeningElement=opening)
        if self.full():
            return
        fplace = _placement(c, oplace, (0, -0.1, 0))
        if door:
            fill = self._element("IfcDoor", f"DR-{k}-{i}-{j}", st, fplace,
                                 _mapped(c, self.door.rmap), self.door,
                                 OverallHeight=2.15, OverallWidth=1.0, PredefinedType="DOOR")
        else:
            fill = self._element("IfcWindow", f"WN-{k}-{i}-{j}", st, fplace,
                                 _mapped(c, self.window.rmap), self.window,
                                 OverallHeight=1.2, OverallWidth=1.8, PredefinedType="WINDOW")
        c.f.create_entity("IfcRelFillsElement", GlobalId=c.guid(), OwnerHistory=c.owner,
                          RelatingOpeningElement=opening, RelatedBuildingElement=fill)

    def _facade(self, st: _Storey, i: int, j: int, *, along_x: bool) -> None:
        c, k = self.c, st.level
        for n in range(2):
            if self.full():
                return
            x, y = i * BAY, j * BAY
            off = 0.025 + n * BAY / 2
            pos = (x + off, y - 0.3, 0.05) if along_x else (x - 0.3, y + off, 0.05)
            self._element("IfcPlate", f"CW-{k}-{i}-{j}-{n}", st, _placement(c, st.place, pos),
                          _mapped(c, self.panel.rmap, rotate=not along_x), self.panel,
                          PredefinedType="CURTAIN_PANEL")
            if self.full():
                return
            mpos = (x + n * BAY / 2, y - 0.35, 0) if along_x else (x - 0.35, y + n * BAY / 2, 0)
            self._element("IfcMember", f"M-{k}-{i}-{j}-{n}", st, _placement(c, st.place, mpos),
                          _mapped(c, self.mullion.rmap, rotate=not along_x), self.mullion,
                          PredefinedType="MULLION")


@dataclass
class _Storey:
    entity: Any
    place: Any
    level: int
    elements: list[Any] = field(default_factory=list)


def generate(n_elements: int, path: Path) -> Path:
    """Write a generated building with exactly ``n_elements`` elements to ``path``."""
    if n_elements < 1:
        raise ValueError("n_elements must be positive")
    f = _Builder(n_elements).build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    f.write(str(tmp))
    # ifcopenshell writes the current time into the header: pin it for reproducible bytes
    text = tmp.read_bytes()
    import re

    text = re.sub(rb"FILE_NAME\('([^']*)','[^']*'", rb"FILE_NAME('\1','2026-01-01T00:00:00'",
                  text, count=1)
    path.write_bytes(text)
    tmp.unlink()
    return path


def generate_doors(n_doors: int, path: Path) -> Path:
    """An IFC with ``n_doors`` occurrences of one door type (mapped item) on a 2 m grid."""
    b = _Builder(n_doors)
    c = b.c
    place = _placement(c, b.building_place, (0, 0, 0))
    ent = c.f.create_entity("IfcBuildingStorey", GlobalId=c.guid(), OwnerHistory=c.owner,
                            Name="Level 0", ObjectPlacement=place, Elevation=0.0)
    st = _Storey(ent, place, 0)
    for k in range(n_doors):
        b._element("IfcDoor", f"Door {k}", st,
                   _placement(c, place, ((k % 25) * 2.0, (k // 25) * 2.0, 0)),
                   _mapped(c, b.door.rmap), b.door, PredefinedType="DOOR")
    b._rel_aggregates(b.building, [ent])
    c.f.create_entity("IfcRelContainedInSpatialStructure", GlobalId=c.guid(),
                      OwnerHistory=c.owner, RelatedElements=st.elements, RelatingStructure=ent)
    c.f.create_entity("IfcRelDefinesByType", GlobalId=c.guid(), OwnerHistory=c.owner,
                      RelatedObjects=b.door.members, RelatingType=b.door.entity)
    c.f.write(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    """CLI: ``building_gen.py N OUT.ifc``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elements", type=int)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    generate(args.elements, args.out)
    print(f"{args.out}: {args.elements} elements, {args.out.stat().st_size / 1e6:.1f} MB, "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
