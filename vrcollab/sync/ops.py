"""The op-kind table: per durable op kind its fields and bounds, minimum role, the room's
checks against state, and how a commit applies to room state (protocol R7-R10, R16-R22).

The codec validates op fields with ``OP_KINDS[kind].fields``, the room checks roles and state
with ``min_role`` and ``check``, :func:`vrcollab.sync.state.apply_commit` applies with
``apply``, and ``protocol/vrcollab.schema.json`` plus the web client's constants are generated
from this table (``python -m vrcollab.sync.schema``). Adding an op kind is one :class:`OpKind`
entry in ``_KINDS`` (then regenerate; ``docs/protocol.md`` "Adding a message type or op kind").
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vrcollab.sync.fields import (
    MAX_COORD,
    OMIT,
    Bool,
    Color,
    ColorMap,
    Enum,
    F,
    Id,
    Ids,
    Labels,
    Nullable,
    Number,
    Points,
    Record,
    Text,
    Vec,
)
from vrcollab.sync.messages import PRIORITIES, ROLES, STATUSES, UNITS, Commit, role_at_least

if TYPE_CHECKING:
    from vrcollab.sync.state import RoomState

Problem = tuple[str, str]  # (reject code, reason)

# Protocol R21: annotation.update fields any reviewer may change (the status workflow); every
# other field is the author's, or an editor's.
WORKFLOW_FIELDS = frozenset(("status", "priority", "assignee"))
# Fields only the server sets (re-anchoring): a client may not send them.
SERVER_FIELDS = frozenset(("anchor_state",))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sends an op, as the room's checks see them."""

    user_id: str
    role: str
    is_present: Callable[[str | None], bool]  # is a user (by id) in the room now?

    @property
    def is_editor(self) -> bool:
        return role_at_least(self.role, "editor")


Check = Callable[["RoomState", Actor, Mapping[str, Any]], Problem | None]
Apply = Callable[["RoomState", Commit], None]


def _no_check(state: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    return None


def _no_points(f: Mapping[str, Any]) -> list[Any]:
    return []


def record_bytes(obj: Any) -> int:
    """Encoded size of a JSON value (what it costs in a snapshot)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                                "replace"))


Growth = Callable[["RoomState", Mapping[str, Any]], int]


def _all_fields(state: RoomState, f: Mapping[str, Any]) -> int:
    return record_bytes(f)


@dataclass(frozen=True, slots=True)
class Capped:
    """R20: the op adds (or replaces) the record ``key(fields)`` of the RoomState mapping
    ``collection``, which holds at most ``RoomLimits.<cap>`` records (``what`` in the reason)."""

    collection: str
    cap: str
    what: str
    key: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class OnAnnotation:
    """R20: the op changes the annotation record ``annotation(fields)`` (the room re-measures
    it after the commit). ``adds``: "annotations" or "comments", one more of which it counts;
    ``growth``: an upper bound of the bytes it adds, None where it only shrinks the record
    (deletes, never refused as room_full)."""

    annotation: Callable[[Mapping[str, Any]], Any]
    adds: str | None = None
    growth: Growth | None = _all_fields


@dataclass(frozen=True, slots=True)
class OpKind:
    """One op kind. ``min_role`` None: server-only (R16), clients may not send it."""

    kind: str
    min_role: str | None
    fields: Record
    apply: Apply
    doc: str
    check: Check = _no_check
    points: Callable[[Mapping[str, Any]], list[Any]] = _no_points  # R19: positions to bound
    limit: Capped | OnAnnotation | None = None  # R20: how it counts against the room's limits

    @property
    def limited(self) -> bool:
        """Whether committing it can break a room limit (R20: checked before the commit)."""
        return isinstance(self.limit, Capped) or (isinstance(self.limit, OnAnnotation)
                                                  and self.limit.growth is not None)


# --- field specs -------------------------------------------------------------------------

VIEWPOINT = Record({
    "position": F(Vec(3)),
    "target": F(Vec(3)),
    "up": F(Vec(3), [0, 1, 0]),
    "fov": F(Number(1.0, 179.0), 60.0),
})

_ANNOTATION_PROPS: dict[str, F] = {
    "title": F(Text(cap=500), ""),
    "text": F(Text(), ""),
    "status": F(Enum(STATUSES), "open"),
    "priority": F(Enum(PRIORITIES), "normal"),
    "assignee": F(Nullable(Id()), None),
    "labels": F(Labels(), []),
    "position": F(Vec(3)),
    "normal": F(Vec(3, 10.0), [0.0, 0.0, 1.0]),
    "viewpoint": F(Nullable(VIEWPOINT), None),
    "node_id": F(Nullable(Id()), None),
    "element_id": F(Nullable(Id()), None),
}
_CREATE_ORDER = ("position", "normal", "node_id", "element_id", "viewpoint", "title", "text",
                 "status", "priority", "assignee", "labels")
ANNOTATION = Record({"id": F(Id()), **{k: _ANNOTATION_PROPS[k] for k in _CREATE_ORDER}})
ANNOTATION_PROPS = Record(_ANNOTATION_PROPS, partial=True)
NODE_PROPS = Record({
    "transform": F(Nullable(Vec(16))),
    "visible": F(Bool()),
    "color": F(Nullable(Color())),
}, partial=True)
_BY_ID = Record({"id": F(Id())})
#: What a measurement measures (``kind``; absent means distance).
MEASUREMENT_KINDS: tuple[str, ...] = ("distance", "perpendicular", "angle", "area")
#: The most points of one markup polyline.
MAX_MARKUP_POINTS = 500
#: The most node ids in a saved view's lists (as the `view` command, R23).
MAX_VIEW_IDS = 5000


# --- checks against state (R21, R22) -------------------------------------------------------


def _annotation_new(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    if f["annotation"]["id"] in s.annotations:
        return ("conflict", "annotation id already exists")
    return None


def _annotation_update(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    ann = s.annotations.get(f["id"])
    if ann is None:
        return ("not_found", "no such annotation")
    server_only = SERVER_FIELDS & set(f["props"])
    if server_only:
        return ("forbidden", f"{', '.join(sorted(server_only))} is set by the server")
    authored = set(f["props"]) - WORKFLOW_FIELDS
    if authored and ann["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "changing " + ", ".join(sorted(authored))
                + " of another author's annotation needs editor")
    return None


def _annotation_delete(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    ann = s.annotations.get(f["id"])
    if ann is None:
        return ("not_found", "no such annotation")
    if ann["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "deleting another author's annotation needs editor")
    return None


def _comment_new(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    ann = s.annotations.get(f["annotation_id"])
    if ann is None:
        return ("not_found", "no such annotation")
    cid = f["comment"]["id"]
    if any(c["id"] == cid for c in ann["comments"]):
        return ("conflict", "comment id already exists")
    return None


def _comment_change(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    com = s.find_comment(f["annotation_id"], f["comment_id"])
    if com is None:
        return ("not_found", "no such comment")
    if com["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "changing another author's comment needs editor")
    return None


def _measurement_new(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    m = f["measurement"]
    if m["id"] in s.measurements:
        return ("conflict", "measurement id already exists")
    kind = m.get("kind", "distance")
    if kind == "angle" and "c" not in m:
        return ("bad_op", "an angle measurement needs c (its third point)")
    if kind == "area" and "value" not in m:
        return ("bad_op", "an area measurement needs value (m\u00b2 in its unit squared)")
    return None


def _view_change(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    vid = f["view"]["id"] if "view" in f else f["id"]
    v = s.views.get(vid)
    if v is None:
        return ("not_found", "no such saved view") if "view" not in f else None
    if v["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "changing another author's saved view needs editor")
    return None


def _markup_new(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    if f["markup"]["id"] in s.markups:
        return ("conflict", "markup id already exists")
    return None


def _markup_delete(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    m = s.markups.get(f["id"])
    if m is None:
        return ("not_found", "no such markup")
    if m["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "erasing another author's markup needs editor")
    return None


def _measurement_delete(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    m = s.measurements.get(f["id"])
    if m is None:
        return ("not_found", "no such measurement")
    if m["author"] != who.user_id and not who.is_editor:
        return ("forbidden", "deleting another author's measurement needs editor")
    return None


def _section_delete(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    if f["id"] not in s.sections:
        return ("not_found", "no such section")
    return None


def _presenter(s: RoomState, who: Actor, f: Mapping[str, Any]) -> Problem | None:
    uid, current = f["user_id"], s.presenter
    if who.is_editor:
        return None
    if uid not in (None, who.user_id):
        return ("forbidden", "a reviewer may only make itself presenter")
    if current not in (None, who.user_id) and who.is_present(current):
        return ("forbidden", "another member is presenting; only an editor or the "
                "presenter may change that")
    return None


# --- application to state (lenient: a commit about something missing is a no-op) ----------


def _node_set(state: RoomState, c: Commit) -> None:
    f = c.fields
    node = state.nodes.setdefault(f["node_id"], {"transform": None, "visible": True,
                                                 "color": None})
    for prop, value in f["props"].items():  # R10: LWW per property
        node[prop] = copy.copy(value)


def _annotation_create(state: RoomState, c: Commit) -> None:
    rec = copy.deepcopy(dict(c.fields["annotation"]))
    rec.update(author=c.author, created=c.t, updated=c.t, comments=[])
    state.annotations[rec["id"]] = rec


def _annotation_apply_update(state: RoomState, c: Commit) -> None:
    ann = state.annotations.get(c.fields["id"])
    if ann is not None:
        ann.update(copy.deepcopy(dict(c.fields["props"])))
        ann["updated"] = c.t


def _annotation_remove(state: RoomState, c: Commit) -> None:
    state.annotations.pop(c.fields["id"], None)


def _comment_add(state: RoomState, c: Commit) -> None:
    f = c.fields
    ann = state.annotations.get(f["annotation_id"])
    if ann is None:
        return
    com = f["comment"]
    if any(x["id"] == com["id"] for x in ann["comments"]):
        return  # the room rejects a duplicate id (conflict); a mirror never appends it twice
    record = {"id": com["id"], "author": c.author, "text": com["text"],
              "created": c.t, "updated": c.t}
    if "imported_from" in com:  # server-made (BCF import); clients cannot send it
        record["imported_from"] = copy.deepcopy(com["imported_from"])
    ann["comments"].append(record)
    ann["updated"] = c.t


def _comment_edit(state: RoomState, c: Commit) -> None:
    f = c.fields
    com = state.find_comment(f["annotation_id"], f["comment_id"])
    if com is not None:
        com["text"] = f["text"]
        com["updated"] = c.t


def _comment_delete(state: RoomState, c: Commit) -> None:
    f = c.fields
    ann = state.annotations.get(f["annotation_id"])
    if ann is not None:
        ann["comments"] = [x for x in ann["comments"] if x["id"] != f["comment_id"]]


def _measurement_create(state: RoomState, c: Commit) -> None:
    m = copy.deepcopy(dict(c.fields["measurement"]))
    m.update(author=c.author, created=c.t)
    state.measurements[m["id"]] = m


def _measurement_remove(state: RoomState, c: Commit) -> None:
    state.measurements.pop(c.fields["id"], None)


def _markup_create(state: RoomState, c: Commit) -> None:
    m = copy.deepcopy(dict(c.fields["markup"]))
    m.update(author=c.author, created=c.t)
    state.markups[m["id"]] = m


def _markup_remove(state: RoomState, c: Commit) -> None:
    state.markups.pop(c.fields["id"], None)


def _view_save(state: RoomState, c: Commit) -> None:
    v = copy.deepcopy(dict(c.fields["view"]))
    old = state.views.get(v["id"])
    v.update(author=old["author"] if old else c.author, created=old["created"] if old else c.t,
             updated=c.t)
    state.views[v["id"]] = v


def _view_remove(state: RoomState, c: Commit) -> None:
    state.views.pop(c.fields["id"], None)


def _section_set(state: RoomState, c: Commit) -> None:
    s = copy.deepcopy(dict(c.fields["section"]))
    state.sections[s["id"]] = s


def _section_remove(state: RoomState, c: Commit) -> None:
    state.sections.pop(c.fields["id"], None)


def _presenter_set(state: RoomState, c: Commit) -> None:
    state.presenter = c.fields["user_id"]


def _model_set(state: RoomState, c: Commit) -> None:
    """``room.model`` changes no durable record: the room (and clients) reload the model."""


# --- what an op adds to an annotation record (R20) -------------------------------------------

def _annotation_of(f: Mapping[str, Any]) -> Any:
    return f["annotation_id"]


def _props_growth(state: RoomState, f: Mapping[str, Any]) -> int:
    """An update counts the difference per field, so a full room still takes status changes."""
    old = state.annotations.get(f["id"]) or {}
    return sum(record_bytes(v) - (record_bytes(old[k]) if k in old else -len(k) - 3)
               for k, v in f["props"].items())


def _text_growth(state: RoomState, f: Mapping[str, Any]) -> int:
    """An edit counts the difference, so a full room still takes shorter texts."""
    com = state.find_comment(f["annotation_id"], f["comment_id"]) or {}
    return record_bytes(f["text"]) - record_bytes(com.get("text", ""))


# --- the table -----------------------------------------------------------------------------

_KINDS: tuple[OpKind, ...] = (
    OpKind("node.set", "editor",
           Record({"node_id": F(Id()), "props": F(NODE_PROPS)}), _node_set,
           "Set properties of a model node (transform: 16 numbers, column-major 4x4 as "
           "three.js Matrix4.elements; visible; color); last writer wins per property (R10).",
           limit=Capped("nodes", "max_nodes", "nodes", lambda f: f.get("node_id"))),
    OpKind("annotation.create", "reviewer",
           Record({"annotation": F(ANNOTATION)}), _annotation_create,
           "Create an annotation (a pin with title, text, workflow fields and a viewpoint).",
           check=_annotation_new, points=lambda f: [f["annotation"]["position"]],
           limit=OnAnnotation(lambda f: f["annotation"]["id"], adds="annotations")),
    OpKind("annotation.update", "reviewer",
           Record({"id": F(Id()), "props": F(ANNOTATION_PROPS)}), _annotation_apply_update,
           "Change fields of an annotation (who may change which: R21).",
           check=_annotation_update, points=lambda f: [f["props"].get("position")],
           limit=OnAnnotation(lambda f: f["id"], growth=_props_growth)),
    OpKind("annotation.delete", "reviewer", _BY_ID, _annotation_remove,
           "Delete an annotation (another author's needs editor).",
           check=_annotation_delete, limit=OnAnnotation(lambda f: f["id"], growth=None)),
    OpKind("comment.add", "reviewer",
           Record({"annotation_id": F(Id()),
                   "comment": F(Record({"id": F(Id()), "text": F(Text())}))}), _comment_add,
           "Append a comment to an annotation.", check=_comment_new,
           limit=OnAnnotation(_annotation_of, adds="comments")),
    OpKind("comment.edit", "reviewer",
           Record({"annotation_id": F(Id()), "comment_id": F(Id()), "text": F(Text())}),
           _comment_edit, "Change a comment's text (another author's needs editor).",
           check=_comment_change, limit=OnAnnotation(_annotation_of, growth=_text_growth)),
    OpKind("comment.delete", "reviewer",
           Record({"annotation_id": F(Id()), "comment_id": F(Id())}), _comment_delete,
           "Delete a comment (another author's needs editor).", check=_comment_change,
           limit=OnAnnotation(_annotation_of, growth=None)),
    OpKind("measurement.create", "reviewer",
           Record({"measurement": F(Record({
               "id": F(Id()), "a": F(Vec(3)), "b": F(Vec(3)), "unit": F(Enum(UNITS), "m"),
               "kind": F(Enum(MEASUREMENT_KINDS), OMIT), "c": F(Vec(3), OMIT),
               "value": F(Number(0.0, 1e12), OMIT)}))}),
           _measurement_create, "Create a measurement: point to point (a, b; the default), "
           "perpendicular (a and its foot b on a face), angle (at b between a and c, needs c) "
           "or area (value, of the face at a; b a point off it along its normal).",
           check=_measurement_new,
           points=lambda f: [f["measurement"][k] for k in ("a", "b", "c")
                             if k in f["measurement"]],
           limit=Capped("measurements", "max_measurements", "measurements",
                        lambda f: f["measurement"]["id"])),
    OpKind("measurement.delete", "reviewer", _BY_ID, _measurement_remove,
           "Delete a measurement (another author's needs editor).",
           check=_measurement_delete),
    OpKind("markup.create", "reviewer",
           Record({"markup": F(Record({
               "id": F(Id()), "points": F(Points(2, MAX_MARKUP_POINTS)),
               "color": F(Color(), "#ff3b30"), "annotation_id": F(Id(), OMIT)}))}),
           _markup_create, "Create a 3D markup polyline (model space, metres), in its "
           "author's colour; annotation_id: the issue it belongs to (BCF lines of its viewpoint).",
           check=_markup_new, points=lambda f: list(f["markup"]["points"]),
           limit=Capped("markups", "max_markups", "markups", lambda f: f["markup"]["id"])),
    OpKind("markup.delete", "reviewer", _BY_ID, _markup_remove,
           "Erase a markup (another author's needs editor).", check=_markup_delete),
    OpKind("view.save", "reviewer",
           Record({"view": F(Record({
               "id": F(Id()), "name": F(Text(cap=120), ""),
               "camera": F(Nullable(VIEWPOINT), None),
               "section": F(Nullable(Record({"normal": F(Vec(3, 10.0)),
                                             "offset": F(Number(-MAX_COORD, MAX_COORD)),
                                             "enabled": F(Bool(), True)})), None),
               "hidden": F(Ids(MAX_VIEW_IDS), []), "isolated": F(Nullable(Ids(MAX_VIEW_IDS)), None),
               "colors": F(ColorMap(MAX_VIEW_IDS), {})}))}),
           _view_save, "Save (or replace) a named view in the room: camera, section, hidden and "
           "isolated nodes, colour overrides; replacing another author's needs editor.",
           check=_view_change,
           limit=Capped("views", "max_views", "views", lambda f: f["view"]["id"])),
    OpKind("view.delete", "reviewer", _BY_ID, _view_remove,
           "Delete a saved view (another author's needs editor).", check=_view_change),
    OpKind("section.set", "editor",
           Record({"section": F(Record({"id": F(Id()), "normal": F(Vec(3, 10.0)),
                                        "offset": F(Number(-MAX_COORD, MAX_COORD)),
                                        "enabled": F(Bool(), True)}))}),
           _section_set, "Create or replace a section plane.",
           limit=Capped("sections", "max_sections", "sections", lambda f: f["section"]["id"])),
    OpKind("section.delete", "editor", _BY_ID, _section_remove, "Delete a section plane.",
           check=_section_delete),
    OpKind("presenter.set", "reviewer",
           Record({"user_id": F(Nullable(Id()), key_required=True)}), _presenter_set,
           "Set or clear (null) the presenter (R22: a reviewer may only set itself, and only "
           "when nobody else presents; only the presenter or an editor may clear it).",
           check=_presenter),
    OpKind("room.model", None, Record({"model": F(Nullable(Record()))}), _model_set,
           "Server only (R16): the room moved to another model version; reload from "
           "model.manifest_url."),
)

OP_KINDS: Mapping[str, OpKind] = {k.kind: k for k in _KINDS}
#: Minimum role per op kind clients may send (the protocol table).
OP_MIN_ROLE: Mapping[str, str] = {k.kind: k.min_role for k in _KINDS if k.min_role is not None}

assert all(r in ROLES for r in OP_MIN_ROLE.values())
