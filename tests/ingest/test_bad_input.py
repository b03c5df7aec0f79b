"""Bad input ends in a typed error with a one-line message (CLI: exit code 2), never a hang."""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh

from tests.corpus import shared_model
from vrcollab.cli import main
from vrcollab.errors import (
    CorruptFileError,
    IngestError,
    InvalidGeometryError,
    LimitExceededError,
    UnsupportedFormatError,
)
from vrcollab.ingest.convert import convert
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.pipeline import ConvertOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import building_gen

pytestmark = pytest.mark.timeout(120)

SHARED_BAD = {
    "empty.obj": InvalidGeometryError, "empty.ply": InvalidGeometryError,
    "empty.stl": InvalidGeometryError, "nancolor.obj": InvalidGeometryError,
    "obj_points.obj": InvalidGeometryError, "ply_empty_header.ply": InvalidGeometryError,
    "points_emptyface.ply": InvalidGeometryError, "stl_empty_bin.stl": InvalidGeometryError,
}


def _binary_stl(triangles: np.ndarray, declared: int | None = None) -> bytes:
    n = len(triangles)
    out = io.BytesIO()
    out.write(b"\x00" * 80 + struct.pack("<I", n if declared is None else declared))
    for tri in triangles:
        out.write(struct.pack("<3f", 0, 0, 0) + tri.astype("<f4").tobytes() + b"\x00\x00")
    return out.getvalue()


def _hostile(d: Path) -> dict[str, tuple[Path, type[IngestError]]]:
    box = trimesh.creation.box().triangles
    files: dict[str, tuple[bytes, type[IngestError]]] = {
        "empty.glb": (b"", CorruptFileError),
        "zeros.stl": (b"\x00" * 84, InvalidGeometryError),
        "truncated.stl": (_binary_stl(box)[:300], CorruptFileError),
        "lying_count.stl": (_binary_stl(box, declared=1000), CorruptFileError),
        "nan.stl": (_binary_stl(np.where(np.arange(box.size).reshape(box.shape) == 5, np.nan,
                                         box)), InvalidGeometryError),
        "inf.obj": (b"v 0 0 0\nv 1 0 0\nv 0 inf 0\nf 1 2 3\n", InvalidGeometryError),
        "index.obj": (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99\n", InvalidGeometryError),
        "index.ply": (b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty "
                      b"float y\nproperty float z\nelement face 1\nproperty list uchar int "
                      b"vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",
                      InvalidGeometryError),
        "index.off": (b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 5\n", CorruptFileError),
        "garbage.glb": (b"glTF\x02\x00\x00\x00" + b"\xff" * 200, CorruptFileError),
        "png.obj": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), UnsupportedFormatError),
        "random.bin": (bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)),
                       UnsupportedFormatError),
        "truncated.ifc": (b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n"
                          b"#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,'p',$,$,$,$,$,$);\n",
                          CorruptFileError),
        "garbage.ifc": (b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4'));\nthis is not ifc\n"
                        b"END-ISO-10303-21;\n", CorruptFileError),
        "garbage.step": (b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('AP214'));\nENDSEC;\nDATA;\n"
                         b"#1=garbage(;\nENDSEC;\nEND-ISO-10303-21;\n", CorruptFileError),
        "corrupt.zip": (b"PK\x03\x04" + b"\x00" * 100, CorruptFileError),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "no model here")
    files["nomodel.zip"] = (buf.getvalue(), UnsupportedFormatError)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("huge.obj", b"# " + b"0" * (60 * 1024 * 1024))
    files["bomb.zip"] = (bomb.getvalue(), LimitExceededError)
    # a bomb that lies about its sizes: reading stops at the declared size, the CRC fails
    lying = bytearray(bomb.getvalue())
    lying[22:26] = struct.pack("<I", 1000)
    central = lying.rfind(b"PK\x01\x02")
    lying[central + 24 : central + 28] = struct.pack("<I", 1000)
    files["lying.zip"] = (bytes(lying), CorruptFileError)
    out = {}
    for name, (data, err) in files.items():
        (d / name).write_bytes(data)
        out[name] = (d / name, err)
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, type]]:
    return _hostile(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", sorted(SHARED_BAD))
def test_shared_bad_models(tmp_path: Path, name: str) -> None:
    with pytest.raises(SHARED_BAD[name]) as info:
        convert(shared_model(f"bad/{name}"), tmp_path)
    assert "\n" not in str(info.value)
    assert name in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["empty.glb", "zeros.stl", "truncated.stl", "lying_count.stl", "nan.stl", "inf.obj",
     "index.obj", "index.ply", "index.off", "garbage.glb", "png.obj", "random.bin",
     "truncated.ifc", "garbage.ifc", "garbage.step", "corrupt.zip", "nomodel.zip", "bomb.zip",
     "lying.zip"],
)
def test_hostile_files(hostile: dict, tmp_path: Path, name: str) -> None:
    path, expected = hostile[name]
    with pytest.raises(expected) as info:
        convert(path, tmp_path)
    assert "\n" not in str(info.value)
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_size_and_triangle_limits(generated: dict[str, Path], tmp_path: Path) -> None:
    sphere = generated["sphere.ply"]
    with pytest.raises(LimitExceededError, match="bytes"):
        convert(sphere, tmp_path, ConvertOptions(limits=Limits(max_input_bytes=1000)))
    with pytest.raises(LimitExceededError, match="triangles"):
        convert(sphere, tmp_path, ConvertOptions(limits=Limits(max_triangles=1000)))
    stl = tmp_path / "huge_header.stl"
    stl.write_bytes(_binary_stl(trimesh.creation.box().triangles, declared=10**9))
    with pytest.raises(LimitExceededError):
        convert(stl, tmp_path / "o", ConvertOptions(limits=Limits(max_triangles=10**6)))


def test_ifc_triangle_limit_counts_a_shared_representation_once(tmp_path: Path) -> None:
    # 500 doors of one mapped type: the limit bounds tessellation work, not instanced copies
    src = building_gen.generate_doors(500, tmp_path / "doors.ifc")
    stored = convert(src, tmp_path / "a").manifest["stats"]["triangles_stored"]
    result = convert(src, tmp_path / "b", ConvertOptions(limits=Limits(max_triangles=stored)))
    assert result.manifest["stats"]["triangles"] == 500 * stored
    with pytest.raises(LimitExceededError, match="triangles"):
        convert(src, tmp_path / "c", ConvertOptions(limits=Limits(max_triangles=stored - 1)))


def test_zip_members_cannot_escape(tmp_path: Path) -> None:
    buf = io.BytesIO()
    box = trimesh.creation.box()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../escape.obj", trimesh.exchange.obj.export_obj(box))
        zf.writestr("model/box.obj", trimesh.exchange.obj.export_obj(box))
    src = tmp_path / "evil.zip"
    src.write_bytes(buf.getvalue())
    result = convert(src, tmp_path / "out")
    assert result.manifest["levels"][0]["triangles"] == 12
    assert not (tmp_path.parent / "escape.obj").exists()


@pytest.mark.parametrize("name", ["nan.stl", "bomb.zip", "random.bin", "truncated.ifc"])
def test_cli_exit_code_2_and_one_line(
    hostile: dict, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["convert", str(hostile[name][0]), "-o", str(tmp_path), "-q"])
    captured = capsys.readouterr()
    assert code == 2
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err + captured.out
