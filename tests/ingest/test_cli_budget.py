"""The ``vrcollab convert`` command and the per-device budget report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vrcollab.cli import PARSERS, build_parser, main
from vrcollab.ingest.budget import DEVICES, LevelInfo, report, status


def test_convert_json_report(generated: dict[str, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["convert", str(generated["sphere.ply"]), "-o", str(tmp_path), "--json",
                 "--levels", "small=1000", "-q", "--layout", "levels"])
    assert code == 0
    rep = json.loads(capsys.readouterr().out)
    assert [lv["name"] for lv in rep["levels"]] == ["full", "small"]
    assert rep["levels"][1]["triangles"] <= 1000
    assert set(rep["devices"]) == {"quest2", "quest3", "desktop", "phone"}
    assert (tmp_path / "manifest.json").is_file()
    assert (tmp_path / "small.glb").is_file()


def test_convert_table_report_and_flags(generated: dict[str, Path], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vrcollab.cli", "convert", str(generated["box.stl"]), "-o",
         str(tmp_path), "--units", "m", "--no-compress", "--decimator", "open3d",
         "--layout", "levels"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "device budgets" in proc.stdout
    assert "quest3" in proc.stdout
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["compression"] == "none"
    assert manifest["decimator"] == "open3d"
    assert manifest["bounds"]["max"][0] - manifest["bounds"]["min"][0] == pytest.approx(40.0)


def test_convert_tiles_by_default(generated: dict[str, Path], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(generated["assembly.glb"]), "-o", str(tmp_path), "--json",
                 "-q"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["elements"] == 2
    assert rep["stats"]["tiles"] == 1
    assert set(rep["devices"]) == {"quest2", "quest3", "desktop", "phone"}
    assert all(d["status"] == "pass" for d in rep["devices"].values())
    assert (tmp_path / "tileset.json").is_file()
    assert (tmp_path / "tiles" / "0000.glb").is_file()
    proc = subprocess.run([sys.executable, "-m", "vrcollab.cli", "convert",
                           str(generated["box.stl"]), "-o", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "tileset levels" in proc.stdout
    assert "device budgets" in proc.stdout


def test_bad_arguments_exit_2(generated: dict[str, Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(generated["box.stl"]), "-o", str(tmp_path), "--units",
                 "parsec", "-q"]) == 2
    assert "unknown unit" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing.stl"), "-o", str(tmp_path), "-q"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["convert", "x.stl"])  # -o is required: argparse's usage error
    assert info.value.code == 2


def test_subcommand_registry() -> None:
    assert any(f.__name__ == "add_convert_parser" for f in PARSERS)
    args = build_parser().parse_args(["convert", "a.stl", "-o", "out"])
    assert args.command == "convert"
    assert callable(args.func)


def test_budget_statuses_and_level_choice() -> None:
    quest2 = next(d for d in DEVICES if d.name == "quest2")
    assert status(quest2, 400_000, 50) == "pass"
    assert status(quest2, 800_000, 50) == "warn"
    assert status(quest2, 400_000, 150) == "warn"
    assert status(quest2, 1_500_000, 50) == "fail"
    levels = [LevelInfo("full", 3_000_000, 10), LevelInfo("quest3", 740_000, 10),
              LevelInfo("quest2", 480_000, 10), LevelInfo("phone", 290_000, 10)]
    rows = {r.device: r for r in report(levels)}
    assert rows["desktop"].level == "full"
    assert rows["desktop"].status == "pass"
    assert rows["quest3"].level == "quest3"
    assert rows["quest2"].level == "quest2"
    assert rows["phone"].level == "phone"
    only_big = {r.device: r for r in report([LevelInfo("full", 3_000_000, 10)])}
    assert only_big["quest2"].status == "fail"
    assert only_big["quest2"].level == "full"
