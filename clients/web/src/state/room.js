// Client mirror of a room's durable state (docs/protocol.md "Durable state").
// Pure: confirmed state comes from the server (snapshot + commits in seq order); the view is the
// confirmed state with this client's pending ops applied on top (optimistic UI, R7/R8).
// applyOp follows the Python op-kind table's apply rules (vrcollab/sync/ops.py); the shared
// vectors in tests/vectors/ hold both to the same results.

import { ANNOTATION_DEFAULTS } from './protocol.gen.js';

export function emptyState() {
  return { nodes: {}, annotations: {}, measurements: {}, sections: {}, presenter: null };
}

function clone(v) {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/**
 * Apply one op or commit (same field layout) to `state` in place.
 * `meta` is {author, t} for commits; pending ops use the local user and clock.
 * Unknown ids are ignored (the server would reject them; a replay may race a delete).
 */
export function applyOp(state, o, meta = {}) {
  const author = meta.author ?? o.author ?? null;
  const t = meta.t ?? o.t ?? null;
  switch (o.kind) {
    case 'node.set': {
      const cur = state.nodes[o.node_id] ?? { transform: null, visible: true, color: null };
      state.nodes[o.node_id] = { ...cur, ...clone(o.props) };
      break;
    }
    case 'annotation.create': {
      // as the server: a create replaces the record (the room refuses a taken id from a client)
      const a = clone(o.annotation);
      state.annotations[a.id] = {
        ...clone(ANNOTATION_DEFAULTS), ...a, author, created: t, updated: t, comments: [],
      };
      break;
    }
    case 'annotation.update': {
      const a = state.annotations[o.id];
      if (a) Object.assign(a, clone(o.props), { updated: t });
      break;
    }
    case 'annotation.delete':
      delete state.annotations[o.id];
      break;
    case 'comment.add': {
      const a = state.annotations[o.annotation_id];
      if (a && !a.comments.some((c) => c.id === o.comment.id)) {
        const c = { id: o.comment.id, text: o.comment.text, author, created: t, updated: t };
        // BCF import: the archive's author, kept beside the importer (the author of record).
        if (o.comment.imported_from) c.imported_from = clone(o.comment.imported_from);
        a.comments.push(c);
        a.updated = t;
      }
      break;
    }
    case 'comment.edit': {
      const c = state.annotations[o.annotation_id]?.comments.find((x) => x.id === o.comment_id);
      if (c) Object.assign(c, { text: o.text, updated: t });
      break;
    }
    case 'comment.delete': {
      const a = state.annotations[o.annotation_id];
      if (a) a.comments = a.comments.filter((c) => c.id !== o.comment_id);
      break;
    }
    case 'measurement.create': {
      const m = clone(o.measurement);
      state.measurements[m.id] = { ...m, author, created: t };
      break;
    }
    case 'measurement.delete':
      delete state.measurements[o.id];
      break;
    case 'markup.create': {
      // `markups` appears with the first one (snapshots without markup stay as they were).
      const m = clone(o.markup);
      state.markups ??= {};
      state.markups[m.id] = { color: '#ff3b30', ...m, author, created: t };
      break;
    }
    case 'markup.delete':
      if (state.markups) delete state.markups[o.id];
      break;
    case 'view.save': {
      const v = clone(o.view);
      state.views ??= {};
      const old = state.views[v.id];
      state.views[v.id] = {
        name: '', camera: null, section: null, hidden: [], isolated: null, colors: {}, ...v,
        author: old?.author ?? author, created: old?.created ?? t, updated: t,
      };
      break;
    }
    case 'view.delete':
      if (state.views) delete state.views[o.id];
      break;
    case 'section.set':
      state.sections[o.section.id] = clone(o.section);
      break;
    case 'section.delete':
      delete state.sections[o.id];
      break;
    case 'presenter.set':
      state.presenter = o.user_id ?? null;
      break;
    default:
      break;
  }
  return state;
}

/** Normalise a server snapshot so every section exists. */
export function fromSnapshot(snap) {
  const s = { ...emptyState(), ...clone(snap ?? {}) };
  for (const a of Object.values(s.annotations)) a.comments ??= [];
  return s;
}

/**
 * The room mirror. `pending` is an ordered list of this client's ops not yet acknowledged.
 * Listeners get (view, reason) after every change.
 */
export class RoomMirror {
  constructor({ userId = null, now = () => Date.now() / 1000 } = {}) {
    this.confirmed = emptyState();
    this.seq = 0;
    this.userId = userId;
    this.pending = [];
    this.now = now;
    this._view = null;
    this._listeners = new Set();
    this.rejections = [];
  }

  onChange(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  _changed(reason) {
    this._view = null;
    const v = this.view;
    for (const fn of this._listeners) fn(v, reason);
  }

  /** Confirmed state plus pending ops, recomputed lazily. */
  get view() {
    if (!this._view) {
      const v = clone(this.confirmed);
      for (const o of this.pending) applyOp(v, o, { author: this.userId, t: o.t_local });
      this._view = v;
    }
    return this._view;
  }

  /** Handle a welcome: reset to the snapshot or replay the ops since our last seq (R6). A paged
   * welcome (`parts` > 0) is complete after that many `welcome_part` messages. */
  welcome(msg) {
    this.userId = msg.user?.user_id ?? this.userId;
    this.partsLeft = Number.isInteger(msg.parts) && msg.parts > 0 ? msg.parts : 0;
    this._welcomeSeq = msg.seq;
    if (msg.snapshot) {
      this.confirmed = fromSnapshot(msg.snapshot);
      this.seq = msg.seq;
    }
    for (const c of msg.ops ?? []) this._commit(c);
    if (this.partsLeft === 0) {
      this.seq = Math.max(this.seq, msg.seq);
      this._changed('welcome');
    }
  }

  /** One part of a paged welcome: records to merge, comments to append, or commits (R6). */
  welcomePart(msg) {
    for (const c of msg.ops ?? []) this._commit(c);
    for (const sec of ['nodes', 'annotations', 'measurements', 'sections', 'markups', 'views']) {
      if ((sec === 'markups' || sec === 'views') && msg[sec]) this.confirmed[sec] ??= {};
      for (const [k, v] of Object.entries(msg[sec] ?? {})) {
        this.confirmed[sec][k] = sec === 'annotations' ? { ...v, comments: v.comments ?? [] } : v;
      }
    }
    for (const [aid, list] of Object.entries(msg.comments ?? {})) {
      const a = this.confirmed.annotations[aid];
      if (a && Array.isArray(list)) a.comments.push(...list);
    }
    this.partsLeft = Math.max(0, (this.partsLeft ?? 0) - 1);
    if (this.partsLeft === 0) {
      this.seq = Math.max(this.seq, this._welcomeSeq ?? this.seq);
      this._changed('welcome');
    }
  }

  _commit(c) {
    if (c.seq <= this.seq) {
      this._dropPending(c.op_id);
      return false;
    }
    if (c.seq !== this.seq + 1) {
      // A gap means we missed commits: apply nothing past it (the state would diverge); the
      // caller reconnects with last_seq and the welcome brings the missing commits.
      this.gap = { expected: this.seq + 1, got: c.seq };
      return false;
    }
    applyOp(this.confirmed, c, { author: c.author, t: c.t });
    this.seq = c.seq;
    this._dropPending(c.op_id);
    return true;
  }

  _dropPending(opId) {
    const i = this.pending.findIndex((o) => o.op_id === opId);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** A commit broadcast by the server (another client's op, or a replay). */
  commit(c) {
    this._commit(c);
    this._changed('commit');
  }

  /** Our own op was committed. */
  ack(msg) {
    if (msg.commit) this._commit({ ...msg.commit, seq: msg.seq, op_id: msg.op_id });
    else this._dropPending(msg.op_id);
    this._changed('ack');
  }

  /** Our own op was refused: drop it from the optimistic view. */
  reject(msg) {
    const o = this.pending.find((p) => p.op_id === msg.op_id);
    this._dropPending(msg.op_id);
    this.rejections.push({ op_id: msg.op_id, kind: o?.kind ?? null, code: msg.code, reason: msg.reason });
    this._changed('reject');
  }

  /** Apply a local op optimistically. */
  local(o) {
    this.pending.push({ ...o, t_local: this.now() });
    this._changed('local');
  }

  /** Restore pending ops (e.g. from a persisted outbox) without duplicating. */
  restorePending(ops) {
    for (const o of ops) if (!this.pending.some((p) => p.op_id === o.op_id)) this.pending.push(o);
    this._changed('restore');
  }
}

/** Sorted annotation list for the panel, optionally filtered by status. */
export function annotationList(view, { status = 'all' } = {}) {
  const all = Object.values(view.annotations);
  const list = status === 'all' ? all : all.filter((a) => a.status === status);
  return list.sort((a, b) => (a.created ?? 0) - (b.created ?? 0) || a.id.localeCompare(b.id));
}
