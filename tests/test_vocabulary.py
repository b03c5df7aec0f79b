"""The supported formats, the role vocabulary and the manifest schema are each defined once
(issue 11): consumers read the one definition, and copies that cannot import it are checked."""

from __future__ import annotations

import re
from pathlib import Path

from vrcollab import model_formats, model_manifest
from vrcollab.ingest import formats as ingest_formats
from vrcollab.ingest import layout
from vrcollab.server.schemas import RoleName
from vrcollab.sync.messages import ROLES

ROOT = Path(__file__).resolve().parents[1]


def test_ingest_and_uploads_read_the_one_format_table() -> None:
    assert ingest_formats.MODEL_SUFFIXES == model_formats.MODEL_SUFFIXES
    names = {f.name for f in model_formats.FORMATS}
    assert set(ingest_formats.LOADERS) | {"gltf"} >= names - {"gltf"}
    text = model_formats.describe()
    for fmt in model_formats.FORMATS:
        assert fmt.label in text
    assert model_formats.UPLOAD_SUFFIXES[-1] == ".zip"


def test_the_web_upload_picker_offers_the_same_suffixes() -> None:
    source = (ROOT / "clients/web/src/pages/project.js").read_text(encoding="utf-8")
    match = re.search(r"id: 'upload-file', accept: '([^']+)'", source)
    assert match is not None
    assert set(match.group(1).split(",")) == set(model_formats.UPLOAD_SUFFIXES)


def test_role_names_are_spelled_out_only_in_the_sync_core() -> None:
    # the whole vocabulary written out as one sequence (subsets, like who may speak, are policy)
    word = r"""["'](?:owner|editor|reviewer|viewer)["']"""
    spelled = re.compile(rf"{word}(?:,\s*{word}){{3}}")
    found = [p.relative_to(ROOT).as_posix() for p in (ROOT / "vrcollab").rglob("*.py")
             if spelled.search(p.read_text(encoding="utf-8"))]
    assert all(p.startswith("vrcollab/sync/") for p in found), found


def test_the_role_schema_is_the_role_tuple() -> None:
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(RoleName)
    assert adapter.json_schema()["enum"] == list(ROLES[::-1])
    for role in ROLES:
        assert adapter.validate_python(role) == role
    try:
        adapter.validate_python("admin")
    except ValidationError:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("an unknown role was accepted")


def test_manifest_readers() -> None:
    v2 = {"format": model_manifest.FORMAT, "version": 2, "offset": [1, 2, 3],
          "bounds": {"min": [0, 0, 0], "max": [1, 2, "3"]}, "elements": {"file": "e.json"}}
    assert model_manifest.manifest_version(v2) == 2
    assert model_manifest.is_tiled(v2)
    assert layout.version_of(v2) == 2
    assert model_manifest.manifest_bounds(v2) == {"min": [0.0, 0.0, 0.0], "max": [1.0, 2.0, 3.0]}
    assert model_manifest.elements_entry(v2) == {"file": "e.json"}
    broken = {"version": "two", "bounds": {"min": [0, 0], "max": [1, 1, float("nan")]},
              "elements": 7}
    assert model_manifest.manifest_version(broken) == 1
    assert model_manifest.manifest_bounds(broken) is None
    assert model_manifest.elements_entry(broken) == {}
    assert model_manifest.manifest_offset({}) == (0.0, 0.0, 0.0)
    assert model_manifest.MANIFEST_VERSION == model_manifest.TILES_VERSION
