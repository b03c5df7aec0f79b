"""The model formats vrcollab converts, defined once.

The ingest loaders (:mod:`vrcollab.ingest.formats`), the upload check of the REST API, the CLI's
help and the error messages all read this table; ``tests/test_model_formats.py`` checks that the
web client's upload picker offers the same suffixes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFormat:
    """One format: its registry name, how people call it and its file suffixes."""

    name: str
    label: str
    suffixes: tuple[str, ...]


#: Every format a loader exists for, in the order messages list them.
FORMATS: tuple[ModelFormat, ...] = (
    ModelFormat("ifc", "IFC", (".ifc",)),
    ModelFormat("step", "STEP", (".step", ".stp")),
    ModelFormat("stl", "STL", (".stl",)),
    ModelFormat("obj", "OBJ", (".obj",)),
    ModelFormat("ply", "PLY", (".ply",)),
    ModelFormat("off", "OFF", (".off",)),
    ModelFormat("gltf", "glTF/GLB", (".glb", ".gltf")),
    ModelFormat("3mf", "3MF", (".3mf",)),
    ModelFormat("dae", "DAE", (".dae",)),
)

#: An archive holding one model file of the formats above.
ARCHIVE_SUFFIX = ".zip"

#: Suffixes of a model file (inside an archive too).
MODEL_SUFFIXES: tuple[str, ...] = tuple(s for f in FORMATS for s in f.suffixes)

#: Suffixes an upload may have.
UPLOAD_SUFFIXES: tuple[str, ...] = (*MODEL_SUFFIXES, ARCHIVE_SUFFIX)


def describe() -> str:
    """The formats in words, for help texts and error messages."""
    return ", ".join(f.label for f in FORMATS) + " or a .zip of one"
