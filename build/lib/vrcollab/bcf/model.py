"""The BCF data model: frozen dataclasses shared by the reader, the writer and the mappings.

One model serves BCF 2.1 and 3.0. It holds what the files say, not where they said it: file
names of viewpoints and snapshots are not kept (the writer names them after their GUIDs), but
every value an official test case carries survives a read -> write -> read round trip.

Conventions:

* Optional text is ``None`` when absent or blank (BCF 3.0 forbids blank strings).
* Lists are tuples so that every object is hashable and comparable.
* Dates are :class:`datetime.datetime`; aware when the file gave an offset, naive otherwise.
* Points and directions are ``(x, y, z)`` float tuples.
* Binary payloads (snapshots, bitmaps, internal documents and snippets) are ``bytes``; ``None``
  when the archive did not contain the referenced file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Vec3 = tuple[float, float, float]
BcfVersion = Literal["2.1", "3.0"]
SUPPORTED_VERSIONS: tuple[BcfVersion, ...] = ("2.1", "3.0")


@dataclass(frozen=True)
class Component:
    """One model element: an IFC GlobalId and/or the authoring tool's own id."""

    ifc_guid: str | None = None
    originating_system: str | None = None
    authoring_tool_id: str | None = None


@dataclass(frozen=True)
class ViewSetupHints:
    """Display hints for IFC spaces, space boundaries and openings."""

    spaces_visible: bool = False
    space_boundaries_visible: bool = False
    openings_visible: bool = False


@dataclass(frozen=True)
class Visibility:
    """Default visibility of all components plus the components that differ from it."""

    default_visibility: bool = False
    exceptions: tuple[Component, ...] = ()


@dataclass(frozen=True)
class Coloring:
    """A colour (``RRGGBB`` or ``RRGGBBAA`` hex) applied to a set of components."""

    color: str
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Components:
    """Selection, visibility and colouring of model elements in a viewpoint."""

    selection: tuple[Component, ...] = ()
    visibility: Visibility | None = None
    coloring: tuple[Coloring, ...] = ()
    view_setup_hints: ViewSetupHints | None = None


@dataclass(frozen=True)
class PerspectiveCamera:
    """Camera with a vertical field of view in degrees; ``aspect_ratio`` is width / height."""

    position: Vec3
    direction: Vec3
    up: Vec3
    field_of_view: float
    aspect_ratio: float | None = None


@dataclass(frozen=True)
class OrthogonalCamera:
    """Parallel projection; ``view_to_world_scale`` is the visible height in metres."""

    position: Vec3
    direction: Vec3
    up: Vec3
    view_to_world_scale: float
    aspect_ratio: float | None = None


Camera = PerspectiveCamera | OrthogonalCamera


@dataclass(frozen=True)
class Line:
    """A markup line segment in model coordinates."""

    start: Vec3
    end: Vec3


@dataclass(frozen=True)
class ClippingPlane:
    """A clipping plane: a point on it and the normal pointing at the clipped-away side."""

    location: Vec3
    direction: Vec3


@dataclass(frozen=True)
class Bitmap:
    """An image placed in the 3D scene (``format`` is ``png`` or ``jpg``)."""

    format: str
    reference: str
    location: Vec3
    normal: Vec3
    up: Vec3
    height: float
    data: bytes | None = None


@dataclass(frozen=True)
class Viewpoint:
    """A saved view of the model, with an optional snapshot image (PNG or JPEG bytes)."""

    guid: str
    camera: Camera | None = None
    components: Components | None = None
    lines: tuple[Line, ...] = ()
    clipping_planes: tuple[ClippingPlane, ...] = ()
    bitmaps: tuple[Bitmap, ...] = ()
    snapshot: bytes | None = None
    index: int | None = None


@dataclass(frozen=True)
class Comment:
    """A comment on a topic, optionally about one of the topic's viewpoints."""

    guid: str
    date: datetime
    author: str
    text: str = ""
    viewpoint_guid: str | None = None
    modified_date: datetime | None = None
    modified_author: str | None = None


@dataclass(frozen=True)
class BimSnippet:
    """A model fragment attached to a topic: a URL when external, else a file in the topic."""

    snippet_type: str
    reference: str
    reference_schema: str
    is_external: bool = False
    data: bytes | None = None


@dataclass(frozen=True)
class DocumentReference:
    """A document linked to a topic: an external ``url`` or an internal document (``filename``
    with ``data``; ``document_guid`` is its BCF 3.0 id, ``document_description`` its 3.0
    documents.xml description)."""

    guid: str | None = None
    url: str | None = None
    description: str | None = None
    document_guid: str | None = None
    filename: str | None = None
    document_description: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class HeaderFile:
    """A model file the topic refers to (the markup header)."""

    filename: str | None = None
    date: datetime | None = None
    reference: str | None = None
    ifc_project: str | None = None
    ifc_spatial_structure_element: str | None = None
    is_external: bool = True


@dataclass(frozen=True)
class Topic:
    """One BCF topic (an issue) with its comments and viewpoints."""

    guid: str
    title: str
    creation_date: datetime
    creation_author: str
    topic_type: str | None = None
    topic_status: str | None = None
    priority: str | None = None
    index: int | None = None
    labels: tuple[str, ...] = ()
    modified_date: datetime | None = None
    modified_author: str | None = None
    due_date: datetime | None = None
    assigned_to: str | None = None
    stage: str | None = None
    description: str | None = None
    server_assigned_id: str | None = None
    reference_links: tuple[str, ...] = ()
    bim_snippet: BimSnippet | None = None
    document_references: tuple[DocumentReference, ...] = ()
    related_topics: tuple[str, ...] = ()
    header_files: tuple[HeaderFile, ...] = ()
    comments: tuple[Comment, ...] = ()
    viewpoints: tuple[Viewpoint, ...] = ()


@dataclass(frozen=True)
class Extensions:
    """Project vocabularies: BCF 3.0 ``extensions.xml`` or the enumerations of a 2.1
    ``extensions.xsd``."""

    topic_types: tuple[str, ...] = ()
    topic_statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    topic_labels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    snippet_types: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectInfo:
    """The optional project file (``project.bcfp``) plus the project's extensions."""

    project_id: str | None = None
    name: str | None = None
    extensions: Extensions | None = None


@dataclass(frozen=True)
class BcfArchive:
    """Everything read from one BCF archive."""

    version: BcfVersion
    topics: tuple[Topic, ...]
    project: ProjectInfo | None = None
