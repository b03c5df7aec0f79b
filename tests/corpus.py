"""Where the tests find real third-party files: ``../shared`` when it is there, else the small
committed copies under ``tests/fixtures/``, else a skip that says what is missing.

A fresh clone has no ``../shared`` beside it; every test still runs on the committed fixtures
or skips with a stated reason (``tests/test_fresh_clone.py`` holds that promise). This module is
the only place in ``tests/`` that names the ``../shared`` folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_MODELS = SHARED / "models"
SHARED_BCF = SHARED / "bcf"
FIXTURES = REPO / "tests" / "fixtures"
FIXTURE_BCF = FIXTURES / "bcf"
FIXTURE_MODELS = FIXTURES / "models"
#: the sample building bundled with the service (same bytes as ``shared/models/ifc``)
HOUSE = REPO / "assets" / "IfcOpenHouse_IFC4.ifc"


def has_shared() -> bool:
    """``../shared`` (test models and BCF files) is checked out beside the repository."""
    return SHARED_MODELS.is_dir() and SHARED_BCF.is_dir()


def skip_reason(what: str) -> str:
    """The skip message for a test that needs ``what`` from ``../shared``."""
    return f"needs {what} from ../shared (not beside this checkout; not in tests/fixtures)"


def shared_model(rel: str) -> Path:
    """``../shared/models/<rel>``, or the committed fixture, or skip the calling test.

    The fixture may be a zip of the file (``ifc/AC20-FZK-Haus.ifc`` -> ``ifc/AC20-FZK-Haus.zip``);
    the ingest pipeline reads both the same way.
    """
    for path in (SHARED_MODELS / rel, FIXTURE_MODELS / rel,
                 (FIXTURE_MODELS / rel).with_suffix(".zip")):
        if path.is_file():
            return path
    pytest.skip(skip_reason(f"models/{rel}"))


def bcf_case(version: str, name: str) -> Path:
    """One official buildingSMART test case archive (``<group>-<case>``), or skip."""
    for root in (SHARED_BCF, FIXTURE_BCF):
        path = root / f"testcases-{version}" / f"{name}.bcf"
        if path.is_file():
            return path
    pytest.skip(skip_reason(f"bcf/testcases-{version}/{name}.bcf"))


def bcf_cases(version: str) -> list[Path]:
    """Every official test case of ``version`` in ``../shared``, else the committed subset."""
    root = SHARED_BCF if (SHARED_BCF / f"testcases-{version}").is_dir() else FIXTURE_BCF
    folder = root / f"testcases-{version}"
    assert folder.is_dir(), f"BCF test cases not found at {folder}"
    return sorted(folder.glob("*.bcf"))


def bcf_schema_dir(version: str) -> Path:
    """The buildingSMART XSDs of ``version`` (committed unmodified in ``tests/fixtures/bcf``)."""
    folder = FIXTURE_BCF / f"schemas-{version}"
    assert folder.is_dir(), f"BCF schemas not found at {folder}"
    return folder
