"""Issue 14: STEP parts are named after their product (``side_long``), not their assembly
occurrence id (``NAUO1``), from the loader through the converted GLB."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.helpers import read_parts
from vrcollab.ingest.convert import convert
from vrcollab.ingest.formats import load
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.pipeline import ConvertOptions
from vrcollab.ingest.step_names import occurrence_names

FRAME = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "cad" / "frame_assembly.step"

pytest.importorskip("cascadio", reason="STEP needs the 'cascadio' package")


def test_occurrences_map_to_their_products() -> None:
    assert occurrence_names(FRAME.read_bytes()) == {
        "NAUO1": "side_long", "NAUO2": "side_long", "NAUO3": "side_short", "NAUO4": "side_short"}


def test_loaded_parts_carry_product_names() -> None:
    model = load(FRAME, Limits())
    assert sorted(p.name for p in model.parts) == ["side_long", "side_long", "side_short",
                                                   "side_short"]
    assert all(p.path == ("frame",) for p in model.parts)


def test_converted_glb_nodes_are_named_after_products(tmp_path: Path) -> None:
    convert(FRAME, tmp_path, ConvertOptions(layout="levels"))
    glbs = sorted(tmp_path.rglob("*.glb"))
    assert glbs
    names = set(read_parts(glbs[0].read_bytes()))
    assert names == {"side_long", "side_long (2)", "side_short", "side_short (2)"}
    assert not any("NAUO" in n for n in names)


def test_step_strings_and_edge_cases() -> None:
    text = (b"ISO-10303-21;\nDATA;\n"
            b"#1=PRODUCT('P1','Tr\\X2\\00E4\\X0\\ger ''A''','',(#9));\n"
            b"#2=PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE('','',#1,.NOT_KNOWN.);\n"
            b"#3=PRODUCT_DEFINITION('design','',#2,#9);\n"
            b"#4=PRODUCT('P2','','',(#9));\n#5=PRODUCT_DEFINITION_FORMATION('','',#4);\n"
            b"#6=PRODUCT_DEFINITION('design','',#5,#9);\n"
            b"#7=NEXT_ASSEMBLY_USAGE_OCCURRENCE('NAUO7','left beam','',#8,#3,$);\n"
            b"#10=NEXT_ASSEMBLY_USAGE_OCCURRENCE('NAUO10','','',#8,\n  #6,$);\n"
            b"#11=NEXT_ASSEMBLY_USAGE_OCCURRENCE('NAUO11','','',#8,#99,$);\n"
            b"ENDSEC;\nEND-ISO-10303-21;\n")
    # the product name (unicode and quotes decoded), else its id; an instance's own name
    # ('left beam') is kept: only ids and OpenCascade tags are replaced; dangling refs skipped
    assert occurrence_names(text) == {"NAUO7": "Tr\u00e4ger 'A'", "NAUO10": "P2"}
    assert occurrence_names(b"ISO-10303-21;\nDATA;\n#1=PRODUCT('a','b','',());\n") == {}
