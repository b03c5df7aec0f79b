"""The device report of a tileset (docs/tiles.md T7): the cut the web client draws."""

from __future__ import annotations

import numpy as np

from vrcollab.ingest.budget import (
    DEVICES,
    TileInfo,
    budget_cut,
    drawn,
    initial_camera,
    screen_error,
    tiles_report,
)

QUEST2 = next(d for d in DEVICES if d.name == "quest2")


def _grid(n: int, size: float, z: float, tris: int, error: float,
          children: tuple[tuple[TileInfo, ...], ...] | None = None) -> tuple[TileInfo, ...]:
    """n x n tiles of ``size`` m, ``tris`` triangles and ``error`` m each."""
    step = size / n
    out = []
    for i in range(n):
        for j in range(n):
            kids = children[i * n + j] if children else ()
            out.append(TileInfo((i * step, j * step, 0.0), ((i + 1) * step, (j + 1) * step, z),
                                error, tris, 4, kids))
    return tuple(out)


def _tree(root_tris: int, mid_tris: int, leaf_tris: int) -> TileInfo:
    """A 400 m building: root, 4 coarse tiles, 16 leaves under each."""
    leaves = [_grid(4, 200.0, 20.0, leaf_tris, 0.0) for _ in range(4)]
    shifted = tuple(tuple(TileInfo((lf.lo[0] + 200 * (k // 2), lf.lo[1] + 200 * (k % 2), 0.0),
                                   (lf.hi[0] + 200 * (k // 2), lf.hi[1] + 200 * (k % 2), 20.0),
                                   0.0, lf.triangles, 4) for lf in grp)
                    for k, grp in enumerate(leaves))
    mids = _grid(2, 400.0, 20.0, mid_tris, 8.0, shifted)
    return TileInfo((0.0, 0.0, 0.0), (400.0, 400.0, 20.0), 30.0, root_tris, 4, mids)


def test_budget_stops_refining_where_the_children_would_not_fit() -> None:
    root = _tree(20_000, 20_000, 200_000)
    cam, _ = initial_camera(root.lo, root.hi)
    cut, target = budget_cut(root, cam, 1832, 16.0, QUEST2.triangles)
    assert sorted(t.triangles for t in cut) == [20_000] * 4  # the four coarse tiles
    # the plain error target (no budget) would draw every leaf: 12.8M triangles
    assert sum(t.triangles for t in drawn(root, cam, 1832, 16.0)) == 64 * 200_000
    k = 1832 / (2 * np.tan(np.radians(30)))
    assert target >= max(screen_error(t, cam, k) for t in cut) > 16.0


def test_report_passes_on_the_coarse_level_and_says_so() -> None:
    root = _tree(20_000, 20_000, 200_000)
    rep = tiles_report(root, np.array(root.lo), np.array(root.hi))
    for name, dev in rep.items():
        assert dev["triangles"] <= dev["budget_triangles"], name
        if name != "desktop":
            assert (dev["status"], dev["tiles"], dev["triangles"]) == ("pass", 4, 80_000)
            assert dev["geometric_error"] == 8.0
            assert dev["error_target"] > dev["sse"]
    # desktop (10M): three coarse tiles refined to their leaves; all four would be 12.8M
    assert rep["desktop"]["triangles"] == 3 * 16 * 200_000 + 20_000
    assert rep["desktop"]["status"] == "pass"


def test_root_alone_over_budget_fails_honestly() -> None:
    root = _tree(1_500_000, 20_000, 200_000)  # children fit, but the client starts at the root
    rep = tiles_report(root, np.array(root.lo), np.array(root.hi))
    assert rep["phone"]["tiles"] == 4  # refining the root replaces it: 80k fit the phone
    heavy = _tree(2_000_000, 1_000_000, 200_000)
    rep = tiles_report(heavy, np.array(heavy.lo), np.array(heavy.hi))
    assert rep["quest2"]["status"] == "fail"
    assert rep["quest2"]["tiles"] == 1
    assert rep["quest2"]["error_target"] is None


def test_everything_fits_at_the_floor() -> None:
    root = _tree(2_000, 2_000, 2_000)
    rep = tiles_report(root, np.array(root.lo), np.array(root.hi))
    cam, _ = initial_camera(root.lo, root.hi)
    assert rep["quest2"]["error_target"] == rep["quest2"]["sse"] == 16.0
    assert rep["quest2"]["triangles"] == sum(t.triangles for t in drawn(root, cam, 1832, 16.0))
    assert rep["quest2"]["triangles"] == 64 * 2_000
