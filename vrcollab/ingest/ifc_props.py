"""Property sets and spatial paths of every IFC element, read in one pass over the relations.

``ifcopenshell.util.element.get_psets`` walks each element's inverse attributes and re-reads a
shared property set (a type's, or one set related to many elements) once per element; at
20,000 elements that is seconds of Python. :class:`PropertyIndex` walks
``IfcRelDefinesByProperties``, ``IfcRelDefinesByType``, ``IfcRelContainedInSpatialStructure`` and
``IfcRelAggregates`` once, converts each property definition once, and gives the same result as
``get_psets`` (type sets first, the occurrence's sets merged over them) and as the loader's
spatial path (container, or aggregate, then aggregates upwards).

Numbers stay raw (as the file gives them, in the project's units: colour by and search compare
them); each property set also gets ``_units`` {property name: unit symbol} for its measures
(``IfcLengthMeasure``, quantities, ...), from the property's own unit or the project's
``IfcUnitAssignment`` (``mm``, ``m²``, ``°``), so viewers show ``50.23 mm``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

MAX_PROPERTY_BYTES = 16_384
MAX_DEPTH = 16
#: The key of a property set's units (property name -> unit symbol); not a property.
UNITS_KEY = "_units"
_SYMBOLS = {"m2": "m\u00b2", "m3": "m\u00b3", "mm2": "mm\u00b2", "mm3": "mm\u00b3",
            "cm2": "cm\u00b2", "cm3": "cm\u00b3", "ft2": "ft\u00b2", "ft3": "ft\u00b3",
            "in2": "in\u00b2", "in3": "in\u00b3"}
_ANGLES = {"degree": "\u00b0", "radian": "rad"}


def jsonable(value: Any) -> Any:
    """``value`` as JSON-safe data (non-finite floats -> None, ``id`` keys dropped)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if k != "id"}
    return str(value)


def cap(psets: dict[str, Any]) -> dict[str, Any]:
    """Property sets cut at :data:`MAX_PROPERTY_BYTES` of JSON (``_truncated`` marks a cut)."""
    out: dict[str, Any] = {}
    used = 2
    for name, props in psets.items():
        value = jsonable(props)
        size = len(json.dumps(value, ensure_ascii=False)) + len(name) + 4
        if used + size > MAX_PROPERTY_BYTES:
            out["_truncated"] = True
            break
        out[str(name)] = value
        used += size
    return out


def _symbol(uu: Any, unit: Any) -> str | None:
    """A unit's symbol for people (``m²``, ``°``), or None."""
    if unit is None:
        return None
    symbol = str(uu.get_unit_symbol(unit) or "")
    if not symbol or "?" in symbol:
        name = str(uu.get_full_unit_name(unit) or "").lower()
        return _ANGLES.get(name.removesuffix("s"))
    return _SYMBOLS.get(symbol, symbol)


class UnitLookup:
    """Unit symbols of the numeric properties of property and quantity sets of one file (the
    project's unit per measure type is looked up once)."""

    def __init__(self, ifc: Any) -> None:
        self.ifc = ifc
        self._of_kind: dict[str, str | None] = {}

    def of(self, definition: Any, props: dict[str, Any]) -> dict[str, str]:
        """{property name: unit symbol} for the numbers of ``props`` (``definition``'s)."""
        members = (getattr(definition, "HasProperties", None)
                   or getattr(definition, "Quantities", None) or ())
        out: dict[str, str] = {}
        for prop in members:
            name = str(getattr(prop, "Name", "") or "")
            value = props.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            try:
                symbol = self._symbol_of(prop)
            except Exception:
                symbol = None
            if symbol:
                out[name] = symbol
        return out

    def _symbol_of(self, prop: Any) -> str | None:
        import ifcopenshell.util.unit as uu

        if getattr(prop, "Unit", None) is None:  # the project's unit for its measure: cached
            nominal = getattr(prop, "NominalValue", None)
            kind = nominal.is_a() if nominal is not None else prop.is_a()
            if kind not in self._of_kind:
                self._of_kind[kind] = _symbol(uu, uu.get_property_unit(prop, self.ifc))
            return self._of_kind[kind]
        return _symbol(uu, uu.get_property_unit(prop, self.ifc))


def with_units(ifc: Any, psets: dict[str, Any], units: UnitLookup | None = None
               ) -> dict[str, Any]:
    """``get_psets`` output with each set's ``_units`` added (sets carry their ``id``)."""
    units = units or UnitLookup(ifc)
    out: dict[str, Any] = {}
    for name, props in psets.items():
        if isinstance(props, dict) and isinstance(props.get("id"), int):
            try:
                found = units.of(ifc.by_id(props["id"]), props)
            except Exception:
                found = {}
            if found:
                props = {**props, UNITS_KEY: found}
        out[name] = props
    return out


class PropertyIndex:
    """Property sets and spatial paths of the elements of one IFC file."""

    def __init__(self, ifc: Any) -> None:
        self.ifc = ifc
        self._defs: dict[int, list[Any]] = {}  # element id -> its property definitions
        self._type: dict[int, Any] = {}  # element id -> its type object
        self._container: dict[int, Any] = {}
        self._aggregate: dict[int, Any] = {}
        self._converted: dict[int, tuple[str, dict[str, Any]]] = {}
        self.units = UnitLookup(ifc)
        self._paths: dict[int, tuple[str, ...]] = {}
        self._psets: dict[tuple[int, ...], dict[str, Any]] = {}
        for rel in ifc.by_type("IfcRelDefinesByProperties"):
            definition = rel.RelatingPropertyDefinition
            if definition is None:
                continue
            defs = (list(definition.wrappedValue)
                    if definition.is_a("IfcPropertySetDefinitionSet") else [definition])
            for obj in rel.RelatedObjects or ():
                self._defs.setdefault(obj.id(), []).extend(defs)
        for rel in ifc.by_type("IfcRelDefinesByType"):
            for obj in rel.RelatedObjects or ():
                self._type.setdefault(obj.id(), rel.RelatingType)
        for rel in ifc.by_type("IfcRelContainedInSpatialStructure"):
            for obj in rel.RelatedElements or ():
                self._container.setdefault(obj.id(), rel.RelatingStructure)
        for rel in ifc.by_type("IfcRelAggregates"):
            for obj in rel.RelatedObjects or ():
                self._aggregate.setdefault(obj.id(), rel.RelatingObject)

    def _definition(self, definition: Any) -> tuple[str, dict[str, Any]]:
        key = definition.id()
        hit = self._converted.get(key)
        if hit is None:
            import ifcopenshell.util.element as ue

            try:
                props = ue.get_property_definition(definition)
            except Exception:
                props = {}
            props = dict(props or {})
            units = self.units.of(definition, props)
            if units:
                props[UNITS_KEY] = units
            hit = (str(definition.Name), props)
            self._converted[key] = hit
        return hit

    def psets(self, element: Any) -> dict[str, Any]:
        """The element's property and quantity sets (as ``get_psets``), JSON-safe, capped.

        Elements with the same type and the same own definitions (most members of a type
        have none) share one result: treat it as read-only."""
        typ = self._type.get(element.id())
        own = self._defs.get(element.id(), ())
        key = (typ.id() if typ else 0, *(d.id() for d in own))
        hit = self._psets.get(key)
        if hit is not None:
            return hit
        merged: dict[str, dict[str, Any]] = {}
        for definition in (getattr(typ, "HasPropertySets", None) or []) if typ else []:
            name, props = self._definition(definition)
            merged.setdefault(name, {}).update(props)
        for definition in own:
            name, props = self._definition(definition)
            merged.setdefault(name, {}).update(props)
        out = self._psets[key] = cap(merged)
        return out

    def _container_of(self, element: Any) -> Any:
        """``get_container``: the direct container, else the container of the parent
        (aggregate, nest, filled opening, voided element), indexed for the common case."""
        direct = self._container.get(element.id())
        if direct is not None:
            return direct
        import ifcopenshell.util.element as ue

        node, seen = element, 0
        while seen < MAX_DEPTH:
            parent = self._aggregate.get(node.id()) or ue.get_parent(node)
            if parent is None:
                return None
            hit = self._container.get(parent.id())
            if hit is not None:
                return hit
            node, seen = parent, seen + 1
        return None

    def path(self, element: Any) -> tuple[str, ...]:
        """Names of the spatial structure above ``element`` (outermost first)."""
        cur = self._container_of(element) or self._aggregate.get(element.id())
        if cur is None:
            return ()
        hit = self._paths.get(cur.id())
        if hit is not None:
            return hit
        names: list[str] = []
        node = cur
        while node is not None and len(names) < MAX_DEPTH:
            names.append(str(getattr(node, "Name", None) or node.is_a()))
            node = self._aggregate.get(node.id())
        out = tuple(reversed(names))
        self._paths[cur.id()] = out
        return out
