"""Safe access to untrusted BCF zip archives and their XML, entirely in memory.

Defences, each raising :class:`~vrcollab.errors.BcfError` with a one-line message:

* not a zip, encrypted entries, duplicate names, more than ``max_entries`` entries;
* entry names that are absolute, contain ``..`` segments, backslashes, drive letters or NUL;
* zip bombs: the declared total size, the declared per-entry expansion ratio, and the bytes
  actually inflated (counted while reading, so lying headers do not help) are all bounded;
* XML: no DTDs (so no entity expansion, no XXE), no network, no huge trees, parse errors.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from vrcollab.errors import BcfError

_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class BcfLimits:
    """Bounds applied when reading an archive (keyword-configurable, safe defaults)."""

    max_archive_bytes: int = 256 * 1024 * 1024
    max_entries: int = 10_000
    max_total_uncompressed: int = 512 * 1024 * 1024
    max_entry_bytes: int = 128 * 1024 * 1024
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1024 * 1024
    max_xml_bytes: int = 16 * 1024 * 1024


def one_line(exc: BaseException) -> str:
    """A foreign exception's message squeezed onto one line."""
    return " ".join(str(exc).split())


def check_entry_name(name: str) -> str:
    """Return ``name`` if it is a safe relative archive path, else raise :class:`BcfError`."""
    if not name or "\x00" in name:
        raise BcfError(f"unsafe entry name in BCF archive: {name!r}", code="bcf_unsafe_path")
    if "\\" in name or name.startswith("/") or _DRIVE.match(name):
        raise BcfError(f"unsafe entry name in BCF archive: {name!r}", code="bcf_unsafe_path")
    if any(part == ".." for part in name.split("/")):
        raise BcfError(f"path traversal in BCF archive entry: {name!r}", code="bcf_unsafe_path")
    return name


def resolve_reference(folder: str, reference: str) -> str:
    """Resolve ``reference`` (relative to the topic ``folder``) to an archive path.

    Raises :class:`BcfError` when the result would leave the archive root.
    """
    ref = reference.strip()
    if not ref or "\\" in ref or "\x00" in ref or ref.startswith("/") or _DRIVE.match(ref):
        raise BcfError(f"unsafe file reference in BCF archive: {reference!r}",
                       code="bcf_unsafe_path")
    joined = posixpath.normpath(posixpath.join(folder, ref)) if folder else posixpath.normpath(ref)
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise BcfError(f"file reference leaves the BCF archive: {reference!r}",
                       code="bcf_unsafe_path")
    return joined


class SafeArchive:
    """A validated, read-only view of a BCF zip held in memory."""

    def __init__(self, data: bytes, limits: BcfLimits | None = None) -> None:
        self.limits = limits or BcfLimits()
        if not isinstance(data, bytes | bytearray | memoryview):
            raise BcfError("BCF input must be bytes")
        if len(data) > self.limits.max_archive_bytes:
            raise BcfError(f"BCF archive is larger than {self.limits.max_archive_bytes} bytes",
                           code="bcf_too_large")
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(bytes(data)))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise BcfError(f"not a valid BCF zip archive: {one_line(exc)}",
                           code="bcf_not_zip") from exc
        if len(infos) > self.limits.max_entries:
            raise BcfError(f"BCF archive has {len(infos)} entries, more than "
                           f"{self.limits.max_entries}", code="bcf_too_large")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = check_entry_name(info.filename)
            if info.flag_bits & 0x1:
                raise BcfError(f"encrypted entry in BCF archive: {name!r}")
            if name in self._infos:
                raise BcfError(f"duplicate entry in BCF archive: {name!r}")
            total += info.file_size
            self._check_declared(info, total)
            if not info.is_dir():
                self._infos[name] = info
        self._inflated = 0

    def _check_declared(self, info: zipfile.ZipInfo, total: int) -> None:
        lim = self.limits
        if total > lim.max_total_uncompressed:
            raise BcfError(f"BCF archive expands to more than {lim.max_total_uncompressed} bytes "
                           "(zip bomb?)", code="bcf_too_large")
        if info.file_size > lim.max_entry_bytes:
            raise BcfError(f"BCF entry {info.filename!r} is larger than {lim.max_entry_bytes} "
                           "bytes", code="bcf_too_large")
        if info.file_size > lim.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > lim.max_ratio:
                raise BcfError(f"BCF entry {info.filename!r} expands {ratio:.0f}x "
                               "(zip bomb?)", code="bcf_too_large")

    def strip_wrapper_folder(self) -> None:
        """Treat ``X/`` as the root when the archive is one folder holding ``X/bcf.version``
        (what zipping a BCF folder in a file manager produces)."""
        if "bcf.version" in self._infos:
            return
        found = [n for n in self._infos if n.endswith("/bcf.version") and n.count("/") == 1]
        if len(found) != 1:
            return
        prefix = found[0][: -len("bcf.version")]
        if all(n.startswith(prefix) for n in self._infos):
            self._infos = {n[len(prefix):]: i for n, i in self._infos.items()}

    @property
    def names(self) -> list[str]:
        """All file (non-directory) entry names."""
        return list(self._infos)

    def has(self, name: str) -> bool:
        """Whether a file entry of this exact name exists."""
        return name in self._infos

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """Inflate one entry, counting real bytes against the entry and archive limits."""
        info = self._infos.get(name)
        if info is None:
            raise BcfError(f"missing file in BCF archive: {name}", code="bcf_missing_file")
        cap = min(limit or self.limits.max_entry_bytes, self.limits.max_entry_bytes)
        out = bytearray()
        try:
            with self._zip.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    out += chunk
                    self._inflated += len(chunk)
                    if len(out) > cap:
                        raise BcfError(f"BCF entry {name!r} is larger than {cap} bytes",
                                       code="bcf_too_large")
                    if self._inflated > self.limits.max_total_uncompressed:
                        raise BcfError("BCF archive expands to more than "
                                       f"{self.limits.max_total_uncompressed} bytes (zip bomb?)",
                                       code="bcf_too_large")
        except BcfError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise BcfError(f"corrupt entry {name!r} in BCF archive: {one_line(exc)}") from exc
        return bytes(out)

    def read_xml(self, name: str) -> etree._Element:
        """Read and safely parse one XML entry."""
        return parse_xml(self.read(name, limit=self.limits.max_xml_bytes), name)


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
    "remove_comments": True,
    "remove_pis": True,
}


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse untrusted XML; reject DTDs; strip namespaces from element tags."""
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise BcfError(f"malformed XML in {name}: {one_line(exc)}", code="bcf_bad_xml") from exc
    if root is None:
        raise BcfError(f"empty XML document: {name}", code="bcf_bad_xml")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BcfError(f"DTDs are not allowed in BCF files: {name}", code="bcf_bad_xml")
    for el in root.iter():
        if not isinstance(el.tag, str):  # entity references and other non-elements
            raise BcfError(f"unexpected XML node in {name}", code="bcf_bad_xml")
        if el.tag.startswith("{"):
            el.tag = etree.QName(el).localname
    return root
