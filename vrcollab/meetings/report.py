"""Meeting minutes as data and as HTML (pure): participants, duration, issues, decisions.

An issue is an annotation. The minutes list each issue created, changed or resolved during the
meeting (from the commits in the meeting's seq range) with its state at the end of the meeting
(title, status, priority, assignee, snapshot image), the comments made during the meeting and a
link that replays the meeting from that issue's first change. A **decision** is a comment whose
text starts with ``Decision:`` (any case; see docs/meetings.md); decisions are also listed on
their own.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vrcollab.meetings.store import MeetingRecord
from vrcollab.sync.messages import Commit
from vrcollab.sync.state import RoomState

DECISION_PREFIX = "decision:"
RESOLVED = ("resolved", "closed")


def is_decision(text: str) -> bool:
    """True for a comment marked as a decision (``Decision: ...``)."""
    return text.lstrip().lower().startswith(DECISION_PREFIX)


@dataclass(slots=True)
class IssueLine:
    """One issue in the minutes."""

    id: str
    title: str
    status: str
    priority: str
    assignee: str | None
    first_t: float
    created: bool = False
    changed: bool = False
    resolved: bool = False
    deleted: bool = False
    snapshot: Mapping[str, Any] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Minutes:
    """Everything the report shows."""

    meeting: MeetingRecord
    room_name: str
    project_name: str
    participants: list[dict[str, Any]]
    issues: list[IssueLine]
    decisions: list[dict[str, Any]]
    replay_url: str

    def to_json(self) -> dict[str, Any]:
        """JSON form (``GET /api/meetings/{id}/minutes``)."""
        m = self.meeting
        return {
            "meeting_id": m.meeting_id, "room_id": m.room_id, "room_name": self.room_name,
            "project_name": self.project_name, "started": m.started, "ended": m.ended,
            "duration_s": m.duration, "recording": m.recording,
            "participants": self.participants, "replay_url": self.replay_url,
            "decisions": self.decisions,
            "issues": [{"id": i.id, "title": i.title, "status": i.status,
                        "priority": i.priority, "assignee": i.assignee,
                        "created": i.created, "changed": i.changed, "resolved": i.resolved,
                        "deleted": i.deleted, "has_snapshot": i.snapshot is not None,
                        "replay_url": f"{self.replay_url}?t={i.first_t - m.started:.1f}"
                                      f"&issue={i.id}",
                        "changes": i.changes, "comments": i.comments} for i in self.issues],
        }


def build_minutes(meeting: MeetingRecord, commits: Sequence[Commit], end_state: RoomState,
                  names: Mapping[str, str], *, room_name: str, project_name: str,
                  replay_url: str) -> Minutes:
    """The minutes of a meeting from its commits and the room state at its end."""
    def who(uid: str | None) -> str:
        return names.get(uid or "", uid or "server")

    issues: dict[str, IssueLine] = {}
    decisions: list[dict[str, Any]] = []

    def line(aid: str, t: float) -> IssueLine:
        got = issues.get(aid)
        if got is None:
            got = issues[aid] = IssueLine(aid, "", "open", "normal", None, first_t=t)
        return got

    for c in commits:
        f = c.fields
        if c.kind == "annotation.create":
            ann = f.get("annotation") or {}
            li = line(str(ann.get("id")), c.t)
            li.created = True
            li.title = str(ann.get("title") or "")
        elif c.kind == "annotation.update":
            li = line(str(f.get("id")), c.t)
            props = dict(f.get("props") or {})
            props.pop("snapshot", None)
            props.pop("anchor_state", None)
            if props:
                li.changed = True
                change = {"t": c.t, "author": who(c.author), "props": props}
                if "assignee" in props:
                    change["props"] = {**props, "assignee": who(props["assignee"])
                                       if props["assignee"] else None}
                li.changes.append(change)
            if props.get("status") in RESOLVED:
                li.resolved = True
        elif c.kind == "annotation.delete":
            line(str(f.get("id")), c.t).deleted = True
        elif c.kind == "comment.add":
            com = f.get("comment") or {}
            li = line(str(f.get("annotation_id")), c.t)
            entry = {"id": com.get("id"), "author": who(c.author), "text": com.get("text", ""),
                     "t": c.t, "decision": is_decision(str(com.get("text", "")))}
            li.comments.append(entry)
            if entry["decision"]:
                decisions.append({**entry, "issue": li.id})
    for li in issues.values():
        ann = end_state.annotations.get(li.id)
        if ann is not None:
            li.title = str(ann.get("title") or li.title)
            li.status = str(ann.get("status", "open"))
            li.priority = str(ann.get("priority", "normal"))
            li.assignee = who(ann["assignee"]) if ann.get("assignee") else None
            snap = ann.get("snapshot")
            li.snapshot = snap if isinstance(snap, Mapping) else None
        for d in decisions:
            if d["issue"] == li.id:
                d["issue_title"] = li.title
    parts = [{**p, "name": names.get(p["user_id"], p.get("name", p["user_id"]))}
             for p in meeting.participants]
    ordered = sorted(issues.values(), key=lambda i: i.first_t)
    return Minutes(meeting, room_name, project_name, parts, ordered, decisions, replay_url)


def _when(t: float | None) -> str:
    if t is None:
        return "running"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _length(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


_CSS = """
body{font-family:sans-serif;font-size:11pt;color:#1b2430;margin:1.5em}
h1{font-size:18pt;margin:0 0 .2em}
h2{font-size:13pt;margin:1.2em 0 .4em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccd;padding:3px 6px;text-align:left;vertical-align:top}
.muted{color:#667} .issue{page-break-inside:avoid;border:1px solid #ccd;padding:.5em;margin:.6em 0}
.issue img{max-width:60%;max-height:9cm;display:block;margin:.4em 0}
.tag{display:inline-block;padding:0 5px;border-radius:3px;background:#e4e9f2;margin-right:4px}
.decision{background:#fff6d6}
"""


def render_html(minutes: Minutes, image: Callable[[Mapping[str, Any]], bytes | None]) -> str:
    """The minutes as one self-contained HTML page (snapshots as data: URIs); ``image`` reads
    a snapshot reference's bytes (None when gone)."""
    m = minutes.meeting
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(p['name'])}</td><td>{e(p.get('role', ''))}</td>"
        f"<td>{_when(p.get('first_joined'))}</td><td>{_length(p.get('seconds'))}</td></tr>"
        for p in minutes.participants)
    issues = []
    for i in minutes.issues:
        tags = "".join(f'<span class="tag">{t}</span>' for t, on in
                       (("created", i.created), ("changed", i.changed),
                        ("resolved", i.resolved), ("deleted", i.deleted)) if on)
        img = ""
        if i.snapshot is not None:
            data = image(i.snapshot)
            if data is not None:
                media = str(i.snapshot.get("media_type", "image/png"))
                b64 = base64.b64encode(data).decode("ascii")
                img = f'<img class="snapshot" alt="snapshot of {e(i.title)}" ' \
                      f'src="data:{e(media)};base64,{b64}">'
        comments = "".join(
            f'<li class="{"decision" if c["decision"] else ""}"><b>{e(c["author"])}</b> '
            f'<span class="muted">{_when(c["t"])}</span>: {e(str(c["text"]))}</li>'
            for c in i.comments)
        changes = "".join(
            f'<li>{e(c["author"])} <span class="muted">{_when(c["t"])}</span>: '
            + e(", ".join(f"{k} = {v}" for k, v in c["props"].items() if k != "viewpoint"))
            + "</li>" for c in i.changes)
        link = f"{minutes.replay_url}?t={i.first_t - m.started:.1f}&issue={i.id}"
        issues.append(
            f'<div class="issue" data-issue="{e(i.id)}"><h3>{e(i.title or "(untitled)")}</h3>'
            f"<p>{tags} status <b>{e(i.status)}</b>, priority {e(i.priority)}, assignee "
            f"{e(i.assignee or 'nobody')}</p>{img}"
            + (f"<p>Changes:</p><ul>{changes}</ul>" if changes else "")
            + (f"<p>Comments during the meeting:</p><ul>{comments}</ul>" if comments else "")
            + f'<p><a href="{e(link)}">Replay from here</a></p></div>')
    decisions = "".join(
        f'<li class="decision"><b>{e(str(d.get("issue_title") or d["issue"]))}</b>: '
        f'{e(str(d["text"]))} <span class="muted">({e(d["author"])}, {_when(d["t"])})</span>'
        "</li>" for d in minutes.decisions)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Minutes: {e(minutes.room_name)} {_when(m.started)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Meeting minutes: {e(minutes.room_name)}</h1>"
        f'<p class="muted">Project {e(minutes.project_name)} · started {_when(m.started)} · '
        f"ended {_when(m.ended)} · length {_length(m.duration)} · "
        f"{'recorded' if m.recording else 'not recorded'}</p>"
        f'<p><a href="{e(minutes.replay_url)}">Replay the meeting</a></p>'
        f"<h2>Participants</h2><table><tr><th>Name</th><th>Role</th><th>Joined</th>"
        f"<th>Time in meeting</th></tr>{rows}</table>"
        f"<h2>Decisions</h2>" + (f"<ul>{decisions}</ul>" if decisions else
                                 '<p class="muted">No decisions recorded.</p>')
        + f"<h2>Issues ({len(minutes.issues)})</h2>"
        + ("".join(issues) or '<p class="muted">No issue was created or changed.</p>')
        + "</body></html>")
