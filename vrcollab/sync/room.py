"""The authoritative room: a sans-I/O state machine.

The server shell feeds it joins, leaves, ops, commands and poses with the current time and
delivers the resulting :class:`~vrcollab.sync.messages.Outbox`. When ``apply`` commits an op the
outbox carries the commit; the shell must persist it before delivering the outbox (protocol R9).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from vrcollab.errors import ProtocolError
from vrcollab.sync.limits import ROOM_FULL, RoomLimits, RoomUsage
from vrcollab.sync.messages import (
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
    SharedView,
    Welcome,
    role_at_least,
)
from vrcollab.sync.ops import OP_KINDS, Actor
from vrcollab.sync.presence import PoseFrame, PresenceTable
from vrcollab.sync.state import RoomState, apply_commit

# Protocol R19: how far outside the model's bounding box an annotation may sit, as a fraction
# of the box's diagonal, plus an absolute margin in metres.
BOUNDS_MARGIN_FRACTION = 0.5
BOUNDS_MARGIN_M = 10.0
# Protocol R22: one gather per sender per this many seconds.
GATHER_INTERVAL_S = 2.0


class RoomFullError(ProtocolError):
    """A batch of server ops would break a per-room limit (R20); nothing was committed."""

    code = ROOM_FULL


def model_bounds(model: Mapping[str, Any] | None) -> tuple[list[float], list[float]] | None:
    """The box annotations must stay near: ``model.bounds`` {min, max} grown by the margin, or
    None when the room's model does not say (then only the codec's absolute bound applies)."""
    b: Any = (model or {}).get("bounds")
    try:
        lo = [float(x) for x in b["min"]]
        hi = [float(x) for x in b["max"]]
    except (TypeError, KeyError, ValueError):
        return None
    if len(lo) != 3 or len(hi) != 3 or not all(math.isfinite(x) for x in (*lo, *hi)):
        return None
    diag = math.dist(lo, hi)
    m = diag * BOUNDS_MARGIN_FRACTION + BOUNDS_MARGIN_M
    return [x - m for x in lo], [x + m for x in hi]


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
        limits: RoomLimits | None = None,
    ) -> None:
        self.room_id = room_id
        self.project_id = project_id
        self.model = dict(model) if model is not None else None
        self.state = state if state is not None else RoomState()
        self.limits = limits or RoomLimits()
        self.usage = RoomUsage(self.state.annotations)
        self._last_gather: dict[str, float] = {}
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

    @property
    def model(self) -> dict[str, Any] | None:
        """The room's model object (R6); its ``bounds`` bound annotation positions (R19)."""
        return self._model

    @model.setter
    def model(self, value: Mapping[str, Any] | None) -> None:
        self._model = dict(value) if value is not None else None
        self.bounds = model_bounds(self._model)

    def _commit(self, commit: Commit) -> None:
        apply_commit(self.state, commit)
        if commit.kind == "room.model" and isinstance(commit.fields.get("model"), dict | None):
            self.model = commit.fields.get("model")
        self.usage.after(commit, self.state.annotations)
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
        self._last_gather.pop(session_id, None)
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
        self._last_gather.pop(session_id, None)
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

    def server_problem(self, ops: Iterable[Op]) -> str | None:
        """Why a batch of server ops must not be committed (a per-room limit, R20), or None.
        The hub asks before applying a batch, so a batch is committed whole or not at all."""
        fresh = [op for op in ops if op.op_id not in self.op_seqs]
        return self.usage.problem(fresh, self.state, self.limits)

    def _outside(self, p: Any) -> bool:
        b = self.bounds
        if b is None or not isinstance(p, list) or len(p) != 3:
            return False
        return any(not lo <= x <= hi for x, lo, hi in zip(p, b[0], b[1], strict=True))

    def _check(self, who: PresenceEntry, op: Op) -> tuple[str, str] | None:
        """None if ``op`` may be committed, else (reject code, reason): the op-kind table's
        minimum role, positions (R19), state checks (R21, R22) and room limits (R20)."""
        spec = OP_KINDS.get(op.kind)
        if spec is None or spec.min_role is None:
            return ("unknown_kind", f"unknown op kind {op.kind!r}")
        if not role_at_least(who.role, spec.min_role):
            return ("forbidden", f"{op.kind} needs role {spec.min_role}, you are {who.role}")
        if any(self._outside(p) for p in spec.points(op.fields)):
            return ("out_of_bounds", "position is outside the model's extent")
        problem = spec.check(self.state, Actor(who.user_id, who.role, self._is_present),
                             op.fields)
        if problem is not None:
            return problem
        if spec.limited:
            full = self.usage.problem([op], self.state, self.limits)
            if full is not None:
                return (ROOM_FULL, full)
        return None

    def _is_present(self, user_id: str | None) -> bool:
        return any(e.user_id == user_id for e in self.presence.entries.values())

    # --- ephemeral -------------------------------------------------------------------------

    def set_pose(self, session_id: str, pose: Pose) -> None:
        """Latest pose of a session (R12)."""
        self.presence.set_pose(session_id, pose)

    def take_poses(self) -> dict[str, Pose]:
        """Poses changed since the previous tick."""
        return self.presence.take_changed()

    def take_pose_frame(self, t: float) -> PoseFrame | None:
        """This tick's one shared ``poses`` frame for every session (R12), or None."""
        return self.presence.take_frame(t)

    def command(self, session_id: str, cmd: Cmd, now: float = 0.0) -> Outbox:
        """Room commands (R13): ``gather`` (at most one per sender per GATHER_INTERVAL_S, R22)
        ``follow`` and ``view`` (R23)."""
        out = Outbox()
        entry = self.presence.entries.get(session_id)
        if entry is None:
            return out
        if cmd.name == "gather":
            if not (role_at_least(entry.role, "editor") or self.state.presenter == entry.user_id):
                out.unicast(session_id, ErrorMsg("forbidden", "gather needs editor or presenter"))
                return out
            last = self._last_gather.get(session_id)
            if last is not None and now - last < GATHER_INTERVAL_S:
                out.unicast(session_id, ErrorMsg(
                    "rate_limited", f"at most one gather per {GATHER_INTERVAL_S:g} s"))
                return out
            self._last_gather[session_id] = now
            pose = self.presence.poses.get(session_id)
            out.broadcast(Gather(session_id, None if pose is None else pose.data),
                          exclude=session_id)
        elif cmd.name == "view" and cmd.view is not None:
            if not (role_at_least(entry.role, "editor") or self.state.presenter == entry.user_id):
                out.unicast(session_id, ErrorMsg("forbidden",
                                                 "showing your view needs editor or presenter"))
                return out
            out.broadcast(SharedView(session_id, cmd.view), exclude=session_id)
        elif cmd.name == "follow":
            new = PresenceEntry(entry.session_id, entry.user_id, entry.name, entry.color,
                                entry.role, entry.device, following=cmd.session_id)
            self.presence.add(new)
            out.broadcast(PresenceMsg("update", new), exclude=session_id)
        return out
