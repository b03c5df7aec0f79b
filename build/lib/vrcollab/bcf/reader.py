"""Read BCF 2.1 and 3.0 archives (``.bcf`` / ``.bcfzip``) from bytes into the model.

The version comes from ``bcf.version``. Each ``<folder>/markup.bcf`` is one topic; the files it
references (viewpoints, snapshots, bitmaps, snippets, documents) are resolved relative to its
folder inside the archive and never outside it.
"""

from __future__ import annotations

import posixpath
from collections import Counter

from vrcollab.bcf.archive import BcfLimits, SafeArchive, resolve_reference
from vrcollab.bcf.model import (
    BcfArchive,
    BcfVersion,
    BimSnippet,
    Comment,
    DocumentReference,
    Extensions,
    HeaderFile,
    ProjectInfo,
    Topic,
    Viewpoint,
)
from vrcollab.bcf.visinfo import read_visinfo
from vrcollab.bcf.xmltext import (
    Element,
    child,
    child_text,
    children,
    opt_attr,
    opt_text,
    parse_bool,
    parse_date,
    parse_int,
    req_date,
    req_text,
)
from vrcollab.errors import BcfError

_EXT_21 = {
    "TopicType": "topic_types", "TopicStatus": "topic_statuses", "Priority": "priorities",
    "TopicLabel": "topic_labels", "UserIdType": "users", "SnippetType": "snippet_types",
    "Stage": "stages",
}
_EXT_30 = {
    "TopicTypes": "topic_types", "TopicStatuses": "topic_statuses", "Priorities": "priorities",
    "TopicLabels": "topic_labels", "Users": "users", "SnippetTypes": "snippet_types",
    "Stages": "stages",
}
_Documents = dict[str, tuple[str | None, str | None, bytes | None]]


def read_bcf(data: bytes, *, limits: BcfLimits | None = None) -> list[Topic]:
    """Read the topics of a BCF 2.1 or 3.0 archive."""
    return list(read_bcf_archive(data, limits=limits).topics)


def read_bcf_archive(data: bytes, *, limits: BcfLimits | None = None) -> BcfArchive:
    """Read a whole BCF archive: version, project information and topics."""
    arc = SafeArchive(data, limits)
    arc.strip_wrapper_folder()
    version = _read_version(arc)
    project = _read_project(arc, version)
    documents = _read_documents(arc) if version == "3.0" else {}
    markups = sorted(n for n in arc.names
                     if posixpath.basename(n) == "markup.bcf" and n.count("/") == 1)
    topics = tuple(_read_markup(arc, name, version, documents) for name in markups)
    counts = Counter(t.guid.lower() for t in topics)
    for guid, n in counts.items():
        if n > 1:
            raise BcfError(f"topic {guid} appears in more than one markup file",
                           code="bcf_invalid")
    return BcfArchive(version=version, topics=topics, project=project)


def _read_version(arc: SafeArchive) -> BcfVersion:
    if not arc.has("bcf.version"):
        raise BcfError("missing bcf.version: not a BCF archive", code="bcf_missing_file")
    root = arc.read_xml("bcf.version")
    if root.tag != "Version":
        raise BcfError(f"bcf.version: expected <Version>, found <{root.tag}>", code="bcf_invalid")
    vid = (root.get("VersionId") or child_text(root, "DetailedVersion") or "").strip()
    if vid.startswith("2."):
        return "2.1"
    if vid.startswith("3."):
        return "3.0"
    raise BcfError(f"unsupported BCF version {vid!r} (supported: 2.1, 3.0)",
                   code="bcf_unsupported")


def _read_project(arc: SafeArchive, version: BcfVersion) -> ProjectInfo | None:
    project_id = name = None
    ext_schema: str | None = None
    found = False
    if arc.has("project.bcfp"):
        found = True
        root = arc.read_xml("project.bcfp")
        proj = child(root, "Project")
        if proj is not None:
            project_id = opt_attr(proj, "ProjectId")
            name = child_text(proj, "Name")
        ext_schema = child_text(root, "ExtensionSchema")
    extensions: Extensions | None = None
    if version == "3.0" and arc.has("extensions.xml"):
        extensions = _extensions_30(arc.read_xml("extensions.xml"))
    elif version == "2.1" and ext_schema:
        path = resolve_reference("", ext_schema)
        if arc.has(path):
            extensions = _extensions_21(arc.read_xml(path))
    if not found and extensions is None:
        return None
    return ProjectInfo(project_id=project_id, name=name, extensions=extensions)


def _extensions_30(root: Element) -> Extensions:
    values: dict[str, tuple[str, ...]] = {}
    for group, field in _EXT_30.items():
        group_el = child(root, group)
        items = [opt_text(c) for c in group_el] if group_el is not None else []
        values[field] = tuple(i for i in items if i is not None)
    return Extensions(**values)


def _extensions_21(root: Element) -> Extensions:
    values: dict[str, list[str]] = {field: [] for field in _EXT_21.values()}
    for st in root.iter("simpleType"):
        field = _EXT_21.get(st.get("name") or "")
        if field is None:
            continue
        for enum in st.iter("enumeration"):
            value = enum.get("value")
            if value is not None and value.strip():
                values[field].append(value)
    return Extensions(**{k: tuple(v) for k, v in values.items()})


def _read_documents(arc: SafeArchive) -> _Documents:
    if not arc.has("documents.xml"):
        return {}
    docs: _Documents = {}
    root = arc.read_xml("documents.xml")
    for doc in children(child(root, "Documents"), "Document"):
        guid = opt_attr(doc, "Guid")
        if guid is None:
            raise BcfError("documents.xml: <Document> without Guid", code="bcf_invalid")
        path = f"documents/{guid}"
        data = arc.read(path) if arc.has(path) else None
        docs[guid] = (child_text(doc, "Filename"), child_text(doc, "Description"), data)
    return docs


def _read_markup(arc: SafeArchive, name: str, version: BcfVersion,
                 documents: _Documents) -> Topic:
    folder = posixpath.dirname(name)
    root = arc.read_xml(name)
    if root.tag != "Markup":
        raise BcfError(f"{name}: expected <Markup>, found <{root.tag}>", code="bcf_invalid")
    t = child(root, "Topic")
    if t is None:
        raise BcfError(f"{name}: missing <Topic>", code="bcf_invalid")
    guid = opt_attr(t, "Guid")
    if guid is None:
        raise BcfError(f"{name}: <Topic> without Guid", code="bcf_invalid")
    where = f"topic {guid}"
    v3 = version == "3.0"
    header = child(root, "Header")
    files = children(child(header, "Files") if v3 and header is not None else header, "File")
    comment_els = children(child(t, "Comments"), "Comment") if v3 else children(root, "Comment")
    vp_els = (children(child(t, "Viewpoints"), "ViewPoint") if v3
              else children(root, "Viewpoints"))
    if v3:
        links = children(child(t, "ReferenceLinks"), "ReferenceLink")
        labels = children(child(t, "Labels"), "Label")
        doc_els = children(child(t, "DocumentReferences"), "DocumentReference")
        related = children(child(t, "RelatedTopics"), "RelatedTopic")
    else:
        links = children(t, "ReferenceLink")
        labels = children(t, "Labels")
        doc_els = children(t, "DocumentReference")
        related = children(t, "RelatedTopic")
    return Topic(
        guid=guid,
        title=req_text(t, "Title", where),
        creation_date=req_date(t, "CreationDate", where),
        creation_author=req_text(t, "CreationAuthor", where),
        topic_type=opt_attr(t, "TopicType"),
        topic_status=opt_attr(t, "TopicStatus"),
        priority=child_text(t, "Priority"),
        index=parse_int(child_text(t, "Index"), f"{where} <Index>"),
        labels=tuple(x for x in (opt_text(e) for e in labels) if x is not None),
        modified_date=parse_date(child_text(t, "ModifiedDate"), f"{where} <ModifiedDate>"),
        modified_author=child_text(t, "ModifiedAuthor"),
        due_date=parse_date(child_text(t, "DueDate"), f"{where} <DueDate>"),
        assigned_to=child_text(t, "AssignedTo"),
        stage=child_text(t, "Stage"),
        description=child_text(t, "Description"),
        server_assigned_id=opt_attr(t, "ServerAssignedId"),
        reference_links=tuple(x for x in (opt_text(e) for e in links) if x is not None),
        bim_snippet=_snippet(arc, child(t, "BimSnippet"), folder, v3, where),
        document_references=tuple(
            _document_30(e, documents) if v3 else _document_21(arc, e, folder)
            for e in doc_els),
        related_topics=tuple(g for g in (opt_attr(e, "Guid") for e in related) if g),
        header_files=tuple(_header_file(f, v3, where) for f in files),
        comments=tuple(_comment(c, where) for c in comment_els),
        viewpoints=tuple(_viewpoint(arc, e, folder, version, where) for e in vp_els),
    )


def _snippet(arc: SafeArchive, el: Element | None, folder: str, v3: bool,
             where: str) -> BimSnippet | None:
    if el is None:
        return None
    external = parse_bool(el.get("IsExternal" if v3 else "isExternal"), False, where)
    reference = req_text(el, "Reference", f"{where} <BimSnippet>")
    data = None
    if not external:
        path = resolve_reference(folder, reference)
        data = arc.read(path) if arc.has(path) else None
    return BimSnippet(
        snippet_type=opt_attr(el, "SnippetType") or "",
        reference=reference,
        reference_schema=req_text(el, "ReferenceSchema", f"{where} <BimSnippet>"),
        is_external=external,
        data=data,
    )


def _document_21(arc: SafeArchive, el: Element, folder: str) -> DocumentReference:
    ref = child_text(el, "ReferencedDocument")
    external = parse_bool(el.get("isExternal"), False, "DocumentReference")
    guid, description = opt_attr(el, "Guid"), child_text(el, "Description")
    if external or ref is None:
        return DocumentReference(guid=guid, url=ref, description=description)
    path = resolve_reference(folder, ref)
    data = arc.read(path) if arc.has(path) else None
    return DocumentReference(guid=guid, description=description,
                             filename=posixpath.basename(path), data=data)


def _document_30(el: Element, documents: _Documents) -> DocumentReference:
    doc_guid = child_text(el, "DocumentGuid")
    filename = doc_desc = data = None
    if doc_guid is not None and doc_guid in documents:  # an unlisted document stays a bare id
        filename, doc_desc, data = documents[doc_guid]
    return DocumentReference(
        guid=opt_attr(el, "Guid"), url=child_text(el, "Url"),
        description=child_text(el, "Description"), document_guid=doc_guid,
        filename=filename, document_description=doc_desc, data=data)


def _header_file(el: Element, v3: bool, where: str) -> HeaderFile:
    return HeaderFile(
        filename=child_text(el, "Filename"),
        date=parse_date(child_text(el, "Date"), f"{where} header <Date>"),
        reference=child_text(el, "Reference"),
        ifc_project=opt_attr(el, "IfcProject"),
        ifc_spatial_structure_element=opt_attr(el, "IfcSpatialStructureElement"),
        is_external=parse_bool(el.get("IsExternal" if v3 else "isExternal"), True, where),
    )


def _comment(el: Element, where: str) -> Comment:
    guid = opt_attr(el, "Guid")
    if guid is None:
        raise BcfError(f"{where}: <Comment> without Guid", code="bcf_invalid")
    cwhere = f"{where} comment {guid}"
    vp = child(el, "Viewpoint")
    text_el = child(el, "Comment")
    return Comment(
        guid=guid,
        date=req_date(el, "Date", cwhere),
        author=req_text(el, "Author", cwhere),
        text=text_el.text or "" if text_el is not None else "",
        viewpoint_guid=opt_attr(vp, "Guid") if vp is not None else None,
        modified_date=parse_date(child_text(el, "ModifiedDate"), f"{cwhere} <ModifiedDate>"),
        modified_author=child_text(el, "ModifiedAuthor"),
    )


def _viewpoint(arc: SafeArchive, el: Element, folder: str, version: BcfVersion,
               where: str) -> Viewpoint:
    guid = opt_attr(el, "Guid")
    if guid is None:
        raise BcfError(f"{where}: viewpoint without Guid", code="bcf_invalid")
    vwhere = f"{where} viewpoint {guid}"
    vfile = child_text(el, "Viewpoint")
    sfile = child_text(el, "Snapshot")
    root = arc.read_xml(resolve_reference(folder, vfile)) if vfile else None
    snapshot = arc.read(resolve_reference(folder, sfile)) if sfile else None

    def load_bitmap(reference: str) -> bytes | None:
        path = resolve_reference(folder, reference)
        return arc.read(path) if arc.has(path) else None

    return read_visinfo(
        root, guid=guid, version=version, where=vwhere, snapshot=snapshot,
        index=parse_int(child_text(el, "Index"), f"{vwhere} <Index>"), load_bitmap=load_bitmap)
