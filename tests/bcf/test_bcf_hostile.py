"""Hostile and broken archives raise BcfError with a one-line message, touching no disk."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import pytest
from bcf_support import full_topic

from vrcollab.bcf import BcfLimits, read_bcf, write_bcf
from vrcollab.errors import BcfError

GUID = "ae693c83-c932-400e-8570-4a2cf45abcf3"
VERSION_30 = b'<?xml version="1.0"?><Version VersionId="3.0"/>'
MARKUP = (f'<Markup><Topic Guid="{GUID}" TopicType="Issue" TopicStatus="Open"><Title>t</Title>'
          '<CreationDate>2024-01-01T00:00:00Z</CreationDate><CreationAuthor>a</CreationAuthor>'
          '{extra}</Topic></Markup>')


def make_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in entries:
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def minimal(extra: str = "", more: list[tuple[str, bytes]] | None = None) -> bytes:
    return make_zip([("bcf.version", VERSION_30),
                     (f"{GUID}/markup.bcf", MARKUP.format(extra=extra).encode()),
                     *(more or [])])


def raises(data: bytes, match: str, code: str | None = None,
           limits: BcfLimits | None = None) -> BcfError:
    with pytest.raises(BcfError, match=match) as info:
        read_bcf(data, limits=limits)
    err = info.value
    assert "\n" not in str(err)
    if code is not None:
        assert err.code == code
    return err


def test_minimal_archive_is_fine() -> None:
    (topic,) = read_bcf(minimal())
    assert topic.title == "t"


# --- zip bombs and limits ------------------------------------------------------------------------

def test_zip_bomb_by_ratio() -> None:
    bomb = minimal(more=[("bomb.bin", b"\0" * (8 * 1024 * 1024))])
    assert len(bomb) < 64 * 1024
    raises(bomb, "zip bomb", "bcf_too_large")


def test_zip_bomb_by_total_size() -> None:
    parts = [(f"x/{i}.bin", bytes(range(256)) * 1024) for i in range(8)]  # 8 x 256 KiB
    raises(minimal(more=parts), "expands to more than", "bcf_too_large",
           BcfLimits(max_total_uncompressed=1024 * 1024))


def test_lying_size_header_is_caught() -> None:
    """A central directory that understates an entry's size cannot smuggle in more bytes."""
    honest = minimal()
    name = f"{GUID}/markup.bcf".encode()
    starts = [i for i in range(len(honest)) if honest.startswith(b"PK\x01\x02", i)]
    (idx,) = [i for i in starts if honest[i + 46: i + 46 + len(name)] == name]
    # uncompressed size is at offset 24 of a central directory record
    lying = honest[:idx + 24] + struct.pack("<I", 10) + honest[idx + 28:]
    raises(lying, "corrupt|malformed|not a valid")


def test_too_many_entries() -> None:
    many = minimal(more=[(f"f/{i}", b"") for i in range(10_001)])
    raises(many, "entries, more than", "bcf_too_large")


def test_archive_size_limit() -> None:
    raises(minimal(), "larger than", "bcf_too_large", BcfLimits(max_archive_bytes=100))


# --- path traversal ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "../evil.txt", "/etc/passwd", "topic/../../evil", "a\\..\\evil", "C:/evil", "C:evil",
])
def test_traversal_entry_names(name: str) -> None:
    raises(minimal(more=[(name, b"x")]), "unsafe|traversal", "bcf_unsafe_path")


@pytest.mark.parametrize("ref", ["../../etc/passwd", "/etc/passwd", "..\\..\\x.bcfv"])
def test_traversal_in_references(ref: str) -> None:
    vp = (f'<Viewpoints><ViewPoint Guid="{GUID}"><Viewpoint>{ref}</Viewpoint></ViewPoint>'
          "</Viewpoints>")
    raises(minimal(extra=vp), "unsafe|leaves", "bcf_unsafe_path")


# --- not a zip / broken zip ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"hello world", b"PK\x03\x04garbage", b"\x89PNG\r\n"])
def test_not_a_zip(data: bytes) -> None:
    raises(data, "not a valid BCF zip", "bcf_not_zip")


def test_truncated_zip() -> None:
    data = write_bcf([full_topic("3.0")])
    raises(data[: len(data) // 2], "not a valid BCF zip", "bcf_not_zip")


def test_not_bytes() -> None:
    with pytest.raises(BcfError, match="must be bytes"):
        read_bcf("bcf.version")  # type: ignore[arg-type]


def test_duplicate_entries() -> None:
    dup = minimal(more=[("bcf.version", VERSION_30)])
    raises(dup, "duplicate entry")


# --- XML attacks ---------------------------------------------------------------------------------

XXE = (b'<?xml version="1.0"?><!DOCTYPE Markup [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<Markup><Topic Guid="' + GUID.encode() + b'"><Title>&x;</Title></Topic></Markup>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;")
                                                     * 10) for i in range(1, 10))
          + b']><Version VersionId="3.0">&lol9;</Version>')
NETWORK_DTD = (b'<?xml version="1.0"?><!DOCTYPE Version SYSTEM "http://127.0.0.1:9/x.dtd">'
               b'<Version VersionId="3.0"/>')


def test_xxe_in_markup() -> None:
    data = make_zip([("bcf.version", VERSION_30), (f"{GUID}/markup.bcf", XXE)])
    raises(data, "DTD|malformed|unexpected", "bcf_bad_xml")


@pytest.mark.parametrize("payload", [LAUGHS, NETWORK_DTD])
def test_entity_expansion_and_external_dtd(payload: bytes) -> None:
    raises(make_zip([("bcf.version", payload)]), "DTD|malformed|unexpected", "bcf_bad_xml")


# --- malformed content and missing files -------------------------------------------------------

def test_malformed_xml() -> None:
    data = make_zip([("bcf.version", VERSION_30), (f"{GUID}/markup.bcf", b"<Markup><Topic")])
    raises(data, "malformed XML", "bcf_bad_xml")


def test_missing_version_file() -> None:
    data = make_zip([(f"{GUID}/markup.bcf", MARKUP.format(extra="").encode())])
    raises(data, "missing bcf.version", "bcf_missing_file")


def test_unsupported_version() -> None:
    data = make_zip([("bcf.version", b'<Version VersionId="1.0"/>')])
    raises(data, "unsupported BCF version", "bcf_unsupported")


def test_missing_viewpoint_and_snapshot_files() -> None:
    vp = (f'<Viewpoints><ViewPoint Guid="{GUID}"><Viewpoint>v.bcfv</Viewpoint></ViewPoint>'
          "</Viewpoints>")
    raises(minimal(extra=vp), "missing file in BCF archive: .*v.bcfv", "bcf_missing_file")
    snap = (f'<Viewpoints><ViewPoint Guid="{GUID}"><Snapshot>s.png</Snapshot></ViewPoint>'
            "</Viewpoints>")
    raises(minimal(extra=snap), "missing file", "bcf_missing_file")


@pytest.mark.parametrize(("markup", "match"), [
    ("<Markup/>", "missing <Topic>"),
    ("<Other/>", "expected <Markup>"),
    (f'<Markup><Topic Guid="{GUID}"><CreationDate>2024-01-01T00:00:00Z</CreationDate>'
     "<CreationAuthor>a</CreationAuthor></Topic></Markup>", "missing <Title>"),
    (f'<Markup><Topic Guid="{GUID}"><Title>t</Title><CreationDate>yesterday</CreationDate>'
     "<CreationAuthor>a</CreationAuthor></Topic></Markup>", "not a date-time"),
    ('<Markup><Topic><Title>t</Title></Topic></Markup>', "without Guid"),
])
def test_invalid_markup(markup: str, match: str) -> None:
    data = make_zip([("bcf.version", VERSION_30), (f"{GUID}/markup.bcf", markup.encode())])
    raises(data, match)


@pytest.mark.parametrize("value", ["NaN", "abc", "inf", ""])
def test_bad_numbers_in_viewpoint(value: str) -> None:
    vp_xml = (f'<VisualizationInfo Guid="{GUID}"><PerspectiveCamera>'
              f"<CameraViewPoint><X>{value}</X><Y>0</Y><Z>0</Z></CameraViewPoint>"
              "<CameraDirection><X>0</X><Y>0</Y><Z>1</Z></CameraDirection>"
              "<CameraUpVector><X>0</X><Y>1</Y><Z>0</Z></CameraUpVector>"
              "<FieldOfView>60</FieldOfView></PerspectiveCamera></VisualizationInfo>")
    extra = (f'<Viewpoints><ViewPoint Guid="{GUID}"><Viewpoint>v.bcfv</Viewpoint></ViewPoint>'
             "</Viewpoints>")
    raises(minimal(extra=extra, more=[(f"{GUID}/v.bcfv", vp_xml.encode())]),
           "not a number|not finite|missing number", "bcf_invalid")


def test_deeply_nested_xml() -> None:
    deep = b"<Markup>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</Markup>"
    data = make_zip([("bcf.version", VERSION_30), (f"{GUID}/markup.bcf", deep)])
    raises(data, "malformed XML.*depth", "bcf_bad_xml")


def test_same_topic_in_two_folders() -> None:
    markup = MARKUP.format(extra="").encode()
    data = make_zip([("bcf.version", VERSION_30), (f"{GUID}/markup.bcf", markup),
                     ("copy/markup.bcf", markup)])
    raises(data, "more than one markup", "bcf_invalid")


def test_archive_wrapped_in_one_folder_still_reads() -> None:
    """Zipping a BCF folder in a file manager adds a top-level folder; that is tolerated."""
    inner = zipfile.ZipFile(io.BytesIO(write_bcf([full_topic("3.0")])))
    wrapped = make_zip([("export/", b"")] + [(f"export/{n}", inner.read(n))
                                             for n in inner.namelist()])
    assert read_bcf(wrapped) == [full_topic("3.0")]
    stray = make_zip([("export/bcf.version", VERSION_30), ("other.txt", b"x")])
    raises(stray, "missing bcf.version", "bcf_missing_file")
