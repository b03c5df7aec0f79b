"""The one-pass property index gives what ifcopenshell's per-element utilities give."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.corpus import HOUSE, SHARED_MODELS, skip_reason
from tests.ingest.helpers import ROOT
from vrcollab.ingest.ifc import element_properties, spatial_path
from vrcollab.ingest.ifc_props import UNITS_KEY, PropertyIndex, cap

sys.path.insert(0, str(ROOT / "bench"))
import building_gen

SHARED_IFC = SHARED_MODELS / "ifc"


def _check(path: Path) -> int:
    import ifcopenshell

    ifc = ifcopenshell.open(str(path))
    index = PropertyIndex(ifc)
    products = ifc.by_type("IfcProduct")
    with_props = 0
    for p in products:
        assert index.psets(p) == element_properties(p), p
        assert index.path(p) == spatial_path(p), p
        with_props += bool(index.psets(p))
    return with_props


def test_index_matches_get_psets_on_the_generated_building(tmp_path: Path) -> None:
    src = building_gen.generate(300, tmp_path / "b.ifc")
    assert _check(src) > 100


@pytest.mark.parametrize("name", ["duplex.ifc", "AC20-FZK-Haus.ifc", "IfcOpenHouse_IFC4.ifc"])
def test_index_matches_get_psets_on_real_files(name: str) -> None:
    path = HOUSE if name == HOUSE.name else SHARED_IFC / name
    if not path.is_file():
        pytest.skip(skip_reason(f"models/ifc/{name}"))
    _check(path)


def test_cap_marks_truncation() -> None:
    big = {f"Set{i}": {"Text": "x" * 2000} for i in range(20)}
    out = cap(big)
    assert out["_truncated"] is True
    assert 0 < len(out) < 20


def test_numbers_carry_the_units_of_the_ifc_unit_assignment() -> None:
    """Issue 14: raw numbers stay; each set's ``_units`` names their unit (FZK-Haus: metres)."""
    import ifcopenshell

    from tests.corpus import shared_model

    path = shared_model("ifc/AC20-FZK-Haus.ifc")
    if path.suffix == ".zip":
        import zipfile

        with zipfile.ZipFile(path) as zf:
            ifc = ifcopenshell.file.from_string(zf.read("AC20-FZK-Haus.ifc").decode())
    else:
        ifc = ifcopenshell.open(str(path))
    index = PropertyIndex(ifc)
    units: dict[str, set[str]] = {}
    raw_kept = False
    for p in ifc.by_type("IfcProduct"):
        for name, props in index.psets(p).items():
            if not isinstance(props, dict) or UNITS_KEY not in props:
                continue
            for key, unit in props[UNITS_KEY].items():
                assert isinstance(props[key], int | float)  # only numbers get a unit
                units.setdefault(unit, set()).add(f"{name}/{key}")
                raw_kept = raw_kept or props[key] != round(props[key], 3)
    assert {"m", "m\u00b2", "m\u00b3"} <= set(units)
    assert "BaseQuantities/Length" in units["m"]
    assert "BaseQuantities/GrossVolume" in units["m\u00b3"]
    assert raw_kept, "values are not rounded in the table"
