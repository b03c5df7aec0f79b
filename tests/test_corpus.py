"""The committed fixtures (tests/fixtures) and where the tests find third-party files."""

from __future__ import annotations

import zipfile

import pytest

from tests.corpus import (
    FIXTURE_BCF,
    FIXTURE_MODELS,
    HOUSE,
    SHARED_BCF,
    SHARED_MODELS,
    bcf_case,
    bcf_cases,
    shared_model,
)


def test_every_fixture_folder_says_where_it_comes_from() -> None:
    readme = (FIXTURE_BCF.parent / "README.md").read_text(encoding="utf-8")
    for part in ("bcf/", "models/bad/", "models/ifc/AC20-FZK-Haus.zip", "CC BY-ND 4.0", "MIT",
                 "MPL-2.0"):
        assert part in readme, part
    assert "Attribution-NoDerivatives 4.0" in (FIXTURE_BCF / "LICENSE").read_text()


def test_bcf_fixtures_are_unmodified_copies() -> None:
    """CC BY-ND: the committed schemas and cases must be byte-identical to buildingSMART's."""
    if not SHARED_BCF.is_dir():
        pytest.skip("needs ../shared/bcf to compare against")
    files = [p for p in FIXTURE_BCF.rglob("*") if p.is_file() and p.suffix in (".xsd", ".bcf")]
    assert len(files) > 20
    for path in files:
        assert path.read_bytes() == (SHARED_BCF / path.relative_to(FIXTURE_BCF)).read_bytes(), path


def test_model_fixtures_match_the_shared_corpus() -> None:
    if not SHARED_MODELS.is_dir():
        pytest.skip("needs ../shared/models to compare against")
    for path in (FIXTURE_MODELS / "bad").iterdir():
        if path.suffix == ".md":
            continue  # the licence
        assert path.read_bytes() == (SHARED_MODELS / "bad" / path.name).read_bytes(), path
    with zipfile.ZipFile(FIXTURE_MODELS / "ifc" / "AC20-FZK-Haus.zip") as zf:
        assert zf.namelist() == ["AC20-FZK-Haus.ifc"]
        data = zf.read("AC20-FZK-Haus.ifc")
    assert data == (SHARED_MODELS / "ifc" / "AC20-FZK-Haus.ifc").read_bytes()
    assert HOUSE.read_bytes() == (SHARED_MODELS / "ifc" / "IfcOpenHouse_IFC4.ifc").read_bytes()


def test_lookups_prefer_shared_then_fixtures_then_skip() -> None:
    fzk = shared_model("ifc/AC20-FZK-Haus.ifc")
    assert fzk.name in ("AC20-FZK-Haus.ifc", "AC20-FZK-Haus.zip")
    assert bcf_case("3.0", "Markup-Due_Date").is_file()
    assert {p.stem for p in bcf_cases("2.1")} >= {"Markup-MinimumInformation",
                                                   "Project-ExtensionSchema"}
    with pytest.raises(pytest.skip.Exception, match=r"needs models/nope\.ifc from \.\./shared"):
        shared_model("nope.ifc")
    with pytest.raises(pytest.skip.Exception, match=r"needs bcf/testcases-2\.1/Nope\.bcf"):
        bcf_case("2.1", "Nope")
