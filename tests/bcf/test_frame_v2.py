"""BCF frame of a tiled (v2) model: the scene is the Y-up glTF frame of the Z-up world."""

from __future__ import annotations

import pytest

from vrcollab.bcf.frame import ModelFrame
from vrcollab.errors import BcfError


def test_v2_scene_points_map_to_world_plus_offset() -> None:
    frame = ModelFrame.from_manifest({"version": 2, "up_axis": "Z", "offset": [1.0, 2.0, 3.0],
                                      "source": {"format": "ifc"}})
    world = (10.0, 20.0, 30.0)
    scene = (world[0], world[2], -world[1])  # docs/tiles.md T2
    assert frame.point_to_bcf(scene) == pytest.approx((11.0, 22.0, 33.0))
    assert frame.point_from_bcf((11.0, 22.0, 33.0)) == pytest.approx(list(scene))
    assert frame.dir_to_bcf((0.0, 1.0, 0.0)) == pytest.approx((0.0, 0.0, 1.0))  # scene up


def test_v1_ifc_manifest_keeps_z_up() -> None:
    frame = ModelFrame.from_manifest({"version": 1, "up_axis": "Z", "offset": [1.0, 2.0, 3.0]})
    assert frame.point_to_bcf((10.0, 20.0, 30.0)) == pytest.approx((11.0, 22.0, 33.0))


def test_v2_bad_offset_is_refused() -> None:
    with pytest.raises(BcfError):
        ModelFrame.from_manifest({"version": 2, "offset": [1.0, "x", 3.0]})
