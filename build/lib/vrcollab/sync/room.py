"""The authoritative room: a sans-I/O state machine.

The server shell feeds it joins, leaves, ops, commands and poses with the current time and
delivers the resulting :class:`~vrcollab.sync.messages.Outbox`. When ``apply`` commits an op the
outbox carries the commit; the shell must persist it before delivering the outbox (protocol R9).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from vrcollab.sync.messages import (
    OP_MIN_ROLE,
    Ack,
    Cmd,
    Commit,
    CommitMsg,
    ErrorMsg,
    Gather,
    Hello,
    InvalidOp,
    Op,
    Outbox,
    Pose,
    PresenceEntry,
    PresenceMsg,
    Reject,
    Welcome,
    role_at_least,
)
from vrcollab.sync.presence import PresenceTable
from vrcollab.sync.state import RoomState, apply_commit


class Room:
    """One room's durable state, op-id index, replay log and presence."""

    def __init__(
        self,
        room_id: str,
        project_id: str,
        *,
        model: Mapping[str, Any] | None = None,
        state: RoomState | None = None,
        seq: int = 0,
        op_seqs: Mapping[str, int] | None = None,
        log: Iterable[Commit] = (),
        replay_window: int = 10_000,
        tick_hz: float = 30.0,
        heartbeat_s: float = 10.0,
    ) -> None:
        self.room_id = room_id
        self.project_id = project_id
        self.model = dict(model) if model is not None else None
        self.state = state if state is not None else RoomState()
        self.seq = seq
        self.op_seqs: dict[str, int] = dict(op_seqs or {})
        self.log: deque[Commit] = deque(log, maxlen=max(1, replay_window))
        self.presence = PresenceTable()
        self.tick_hz = tick_hz
        self.heartbeat_s = heartbeat_s

    # --- loading ---------------------------------------------------------------------------

    def replay(self, commit: Commit) -> None:
        """Re-apply a stored commit (start-up); commits must arrive in seq order."""
        if commit.seq != self.seq + 1:
            raise ValueError(f"commit seq {commit.seq} does not follow {self.seq}")
        self._commit(commit)

    def _commit(self, commit: Commit) -> None:
        apply_commit(self.state, commit)
        self.seq = commit.seq
        self.op_seqs[commit.op_id] = commit.seq
        self.log.append(commit)

    def commit_at(self, seq: int) -> Commit | None:
        """The commit with ``seq`` if it is still in the replay log."""
        if not self.log:
            return None
        i = seq - self.log[0].seq
        return self.log[i] if 0 <= i < len(self.log) else None

    # --- sessions --------------------------------------------------------------------------

    def join(self, session_id: str, user_id: str, role: str, hello: Hello) -> Outbox:
        """Admit a session: welcome it (snapshot or missed ops, R6) and announce it (R11)."""
        out = Outbox()
        entry = PresenceEntry(
            session_id=session_id,
            user_id=user_id,
            name=hello.name,
            color=hello.color,
            role=role,
            device=hello.device,
        )
        others = tuple(self.presence.entries.values())
        self.presence.add(entry)
        ops: tuple[Commit, ...] | None = None
        snapshot: dict[str, Any] | None = None
        last = hello.last_seq
        first = self.log[0].seq if self.log else self.seq + 1
        if last is not None and last <= self.seq and last >= first - 1:
            ops = tuple(c for c in self.log if c.seq > last)
        else:
            snapshot = self.state.snapshot()
        out.unicast(
            session_id,
            Welcome(
                session_id=session_id,
                user={"user_id": user_id, "name": hello.name, "color": hello.color,
                      "role": role, "device": hello.device},
                room={"room_id": self.room_id, "project_id": self.project_id,
                      "model": self.model},
                seq=self.seq,
                snapshot=snapshot,
                ops=ops,
                presence=others,
                tick_hz=self.tick_hz,
                heartbeat_s=self.heartbeat_s,
            ),
        )
        out.broadcast(PresenceMsg("join", entry), exclude=session_id)
        return out

    def leave(self, session_id: str) -> Outbox:
        """Remove a session (close or heartbeat timeout) and announce it; no ghosts (R4)."""
        out = Outbox()
        entry = self.presence.remove(session_id)
        if entry is not None:
            out.broadcast(PresenceMsg("leave", entry), exclude=session_id)
        return out

    # --- ops -------------------------------------------------------------------------------

    def apply(self, session_id: str, op: Op | InvalidOp, now: float) -> Outbox:
        """Validate ``op`` against role and state; commit it or reject it (R7, R8, R10)."""
        out = Outbox()
        if isinstance(op, InvalidOp):
            out.unicast(session_id, Reject(op.op_id, op.code, op.reason))
            return out
        entry = self.presence.entries.get(session_id)
        if entry is None:
            raise KeyError(f"session {session_id} is not in room {self.room_id}")
        done = self.op_seqs.get(op.op_id)
        if done is not None:  # R7: exactly once; resend gets the original seq
            out.unicast(session_id, Ack(op.op_id, done, self.commit_at(done)))
            return out
        problem = self._check(entry, op)
        if problem is not None:
            out.unicast(session_id, Reject(op.op_id, problem[0], problem[1]))
            return out
        commit = Commit(self.seq + 1, op.op_id, op.kind, entry.user_id, now, op.fields)
        self._commit(commit)
        out.commit = commit
        out.unicast(session_id, Ack(op.op_id, commit.seq, commit))
        out.broadcast(CommitMsg(commit), exclude=session_id)
        return out

    def apply_server(self, author: str, op: Op, now: float) -> Outbox:
        """Commit an op on the server's own authority (BCF import, re-anchoring, model switch):
        no session or role check; an op id already committed is skipped (R7). Every session
        receives the commit."""
        out = Outbox()
        if op.op_id in self.op_seqs:
            return out
        commit = Commit(self.seq + 1, op.op_id, op.kind, author, now, op.fields)
        self._commit(commit)
        out.commit = commit
        out.broadcast(CommitMsg(commit))
        return out

    def _check(self, who: PresenceEntry, op: Op) -> tuple[str, str] | None:
        """None if ``op`` may be committed, else (reject code, reason)."""
        minimum = OP_MIN_ROLE.get(op.kind)
        if minimum is None:
            return ("unknown_kind", f"unknown op kind {op.kind!r}")
        if not role_at_least(who.role, minimum):
            return ("forbidden", f"{op.kind} needs role {minimum}, you are {who.role}")
        s, f, k = self.state, op.fields, op.kind
        is_editor = role_at_least(who.role, "editor")
        if k == "annotation.create":
            if f["annotation"]["id"] in s.annotations:
                return ("conflict", "annotation id already exists")
        elif k in ("annotation.update", "annotation.delete"):
            ann = s.annotations.get(f["id"])
            if ann is None:
                return ("not_found", "no such annotation")
            if k == "annotation.delete" and ann["author"] != who.user_id and not is_editor:
                return ("forbidden", "deleting another author's annotation needs editor")
        elif k == "comment.add":
            ann = s.annotations.get(f["annotation_id"])
            if ann is None:
                return ("not_found", "no such annotation")
            cid = f["comment"]["id"]
            if any(c["id"] == cid for c in ann["comments"]):
                return ("conflict", "comment id already exists")
        elif k in ("comment.edit", "comment.delete"):
            com = s.find_comment(f["annotation_id"], f["comment_id"])
            if com is None:
                return ("not_found", "no such comment")
            if com["author"] != who.user_id and not is_editor:
                return ("forbidden", "changing another author's comment needs editor")
        elif k == "measurement.create":
            if f["measurement"]["id"] in s.measurements:
                return ("conflict", "measurement id already exists")
        elif k == "measurement.delete":
            m = s.measurements.get(f["id"])
            if m is None:
                return ("not_found", "no such measurement")
            if m["author"] != who.user_id and not is_editor:
                return ("forbidden", "deleting another author's measurement needs editor")
        elif k == "section.delete":
            if f["id"] not in s.sections:
                return ("not_found", "no such section")
        elif k == "presenter.set":
            uid = f["user_id"]
            if not is_editor and uid not in (None, who.user_id):
                return ("forbidden", "a reviewer may only make itself presenter")
        return None

    # --- ephemeral -------------------------------------------------------------------------

    def set_pose(self, session_id: str, pose: Pose) -> None:
        """Latest pose of a session (R12)."""
        self.presence.set_pose(session_id, pose)

    def take_poses(self) -> dict[str, Pose]:
        """Poses changed since the previous tick."""
        return self.presence.take_changed()

    def command(self, session_id: str, cmd: Cmd) -> Outbox:
        """Room commands (R13): ``gather`` and ``follow``."""
        out = Outbox()
        entry = self.presence.entries.get(session_id)
        if entry is None:
            return out
        if cmd.name == "gather":
            if not (role_at_least(entry.role, "editor") or self.state.presenter == entry.user_id):
                out.unicast(session_id, ErrorMsg("forbidden", "gather needs editor or presenter"))
                return out
            pose = self.presence.poses.get(session_id)
            out.broadcast(Gather(session_id, None if pose is None else pose.data),
                          exclude=session_id)
        elif cmd.name == "follow":
            new = PresenceEntry(entry.session_id, entry.user_id, entry.name, entry.color,
                                entry.role, entry.device, following=cmd.session_id)
            self.presence.add(new)
            out.broadcast(PresenceMsg("update", new), exclude=session_id)
        return out
