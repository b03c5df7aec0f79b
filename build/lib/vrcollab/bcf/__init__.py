"""BCF (BIM Collaboration Format) 2.1 and 3.0: read and write ``.bcfzip`` archives as bytes.

The library does no I/O of its own: callers pass bytes in and get bytes out. Entry points:

* :func:`read_bcf` / :func:`read_bcf_archive` - bytes -> topics (and project information);
* :func:`write_bcf` - topics -> bytes (``version="3.0"`` or ``"2.1"``);
* :func:`annotation_to_topic` / :func:`topic_to_annotation` - vrcollab annotations <-> topics;
* :func:`export_annotations` / :func:`import_annotations` - annotations <-> ``.bcfzip`` bytes in
  one call (what the REST API and the CLI use).

Hostile input (zip bombs, path traversal, XML entity tricks, malformed files) raises
:class:`vrcollab.errors.BcfError`.
"""

from vrcollab.bcf.annotations import annotation_to_topic, topic_to_annotation
from vrcollab.bcf.archive import BcfLimits
from vrcollab.bcf.exchange import AnnotationImport, export_annotations, import_annotations
from vrcollab.bcf.frame import ModelFrame
from vrcollab.bcf.model import (
    BcfArchive,
    BimSnippet,
    Bitmap,
    ClippingPlane,
    Coloring,
    Comment,
    Component,
    Components,
    DocumentReference,
    Extensions,
    HeaderFile,
    Line,
    OrthogonalCamera,
    PerspectiveCamera,
    ProjectInfo,
    Topic,
    Viewpoint,
    ViewSetupHints,
    Visibility,
)
from vrcollab.bcf.reader import read_bcf, read_bcf_archive
from vrcollab.bcf.writer import write_bcf

__all__ = [
    "AnnotationImport",
    "BcfArchive",
    "BcfLimits",
    "BimSnippet",
    "Bitmap",
    "ClippingPlane",
    "Coloring",
    "Comment",
    "Component",
    "Components",
    "DocumentReference",
    "Extensions",
    "HeaderFile",
    "Line",
    "ModelFrame",
    "OrthogonalCamera",
    "PerspectiveCamera",
    "ProjectInfo",
    "Topic",
    "ViewSetupHints",
    "Viewpoint",
    "Visibility",
    "annotation_to_topic",
    "export_annotations",
    "import_annotations",
    "read_bcf",
    "read_bcf_archive",
    "topic_to_annotation",
    "write_bcf",
]
