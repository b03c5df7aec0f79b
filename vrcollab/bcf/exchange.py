"""One-call BCF export and import of vrcollab annotations (for the REST API and the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vrcollab.bcf.annotations import annotation_to_topic, topic_to_annotation
from vrcollab.bcf.archive import BcfLimits
from vrcollab.bcf.frame import ModelFrame
from vrcollab.bcf.model import BcfVersion, ProjectInfo, Topic
from vrcollab.bcf.reader import read_bcf_archive
from vrcollab.bcf.writer import write_bcf


@dataclass(frozen=True)
class AnnotationImport:
    """What :func:`import_annotations` found: the annotations and the topics they came from
    (keep the topics, or the archive bytes, to pass as ``bases`` when exporting again: they
    hold the snapshots and documents the annotations do not)."""

    version: BcfVersion
    project: ProjectInfo | None
    topics: tuple[Topic, ...]
    annotations: list[dict[str, Any]]


def export_annotations(annotations: Iterable[Mapping[str, Any]], *, version: str = "3.0",
                       frame: ModelFrame | None = None,
                       snapshots: Mapping[str, bytes] | None = None,
                       bases: Mapping[str, Topic] | None = None,
                       project: ProjectInfo | None = None,
                       extra_topics: Iterable[Topic] = ()) -> bytes:
    """A ``.bcfzip`` (bytes) with one topic per annotation, then ``extra_topics`` (saved
    views, :mod:`vrcollab.bcf.views`).

    ``snapshots`` and ``bases`` are keyed by annotation id: a PNG/JPEG for the pin viewpoint,
    and the topic an annotation was imported from.
    """
    snapshots = snapshots or {}
    bases = bases or {}
    topics = [annotation_to_topic(a, snapshot=snapshots.get(str(a.get("id"))),
                                  base=bases.get(str(a.get("id"))), frame=frame)
              for a in annotations]
    return write_bcf([*topics, *extra_topics], version=version, project=project)


def import_annotations(data: bytes, *, frame: ModelFrame | None = None,
                       limits: BcfLimits | None = None) -> AnnotationImport:
    """Read a BCF 2.1/3.0 archive and map every topic to an annotation dict."""
    archive = read_bcf_archive(data, limits=limits)
    return AnnotationImport(
        version=archive.version, project=archive.project, topics=archive.topics,
        annotations=[topic_to_annotation(t, frame=frame) for t in archive.topics])
