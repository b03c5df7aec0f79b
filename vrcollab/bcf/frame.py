"""Model space vs BCF world coordinates, and the small vector helpers the mapping needs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vrcollab.bcf.model import Vec3
from vrcollab.errors import BcfError
from vrcollab.model_manifest import is_tiled, manifest_offset


@dataclass(frozen=True)
class ModelFrame:
    """Model space (``original = stored + offset``, ``up_axis`` Z or Y) vs BCF world (Z up)."""

    offset: Vec3 = (0.0, 0.0, 0.0)
    up_axis: str = "Z"

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> ModelFrame:
        """The frame of a converted model, decided like the web client does (``up_axis`` or
        ``up`` when declared, else Z for IFC sources and Y for everything else)."""
        if is_tiled(manifest):
            # tiled layout (docs/tiles.md T2): the scene is the Y-up glTF frame of a Z-up world;
            # the offset is given in world axes
            off = manifest_offset(manifest)
            if not is_vec3(off):
                raise BcfError("manifest offset must be 3 finite numbers",
                               code="bcf_invalid_model")
            ox, oy, oz = vec(off)
            return cls(offset=(ox, oz, -oy), up_axis="Y")
        declared = str(manifest.get("up_axis") or manifest.get("up") or "").upper()
        source = manifest.get("source") or {}
        up = declared or ("Z" if source.get("format") == "ifc" else "Y")
        offset = manifest_offset(manifest)
        if not is_vec3(offset):
            raise BcfError("manifest offset must be 3 finite numbers", code="bcf_invalid_model")
        return cls(offset=vec(offset), up_axis="Z" if up == "Z" else "Y")

    def dir_to_bcf(self, d: Sequence[float]) -> Vec3:
        """A model-space direction in BCF axes."""
        x, y, z = (float(v) for v in d)
        return (x, -z, y) if self.up_axis == "Y" else (x, y, z)

    def dir_from_bcf(self, d: Sequence[float]) -> list[float]:
        """A BCF direction in model-space axes."""
        x, y, z = d
        return [x, z, -y] if self.up_axis == "Y" else [x, y, z]

    def point_to_bcf(self, p: Sequence[float]) -> Vec3:
        """A model-space point in BCF world coordinates (adds the offset)."""
        return self.dir_to_bcf([float(v) + o for v, o in zip(p, self.offset, strict=True)])

    def point_from_bcf(self, p: Sequence[float]) -> list[float]:
        """A BCF world point in model space (removes the offset)."""
        return [v - o for v, o in zip(self.dir_from_bcf(p), self.offset, strict=True)]


def is_vec3(v: object) -> bool:
    """Whether ``v`` is a list/tuple of 3 finite numbers (booleans excluded)."""
    return (isinstance(v, list | tuple) and len(v) == 3
            and all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                    for x in v))


def vec(values: Iterable[float]) -> Vec3:
    """Three numbers as a float tuple."""
    x, y, z = values
    return (float(x), float(y), float(z))


def unit(v: Sequence[float]) -> Vec3:
    """``v`` scaled to length 1 (zero vector when it has no direction)."""
    length = math.sqrt(sum(x * x for x in v))
    if length == 0 or not math.isfinite(length):
        return (0.0, 0.0, 0.0)
    return (v[0] / length, v[1] / length, v[2] / length)
