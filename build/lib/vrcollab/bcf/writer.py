"""Write topics as a BCF 2.1 or 3.0 archive (bytes), valid against the buildingSMART XSDs.

Layout: ``bcf.version``; ``project.bcfp`` when a project is given; ``extensions.xml`` (3.0,
always: the project's extensions, else the vocabularies the topics use) or ``extensions.xsd``
(2.1, when the project has extensions); internal documents (3.0: ``documents.xml`` and
``documents/<guid>``; 2.1: ``documents/<filename>``); one folder per topic named after its GUID
with ``markup.bcf``, ``<viewpoint guid>.bcfv``, ``<viewpoint guid>.png|jpg`` and any bitmap or
snippet files. The output is deterministic: the same topics give the same bytes.

What the schemas force (see also :mod:`vrcollab.bcf.visinfo`): 3.0 GUIDs are lowercase, 3.0
topics need a type and a status (``Issue`` / ``Open`` when missing), 3.0 strings may not be
blank (blank optional values are omitted, blank required ones raise).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from lxml import etree

from vrcollab.bcf.archive import one_line, resolve_reference
from vrcollab.bcf.model import (
    SUPPORTED_VERSIONS,
    BcfVersion,
    Comment,
    DocumentReference,
    Extensions,
    HeaderFile,
    ProjectInfo,
    Topic,
    Viewpoint,
)
from vrcollab.bcf.visinfo import IFC_GUID, write_visinfo
from vrcollab.bcf.xmltext import Element, format_date, format_int, sub
from vrcollab.errors import BcfError

DEFAULT_TOPIC_TYPE = "Issue"
DEFAULT_TOPIC_STATUS = "Open"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_DOC_NS = uuid.UUID("6d1f4b8e-0c55-4c2e-9a53-0b6f3c1d2e7a")
_EXT_30 = (("TopicTypes", "TopicType", "topic_types"),
           ("TopicStatuses", "TopicStatus", "topic_statuses"),
           ("Priorities", "Priority", "priorities"), ("TopicLabels", "TopicLabel", "topic_labels"),
           ("Users", "User", "users"), ("SnippetTypes", "SnippetType", "snippet_types"),
           ("Stages", "Stage", "stages"))
_EXT_21 = (("TopicType", "topic_types"), ("TopicStatus", "topic_statuses"),
           ("Priority", "priorities"), ("TopicLabel", "topic_labels"), ("UserIdType", "users"),
           ("SnippetType", "snippet_types"), ("Stage", "stages"))


def write_bcf(topics: Sequence[Topic], version: str = "3.0",
              project: ProjectInfo | None = None) -> bytes:
    """Serialise ``topics`` as a BCF archive of the given version (``"2.1"`` or ``"3.0"``)."""
    if version not in SUPPORTED_VERSIONS:
        raise BcfError(f"unsupported BCF version {version!r} (supported: 2.1, 3.0)",
                       code="bcf_unsupported")
    try:
        return _Writer(version, project).run(topics)
    except ValueError as exc:  # lxml refuses text XML cannot hold (control characters)
        raise BcfError(f"cannot write BCF: {one_line(exc)}", code="bcf_invalid_model") from exc


def derive_extensions(topics: Sequence[Topic]) -> Extensions:
    """The vocabularies used by ``topics`` (sorted, unique), for ``extensions.xml``."""
    def uniq(values: list[str | None]) -> tuple[str, ...]:
        return tuple(sorted({v for v in values if v is not None and v.strip()}))

    users: list[str | None] = []
    for t in topics:
        users += [t.creation_author, t.modified_author, t.assigned_to]
        users += [c.author for c in t.comments] + [c.modified_author for c in t.comments]
    return Extensions(
        topic_types=uniq([t.topic_type or DEFAULT_TOPIC_TYPE for t in topics]),
        topic_statuses=uniq([t.topic_status or DEFAULT_TOPIC_STATUS for t in topics]),
        priorities=uniq([t.priority for t in topics]),
        topic_labels=uniq([label for t in topics for label in t.labels]),
        users=uniq(users),
        snippet_types=uniq([t.bim_snippet.snippet_type if t.bim_snippet else None
                            for t in topics]),
        stages=uniq([t.stage for t in topics]),
    )


class _Writer:
    def __init__(self, version: BcfVersion, project: ProjectInfo | None) -> None:
        self.version = version
        self.v3 = version == "3.0"
        self.project = project
        self.files: dict[str, bytes] = {}
        self.documents: dict[str, tuple[str, str | None, bytes | None]] = {}

    # -- archive -----------------------------------------------------------------------------

    def run(self, topics: Sequence[Topic]) -> bytes:
        version = etree.Element("Version", VersionId=self.version)
        if not self.v3:
            sub(version, "DetailedVersion", "2.1")
        self.put_xml("bcf.version", version)
        self.write_project(topics)
        seen: set[str] = set()
        for topic in topics:
            guid = self.guid(topic.guid, "topic")
            if guid in seen:
                raise BcfError(f"duplicate topic GUID {guid}", code="bcf_invalid_model")
            seen.add(guid)
            self.put_xml(f"{guid}/markup.bcf", self.markup(topic, guid))
        if self.v3 and self.documents:
            info = etree.Element("DocumentInfo")
            docs = sub(info, "Documents")
            for doc_guid, (filename, desc, data) in self.documents.items():
                el = sub(docs, "Document", Guid=doc_guid)
                sub(el, "Filename", filename)
                self.opt(el, "Description", desc)
                if data is not None:
                    self.put(f"documents/{doc_guid}", data)
            self.put_xml("documents.xml", info)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.files.items():
                info_ = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info_.compress_type = zipfile.ZIP_DEFLATED
                info_.external_attr = 0o644 << 16
                zf.writestr(info_, data)
        return buf.getvalue()

    def put(self, name: str, data: bytes) -> None:
        if self.files.get(name, data) != data:
            raise BcfError(f"two different files would be written to {name}",
                           code="bcf_invalid_model")
        self.files[name] = data

    def put_xml(self, name: str, root: Element) -> None:
        self.put(name, etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      pretty_print=True))

    def write_project(self, topics: Sequence[Topic]) -> None:
        p = self.project
        ext = p.extensions if p is not None and p.extensions is not None else None
        if self.v3:
            if p is not None and p.project_id and p.project_id.strip():
                root = etree.Element("ProjectInfo")
                proj = sub(root, "Project", ProjectId=p.project_id)
                self.opt(proj, "Name", p.name)
                self.put_xml("project.bcfp", root)
            ext = ext or derive_extensions(topics)
            root = etree.Element("Extensions")
            for group, item, field in _EXT_30:
                el = sub(root, group)
                for value in getattr(ext, field):
                    self.opt(el, item, value)
            self.put_xml("extensions.xml", root)
            return
        if p is None:
            return
        root = etree.Element("ProjectExtension")
        if p.project_id is not None:
            proj = sub(root, "Project", ProjectId=p.project_id)
            self.opt(proj, "Name", p.name)
        sub(root, "ExtensionSchema", "extensions.xsd" if ext is not None else "")
        self.put_xml("project.bcfp", root)
        if ext is not None:
            xs = "http://www.w3.org/2001/XMLSchema"
            schema = etree.Element(f"{{{xs}}}schema", nsmap={None: xs})
            redefine = etree.SubElement(schema, f"{{{xs}}}redefine", schemaLocation="markup.xsd")
            for type_name, field in _EXT_21:
                st = etree.SubElement(redefine, f"{{{xs}}}simpleType", name=type_name)
                r = etree.SubElement(st, f"{{{xs}}}restriction", base=type_name)
                for value in getattr(ext, field):
                    etree.SubElement(r, f"{{{xs}}}enumeration", value=value)
            self.put_xml("extensions.xsd", schema)

    # -- helpers -----------------------------------------------------------------------------

    def guid(self, value: str, what: str) -> str:
        if not _GUID.match(value or ""):
            raise BcfError(f"{what} GUID is not a UUID: {value!r}", code="bcf_invalid_model")
        return value.lower() if self.v3 else value

    def opt(self, parent: Element, name: str, text: str | None, **attrs: str) -> None:
        if text is not None and text.strip():
            sub(parent, name, text, **attrs)

    def req(self, parent: Element, name: str, text: str, where: str) -> None:
        if not text or not text.strip():
            raise BcfError(f"{where}: <{name}> must not be blank", code="bcf_invalid_model")
        sub(parent, name, text)

    def date(self, parent: Element, name: str, value: datetime | None) -> None:
        if value is not None:
            sub(parent, name, format_date(value))

    # -- markup ------------------------------------------------------------------------------

    def markup(self, t: Topic, guid: str) -> Element:
        where = f"topic {guid}"
        root = etree.Element("Markup")
        if t.header_files:
            header = sub(root, "Header")
            files = sub(header, "Files") if self.v3 else header
            for f in t.header_files:
                self.header_file(files, f)
        attrs = {"Guid": guid}
        if self.v3 and t.server_assigned_id and t.server_assigned_id.strip():
            attrs["ServerAssignedId"] = t.server_assigned_id
        topic_type, status = t.topic_type, t.topic_status
        if self.v3:
            topic_type = topic_type if topic_type and topic_type.strip() else DEFAULT_TOPIC_TYPE
            status = status if status and status.strip() else DEFAULT_TOPIC_STATUS
        if topic_type is not None:
            attrs["TopicType"] = topic_type
        if status is not None:
            attrs["TopicStatus"] = status
        el = sub(root, "Topic", **attrs)
        links = sub(el, "ReferenceLinks") if self.v3 and t.reference_links else el
        for link in t.reference_links:
            self.opt(links, "ReferenceLink", link)
        self.req(el, "Title", t.title, where)
        self.opt(el, "Priority", t.priority)
        if t.index is not None:
            sub(el, "Index", format_int(t.index, where))
        labels = sub(el, "Labels") if self.v3 and t.labels else el
        for label in t.labels:
            self.opt(labels, "Label" if self.v3 else "Labels", label)
        self.date(el, "CreationDate", t.creation_date)
        self.req(el, "CreationAuthor", t.creation_author, where)
        self.date(el, "ModifiedDate", t.modified_date)
        self.opt(el, "ModifiedAuthor", t.modified_author)
        self.date(el, "DueDate", t.due_date)
        self.opt(el, "AssignedTo", t.assigned_to)
        self.opt(el, "Stage", t.stage)
        self.opt(el, "Description", t.description)
        if t.bim_snippet is not None:
            s = t.bim_snippet
            ext_attr = "IsExternal" if self.v3 else "isExternal"
            snippet_type = s.snippet_type if s.snippet_type.strip() or not self.v3 else "Unknown"
            snip = sub(el, "BimSnippet", SnippetType=snippet_type,
                       **{ext_attr: "true" if s.is_external else "false"})
            self.req(snip, "Reference", s.reference, where)
            self.req(snip, "ReferenceSchema", s.reference_schema, where)
            if not s.is_external and s.data is not None:
                self.put(resolve_reference(guid, s.reference), s.data)
        docs = sub(el, "DocumentReferences") if self.v3 and t.document_references else el
        for i, d in enumerate(t.document_references):
            self.document_reference(docs, d, guid, i)
        related = sub(el, "RelatedTopics") if self.v3 and t.related_topics else el
        for r in t.related_topics:
            sub(related, "RelatedTopic", Guid=self.guid(r, "related topic"))
        comments_parent = sub(el, "Comments") if self.v3 and t.comments else root
        for c in t.comments:
            self.comment(comments_parent, c, where)
        vps_parent = sub(el, "Viewpoints") if self.v3 and t.viewpoints else root
        for vp in t.viewpoints:
            self.viewpoint(vps_parent, vp, guid)
        return root

    def header_file(self, parent: Element, f: HeaderFile) -> None:
        attrs = {}
        for attr, value in (("IfcProject", f.ifc_project),
                            ("IfcSpatialStructureElement", f.ifc_spatial_structure_element)):
            if value is not None:
                if not IFC_GUID.match(value):
                    raise BcfError(f"header {attr} is not an IFC GlobalId: {value!r}",
                                   code="bcf_invalid_model")
                attrs[attr] = value
        attrs["IsExternal" if self.v3 else "isExternal"] = "true" if f.is_external else "false"
        el = sub(parent, "File", **attrs)
        self.opt(el, "Filename", f.filename)
        self.date(el, "Date", f.date)
        self.opt(el, "Reference", f.reference)

    def document_reference(self, parent: Element, d: DocumentReference, topic: str,
                           i: int) -> None:
        internal = d.filename is not None or d.document_guid is not None
        if not self.v3:
            attrs = {"Guid": self.guid(d.guid, "document reference")} if d.guid else {}
            attrs["isExternal"] = "false" if internal else "true"
            el = sub(parent, "DocumentReference", **attrs)
            if internal:
                path = resolve_reference("documents", d.filename or str(d.document_guid))
                if d.data is not None:
                    self.put(path, d.data)
                sub(el, "ReferencedDocument", f"../{path}")
            else:
                self.opt(el, "ReferencedDocument", d.url)
            self.opt(el, "Description", d.description)
            return
        ref_guid = d.guid or str(uuid.uuid5(_DOC_NS, f"{topic}/{i}"))
        el = sub(parent, "DocumentReference", Guid=self.guid(ref_guid, "document reference"))
        if internal:
            digest = hashlib.sha256(d.data or b"").hexdigest()
            doc_guid = self.guid(d.document_guid or str(uuid.uuid5(
                _DOC_NS, f"{d.filename}/{digest}")), "document")
            entry = (d.filename or doc_guid, d.document_description, d.data)
            listed = d.filename is not None or d.data is not None
            if listed and self.documents.setdefault(doc_guid, entry) != entry:
                raise BcfError(f"document {doc_guid} is given twice with different contents",
                               code="bcf_invalid_model")
            sub(el, "DocumentGuid", doc_guid)
        else:
            self.opt(el, "Url", d.url)
        self.opt(el, "Description", d.description)

    def comment(self, parent: Element, c: Comment, where: str) -> None:
        el = sub(parent, "Comment", Guid=self.guid(c.guid, "comment"))
        cwhere = f"{where} comment {c.guid}"
        self.date(el, "Date", c.date)
        self.req(el, "Author", c.author, cwhere)
        if self.v3:
            self.opt(el, "Comment", c.text)
        else:
            sub(el, "Comment", c.text)
        if c.viewpoint_guid is not None:
            sub(el, "Viewpoint", Guid=self.guid(c.viewpoint_guid, "comment viewpoint"))
        self.date(el, "ModifiedDate", c.modified_date)
        self.opt(el, "ModifiedAuthor", c.modified_author)

    def viewpoint(self, parent: Element, vp: Viewpoint, topic: str) -> None:
        guid = self.guid(vp.guid, "viewpoint")
        el = sub(parent, "ViewPoint" if self.v3 else "Viewpoints", Guid=guid)
        has_content = (vp.camera is not None or vp.components is not None or vp.lines
                       or vp.clipping_planes or vp.bitmaps)
        if has_content:
            root = write_visinfo(replace(vp, guid=guid), self.version)
            self.put_xml(f"{topic}/{guid}.bcfv", root)
            sub(el, "Viewpoint", f"{guid}.bcfv")
            for bm in vp.bitmaps:
                if bm.data is not None:
                    self.put(resolve_reference(topic, bm.reference), bm.data)
        if vp.snapshot is not None:
            ext = "jpg" if vp.snapshot[:2] == b"\xff\xd8" else "png"
            self.put(f"{topic}/{guid}.{ext}", vp.snapshot)
            sub(el, "Snapshot", f"{guid}.{ext}")
        if vp.index is not None:
            sub(el, "Index", format_int(vp.index, f"viewpoint {guid}"))
