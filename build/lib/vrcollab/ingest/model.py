"""Plain data the ingest stages pass to each other: parts, materials, a model.

Loaders return a :class:`Model`; repair, decimation and the glTF writer take and return plain
numpy arrays inside these dataclasses, so every stage can be tested without any file I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Material:
    """A PBR metallic-roughness material; ``image`` is an encoded PNG/JPEG or ``None``."""

    name: str = "default"
    color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    metallic: float = 0.0
    roughness: float = 0.8
    image: bytes | None = None
    image_mime: str | None = None
    double_sided: bool = False

    def key(self) -> tuple[Any, ...]:
        """Identity used to merge equal materials (the name is not part of it)."""
        color = tuple(round(float(c), 3) for c in self.color)
        img = None if self.image is None else hash(self.image)
        return (color, round(self.metallic, 3), round(self.roughness, 3), img, self.double_sided)


@dataclass
class Primitive:
    """A triangle mesh with one material, in world coordinates (source units until repaired).

    ``uv`` (n, 2) is optional; vertices on a UV seam are duplicated.
    """

    vertices: FloatArray
    faces: IndexArray
    material: Material = field(default_factory=Material)
    uv: FloatArray | None = None

    @property
    def triangles(self) -> int:
        """Number of triangles."""
        return len(self.faces)

    def with_geometry(
        self, vertices: FloatArray, faces: IndexArray, uv: FloatArray | None
    ) -> Primitive:
        """A copy with new geometry and the same material."""
        return replace(self, vertices=vertices, faces=faces, uv=uv)


@dataclass
class Part:
    """One named piece of the model (a glTF node): one primitive per material.

    ``path`` holds the names of the groups above the part (outermost first), so the glTF writer
    can rebuild the hierarchy.
    """

    name: str
    primitives: list[Primitive]
    path: tuple[str, ...] = ()
    element_id: str | None = None
    ifc_class: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def triangles(self) -> int:
        """Number of triangles."""
        return sum(p.triangles for p in self.primitives)


@dataclass
class Model:
    """Parts plus what is known about their coordinates.

    ``scale`` converts source units to metres; ``offset`` (metres) is what recentring removed:
    original = stored + offset.
    """

    parts: list[Part]
    source_format: str
    scale: float = 1.0
    units_known: bool = False
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def triangles(self) -> int:
        """Total triangle count."""
        return sum(p.triangles for p in self.parts)

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounds (min, max) over all parts; zeros for an empty model."""
        lows, highs = [], []
        for part in self.parts:
            for prim in part.primitives:
                if not len(prim.faces):
                    continue
                v = prim.vertices
                if len(v) > 3 * len(prim.faces) or not np.isfinite(v).all():
                    v = v[np.unique(prim.faces)]  # many unused vertices: only the used ones
                lows.append(v.min(axis=0))
                highs.append(v.max(axis=0))
        if not lows:
            return np.zeros(3), np.zeros(3)
        return np.min(lows, axis=0), np.max(highs, axis=0)

    def diagonal(self) -> float:
        """Length of the bounding-box diagonal."""
        lo, hi = self.bounds()
        return float(np.linalg.norm(hi - lo))
