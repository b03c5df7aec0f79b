"""Human-readable conversion report (rich tables): levels, then the per-device budget table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from vrcollab.ingest.pipeline import ConversionResult

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def render_tiles_report(result: ConversionResult) -> Group:
    """Tiled layout (docs/tiles.md): the per-depth table and the device table."""
    m = result.manifest
    src, st = m["source"], m["stats"]
    head = Text.assemble(
        (src["name"], "bold"), f" ({src['format']}, {_size(src['bytes'])}) -> {result.outdir}",
        f"\n{m['elements']['count']:,} elements, {st['tiles']} tiles, {st['triangles']:,} "
        f"triangles ({st['triangles_stored']:,} stored, {st['instances']:,} instances), "
        f"{_size(st['bytes'])}, glTF JSON "
        f"{100 * st['gltf_json_bytes'] / max(st['tile_bytes'], 1):.1f}%"
        f", {st['seconds']['total']:.1f} s",
    )
    if any(m["offset"]):
        head.append(f"\nrecentred by {m['offset']} m")
    levels = Table(title="tileset levels", title_justify="left")
    for col in ("depth", "tiles", "triangles", "draw calls", "geometric error m", "bytes"):
        levels.add_column(col, justify="right")
    for lv in m["levels"]:
        levels.add_row(str(lv["depth"]), str(lv["tiles"]), f"{lv['triangles']:,}",
                       str(lv["draw_calls"]), f"{lv['geometric_error']:.3f}", _size(lv["bytes"]))
    devices = Table(title="device budgets (what the client draws at the start view)",
                    title_justify="left")
    for col in ("device", "sse floor -> target", "tiles", "status", "triangles / budget",
                "draw calls / budget"):
        devices.add_column(col)
    for name, d in m["devices"].items():
        target = d.get("error_target")
        devices.add_row(
            name, f"{d['sse']:g} -> {'root' if target is None else f'{target:g}'}",
            str(d["tiles"]),
            Text(d["status"], style=_STYLE.get(d["status"], "")),
            f"{d['triangles']:,} / {d['budget_triangles']:,}",
            f"{d['draw_calls']} / {d['budget_draw_calls']}",
        )
    return Group(head, levels, devices)


def render_report(result: ConversionResult) -> Group:
    """The levels table and the device table for ``result``."""
    m = result.manifest
    if m.get("version", 1) >= 2:
        return render_tiles_report(result)
    src = m["source"]
    head = Text.assemble(
        (src["name"], "bold"), f" ({src['format']}, {_size(src['bytes'])}) -> {result.outdir}",
        f"\n{len(m['parts'])} parts, decimator {m['decimator']}, {m['compression']}",
    )
    if any(m["offset"]):
        head.append(f"\nrecentred by {m['offset']} m")
    levels = Table(title="levels of detail", title_justify="left")
    for col in ("level", "file", "triangles", "draw calls", "materials", "bytes",
                "error (% diag)"):
        levels.add_column(col, justify="right" if col not in ("level", "file") else "left")
    for lv in m["levels"]:
        levels.add_row(lv["name"], lv["file"], f"{lv['triangles']:,}", str(lv["draw_calls"]),
                       str(lv.get("materials", "")), _size(lv["bytes"]),
                       f"{100 * lv['error']:.3f}")
    devices = Table(title="device budgets", title_justify="left")
    for col in ("device", "load level", "status", "triangles / budget", "draw calls / budget"):
        devices.add_column(col)
    for name, d in m["devices"].items():
        devices.add_row(
            name, d["level"], Text(d["status"], style=_STYLE.get(d["status"], "")),
            f"{d['triangles']:,} / {d['budget_triangles']:,}",
            f"{d['draw_calls']} / {d['budget_draw_calls']}",
        )
    return Group(head, levels, devices)
